"""Alembic environment and revisions of the audit schema (shipped inside the package)."""
