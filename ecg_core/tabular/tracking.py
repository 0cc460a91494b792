"""Optional MLflow tracking of tabular fits (issue 14).

With ``MLFLOW_TRACKING_URI`` set (``Settings.mlflow_tracking_uri``; a local ``sqlite:///mlflow.db`` works),
every fit, whether from the API, the page or the command line (they all go through
`TabularService._fit_arrays`), becomes one MLflow run in the experiment ``ecg-tabular``: the model type,
its hyperparameters, a summary of the training set, the hold-out metrics, and the fitted pipeline as an
MLflow scikit-learn model registered under the model's id. The joblib registry stays what the endpoint
serves from; MLflow is a record of how each model came about. mlflow is not an endpoint dependency: it is
imported only when the variable is set, and a tracking failure is logged, never fails the fit.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger("ecg_core.tabular.tracking")
EXPERIMENT = "ecg-tabular"
_URI_VARIABLE = "MLFLOW_TRACKING_URI"
_LOCK = threading.Lock()  # MLflow's fluent API keeps the tracking URI and active run in process globals


def log_fit(tracking_uri: str, model_id: str, pipeline: Any, entry: dict, X: np.ndarray) -> dict | None:
    """Log one fit; returns ``{"run_id", "model_uri", "registered_version"}`` or None when it failed."""
    try:
        with _LOCK, _process_environment_kept():
            return _log(tracking_uri, model_id, pipeline, entry, X)
    except Exception as error:  # tracking is a record, not a dependency of the fit
        log.warning("MLflow tracking of fit %r failed: %s: %s", model_id, type(error).__name__, error)
        return None


@contextmanager
def _process_environment_kept():
    """mlflow.set_tracking_uri also exports MLFLOW_TRACKING_URI; undo that, so the setting stays the only source."""
    before = os.environ.get(_URI_VARIABLE)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(_URI_VARIABLE, None)
        else:
            os.environ[_URI_VARIABLE] = before


def artifact_location(tracking_uri: str) -> str | None:
    """Where a new experiment keeps its models: beside a local sqlite store (MLflow's default would be
    ./mlruns in whatever directory the server runs in); for other stores, the store's own default."""
    if not tracking_uri.startswith("sqlite:///"):
        return None
    database = Path(tracking_uri.removeprefix("sqlite:///")).expanduser()
    return (database.parent / "mlartifacts").resolve().as_uri()


def _log(tracking_uri: str, model_id: str, pipeline: Any, entry: dict, X: np.ndarray) -> dict:
    import mlflow
    import mlflow.sklearn
    import skops.io

    mlflow.set_tracking_uri(tracking_uri)
    client = mlflow.MlflowClient(tracking_uri)
    experiment = client.get_experiment_by_name(EXPERIMENT)
    experiment_id = (experiment.experiment_id if experiment is not None else
                     client.create_experiment(EXPERIMENT, artifact_location=artifact_location(tracking_uri)))
    with mlflow.start_run(run_name=model_id, experiment_id=experiment_id) as run:
        mlflow.set_tags({"model_id": model_id, "model_type": entry["model_type"],
                         "feature_set": entry.get("feature_set") or "client", "registry_sha256": entry["sha256"],
                         "demo": str(bool(entry.get("demo")))})
        mlflow.log_params({"model_type": entry["model_type"], "n_features": entry["n_features"],
                           **{f"hp.{name}": value for name, value in entry["parameters"].items()}})
        mlflow.log_metrics(_numeric(entry["metrics"]))
        mlflow.log_dict({"training": entry["training"], "feature_names": entry["feature_names"],
                         "feature_summary": _feature_summary(X, entry["feature_names"]),
                         "metrics": entry["metrics"]}, "training_summary.json")
        # Saved with skops (no pickle); the types it cannot vouch for (tree node arrays) are trusted because
        # this process built the pipeline. Requirements are given: inferring them imports the whole environment.
        info = mlflow.sklearn.log_model(
            pipeline, name="model", registered_model_name=model_id, input_example=X[:2],
            skops_trusted_types=skops.io.get_untrusted_types(data=skops.io.dumps(pipeline)),
            pip_requirements=[f"scikit-learn=={metadata.version('scikit-learn')}"])
    return {"run_id": run.info.run_id, "model_uri": info.model_uri,
            "registered_version": info.registered_model_version}


def _numeric(metrics: dict, prefix: str = "") -> dict[str, float]:
    """Flattened numeric metrics (``per_class.NORM.recall``); text and None are left out."""
    flat: dict[str, float] = {}
    for name, value in metrics.items():
        key = re.sub(r"[^\w\-. /]", "_", f"{prefix}{name}")  # the characters MLflow accepts
        if isinstance(value, dict):
            flat.update(_numeric(value, f"{key}."))
        elif isinstance(value, (int, float)) and not isinstance(value, bool) and np.isfinite(value):
            flat[key] = float(value)
    return flat


def _feature_summary(X: np.ndarray, names: list[str]) -> dict:
    return {name: {"mean": float(np.mean(column)), "std": float(np.std(column)), "min": float(np.min(column)),
                   "max": float(np.max(column))} for name, column in zip(names, X.T)}
