"""MLflow tracking of tabular fits against a real local MLflow store (sqlite): the run read back with
MLflow's own client, the registered model loaded back and compared with the joblib registry's model."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from ecg_core.tabular.__main__ import main as tabular_cli
from ecg_core.tabular.demo import DEMO_FEATURES, synthetic_measurement_rows
from ecg_core.tabular.service import TabularService
from ecg_core.tabular.tracking import EXPERIMENT

mlflow = pytest.importorskip("mlflow", reason="mlflow is a test/optional dependency (requirements-dev.txt)")
from mlflow.tracking import MlflowClient  # noqa: E402


@pytest.fixture(scope="module")
def tracking_uri(tmp_path_factory):
    return f"sqlite:///{tmp_path_factory.mktemp('mlflow') / 'mlflow.db'}"


@pytest.fixture(scope="module")
def rows():
    X, labels = synthetic_measurement_rows(count=300, seed=11)
    return X, labels


def _runs_named(tracking_uri: str, model_id: str):
    client = MlflowClient(tracking_uri)
    experiment = client.get_experiment_by_name(EXPERIMENT)
    return client, client.search_runs([experiment.experiment_id], f"tags.model_id = '{model_id}'")


def test_fit_logs_run_and_registers_the_model(settings, tracking_uri, rows, monkeypatch, tmp_path):
    X, labels = rows
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.chdir(tmp_path)  # where MLflow's default artifact root (./mlruns) would land
    service = TabularService(settings.replace(mlflow_tracking_uri=tracking_uri))
    entry = service.fit("rf1", X.tolist(), labels, model_type="rf", hyperparameters={"n_estimators": 30},
                        feature_names=DEMO_FEATURES)
    assert entry["mlflow"]["registered_version"] == 1
    # the process environment is left as it was (mlflow.set_tracking_uri exports the variable), so a later
    # Settings.from_env does not start tracking; the model's files sit beside the sqlite store
    assert "MLFLOW_TRACKING_URI" not in os.environ and not (tmp_path / "mlruns").exists()
    store = Path(tracking_uri.removeprefix("sqlite:///")).parent
    assert MlflowClient(tracking_uri).get_experiment_by_name(EXPERIMENT).artifact_location == \
        (store / "mlartifacts").as_uri()
    assert any((store / "mlartifacts").rglob("MLmodel"))

    client, runs = _runs_named(tracking_uri, "rf1")
    assert len(runs) == 1 and runs[0].info.run_id == entry["mlflow"]["run_id"]
    run = runs[0].data
    assert run.params["model_type"] == "random_forest" and run.params["hp.n_estimators"] == "30"
    assert run.params["n_features"] == "5" and run.tags["registry_sha256"] == entry["sha256"]
    assert run.metrics["accuracy"] == pytest.approx(entry["metrics"]["accuracy"])
    assert run.metrics["per_class.PROBLEM.recall"] == pytest.approx(entry["metrics"]["per_class"]["PROBLEM"]["recall"])
    summary = mlflow.artifacts.load_dict(f"runs:/{runs[0].info.run_id}/training_summary.json")
    assert summary["training"]["class_balance"] == entry["training"]["class_balance"]
    assert summary["feature_summary"]["heart_rate"]["mean"] == pytest.approx(float(X[:, 0].mean()))

    version = client.get_model_version("rf1", "1")
    assert version.run_id == entry["mlflow"]["run_id"]
    tracked = mlflow.sklearn.load_model("models:/rf1/1")
    served = service.registry.load("rf1")
    probe = X[:50]
    np.testing.assert_array_equal(tracked.predict(probe), served.predict(probe))
    np.testing.assert_allclose(tracked.predict_proba(probe), served.predict_proba(probe))


def test_refit_registers_a_new_version_and_anomaly_metrics(settings, tracking_uri, rows):
    X, labels = rows
    service = TabularService(settings.replace(mlflow_tracking_uri=tracking_uri))
    first = service.fit("beats", X.tolist(), labels, model_type="isolation_forest", feature_names=DEMO_FEATURES)
    second = service.fit("beats", X.tolist(), labels, model_type="isolation_forest",
                         hyperparameters={"contamination": 0.2}, feature_names=DEMO_FEATURES)
    assert (first["mlflow"]["registered_version"], second["mlflow"]["registered_version"]) == (1, 2)
    _, runs = _runs_named(tracking_uri, "beats")
    assert {run.data.params.get("hp.contamination") for run in runs} >= {"0.2"}
    latest = next(run for run in runs if run.info.run_id == second["mlflow"]["run_id"])
    assert latest.data.metrics["recall"] == pytest.approx(second["metrics"]["recall"])
    tracked = mlflow.sklearn.load_model("models:/beats/2")
    np.testing.assert_allclose(tracked.decision_function(X), service.registry.load("beats").decision_function(X))


def test_command_line_fit_is_tracked(tmp_path, tracking_uri, rows, monkeypatch, capsys):
    X, labels = rows
    csv = tmp_path / "train.csv"
    csv.write_text("\n".join([",".join((*DEMO_FEATURES, "label"))] +
                             [",".join(f"{v:.3f}" for v in row) + f",{label}" for row, label in zip(X, labels)]))
    monkeypatch.setenv("MLFLOW_TRACKING_URI", tracking_uri)
    assert tabular_cli(["--dir", str(tmp_path / "registry"), "fit", "--csv", str(csv), "--id", "cli1",
                        "--type", "logic"]) == 0
    _, runs = _runs_named(tracking_uri, "cli1")
    assert len(runs) == 1 and runs[0].data.params["model_type"] == "logistic_regression"
    assert "accuracy" in runs[0].data.metrics


def test_nothing_is_tracked_without_the_variable(settings, rows):
    X, labels = rows
    entry = TabularService(settings).fit("plain", X.tolist(), labels, feature_names=DEMO_FEATURES)
    assert "mlflow" not in entry and settings.mlflow_tracking_uri == ""
