"""Clinical summaries from real measurements of synthetic ECGs, with and without ECG-FM labels."""

from __future__ import annotations

import json

import pytest

from ecg_core.interpret import axis_deviation, clinical_analysis
from ecg_core.measure import measure
from ecg_core.quality import assess
from synthetic_ecg import synthetic_12lead, synthetic_af_12lead

SEED_FIELDS = ("rhythm", "heart_rate", "qrs_duration", "qt_interval", "pr_interval", "axis_deviation",
               "abnormalities", "confidence", "physiological_parameters")


def _analyse(hr, pr, qrs, qt, ecgfm=None, **options):
    signal, names = synthetic_12lead(hr, pr, qrs, qt, seed=21, **options)
    return clinical_analysis(measure(signal, 500, names), assess(signal, 500, names), ecgfm)


def _ecgfm(*present: str) -> dict:
    return {"labels": [{"name": name, "probability": 0.9, "threshold": 0.5, "present": True} for name in present],
            "findings": list(present)}


def test_normal_sinus_from_measurements_only_says_so():
    summary = _analyse(72, 160, 90, 390)
    assert all(field in summary for field in SEED_FIELDS)
    assert summary["rhythm"].startswith("Sinus rhythm") and "measurements only" in summary["rhythm"]
    assert summary["abnormalities"] == [] and summary["axis_deviation"] == "Normal"
    assert summary["basis"] == "measurements only" and "ECG-FM was not run" in summary["notes"][0]
    assert summary["physiological_parameters"]["qrs_duration"] == summary["qrs_duration"]
    assert 0 < summary["confidence"] <= 1
    json.dumps(summary, allow_nan=False)


def test_long_pr_wide_qrs_and_long_qt_are_flagged():
    summary = _analyse(60, 260, 150, 520)
    text = " | ".join(summary["abnormalities"])
    assert "Prolonged PR" in text and "Wide QRS" in text and "QTc" in text


def test_sinus_tachycardia_combines_ecgfm_sinus_with_the_measured_rate():
    summary = _analyse(115, 140, 80, 310, ecgfm=_ecgfm("Sinus rhythm", "Tachycardia"))
    assert summary["rhythm"] == "Sinus tachycardia" and summary["basis"] == "ECG-FM labels and measurements"
    assert any(item.startswith("Tachycardia") for item in summary["abnormalities"])


def test_ecgfm_rhythm_and_findings_are_used_and_first_degree_block_is_supported():
    summary = _analyse(70, 240, 90, 400, ecgfm=_ecgfm("Atrial fibrillation", "1st degree atrioventricular block",
                                                       "Infarction"))
    assert summary["rhythm"] == "Atrial fibrillation"
    text = " | ".join(summary["abnormalities"])
    assert "supported by ECG-FM (1st degree atrioventricular block)" in text
    assert "ECG-FM: Infarction" in text and "ECG-FM: Atrial fibrillation" in text


def test_absent_p_waves_are_not_called_sinus_without_ecgfm():
    summary = _analyse(80, 160, 90, 380, p_wave=False)
    assert "Sinus" not in summary["rhythm"] and "without consistent P waves" in summary["rhythm"]
    assert summary["pr_interval"] is None


def test_atrial_fibrillation_from_measurements_only_is_irregular_without_p_waves():
    signal, names, _ = synthetic_af_12lead(95, qt_ms=340, seed=4)
    summary = clinical_analysis(measure(signal, 500, names), assess(signal, 500, names), None)
    assert summary["rhythm"].startswith("Irregular rhythm without consistent P waves")
    assert "measurements only" in summary["rhythm"] and "Sinus" not in summary["rhythm"]
    assert summary["pr_interval"] is None and summary["physiological_parameters"]["rhythm_regular"] is False
    json.dumps(summary, allow_nan=False)


def test_flat_signal_is_undetermined_with_low_confidence():
    import numpy as np

    signal = np.zeros((12, 5000))
    summary = clinical_analysis(measure(signal, 500), assess(signal, 500), None)
    assert summary["rhythm"].startswith("Undetermined") and summary["confidence"] == 0
    assert summary["axis_deviation"] == "Indeterminate"


@pytest.mark.parametrize("axis, expected", [(60, "Normal"), (-30, "Normal"), (-45, "Left axis deviation"),
                                            (120, "Right axis deviation"), (-120, "Extreme axis deviation"),
                                            (None, "Indeterminate")])
