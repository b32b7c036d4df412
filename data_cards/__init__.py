"""Data cards: the Hub README.md of a built mixture (YAML metadata + body), from a template."""
