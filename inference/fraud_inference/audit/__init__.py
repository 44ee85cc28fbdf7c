"""The audit trail: every prediction and every confirmed outcome, stored in PostgreSQL."""
