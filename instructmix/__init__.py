"""instructmix: build instruction-tuning mixtures reproducibly, from public tasks to TRL."""

__version__ = "0.1.0"
