"""The serving runner: end-to-end parity on real ECGs, batching, aggregation, thresholds, demo weights."""

from __future__ import annotations

import json

import numpy as np
import pytest
import scipy.io

from conftest import fixture_path
from ecg_core.ecgfm.labels import MAX_OVER_SEGMENTS, MIMIC_IV_ECG_LABELS
from ecg_core.ecgfm.runner import build_runner
from ecg_core.errors import InputError, ModelNotConfigured
from ecg_core.leads import STANDARD_LEADS
from ecg_core.signal import Recording


def _recordings() -> dict[str, Recording]:
    """The 10 real CODE-15 ECGs at 400 Hz, as the request parser hands them over (mV, canonical names)."""
    folder = fixture_path("ecgfm", "code15", "org")
    return {path.stem: Recording(scipy.io.loadmat(path)["feats"].astype(np.float64), 400.0, STANDARD_LEADS)
            for path in sorted(folder.glob("*.mat"))}


def _expected(kind: str) -> dict[str, np.ndarray]:
    """Reference arrays per recording name: rows are that recording's segments in order."""
    data = np.load(fixture_path("ecgfm", f"ecgfm_tiny_{kind}_expected.npz"))
    stems = [name.rsplit("_", 1)[0] for name in data["names"]]
    return {key: {stem: data[key][[i for i, s in enumerate(stems) if s == stem]] for stem in set(stems)}
            for key in ("probs", "embeddings") if key in data}


@pytest.fixture
def fixture_settings(settings):
    return settings.replace(ecgfm_classifier=str(fixture_path("ecgfm", "ecgfm_tiny_finetuned.pt")),
                            ecgfm_encoder="none", dtype="float32")


def test_segment_probabilities_and_aggregation_match_fairseq_signals_end_to_end(fixture_settings):
    runner = build_runner(fixture_settings)
    recordings = _recordings()
    expected = _expected("finetuned")
    results = runner.predict(list(recordings.values()), return_segments=True)
    for name, result in zip(recordings, results):
        segment_probabilities = np.array([[s["probabilities"][label] for label in MIMIC_IV_ECG_LABELS]
                                          for s in result["segments"]])
        np.testing.assert_allclose(segment_probabilities, expected["probs"][name], atol=1e-4, err_msg=name)
        assert result["n_segments"] == len(expected["probs"][name])
        for column, label in enumerate(result["labels"]):
            values = expected["probs"][name][:, column]
            reference = values.max() if label["name"] in MAX_OVER_SEGMENTS else values.mean()
            assert label["probability"] == pytest.approx(reference, abs=1e-4)
            assert label["present"] == (label["probability"] >= 0.5)
        assert result["findings"] == [label["name"] for label in result["labels"] if label["present"]]
        assert [label["name"] for label in result["labels"]] == list(MIMIC_IV_ECG_LABELS)
        assert result["model_source"] == fixture_settings.ecgfm_classifier
        json.dumps(result)  # plain Python only


@pytest.mark.parametrize("dtype, tolerance", [("float32", 1e-6), ("auto", 1e-3)])
def test_batched_results_equal_one_by_one(fixture_settings, dtype, tolerance):
    runner = build_runner(fixture_settings.replace(dtype=dtype))
    recordings = list(_recordings().values())[:5]
    together = runner.predict(recordings, return_features=True)
    for recording, batched in zip(recordings, together):
        alone = runner.predict([recording], return_features=True)[0]
        np.testing.assert_allclose([l["probability"] for l in batched["labels"]],
                                   [l["probability"] for l in alone["labels"]], atol=tolerance)
        np.testing.assert_allclose(batched["features"], alone["features"], atol=tolerance * 10)


def test_serving_dtype_stays_within_0_02_of_float32(fixture_settings):
    recordings = list(_recordings().values())
    exact = build_runner(fixture_settings).predict(recordings)
    serving = build_runner(fixture_settings.replace(dtype="auto"))
    assert serving.describe()["dtype"] in {"float32", "bfloat16"}
    for a, b in zip(exact, serving.predict(recordings)):
        np.testing.assert_allclose([l["probability"] for l in a["labels"]],
                                   [l["probability"] for l in b["labels"]], atol=0.02)


def test_features_come_from_the_pretrained_encoder_loaded_on_first_use(fixture_settings, tmp_path):
    not_there = fixture_settings.replace(ecgfm_encoder=str(tmp_path / "absent.pt"))
    runner = build_runner(not_there)
    recording = _recordings()["code_15_270272"]
    assert "features" not in runner.predict([recording])[0]  # classification never touches the encoder
    with pytest.raises(ModelNotConfigured):
        runner.predict([recording], return_features=True)

    encoder = fixture_settings.replace(ecgfm_encoder=str(fixture_path("ecgfm", "ecgfm_tiny_pretrained.pt")))
    result = build_runner(encoder).predict([recording], classify=False, return_features=True,
                                           return_segments=True)[0]
    reference = _expected("pretrained")["embeddings"]["code_15_270272"]
    assert "labels" not in result and result["feature_dim"] == 64 and result["n_segments"] == 2
    np.testing.assert_allclose(result["features"], reference.mean(axis=0), atol=1e-4)
    np.testing.assert_allclose([s["features"] for s in result["segments"]], reference, atol=1e-4)


