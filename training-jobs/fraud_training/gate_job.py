"""``python -m fraud_training.gate_job``: what the operator's gate Job runs.

The operator creates one gate Job per candidate version (its name derives from the FraudModel
and the version, so a restarted operator finds it instead of starting a second). The Job re-scores
candidate and champion on the candidate's hold-out (:func:`fraud_training.gate.validate_version`)
and records the decision on the version with the same :func:`record_gate_result` as
``fraudctl validate``. The operator only reads that record; it never loads a model.

Exit codes say who must act:

* 0: a decision is recorded (passed or failed), or was already there from an earlier attempt.
* 1: the registry could not be reached or failed; the Job's back-off retries.
* 2: bad input (the version does not exist): the pod failure policy fails the Job at once.

A version the gate can never judge (its run logged no hold-out) is recorded as ``failed`` with the
reason, so the operator shows it instead of retrying.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from mlflow.exceptions import MlflowException

from fraud_training import version_tags
from fraud_training.errors import RegistryError
from fraud_training.gate import GatePolicy, record_gate_result, undecidable, validate_version
from fraud_training.registry import model_version
from fraud_training.tracking import tracking_target

DECIDED, REGISTRY_DOWN, BAD_INPUT = 0, 1, 2
#: RegistryError messages that mean the registry itself failed, not that something is missing.
UNREACHABLE_PREFIX = "tracking_uri:"


def arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    """Every threshold is required: the operator passes the FraudModel's (CRD-defaulted) policy."""
    parser = argparse.ArgumentParser(prog="python -m fraud_training.gate_job")
    parser.add_argument("--model", required=True, help="Registered model name.")
    parser.add_argument("--version", required=True, type=int, help="Candidate version.")
    parser.add_argument("--min-roc-auc", required=True, type=float)
    parser.add_argument("--min-pr-auc", required=True, type=float)
    parser.add_argument("--max-regression", required=True, type=float)
    parser.add_argument("--tracking-uri", default=None, help="Defaults to MLFLOW_TRACKING_URI.")
    return parser.parse_args(argv)


def run(args: argparse.Namespace) -> int:
    """Decide once; see the module's docstring for the exit codes."""
    client = tracking_target(args.tracking_uri).client()
    try:
        candidate = model_version(client, args.model, args.version)
    except RegistryError as error:
        transient = str(error).startswith(UNREACHABLE_PREFIX)
        print(f"error: {error}", file=sys.stderr, flush=True)
        return REGISTRY_DOWN if transient else BAD_INPUT
    if (decided := (candidate.tags or {}).get(version_tags.GATE)) is not None:
        print(f"{args.model} version {args.version}: gate already {decided}", flush=True)
        return DECIDED
    policy = GatePolicy(args.min_roc_auc, args.min_pr_auc, args.max_regression)
    try:
        report = validate_version(client, args.model, args.version, policy)
    except RegistryError as error:
        if str(error).startswith(UNREACHABLE_PREFIX):
            print(f"error: {error}", file=sys.stderr, flush=True)
            return REGISTRY_DOWN
        # Reachable registry, missing piece (no hold-out logged): no retry can fix it.
        report = undecidable(args.model, args.version, f"the gate cannot score it: {error}")
    record_gate_result(client, report)
    outcome = version_tags.GATE_PASSED if report.passed else version_tags.GATE_FAILED
    print(f"{args.model} version {args.version}: gate {outcome}", flush=True)
    return DECIDED


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the gate container; a registry failure is one line and exit code 1."""
    args = arguments(argv)
    try:
        return run(args)
    except (MlflowException, OSError) as error:
        print(f"error: the registry failed, the Job will retry: {error}", file=sys.stderr)
        return REGISTRY_DOWN


if __name__ == "__main__":
    sys.exit(main())
