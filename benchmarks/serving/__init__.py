"""Helpers of the serving benchmark: load generator, servers under test, result table."""
