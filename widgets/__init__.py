"""Reusable widgets: data in, messages out; they never call the engine."""
