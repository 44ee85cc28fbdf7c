"""The FraudOps scoring service: FastAPI + the KServe V2 protocol over one model bundle.

Features come from the shared definitions in :mod:`fraud_training.features` (online aggregates in
Redis), every prediction is audited to PostgreSQL off the request path, and Prometheus metrics
describe traffic, scores and the audit backlog.
"""
