"""Implementations of ``fraudctl`` commands, one module per area; ``cli.py`` registers them."""