def test_axis_deviation_categories(axis, expected):
    assert axis_deviation(axis) == expected


def test_a_few_beats_of_atrial_fibrillation_are_not_called_sinus():
    """Fewer than 4 beats leave the rhythm's regularity unjudged, and a P wave before each QRS no longer makes that
    "Sinus ... likely: regular" (2.5 s of synthetic AF was called so on 13 of 36 windows, from a PR its f waves
    gave). A P wave must also be the beats' own (`delineate._p_shared_by_the_beats`): 8 of the 36 still get a PR,
    where two or three beats' f waves happen to look alike."""
    pr_ms = []
    for seed in range(12):
        for hr_bpm in (70, 100, 130):
            signal, names, _ = synthetic_af_12lead(hr_bpm, duration_s=2.5, seed=seed)
            measurements = measure(signal, 500, names)
            pr_ms.append(measurements["pr_interval"])
            rhythm = clinical_analysis(measurements, assess(signal, 500, names), None)["rhythm"]
            assert not rhythm.startswith("Sinus"), (seed, hr_bpm, rhythm)
    assert sum(pr is None for pr in pr_ms) >= 27, pr_ms  # 28; 23 before the beats had to share their P wave


def test_paced_rhythms_are_named_by_the_chambers_their_spikes_pace():
    """Spikes found before the beats name the rhythm (they are the direct evidence, ECG-FM or not), and the wide QRS
    of ventricular pacing is not put down to bundle branch block; atrial pacing keeps its PR."""
    ventricular = _analyse(70, 160, 150, 440, p_wave=False, ventricular_spike_mv=3.0, spike_tail_ms=6)
    assert ventricular["rhythm"].startswith("Ventricular-paced rhythm")
    wide = [item for item in ventricular["abnormalities"] if item.startswith("Wide QRS")]
    assert len(wide) == 1 and "of ventricular pacing" in wide[0] and "bundle branch" not in wide[0]
    with_ecgfm = _analyse(70, 160, 150, 440, ecgfm=_ecgfm("Sinus rhythm"), p_wave=False, ventricular_spike_mv=3.0,
                          spike_tail_ms=6)
    assert with_ecgfm["rhythm"].startswith("Ventricular-paced rhythm")
    atrial = _analyse(60, 200, 100, 400, atrial_spike_mv=3.0)
    assert atrial["rhythm"].startswith("Atrial-paced rhythm") and atrial["pr_interval"] is not None


def test_ecgfm_s_pacemaker_without_spikes_is_said():
    """ECG-FM knows a paced QRS by its shape, which spikes too small to see (a bipolar pacemaker's) do not hide: when
    it says pacemaker and no spike was found, a note says the QRS and PR are measured as unpaced."""
    note = "ECG-FM recognises an electronic pacemaker but no pacing spike was found"
    unpaced = _analyse(72, 160, 90, 390, ecgfm=_ecgfm("Electronic pacemaker"))
    assert unpaced["rhythm"] == "Paced rhythm" and any(text.startswith(note) for text in unpaced["notes"])
    paced = _analyse(70, 160, 150, 440, ecgfm=_ecgfm("Electronic pacemaker"), p_wave=False,
                     ventricular_spike_mv=3.0)
    assert not any(text.startswith(note) for text in paced["notes"])
    assert not any(text.startswith(note) for text in _analyse(72, 160, 90, 390, ecgfm=_ecgfm("Sinus rhythm"))["notes"])


@pytest.mark.parametrize("rate_bpm, says", [(59.9, "Bradycardia (59.9 bpm < 60)"), (60.0, None),
                                            (100.4, "Tachycardia (100.4 bpm > 100)"), (48.0, "Bradycardia (48 bpm < 60)")])
def test_a_rate_beyond_a_limit_is_shown_as_measured(rate_bpm, says):
    """The rate criteria read the measured rate, as the page's table flags it, and say it as measured: 59.9 bpm
    read "Bradycardia (60 bpm < 60)" before."""
    signal, names = synthetic_12lead(60, 160, 90, 400, seed=21)
    measurements = {**measure(signal, 500, names), "heart_rate": rate_bpm}
    summary = clinical_analysis(measurements, assess(signal, 500, names), None)
    found = [item for item in summary["abnormalities"] if item.startswith(("Bradycardia", "Tachycardia"))]
    assert found == ([] if says is None else [says])
