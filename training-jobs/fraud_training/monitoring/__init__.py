"""Watching a served model: drift, live performance from delayed labels, the monitor pass."""
