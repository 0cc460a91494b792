"""Tabular model serving: fit, predict (from feature rows or from a raw ECG), list, load/unload, remove.

One `TabularService` per process wraps the registry at ``settings.tabular_model_dir``. Every client
mistake is an `InputError` naming the request field (``inputs.X[3][5]``, ``inputs.model_id``, ...).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import sklearn

from ..errors import InputError
from ..settings import Settings
from ..signal import Recording
from . import features, tracking
from .estimators import ANOMALY_TYPES, ESTIMATOR_STEP, MODEL_TYPES, build_pipeline, canonical_type, \
    plain_hyperparameters
from .registry import Registry, validate_model_id
from .rows import parse_csv, parse_labels, parse_rows
from .training import Progress, evaluate, plain
from .worker import FitSlots, fit_in_worker


DEMO_MODEL_ID = "demo"  # reserved for demo.py's model in every registry
FIT_RETRY_AFTER_S = 10.0  # what a client refused for too many concurrent fits is told to wait


@dataclass(frozen=True)
class FitFields:
    """How the caller's request names each fit input, for error messages (defaults: the seed's JSON)."""

    model_id: str = "config.id"
    model_type: str = "config.ml_model_type"
    hyperparameters: str = "config.hyperparameters"
    rows: str = "X"
    labels: str = "y"
    feature_set: str = "feature_set"


def _no_progress(_: str) -> None:
    return None


class TabularService:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.limits = settings.limits
        self.registry = Registry(settings.tabular_model_dir)
        self._fit_slots = FitSlots(self.limits.max_concurrent_fits, retry_after_s=FIT_RETRY_AFTER_S)

    # ---- prediction ----------------------------------------------------------------------------
    def predict(self, model_id: str, rows: Any, recording: Recording | None = None, *,
                rows_field: str = "inputs.X", id_field: str = "inputs.model_id") -> dict:
        """Predictions for client rows, or for features computed from ``recording`` when ``rows`` is None."""
        model_id, entry = self._entry(model_id, id_field)
        pipeline = self.registry.load(model_id)
        names = tuple(entry["feature_names"])
        result: dict[str, Any] = {"model_id": model_id, "model_type": entry["model_type"],
                                  "feature_names": list(names), "feature_set": entry.get("feature_set")}
        if rows is not None:
            X, _ = parse_rows(rows, rows_field, self.limits, names)
            beat_samples = None
        elif recording is not None:
            X, beat_samples = self._signal_features(model_id, entry, recording)
            if beat_samples is None:
                result["features"] = dict(zip(names, X[0].tolist()))
        else:
            raise InputError(rows_field, "missing; send rows of features (or a signal for a signal-feature model)")
        predictions = _predictions(pipeline, entry["model_type"], X)
        if beat_samples is not None:
            for prediction, sample in zip(predictions, beat_samples.tolist()):
                prediction.update(sample=sample, time_s=round(sample / recording.fs, 4))
        result["predictions"] = predictions
        if entry.get("demo"):
            result["demo"] = True
            result["note"] = entry.get("description", "demo model; not for clinical use")
        return result

    def _signal_features(self, model_id: str, entry: dict, recording: Recording):
        feature_set = entry.get("feature_set")
        if feature_set is None:
            raise InputError("inputs.signal", f"model {model_id!r} was fit on client-supplied features, not on "
                             "features of a signal; send its feature rows in inputs.X")
        table = features.compute(feature_set, recording)
        columns = [table.names.index(name) for name in entry["feature_names"]]
        X = table.rows[:, columns]
        for name, column in zip(entry["feature_names"], X.T):
            if np.isnan(column).any():
                reason = table.missing_reasons.get(name, "not measurable")
                raise InputError("inputs.signal", f"{name} could not be measured from this recording ({reason}); "
                                 f"model {model_id!r} needs it")
        return X, table.beat_samples

    # ---- fitting -------------------------------------------------------------------------------
    def fit(self, model_id: Any, X: Any, y: Any = None, *, model_type: Any = "logistic_regression",
            hyperparameters: Any = None, feature_names: Sequence[str] | None = None, feature_set: str | None = None,
            fields: FitFields = FitFields(), progress: Progress = _no_progress,
            demo_description: str | None = None) -> dict:
        """Fit and register a model from JSON-like rows and labels; returns the index entry.

        ``feature_names`` names the columns of list rows (default ``feature_0``...; with a ``feature_set``,
        all of the set's columns); object rows are named by their keys. ``feature_set`` records that the
        features come from a signal (see features.py), so the model can later predict from a raw ECG.
        """
        model_id = _writable_id(model_id, fields.model_id, demo=demo_description is not None)
        if feature_set is not None and feature_set not in features.FEATURE_SETS:
            raise InputError(fields.feature_set, f"unknown feature set {feature_set!r}; expected one of "
                             f"{', '.join(features.FEATURE_SETS)}")
        names = feature_names
        if names is None and feature_set is not None and _rows_are_lists(X):
            names = features.FEATURE_SETS[feature_set]
        matrix, names = parse_rows(X, fields.rows, self.limits, names)
        labels = None if y is None else parse_labels(y, fields.labels, len(matrix))
        return self._fit_arrays(model_id, matrix, labels, names, model_type=model_type,
                                hyperparameters=hyperparameters, feature_set=feature_set, fields=fields,
                                progress=progress, demo_description=demo_description)

    def fit_csv(self, model_id: Any, data: bytes, *, target: str | None = None, model_type: Any = "logistic_regression",
                hyperparameters: Any = None, fields: FitFields = FitFields(rows="file", labels="file"),
                progress: Progress = _no_progress) -> dict:
        """Fit from a CSV file (header row; the label is ``target``, by default the last column)."""
        model_id = _writable_id(model_id, fields.model_id)
        matrix, labels, names = parse_csv(data, fields.rows, self.limits, target)
        return self._fit_arrays(model_id, matrix, labels, names, model_type=model_type,
                                hyperparameters=hyperparameters, feature_set=None, fields=fields, progress=progress)

    def _fit_arrays(self, model_id: str, X: np.ndarray, y: np.ndarray | None, names: Sequence[str], *,
                    model_type: Any, hyperparameters: Any, feature_set: str | None, fields: FitFields,
                    progress: Progress, demo_description: str | None = None) -> dict:
        canonical = canonical_type(model_type, fields.model_type)
        pipeline = build_pipeline(canonical, hyperparameters, fields.hyperparameters, self.limits)
        if feature_set is not None:
            unknown = [name for name in names if name not in features.FEATURE_SETS[feature_set]]
            if unknown:
                raise InputError(fields.rows, f"{unknown[0]!r} is not a feature of the {feature_set!r} set")
        with self._fit_slots:
            pipeline, metrics, training = fit_in_worker(pipeline, canonical, X, y, fields.labels, progress,
                                                        timeout_s=self.limits.fit_timeout_s,
                                                        error_field=fields.hyperparameters)
        progress("save")
        entry = {
            "model_type": canonical, "requested_type": str(model_type), "hyperparameters": hyperparameters or {},
            "parameters": plain_hyperparameters(pipeline), "feature_names": list(names), "n_features": len(names),
            "feature_set": feature_set, "metrics": metrics, "training": training,
            "classes": None if canonical in ANOMALY_TYPES else [plain(label) for label in pipeline.classes_],
            "steps": [name for name, _ in pipeline.steps], "demo": demo_description is not None,
        }
        if demo_description is not None:
            entry["description"] = demo_description
        entry = self.registry.save(model_id, pipeline, entry)
        if self.settings.mlflow_tracking_uri:
            entry = {**entry, "mlflow": tracking.log_fit(self.settings.mlflow_tracking_uri, model_id, pipeline, entry, X)}
        return entry

    def evaluate(self, model_id: Any, X: np.ndarray, y: np.ndarray, *, id_field: str = "inputs.model_id",
                 rows_field: str = "X") -> dict:
        """Metrics of a registered model on labelled rows (already validated arrays)."""
        model_id, entry = self._entry(model_id, id_field)
        if X.shape[1] != entry["n_features"]:
            raise InputError(rows_field, f"expected {entry['n_features']} features, got {X.shape[1]}")
        unseen = sorted(map(str, set(y.tolist()) - set(entry["classes"] or y.tolist())))
        if unseen:
            raise InputError(rows_field, f"label(s) {', '.join(unseen[:5])} were not in the training data")
        normal = entry["training"].get("normal_label")
        return evaluate(self.registry.load(model_id), entry["model_type"], X, y, normal_label=normal)

    # ---- management ----------------------------------------------------------------------------
    def list_models(self) -> dict:
        loaded = set(self.registry.loaded_ids())
        return {"models": [{**entry, "loaded": model_id in loaded}
                           for model_id, entry in sorted(self.registry.entries().items())]}

    def load(self, model_id: Any, *, id_field: str = "inputs.model_id") -> dict:
        model_id, entry = self._entry(model_id, id_field)
        self.registry.load(model_id)
        return entry

    def unload(self, model_id: Any, *, id_field: str = "inputs.model_id") -> bool:
        """True when the model was in memory; InputError when it is not registered at all."""
        model_id, _ = self._entry(model_id, id_field)
        return self.registry.unload(model_id)

    def is_loaded(self, model_id: Any, *, id_field: str = "inputs.model_id") -> bool:
        model_id, _ = self._entry(model_id, id_field)
        return self.registry.is_loaded(model_id)

    def remove(self, model_id: Any, *, id_field: str = "inputs.model_id") -> dict:
        model_id, _ = self._entry(_writable_id(model_id, id_field), id_field)
        self.registry.remove(model_id)
        return {"removed": model_id}

    def describe(self) -> dict:
        return {"models": sorted(self.registry.entries()),
                "loaded": self.registry.loaded_ids(), "model_types": list(MODEL_TYPES),
                "feature_sets": {name: list(columns) for name, columns in features.FEATURE_SETS.items()},
                "sklearn_version": sklearn.__version__}

    def _entry(self, model_id: Any, field: str) -> tuple[str, dict]:
        model_id = validate_model_id(model_id, field)
        entry = self.registry.entry(model_id)
        if entry is None:
            known = ", ".join(sorted(self.registry.entries())[:20]) or "none"
            raise InputError(field, f"no model {model_id!r} in the registry (registered: {known})")
        return model_id, entry


def _writable_id(model_id: Any, field: str, demo: bool = False) -> str:
    """A valid id that a client may fit or remove: the demo model's id belongs to the endpoint."""
    model_id = validate_model_id(model_id, field)
    if model_id == DEMO_MODEL_ID and not demo:
        raise InputError(field, f"{DEMO_MODEL_ID!r} is the endpoint's built-in demo model and cannot be "
                         "replaced or removed; choose another id")
    return model_id


def _rows_are_lists(rows: Any) -> bool:
    return isinstance(rows, list) and bool(rows) and isinstance(rows[0], list)


def _predictions(pipeline, model_type: str, X: np.ndarray) -> list[dict]:
    if model_type in ANOMALY_TYPES:
        # decision_function: below 0 is an anomaly (scikit-learn's convention); lower is more abnormal
        scores = pipeline.decision_function(X)
        flags = pipeline.predict(X) == -1
        return [{"anomaly": bool(flag), "score": float(score)} for flag, score in zip(flags, scores)]
    probabilities = pipeline.predict_proba(X)
    classes = [plain(label) for label in pipeline.named_steps[ESTIMATOR_STEP].classes_]
    return [{"label": classes[int(np.argmax(row))], "probability": float(np.max(row)),
             "probabilities": {str(label): float(p) for label, p in zip(classes, row)}}
            for row in probabilities]


def build_service(settings: Settings) -> TabularService:
    """The service over ``settings.tabular_model_dir``; in demo mode with the ``demo`` model ensured."""
    service = TabularService(settings)
    if settings.demo:
        from .demo import ensure_demo_model

        ensure_demo_model(service)
    return service