def test_without_an_encoder_features_are_the_classifier_embeddings(fixture_settings):
    result = build_runner(fixture_settings).predict([_recordings()["code_15_270272"]], return_features=True)[0]
    reference = _expected("finetuned")["embeddings"]["code_15_270272"].mean(axis=0)
    np.testing.assert_allclose(result["features"], reference, atol=1e-4)


def test_thresholds_from_settings_and_per_request(fixture_settings):
    runner = build_runner(fixture_settings.replace(ecgfm_thresholds='{"Sinus rhythm": 0.9}'))
    recording = _recordings()["code_15_438277"]
    labels = {l["name"]: l for l in runner.predict([recording])[0]["labels"]}
    assert labels["Sinus rhythm"]["threshold"] == 0.9 and labels["Tachycardia"]["threshold"] == 0.5
    assert all(l["present"] == (l["probability"] >= l["threshold"]) for l in labels.values())

    everything = runner.predict([recording], thresholds=0.001)[0]
    assert everything["findings"] == list(MIMIC_IV_ECG_LABELS)
    nothing = runner.predict([recording], thresholds=0.999)[0]
    assert nothing["findings"] == []
    one = {l["name"]: l for l in runner.predict([recording], thresholds={"Bradycardia": 0.2})[0]["labels"]}
    assert one["Bradycardia"]["threshold"] == 0.2 and one["Sinus rhythm"]["threshold"] == 0.9

    with pytest.raises(InputError, match=r"parameters\.thresholds\.Bradycardiac: unknown label"):
        runner.predict([recording], thresholds={"Bradycardiac": 0.2})
    for bad in (1.5, 0, "high", True, {"Bradycardia": -0.1}):
        with pytest.raises(InputError, match=r"^parameters\.thresholds"):
            runner.predict([recording], thresholds=bad)


@pytest.mark.parametrize("value", ["abc", "2", '{"Sinus": 0.5}', "[0.5]"])
def test_bad_threshold_setting_names_the_variable(fixture_settings, value):
    with pytest.raises(InputError, match="ECGFM_THRESHOLDS"):
        build_runner(fixture_settings.replace(ecgfm_thresholds=value))


def test_lead_subsets_are_reported_and_short_recordings_need_padding(fixture_settings):
    runner = build_runner(fixture_settings)
    full = _recordings()["code_15_438277"]
    keep = [0, 1] + list(range(6, 12))
    partial = Recording(full.signal[keep], full.fs, tuple(STANDARD_LEADS[i] for i in keep))
    only_ii = Recording(full.signal[[1]], full.fs, ("II",))
    partial_result, only_ii_result = runner.predict([partial, only_ii])
    assert partial_result["leads"] == {"recorded": ["I", "II", "V1", "V2", "V3", "V4", "V5", "V6"],
                                       "derived": ["III", "aVR", "aVL", "aVF"], "missing": []}
    assert only_ii_result["leads"]["missing"] == [n for n in STANDARD_LEADS if n != "II"]
    assert "flat" in only_ii_result["notes"][0]

    unnamed = Recording(full.signal[:8], full.fs, None)
    with pytest.raises(InputError, match=r"^inputs\.lead_names"):
        runner.predict([unnamed])
    short = Recording(full.signal[:, :1200], full.fs, STANDARD_LEADS)  # 3 s
    with pytest.raises(InputError, match=r"^inputs\.signal: .*at least 5 s.*pad_short=true"):
        runner.predict([short])
    assert runner.predict([short], pad_short=True)[0]["n_segments"] == 1


def test_demo_weights_are_deterministic_cached_and_never_downloaded(settings, tmp_path):
    demo = settings.replace(demo=True, ecgfm_classifier="no-such-owner/no-such-repo/x.pt", dtype="float32")
    runner = build_runner(demo)
    weights = demo.cache_dir / "demo" / "ecgfm" / "model.safetensors"
    assert weights.exists() and (demo.cache_dir / "demo" / "ecgfm" / "config.json").exists()
    written = weights.stat().st_mtime_ns
    description = runner.describe()
    assert description["demo"] is True and description["labels"] == 17 and description["parameters"] > 0

    again = build_runner(demo)
    assert weights.stat().st_mtime_ns == written  # loaded, not rebuilt
    elsewhere = build_runner(demo.replace(cache_dir=tmp_path / "other"))
    assert (tmp_path / "other" / "demo" / "ecgfm" / "model.safetensors").read_bytes() == weights.read_bytes()

    recording = _recordings()["code_15_2657522"]
    first, second = runner.predict([recording])[0], again.predict([recording])[0]
    assert first["labels"] == second["labels"]
    assert first["model_source"] == "demo (random ECG-FM weights)"  # the source, never the server's path
    assert elsewhere.predict([recording])[0]["labels"] == first["labels"]


def test_missing_or_headless_classifier_is_not_configured(fixture_settings, tmp_path):
    with pytest.raises(ModelNotConfigured, match="absent"):
        build_runner(fixture_settings.replace(ecgfm_classifier=str(tmp_path / "absent.pt")))
    with pytest.raises(ModelNotConfigured, match="without a classifier head"):
        build_runner(fixture_settings.replace(ecgfm_classifier=str(fixture_path("ecgfm", "ecgfm_tiny_pretrained.pt"))))
    with pytest.raises(ModelNotConfigured):
        build_runner(fixture_settings.replace(ecgfm_classifier="none"))
