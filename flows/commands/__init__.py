"""CLI command groups: each module exposes `register(app)` and keeps its commands thin."""
