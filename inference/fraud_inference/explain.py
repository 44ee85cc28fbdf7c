"""Per-feature contributions to a score, for the ``top_features`` of a prediction.

Two methods, chosen by ``EXPLAIN_METHOD``:

- ``path`` (default): Saabas path attribution for XGBoost. Along the path a row takes through
  each tree, the change in the node's expected value at each split is credited to the split's
  feature. It equals ``Booster.predict(..., pred_contribs=True, approx_contribs=True)`` and runs
  compiled by ONNX Runtime: about 10 us per row for 200 trees of depth 6.
- ``exact``: :meth:`ModelBundle.contributions`, the training side's definition (TreeSHAP for
  XGBoost and LightGBM, coefficient x standardised value for logistic regression). TreeSHAP costs
  0.75 ms per row for the same model on this machine when it is quiet (7-15 ms when the cores
  are contended), more than the whole rest of a request: hence not the default.

Models other than XGBoost use ``exact`` under either setting. ``path`` for a bundle with a serving
payload runs the explainer compiled (and checked) when the bundle was saved; ``exact`` needs the
estimator, hence the training stack (the ``all`` image). XGBoost contributions are in
log-odds under both methods; their sum plus a bias is the model's margin.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from fraud_inference.predictor import xgboost_learner

if TYPE_CHECKING:
    from fraud_training.bundle import ModelBundle


class Explainer(Protocol):
    """Contributions of each feature to each row's score (rows x features, no bias column)."""

    def contributions(self, features: np.ndarray) -> np.ndarray: ...


class TreePathExplainer:
    """Saabas attribution for an XGBoost ensemble, compiled to an ONNX tree ensemble.

    A row's path attribution in one tree depends only on the leaf it reaches: each split on the
    way credits the change in expected value to its feature. So every leaf is given, as its
    output, the attribution vector of its path, and ONNX Runtime's ``TreeEnsembleRegressor`` (one
    output per feature, summed over trees) walks the trees in C++: about 10 us per row, against
    about 100 us for the same walk in numpy. Thresholds stay float32, as XGBoost compares them.
    """

    def __init__(self, model_bytes: bytes) -> None:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        self._session = onnxruntime.InferenceSession(
            model_bytes, options, providers=["CPUExecutionProvider"]
        )

    @classmethod
    def from_xgboost(cls, booster: Any, n_features: int) -> TreePathExplainer:
        """Compile the trees of XGBoost's JSON model (full-precision thresholds)."""
        return cls(path_attribution_onnx(booster, n_features))

    def contributions(self, features: np.ndarray) -> np.ndarray:
        """Each row's path attribution, summed over trees (rows x features)."""
        matrix = np.ascontiguousarray(features, dtype=np.float32)
        (contributions,) = self._session.run(None, {"features": matrix})
        return contributions.astype(np.float64)


def path_attribution_onnx(booster: Any, n_features: int) -> bytes:
    """The ONNX model of :class:`TreePathExplainer` for an XGBoost booster (needs ``onnx``)."""
    model = json.loads(booster.save_raw("json"))
    trees = model["learner"]["gradient_booster"]["model"]["trees"]
    ensemble: dict[str, list[Any]] = {
        name: []
        for name in (
            "nodes_treeids",
            "nodes_nodeids",
            "nodes_featureids",
            "nodes_values",
            "nodes_modes",
            "nodes_truenodeids",
            "nodes_falsenodeids",
            "nodes_missing_value_tracks_true",
            "target_treeids",
            "target_nodeids",
            "target_ids",
            "target_weights",
        )
    }
    for tree_id, tree in enumerate(trees):
        _add_tree(ensemble, tree_id, tree, n_features)
    return _onnx_model(ensemble, n_features)


