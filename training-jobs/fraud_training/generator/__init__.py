"""Synthetic card transactions that look like an issuer's: honest customers with habits and
trips, and fraud as the patterns issuers see, interleaved into the victims' own streams."""

from fraud_training.generator.config import GeneratorConfig
from fraud_training.generator.patterns import PATTERN_NAMES
from fraud_training.generator.stream import (
    check_output_path,
    generate_transactions,
    write_transactions,
)

__all__ = [
    "PATTERN_NAMES",
    "GeneratorConfig",
    "check_output_path",
    "generate_transactions",
    "write_transactions",
]
