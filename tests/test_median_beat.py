"""``parameters.return_median_beat``: the median beat and its boundaries, as the page draws them.

Checked on the pydicom 12-lead (a real cart recording, with the cart's own measurements) and on an LUDB
record against the cardiologists' boundaries: the fiducials must be where the measurements say, and the
median beat must look like the recording's own beats.
"""

from __future__ import annotations

import numpy as np
import pytest
from pydicom import examples

from conftest import fixture_path
from ecg_core.errors import InputError

LEADS = ["I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6"]


def _pydicom_inputs(task: str) -> dict:
    microvolts = examples.waveform.waveform_array(0).T
    return {"signal": (microvolts[:, ::2] / 1000.0).round(4).tolist(), "fs": 500, "lead_names": LEADS,
            "task": task}


@pytest.mark.parametrize("task", ["measure", "analyze"])
def test_median_beat_of_the_pydicom_ecg_matches_its_measurements(demo_handler, task):
    result = demo_handler({"inputs": _pydicom_inputs(task), "parameters": {"return_median_beat": True}})[0]
    beat = result["median_beat"]
    signal = np.array(beat["signal"])
    assert beat["fs"] == 500 and beat["lead_names"] == LEADS and signal.shape[0] == 12
    fiducials = beat["fiducials_ms"]
    order = [fiducials[key] for key in ("p_onset", "p_offset", "qrs_onset", "qrs_offset", "t_offset")]
    assert None not in order and order == sorted(order)
    measured = result["measurements"] if task == "measure" else result["clinical_analysis"]["physiological_parameters"]
    assert fiducials["qrs_offset"] - fiducials["qrs_onset"] == pytest.approx(measured["qrs_duration"], abs=2)
    assert fiducials["qrs_onset"] - fiducials["p_onset"] == pytest.approx(measured["pr_interval"], abs=2)
    assert fiducials["t_offset"] - fiducials["qrs_onset"] == pytest.approx(measured["qt_interval"], abs=2)
    assert signal.shape[1] * 1000 / beat["fs"] >= measured["pr_interval"] + measured["qt_interval"]
    # the PR segment is the zero line; the R wave in II is as tall as the recording's own R waves
    qrs_on = int(fiducials["qrs_onset"] * beat["fs"] / 1000)
    assert np.abs(signal[:, qrs_on - 5:qrs_on]).max() < 0.05
    lead_ii = np.array(_pydicom_inputs(task)["signal"][1])
    assert np.ptp(signal[1]) == pytest.approx(np.percentile(lead_ii, 99.9) - np.percentile(lead_ii, 0.1), rel=0.35)


def test_median_beat_is_left_out_unless_asked(demo_handler):
    result = demo_handler({"inputs": _pydicom_inputs("measure")})[0]
    assert "median_beat" not in result


def test_median_beat_flag_must_be_boolean(demo_handler):
    with pytest.raises(InputError, match="parameters.return_median_beat: expected true or false"):
        demo_handler({"inputs": _pydicom_inputs("measure"), "parameters": {"return_median_beat": "yes"}})


def test_median_beat_boundaries_near_the_ludb_experts(demo_handler):
    wfdb = pytest.importorskip("wfdb")
    import ludb_reference

    folder = fixture_path("ludb")
    record = ludb_reference.load(folder, 100)
    inputs = {"signal": record.signal.round(4).tolist(), "fs": record.fs, "lead_names": LEADS, "task": "measure"}
    beat = demo_handler({"inputs": inputs, "parameters": {"return_median_beat": True}})[0]["median_beat"]
    fiducials = beat["fiducials_ms"]
    assert wfdb is not None and fiducials["t_offset"] is not None
    reference = record.reference
    assert fiducials["t_offset"] - fiducials["qrs_onset"] == pytest.approx(reference["qt_interval"], abs=30)
    assert fiducials["qrs_onset"] - fiducials["p_onset"] == pytest.approx(reference["pr_interval"], abs=20)
