"""Revisions of the audit schema (Alembic skips this file when it scans for revisions)."""
