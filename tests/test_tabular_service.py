"""TabularService: fitting each estimator type, prediction from rows and from a raw ECG, and every bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ecg_core.errors import InputError
from ecg_core.signal import Recording
from ecg_core.tabular import features
from ecg_core.tabular.demo import DEMO_FEATURES, synthetic_measurement_rows
from ecg_core.tabular.service import TabularService, build_service
from synthetic_ecg import synthetic_12lead


@pytest.fixture
def service(settings):
    return TabularService(settings)


@pytest.fixture(scope="module")
def measurement_rows():
    rows, labels = synthetic_measurement_rows(count=300, seed=7)
    return rows.tolist(), labels


def _recording(hr_bpm: float, qrs_ms: float, qt_ms: float) -> Recording:
    signal, names = synthetic_12lead(hr_bpm, 160, qrs_ms, qt_ms, seed=3)
    return Recording(np.asarray(signal, dtype=np.float64), 500.0, tuple(names))


@pytest.mark.parametrize("model_type, canonical", [("logic", "logistic_regression"), ("svc", "svc"),
                                                   ("random_forest", "random_forest")])
def test_classifiers_fit_evaluate_and_predict(service, measurement_rows, model_type, canonical):
    rows, labels = measurement_rows
    entry = service.fit("m1", rows, labels, model_type=model_type, feature_names=DEMO_FEATURES)
    assert entry["model_type"] == canonical and entry["requested_type"] == model_type
    assert entry["classes"] == ["NORM", "PROBLEM"] and entry["n_features"] == 5
    assert entry["training"]["rows"] == 300 and sum(entry["training"]["class_balance"].values()) == 300
    metrics = entry["metrics"]
    assert metrics["rows"] == 60  # 20 % stratified hold-out
    assert metrics["roc_auc"] > 0.75  # the labels are a function of the features
    assert set(metrics["per_class"]) == {"NORM", "PROBLEM"}
    result = service.predict("m1", [[72, 92, 390, 430, 25], [150, 150, 290, 460, 40]])
    assert [p["label"] for p in result["predictions"]] == ["NORM", "PROBLEM"]
    for prediction in result["predictions"]:
        assert 0.5 <= prediction["probability"] <= 1.0
        assert sum(prediction["probabilities"].values()) == pytest.approx(1.0)
    json.dumps(result)  # plain Python only


def test_object_rows_are_matched_by_feature_name(service, measurement_rows):
    rows, labels = measurement_rows
    service.fit("named", rows, labels, feature_names=DEMO_FEATURES)
    as_lists = service.predict("named", [[150, 150, 290, 460, 40]])
    shuffled = {"rr_rmssd": 40, "qtc_bazett": 460, "qt_interval": 290, "qrs_duration": 150, "heart_rate": 150}
    as_objects = service.predict("named", [shuffled], rows_field="inputs.features")
    assert as_objects["predictions"] == as_lists["predictions"]
    with pytest.raises(InputError, match=r"inputs\.features\[0\]: missing feature\(s\) heart_rate"):
        service.predict("named", [{k: v for k, v in shuffled.items() if k != "heart_rate"}],
                        rows_field="inputs.features")
    with pytest.raises(InputError, match=r"inputs\.X\[0\]\.pulse: not a feature"):
        service.predict("named", [{**shuffled, "pulse": 1}])


def test_isolation_forest_flags_outlying_rows(service):
    rng = np.random.default_rng(0)
    normal = rng.normal(0, 1, size=(400, 3))
    entry = service.fit("iso", normal.tolist(), model_type="iforest", hyperparameters={"contamination": 0.02})
    assert entry["model_type"] == "isolation_forest" and entry["classes"] is None
    assert entry["training"]["training_anomaly_fraction"] == pytest.approx(0.02, abs=0.005)
    result = service.predict("iso", [[0.0, 0.1, -0.2], [8.0, -7.0, 9.0]])
    first, second = result["predictions"]
    assert first["anomaly"] is False and first["score"] > 0
    assert second["anomaly"] is True and second["score"] < 0


def test_isolation_forest_default_contamination_is_the_seeds(service):
    rows = np.random.default_rng(1).normal(size=(1000, 2)).tolist()
    entry = service.fit("iso", rows, model_type="isolation_forest")
    assert entry["parameters"]["contamination"] == 0.005


def test_demo_mode_trains_a_labelled_demo_model_that_reads_signals(settings):
    service = build_service(settings.replace(demo=True))
    (entry,) = service.list_models()["models"]
    assert entry["id"] == "demo" and entry["demo"] is True and "Not a clinical model" in entry["description"]
    assert entry["feature_set"] == "ecg_measurements"
    normal = service.predict("demo", None, _recording(70, 90, 380))
    assert normal["demo"] is True and normal["predictions"][0]["label"] == "NORM"
    assert normal["features"]["heart_rate"] == pytest.approx(70, abs=3)
    # QT short enough for the P wave to clear the T wave by a quiet TP segment (34 ms here)
    tachycardia = service.predict("demo", None, _recording(135, 90, 250))
    wide_qrs = service.predict("demo", None, _recording(70, 150, 420))
    assert tachycardia["predictions"][0]["label"] == "PROBLEM"
    assert wide_qrs["predictions"][0]["label"] == "PROBLEM"
    again = build_service(settings.replace(demo=True))  # a second start reuses the registered model
    assert again.list_models()["models"][0]["sha256"] == entry["sha256"]


def test_beat_model_predicts_per_beat_from_a_signal(service):
    recording = _recording(75, 90, 380)
    table = features.beat_features(recording)
    service.fit("beats", table.rows.tolist(), model_type="isolation_forest", feature_set="beats")
    result = service.predict("beats", None, recording)
    assert len(result["predictions"]) == len(table.rows)
    times = [p["time_s"] for p in result["predictions"]]
    assert times == sorted(times) and 0 < times[0] < recording.duration_s


def test_beat_without_a_clear_qrs_fails_only_models_that_use_the_qrs_width(service):
    """A burst of electrode noise on every lead but II: the beats are still found in lead II, but their QRS
    cannot be delineated over all leads, so their width is NaN with a reason, and a model that needs it
    gets a clear error while a model on RR features alone still scores every beat."""
    clean = _recording(75, 90, 380)
    table = features.beat_features(clean)
    assert 90 <= np.median(table.rows[:, table.names.index("qrs_width_ms")]) <= 110
    noisy = clean.signal.copy()
    others = [index for index, name in enumerate(clean.lead_names) if name != "II"]
    noisy[others, 2000:3000] += np.random.default_rng(0).normal(0, 1.0, (len(others), 1000))  # 4-6 s
    noisy_table = features.beat_features(Recording(noisy, clean.fs, clean.lead_names))
    unmeasured = np.isnan(noisy_table.rows).any(axis=0)
    assert unmeasured.tolist() == [name == "qrs_width_ms" for name in noisy_table.names]
    nan_times = noisy_table.beat_samples[np.isnan(noisy_table.rows[:, -1])] / clean.fs
    assert nan_times.size >= 1 and ((nan_times >= 4) & (nan_times <= 6)).all()
    assert noisy_table.missing_reasons["qrs_width_ms"].startswith(f"no clear QRS complex at {nan_times.size} of")

    service.fit("with_qrs", table.rows.tolist(), model_type="isolation_forest", feature_set="beats")
    rr_only = [name for name in features.BEAT_FEATURES if name != "qrs_width_ms"]
    service.fit("rr_only", table.rows[:, :-1].tolist(), model_type="isolation_forest", feature_set="beats",
                feature_names=rr_only)
    with pytest.raises(InputError, match=r"^inputs\.signal: qrs_width_ms could not be measured from this "
                                         r"recording \(no clear QRS complex at .*model 'with_qrs' needs it"):
        service.predict("with_qrs", None, Recording(noisy, clean.fs, clean.lead_names))
    scored = service.predict("rr_only", None, Recording(noisy, clean.fs, clean.lead_names))
    assert len(scored["predictions"]) == len(noisy_table.rows)


def test_signal_prediction_needs_a_signal_feature_model(service, measurement_rows):
    rows, labels = measurement_rows
    service.fit("plain", rows, labels)
    with pytest.raises(InputError, match=r"inputs\.signal: model 'plain' was fit on client-supplied features"):
        service.predict("plain", None, _recording(70, 90, 380))


def test_unmeasurable_feature_is_a_clear_error(service):
    rows, labels = synthetic_measurement_rows(count=200, seed=2)
    pr_ms = np.random.default_rng(2).normal(160, 20, size=(200, 1))
    service.fit("with_pr", np.hstack([rows, pr_ms]).tolist(), labels,
                feature_names=(*DEMO_FEATURES, "pr_interval"), feature_set="ecg_measurements")
    signal, names = synthetic_12lead(70, 160, 90, 380, p_wave=False, seed=3)
    with pytest.raises(InputError, match=r"inputs\.signal: pr_interval could not be measured"):
        service.predict("with_pr", None, Recording(signal, 500.0, names))


@pytest.fixture
def fitted(service, measurement_rows):
    rows, labels = measurement_rows
    service.fit("m", rows, labels, feature_names=DEMO_FEATURES)
    return service


@pytest.mark.parametrize("rows, field, problem", [
    ([[70, 90, 380, 420]], r"inputs\.X\[0\]", "expected 5 features, got 4"),
    ([[70, 90, 380, 420, 30], [70, 90, 380, 420, 30, 1]], r"inputs\.X\[1\]", "expected 5 features, got 6"),
    ([[70, 90, 380, 420, 30]] * 3 + [[70, 90, 380, 420, float("nan")]], r"inputs\.X\[3\]\[4\]", "finite number"),
    ([[70, 90, float("inf"), 420, 30]], r"inputs\.X\[0\]\[2\]", "finite number"),
    ([[70, "90", 380, 420, 30]], r"inputs\.X\[0\]\[1\]", "expected a number, got str '90'"),
    ([[70, None, 380, 420, 30]], r"inputs\.X\[0\]\[1\]", "expected a number, got null"),
    ([[70, True, 380, 420, 30]], r"inputs\.X\[0\]\[1\]", "expected a number"),
    ([[]], r"inputs\.X\[0\]", "expected 5 features, got 0"),
    ([], r"inputs\.X", "non-empty list"),
    ("70,90", r"inputs\.X", "non-empty list"),
    ([70, 90, 380, 420, 30], r"inputs\.X\[0\]", "expected a row"),
])
def test_bad_rows_name_the_cell(fitted, rows, field, problem):
    with pytest.raises(InputError, match=f"^{field}: .*{problem}"):
        fitted.predict("m", rows)


def test_row_limit(fitted, settings):
    limited = TabularService(settings.replace(limits=settings.limits.__class__(max_tabular_rows=3)))
    with pytest.raises(InputError, match=r"inputs\.X: 4 rows exceed the limit of 3"):
        limited.predict("m", [[70, 90, 380, 420, 30]] * 4)


@pytest.mark.parametrize("model_id, problem", [("nope", "no model 'nope' in the registry"),
                                               ("../index", "invalid model id"), ("a" * 65, "invalid model id"),
                                               ("..", "invalid model id"), (None, "expected a model id")])
def test_unknown_or_unsafe_model_id(fitted, model_id, problem):
    with pytest.raises(InputError, match=rf"^inputs\.model_id: {problem}"):
        fitted.predict(model_id, [[70, 90, 380, 420, 30]])


def test_missing_rows_and_signal(fitted):
    with pytest.raises(InputError, match=r"inputs\.X: missing"):
        fitted.predict("m", None)


@pytest.mark.parametrize("kwargs, field, problem", [
    ({"model_type": "xgboost"}, r"config\.ml_model_type", "unknown model type 'xgboost'"),
    ({"hyperparameters": {"Cee": 1}}, r"config\.hyperparameters\.Cee", "not a settable parameter of Logistic"),
    ({"hyperparameters": {"C": -1}}, r"config\.hyperparameters\.C", "must be a float in the range"),
    ({"model_type": "svc", "hyperparameters": {"kernel": "cubic"}}, r"config\.hyperparameters\.kernel", "kernel"),
    ({"model_type": "rf", "hyperparameters": {"n_estimators": "many"}},
     r"config\.hyperparameters\.n_estimators", "int"),
    ({"hyperparameters": {"n_jobs": 64}}, r"config\.hyperparameters\.n_jobs", "not a settable"),
    ({"hyperparameters": [1]}, r"config\.hyperparameters", "expected an object"),
])
def test_bad_model_type_or_hyperparameters(service, measurement_rows, kwargs, field, problem):
    rows, labels = measurement_rows
    with pytest.raises(InputError, match=f"^{field}: .*{problem}"):
        service.fit("bad", rows, labels, **kwargs)
    assert service.list_models() == {"models": []}


@pytest.mark.parametrize("labels, field, problem", [
    (["NORM"] * 300, r"y", "only one class"),
    (["NORM", "PROBLEM"], r"y", "expected a list of 300 labels"),
    (None, r"y", "missing; logistic_regression needs a class label"),
    (["NORM"] * 299 + [1], r"y", "labels mix text and numbers"),
    (["NORM"] * 299 + [None], r"y\[299\]", "expected a class label"),
])
def test_bad_labels(service, measurement_rows, labels, field, problem):
    rows, _ = measurement_rows
    with pytest.raises(InputError, match=f"^{field}: .*{problem}"):
        service.fit("bad", rows, labels)


def test_svc_needs_two_rows_per_class_and_tiny_sets_skip_the_holdout(service):
    rows = [[0.1, 1.0], [0.2, 1.1], [0.9, 0.1], [1.0, 0.2]]
    entry = service.fit("tiny", rows, ["NORM", "NORM", "PROBLEM", "PROBLEM"], model_type="svc")
    assert entry["metrics"]["rows"] == 0 and "3 per class" in entry["metrics"]["note"]
    with pytest.raises(InputError, match=r"^y: svc calibrates"):
        service.fit("tiny2", rows, ["NORM", "NORM", "NORM", "PROBLEM"], model_type="svc")


CSV = b"heart_rate,qrs_duration,label\n" + b"\n".join(
    f"{60 + i % 50},{85 + (i * 7) % 60},{'PROBLEM' if (85 + (i * 7) % 60) >= 120 else 'NORM'}".encode()
    for i in range(60))


def test_fit_csv_uses_the_header_and_the_last_column(service):
    entry = service.fit_csv("csv", CSV, model_type="rf")
    assert entry["feature_names"] == ["heart_rate", "qrs_duration"] and entry["classes"] == ["NORM", "PROBLEM"]
    assert service.predict("csv", [[70, 150]])["predictions"][0]["label"] == "PROBLEM"


@pytest.mark.parametrize("data, target, problem", [
    (CSV, "diagnosis", "no target column 'diagnosis'; the columns are heart_rate, qrs_duration, label"),
    (b"heart_rate,label\n" + b"\n".join(f"{60 + i},NORM".encode() for i in range(20)), None, "only one class"),
    (CSV.replace(b"\n70,", b"\nabc,", 1), None, "row 11, column 'heart_rate': expected a number, got 'abc'"),
    (CSV.replace(b"\n70,", b"\n,", 1), None, "row 11, column 'heart_rate': expected a number"),
    (b"heart_rate,label\n", None, "header but no rows"),
    (b"", None, "not a readable CSV"),
    (b"label\nNORM\n", None, "expected a header, feature columns and a label column"),
])
def test_bad_csv(service, data, target, problem):
    with pytest.raises(InputError, match=f"^file.*: .*{problem}"):
        service.fit_csv("csv", data, target=target)
    assert service.list_models() == {"models": []}
