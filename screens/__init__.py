"""Textual screens, one per job. They ask the engine and turn keys into engine calls."""
