"""The model being served, behind one reference that a reload swaps atomically.

A reload builds and warms the new model beside the old one (in a worker thread, so requests keep
flowing) and only then replaces the reference. A request reads the reference once and scores
with that model to the end, so every response names the version that produced it and no request
sees a half-loaded model. A model that cannot be loaded leaves the service live but not ready (or
still serving the previous model) with the reason in ``last_error`` and in the log.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property, partial
from pathlib import Path
from typing import Any

import numpy as np
from fraud_training.bundle_layout import local_model_folder

from fraud_inference.explain import Explainer, TreePathExplainer, explainer_for
from fraud_inference.predictor import OnnxTreePredictor, Predictor, predictor_for, probe_rows
from fraud_inference.serving_bundle import (
    ServableBundle,
    ServingBundle,
    read_pickled_bundle,
    read_servable,
)

log = logging.getLogger(__name__)

WARM_CALLS = 20


@dataclass(frozen=True)
class Source:
    """The bundle read for serving and where it came from (as ``registry.LoadedModel``)."""

    bundle: ServableBundle
    name: str | None
    version: int | None
    alias: str | None
    run_id: str | None
    source_uri: str


@dataclass(frozen=True)
class ServedModel:
    """A loaded model with its compiled predictor and explainer, ready to score."""

    source: Source
    predictor: Predictor
    explainer: Explainer
    loaded_at: datetime

    @property
    def bundle(self) -> ServableBundle:
        """The model bundle: feature set, thresholds, metrics."""
        return self.source.bundle

    @cached_property
    def name(self) -> str:
        """Registered model name, or the folder's name for a model loaded from a folder."""
        return self.source.name or Path(self.source.source_uri).name

    @cached_property
    def version(self) -> str:
        """Registered version; the run id or ``local`` for a model that is not registered."""
        if self.source.version is not None:
            return str(self.source.version)
        return self.source.run_id or "local"


class ModelStore:
    """Holds the current :class:`ServedModel`; ``load`` replaces it when the new one is ready."""

    def __init__(self, tracking_uri: str | None, explain_method: str, predictor: str) -> None:
        self.current: ServedModel | None = None
        self.last_error: str | None = None
        self._tracking_uri = tracking_uri
        self._explain_method = explain_method
        self._predictor = predictor
        self._lock = asyncio.Lock()

    @property
    def ready(self) -> bool:
        """Whether a model is loaded and warmed."""
        return self.current is not None

    async def load(self, uri: str) -> ServedModel:
        """Load, warm and swap in the model at ``uri``; on failure keep serving the old one."""
        async with self._lock:
            try:
                served = await asyncio.to_thread(self._build, uri)
            except Exception as error:
                self.last_error = f"cannot load model {uri}: {error}"
                log.error("%s", self.last_error)
                raise
            self.current = served
            self.last_error = None
            log.info(
                "serving model %s version %s (%s, %s predictor)",
                served.name,
                served.version,
                served.bundle.algorithm,
                served.predictor.kind,
            )
            return served

    def _build(self, uri: str) -> ServedModel:
        source = self._download(uri)
        bundle = source.bundle
        n_features = len(bundle.feature_names)
        if isinstance(bundle, ServingBundle):
            predictor: Predictor = OnnxTreePredictor(bundle.model_onnx)
            explainer: Explainer = (
                TreePathExplainer(bundle.explainer_onnx)
                if bundle.explainer_onnx is not None
                else _NoExplainer(n_features)
            )
        else:
            predictor = predictor_for(bundle, self._predictor)
            explainer = explainer_for(bundle, self._explain_method)
        served = ServedModel(
            source=source, predictor=predictor, explainer=explainer, loaded_at=datetime.now(UTC)
        )
        _warm(served, n_features)
        return served

    def _download(self, uri: str) -> Source:
        """The bundle at ``uri``: its serving payload, unless a setting asks for the estimator.

        A local folder is read without the MLflow client; registry URIs go through
        :func:`fraud_training.registry.download_model`, the one resolver of model URIs.
        """
        read: Any = read_servable
        for setting, asks in (
            ("PREDICTOR=estimator", self._predictor == "estimator"),
            ("EXPLAIN_METHOD=exact", self._explain_method == "exact"),
        ):
            if asks:
                read = partial(read_pickled_bundle, why=f"{setting} (the estimator itself)")
        local = local_model_folder(uri)
        if local is not None:
            return Source(read(local), None, None, None, None, str(Path(uri).resolve()))
        from fraud_training.registry import download_model

        loaded = download_model(uri, self._tracking_uri, read)
        return Source(
            loaded.bundle,
            loaded.name,
            loaded.version,
            loaded.alias,
            loaded.run_id,
            loaded.source_uri,
        )


class _NoExplainer:
    """Zero contributions, for a payload written without an explainer."""

    def __init__(self, n_features: int) -> None:
        self._n_features = n_features

    def contributions(self, features: np.ndarray) -> np.ndarray:
        return np.zeros((len(features), self._n_features))


def _warm(served: ServedModel, n_features: int) -> None:
    """First calls pay for lazy initialisation; pay it here, before the model takes traffic."""
    row = np.nan_to_num(probe_rows(n_features, rows=1))
    for _ in range(WARM_CALLS):
        served.predictor.probability(row)
        served.explainer.contributions(row)
