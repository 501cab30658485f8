"""Release Cockpit: the engine (no Textual here)."""
