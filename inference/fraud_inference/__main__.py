"""``python -m fraud_inference``: the container entry point, configured only by environment."""

from __future__ import annotations

import sys

from fraud_training.errors import FraudOpsError

from fraud_inference.server import run
from fraud_inference.settings import Settings


def main() -> None:
    """Start the service; a bad setting exits with one line naming it."""
    try:
        settings = Settings.from_env()
    except FraudOpsError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(error.exit_code)
    run(settings)


if __name__ == "__main__":
    main()
