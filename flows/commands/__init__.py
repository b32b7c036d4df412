"""CLI commands: module-level Typer command functions that parse options and call plain logic."""
