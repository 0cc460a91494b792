"""Per-lead wave naming (`ecg_core.measure.per_lead`) on one lead's median beat built from known waves:
the lobes carts name Q, R, S, R′, S′, P′ and T′, and the levels that are not waves (an elevated J point).
The same code against the Philips carts' own per-lead numbers: tests/test_measure_cases.py; the R′ of
right bundle branch block on LUDB: tests/test_measure_ludb.py."""

from __future__ import annotations

import numpy as np
import pytest

from ecg_core.measure.delineate import Boundaries
from ecg_core.measure.per_lead import per_lead_measurements, qrs_waves, voltage_criteria, wave_lobes
from ecg_core.measure.template import MedianBeat

FS = 500.0
MS = 1000.0 / FS


def _waves(duration_ms: float, *waves: tuple[float, float, float]) -> np.ndarray:
    """A lead of ``duration_ms`` summing Gaussian waves (amplitude mV, centre ms, SD ms)."""
    t = np.arange(int(duration_ms / MS)) * MS
    return sum((amplitude * np.exp(-0.5 * ((t - centre) / sd) ** 2) for amplitude, centre, sd in waves),
               np.zeros_like(t))


def test_rsr_prime_is_named_as_carts_name_it():
    """Right bundle branch block in V1: a small r, a deep S, a tall terminal R′."""
    qrs = _waves(120, (0.2, 15, 5), (-0.6, 45, 8), (0.8, 85, 10))
    values = qrs_waves(qrs, MS)
    assert values["q_amplitude_mv"] == 0.0
    assert values["r_amplitude_mv"] == pytest.approx(0.2, abs=0.02)
    assert values["s_amplitude_mv"] == pytest.approx(-0.6, abs=0.05)
    assert values["r_prime_amplitude_mv"] == pytest.approx(0.8, abs=0.02)
    assert values["s_prime_amplitude_mv"] == 0.0
    assert 0 < values["r_duration_ms"] < values["s_duration_ms"] < values["r_prime_duration_ms"]


def test_qs_running_into_a_raised_st_segment_has_no_r_wave():
    """Anterior STEMI: a QS complex whose end climbs to a J point 0.4 mV up. The climb is the ST level the
    QRS ends on, not an R wave; the QS is reported as Q (as Philips carts do)."""
    qrs = _waves(100, (-0.9, 40, 12)) + 0.4 / (1 + np.exp(-(np.arange(50) * MS - 75) / 5))
    assert qrs[-1] > 0.35
    values = qrs_waves(qrs, MS)
    assert values["q_amplitude_mv"] == pytest.approx(-0.9, abs=0.05)
    assert values["r_amplitude_mv"] == 0.0 and values["r_prime_amplitude_mv"] == 0.0 and values["s_amplitude_mv"] == 0.0


def test_a_notch_dipping_below_the_threshold_does_not_split_the_r_wave():
    """A notched R whose notch crosses the baseline by 10 µV: one R wave, no S and R′."""
    qrs = _waves(100, (0.6, 35, 8), (0.6, 65, 8), (-0.217, 50, 2))
    assert qrs[int(50 / MS)] < 0
    lobes = wave_lobes(qrs, 0.02)
    assert len(lobes) == 1
    values = qrs_waves(qrs, MS)
    assert values["s_amplitude_mv"] == 0.0 and values["r_prime_amplitude_mv"] == 0.0


def test_biphasic_p_and_t_waves_give_their_second_lobes():
    """One lead's median beat: a +/− P wave (+0.05, −0.06 mV), an R wave, a −/+ T wave."""
    lead = np.concatenate([np.zeros(50), _waves(100, (0.05, 25, 10), (-0.06, 70, 10)), np.zeros(20),
                           _waves(90, (1.0, 45, 10)), _waves(300, (-0.15, 100, 30), (0.2, 200, 30)), np.zeros(40)])
    p_on, qrs_on = 50, 50 + 50 + 10
    qrs_off = qrs_on + 45
    beat = MedianBeat(lead[None, :], qrs_on + 22, FS, 10, np.array([0.01]))
    bounds = Boundaries(qrs_on=qrs_on, qrs_off=qrs_off, p_on=p_on, p_off=p_on + 50, t_end=qrs_off + 150,
                        baseline_mv=np.zeros(1))
    values = per_lead_measurements(beat, bounds, ("V1",))["V1"]
    assert values["p_amplitude_mv"] == pytest.approx(0.05, abs=0.005)
    assert values["p_prime_amplitude_mv"] == pytest.approx(-0.06, abs=0.005)
    assert 60 <= values["p_duration_ms"] <= 100  # two lobes of SD 10 ms, peaks 45 ms apart
    assert values["t_amplitude_mv"] == pytest.approx(-0.15, abs=0.02)
    assert values["t_prime_amplitude_mv"] == pytest.approx(0.2, abs=0.02)
    assert values["r_amplitude_mv"] == pytest.approx(1.0, abs=0.01)


def test_sokolow_lyon_takes_the_depth_of_a_qs_complex_in_v1():
    """Left bundle branch block often makes V1 a QS complex (reported as Q): its depth is V1's S for
    Sokolow-Lyon."""
    empty = {f"{wave}_amplitude_mv": 0.0 for wave in ("q", "r", "s")}
    per_lead = {"V1": {**empty, "q_amplitude_mv": -2.1}, "V5": {**empty, "r_amplitude_mv": 1.6},
                "V6": {**empty, "r_amplitude_mv": 1.2}, "aVL": {**empty, "r_amplitude_mv": 0.5},
                "V3": {**empty, "r_amplitude_mv": 0.3, "s_amplitude_mv": -1.0, "q_amplitude_mv": -0.1}}
    criteria = voltage_criteria(per_lead, "M")
    assert criteria["sokolow_lyon_mv"] == pytest.approx(3.7) and criteria["sokolow_lyon_lvh"] is True
    assert criteria["cornell_mv"] == pytest.approx(1.5) and criteria["cornell_lvh"] is False
