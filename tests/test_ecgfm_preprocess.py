"""ECG-FM preprocessing reproduces the ECG-FM repository's own CODE-15 test vectors, and arranges leads."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.io

from conftest import fixture_path
from ecg_core.ecgfm import preprocess
from ecg_core.ecgfm.preprocess import resample_to_model_fs, standardize
from ecg_core.errors import InputError
from ecg_core.leads import STANDARD_LEADS


def _records():
    folder = fixture_path("ecgfm", "code15")
    for original in sorted((folder / "org").glob("*.mat")):
        yield original.stem, folder, scipy.io.loadmat(original)


def test_resampling_and_standardisation_reproduce_code15_preprocessed():
    for name, folder, original in _records():
        expected = scipy.io.loadmat(folder / "preprocessed" / f"{name}.mat")
        fs = float(original["org_sample_rate"].item())
        resampled = resample_to_model_fs(original["feats"].astype(np.float64), fs)
        assert resampled.shape[1] == expected["curr_sample_size"].item()
        np.testing.assert_allclose(resampled.mean(axis=1, keepdims=True), expected["mean"], atol=1e-5)
        np.testing.assert_allclose(standardize(resampled), expected["feats"], atol=1e-5, err_msg=name)


def test_preprocess_reproduces_code15_segments():
    checked = 0
    for name, folder, original in _records():
        segments = preprocess(original["feats"], float(original["org_sample_rate"].item()))
        expected = sorted((folder / "segmented").glob(f"{name}_*.mat"))
        assert segments.dtype == np.float32 and segments.shape == (len(expected), 12, 2500)
        for index, path in enumerate(expected):
            np.testing.assert_allclose(segments[index], scipy.io.loadmat(path)["feats"], atol=1e-5, err_msg=path.name)
            checked += 1
    assert checked == 14


def _code15(name="code_15_1238362"):
    original = scipy.io.loadmat(fixture_path("ecgfm", "code15", "org", f"{name}.mat"))
    return original["feats"].astype(np.float64), 400.0


def test_named_leads_in_any_order_with_aliases_equal_the_standard_order():
    signal, fs = _code15()
    order = np.random.default_rng(0).permutation(12)
    aliases = ["lead I", "ii", "III", "avr", "AVL", "aVF", "V1", "V2", "V3", "v4", "V5", "V6"]
    shuffled = preprocess(signal[order], fs, [aliases[i] for i in order])
    np.testing.assert_array_equal(shuffled, preprocess(signal, fs))


def test_missing_limb_leads_are_derived_from_i_and_ii():
    signal, fs = _code15()
    keep = [0, 1] + list(range(6, 12))  # I, II, V1-V6: III, aVR, aVL, aVF follow from Einthoven/Goldberger
    derived = preprocess(signal[keep], fs, [STANDARD_LEADS[i] for i in keep])
    full = preprocess(signal, fs)
    np.testing.assert_allclose(derived[:, [0, 1, 2, 6, 7, 8, 9, 10, 11]], full[:, [0, 1, 2, 6, 7, 8, 9, 10, 11]],
                               atol=1e-5)  # the cart's own III is exactly II - I
    for lead in (3, 4, 5):  # the cart rounded its augmented leads, so they agree closely but not exactly
        assert np.corrcoef(derived[:, lead].ravel(), full[:, lead].ravel())[0, 1] > 0.99


def test_leads_that_cannot_be_had_are_zero():
    signal, fs = _code15()
    segments = preprocess(signal[[1]], fs, ["MLII"])
    np.testing.assert_allclose(segments[:, 1], preprocess(signal, fs)[:, 1], atol=1e-6)
    assert not segments[:, [0, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]].any()


def test_units_cancel_in_the_standardisation():
    signal, fs = _code15()
    np.testing.assert_allclose(preprocess(signal * 1000.0, fs), preprocess(signal, fs), atol=1e-5)


def test_a_500_hz_recording_is_not_resampled_and_the_remainder_is_dropped():
    rng = np.random.default_rng(1)
    signal = rng.normal(size=(12, 6100))
    segments = preprocess(signal, 500)
    assert segments.shape == (2, 12, 2500)
    standardized = (signal - signal.mean(axis=1, keepdims=True)) / signal.std(axis=1, keepdims=True)
    np.testing.assert_allclose(segments[1], standardized[:, 2500:5000], atol=1e-5)


def test_short_recordings_are_refused_unless_padding_is_asked_for():
    signal, fs = _code15()
    short = signal[:, :1600]  # 4 s at 400 Hz
    with pytest.raises(InputError, match=r"inputs\.signal.*at least 5 s.*pad_short=true"):
        preprocess(short, fs)
    padded = preprocess(short, fs, pad_short=True)
    assert padded.shape == (1, 12, 2500)
    assert padded[:, :, 2000:].any() == False and padded[:, :, :1999].any()  # noqa: E712


def test_unnamed_leads_must_be_exactly_twelve():
    signal, fs = _code15()
    with pytest.raises(InputError, match=r"inputs\.lead_names"):
        preprocess(signal[:8], fs)
    with pytest.raises(InputError, match=r"inputs\.lead_names\[1\]"):
        preprocess(signal[:2], fs, ["I", "lead Z"])


def test_non_finite_samples_and_bad_rates_are_refused():
    signal, fs = _code15()
    signal[3, 100] = np.nan
    with pytest.raises(InputError, match=r"^inputs\.signal: contains NaN"):
        preprocess(signal, fs)
    with pytest.raises(InputError, match=r"^inputs\.fs"):
        preprocess(np.zeros((12, 5000)), 0)
