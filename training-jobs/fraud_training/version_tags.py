"""Tags written on registered model versions, read by ``fraudctl``, the gate and the operator.

A module of its own so the operator can name them without importing the training stack.
"""

from __future__ import annotations

#: The gate's outcome on a version: "passed" or "failed".
GATE = "gate"
#: The training Job that registered the version; the operator finds a Job's version by it.
JOB = "fraudops.io/job"
#: ``<namespace>/<name>`` of the FraudModel the version was trained for.
FRAUDMODEL = "fraudops.io/fraudmodel"
#: The FraudModel's generation the version was trained from.
GENERATION = "fraudops.io/generation"
