"""Real backing services (PostgreSQL, Redis, MLflow) started on loopback for tests and demos."""
