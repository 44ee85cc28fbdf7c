"""Tags written on registered model versions, read by ``fraudctl``, the gate and the operator.

The registry is the contract between the training Jobs, the gate Job, ``fraudctl`` and the
operator; these names are its one definition. A module of its own, importing nothing, so the
operator can name them without importing the training stack.
"""

from __future__ import annotations

#: The gate's outcome on a version: "passed" or "failed". Written last by the gate: its presence
#: means the decision (and its message) is complete.
GATE = "gate"
#: The gate's explanation in one sentence: the checks that failed (naming the spec field to
#: change), or every check when it passed, or why the gate could not decide.
GATE_MESSAGE = "gate_message"
GATE_PASSED = "passed"
GATE_FAILED = "failed"

#: The training Job that registered the version; the operator finds a Job's version by it.
JOB = "fraudops.io/job"
#: ``<namespace>/<name>`` of the FraudModel the version was trained for.
FRAUDMODEL = "fraudops.io/fraudmodel"
#: The FraudModel's generation the version was trained from.
GENERATION = "fraudops.io/generation"
#: Why the version was trained again without a spec change: Drift, PerformanceDegraded or
#: Schedule (absent for a version trained for a spec).
RETRAINING_REASON = "fraudops.io/retraining-reason"

#: Who last made the version champion: ``fraudops-operator`` or ``fraudctl``. The operator promotes
#: a candidate only while this tag is absent, so each version is promoted by the policy once.
PROMOTED_BY = "promoted_by"
#: Why: one of the ``REASON_*`` values below, or a person's own words given to ``fraudctl promote``.
PROMOTED_REASON = "promoted_reason"
#: When, as RFC 3339 UTC.
PROMOTED_AT = "promoted_at"

#: Why the operator rolled the version back after its canary (5xx rate or p99 against the old
#: champion's), in one sentence; the policy never promotes a version carrying it again.
ROLLED_BACK = "rolled_back"
#: When, as RFC 3339 UTC.
ROLLED_BACK_AT = "rolled_back_at"

OPERATOR = "fraudops-operator"
FRAUDCTL = "fraudctl"
#: The policy promoted a candidate that passed the gate.
REASON_GATE_PASSED = "gate-passed"
#: ``spec.serving.version`` pinned the version.
REASON_PINNED = "pinned"
#: The pin was removed and the policy's champion restored.
REASON_UNPINNED = "unpinned"
#: A person ran ``fraudctl promote`` without a reason of their own.
REASON_MANUAL = "manual"