def _add_tree(
    ensemble: dict[str, list[Any]], tree_id: int, tree: dict[str, Any], n_features: int
) -> None:
    """Append one XGBoost tree: its splits, and each leaf's path attribution as its outputs."""
    left = np.asarray(tree["left_children"], dtype=np.int64)
    right = np.asarray(tree["right_children"], dtype=np.int64)
    feature = np.asarray(tree["split_indices"], dtype=np.int64)
    values = np.asarray(tree["split_conditions"], dtype=np.float64)
    cover = np.asarray(tree["sum_hessian"], dtype=np.float64)
    default_left = np.asarray(tree["default_left"], dtype=bool)
    expected = _expected_values(left, right, values, cover)
    credit = np.zeros((len(left), n_features))
    for node in range(len(left)):  # XGBoost numbers children after their parent
        leaf = left[node] < 0
        ensemble["nodes_treeids"].append(tree_id)
        ensemble["nodes_nodeids"].append(node)
        ensemble["nodes_featureids"].append(0 if leaf else int(feature[node]))
        ensemble["nodes_values"].append(0.0 if leaf else float(values[node]))
        ensemble["nodes_modes"].append("LEAF" if leaf else "BRANCH_LT")
        ensemble["nodes_truenodeids"].append(0 if leaf else int(left[node]))
        ensemble["nodes_falsenodeids"].append(0 if leaf else int(right[node]))
        ensemble["nodes_missing_value_tracks_true"].append(int(not leaf and default_left[node]))
        if leaf:
            for target in np.flatnonzero(credit[node]):
                ensemble["target_treeids"].append(tree_id)
                ensemble["target_nodeids"].append(node)
                ensemble["target_ids"].append(int(target))
                ensemble["target_weights"].append(float(credit[node, target]))
            continue
        for child in (left[node], right[node]):
            credit[child] = credit[node]
            credit[child, feature[node]] += expected[child] - expected[node]


#: The IR version ONNX Runtime 1.18+ reads (newer onnx packages write newer ones by default).
ONNX_IR_VERSION = 9


def _onnx_model(ensemble: dict[str, list[Any]], n_features: int) -> bytes:
    from onnx import TensorProto, helper

    node = helper.make_node(
        "TreeEnsembleRegressor",
        ["features"],
        ["contributions"],
        domain="ai.onnx.ml",
        n_targets=n_features,
        aggregate_function="SUM",
        post_transform="NONE",
        **ensemble,
    )
    graph = helper.make_graph(
        [node],
        "path_attribution",
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, [None, n_features])],
        [helper.make_tensor_value_info("contributions", TensorProto.FLOAT, [None, n_features])],
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("ai.onnx.ml", 3)],
        ir_version=ONNX_IR_VERSION,
    )
    return model.SerializeToString()


def _expected_values(
    left: np.ndarray, right: np.ndarray, values: np.ndarray, cover: np.ndarray
) -> np.ndarray:
    """Each node's cover-weighted mean leaf value (a leaf's split condition is its value).

    XGBoost numbers children after their parent, so one pass from the last node back suffices.
    """
    expected = np.zeros(len(left))
    for node in range(len(left) - 1, -1, -1):
        if left[node] < 0:
            expected[node] = values[node]
        else:
            a, b = left[node], right[node]
            expected[node] = (expected[a] * cover[a] + expected[b] * cover[b]) / cover[node]
    return expected


def explainer_for(bundle: ModelBundle, method: str) -> Explainer:
    """The explainer ``method`` names for this bundle (the bundle itself for ``exact``)."""
    learner = xgboost_learner(bundle)
    if method == "path" and learner is not None:
        return TreePathExplainer.from_xgboost(learner.get_booster(), len(bundle.feature_names))
    return bundle


def top_contributions(
    contributions: np.ndarray, features: np.ndarray, names: tuple[str, ...], k: int
) -> list[list[dict[str, Any]]]:
    """The ``k`` largest contributions by magnitude for each row, largest first."""
    k = min(k, contributions.shape[1])
    order = np.argsort(-np.abs(contributions), axis=1, kind="stable")[:, :k]
    return [
        [
            {
                "feature": names[j],
                "value": float(features[i, j]),
                "contribution": float(contributions[i, j]),
            }
            for j in order[i]
        ]
        for i in range(len(order))
    ]
