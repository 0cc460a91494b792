"""The cases the issue names: slow sinus rhythm with few beats, first-degree AV block, ventricular pacing;
per-lead measurements against the Philips carts' own tables and what the carts' statements say of the waves;
ST elevation as an urgent finding; age and sex."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from conftest import fixture_path
from ecg_core.errors import InputError
from ecg_core.leads import LIMB_LEADS
from ecg_core.measure import analyse, measure
from ecg_core.patient import Patient, parse_patient
from ecg_core.settings import Limits
from ecg_core.urgent import st_elevation_findings
from synthetic_ecg import qrs_axis_deg, synthetic_12lead

# (HR, PR, QRS, QT): bradycardia down to 30 bpm (5 beats in 10 s), AV block with PR 330 and 400 ms
SLOW_AND_LONG_PR = [(30, 160, 90, 460), (40, 160, 90, 440), (48, 180, 100, 430), (56, 170, 90, 420),
                    (60, 330, 90, 400), (50, 400, 90, 420)]


@pytest.mark.parametrize("hr,pr,qrs,qt", SLOW_AND_LONG_PR)
def test_slow_rates_and_long_pr_are_measured(hr, pr, qrs, qt):
    signal, names = synthetic_12lead(hr, pr, qrs, qt, seed=hr)
    result = measure(signal, 500, names)
    assert result["unmeasured"] == {}, result["unmeasured"]
    assert result["heart_rate"] == pytest.approx(hr, abs=1)
    assert result["pr_interval"] == pytest.approx(pr, abs=10)
    assert result["qrs_duration"] == pytest.approx(qrs, abs=15)  # the 100 Hz band widens these sharp-edged waves
    assert result["qt_interval"] == pytest.approx(qt, abs=20)
    assert result["qrs_axis"] == pytest.approx(qrs_axis_deg(), abs=10)


# (HR, PR): fast rates, and long PRs at them, where the P wave comes close to the previous T wave's end
CLOSE_TO_THE_T_WAVE = [(90, 320), (100, 200), (120, 140), (120, 260), (140, 200), (160, 140)]


@pytest.mark.parametrize("hr,pr", CLOSE_TO_THE_T_WAVE)
def test_a_p_wave_close_to_the_t_wave_is_measured_and_one_overlapping_it_is_not(hr, pr):
    """The P wave starting 20-30 ms after the previous T wave's end: PR and QT within IEC 60601-2-25's limits
    (the P search also starts at the T end itself when a window opening 20 ms later cuts the P wave, and the
    median beat reaches back to a long PR's P onset at a fast rate). Starting at the T end or overlapping it by
    up to 30 ms: PR and QT None with the reason, never a number from what is left of a cut P wave (the window
    opening on the P wave's rise, or on its peak, where the line through the window's ends makes a bump of its
    own)."""
    rr_ms = 60000 / hr
    for seed in (1, 2, 3):
        for gap_ms in (20, 30):
            qt = int(rr_ms - pr - gap_ms)
            signal, names = synthetic_12lead(hr, pr, 90, qt, seed=seed)
            result = measure(signal, 500, names)
            assert result["pr_interval"] == pytest.approx(pr, abs=10), (seed, gap_ms, result["unmeasured"])
            assert result["qt_interval"] == pytest.approx(qt, abs=15), (seed, gap_ms)
        for gap_ms in (0, -10, -30):
            signal, names = synthetic_12lead(hr, pr, 90, int(rr_ms - pr - gap_ms), seed=seed)
            result = measure(signal, 500, names)
            assert result["pr_interval"] is None and result["qt_interval"] is None, (seed, gap_ms, result["pr_interval"])
            for key in ("pr_interval", "qt_interval"):  # the P wave in the T wave's end, or cut by its window
                assert "T wave" in result["unmeasured"][key], (seed, gap_ms, key)


# (HR, QT, T size mV, biphasic): flat T waves, and biphasic ones whose vector swings round by 140° half way
# (the spatial magnitude dips between the lobes, as it does before the next P wave)
T_SHAPES = [(50, 440, 0.05, False), (60, 400, 0.08, False), (90, 340, 0.1, False), (40, 480, 0.25, True),
            (60, 400, 0.3, True), (75, 380, 0.15, True), (110, 320, 0.2, True)]


@pytest.mark.parametrize("hr,qt,t_mv,biphasic", T_SHAPES)
def test_t_end_of_flat_and_biphasic_t_waves(hr, qt, t_mv, biphasic):
    """QT within IEC 60601-2-25's ±30 ms of the true T end, over seeds; a biphasic T ends after its second
    lobe (the dip between the lobes is not the T end)."""
    errors = []
    for seed in range(1, 5):
        signal, names = synthetic_12lead(hr, 160, 90, qt, seed=seed, t_mv=t_mv, t_biphasic=biphasic)
        errors.append(measure(signal, 500, names)["qt_interval"] - qt)
    assert np.max(np.abs(errors)) <= 30, errors


@pytest.mark.parametrize("hr,qrs,qt", [(125, 157, 314), (120, 150, 320), (110, 160, 340), (100, 150, 360)])
def test_a_tall_t_wave_after_a_wide_qrs_is_not_qrs(hr, qrs, qt):
    """A 0.6 mV T wave rising 40 ms after a wide QRS: in a lead whose own QRS is small (0.4-0.5 mV, 12-20 mV/s)
    its slope climbs back to half the QRS's, as a bundle branch block's terminal R' does after its notch, and
    the QRS took in 60 ms of the T wave. The terminal wave of a QRS is over within the widening's reach; a T
    wave still rises there."""
    for axis in (-34, 60):
        signal, names = synthetic_12lead(hr, 160, qrs, qt, seed=1, t_mv=0.6, qrs_axis=axis)
        assert measure(signal, 500, names)["qrs_duration"] == pytest.approx(qrs, abs=15), axis


@pytest.mark.parametrize("hr,qrs,qt,axis", [(63, 138, 354, 136), (99, 105, 280, 23), (99, 166, 330, 58),
                                          (113, 123, 320, -24)])
def test_a_steep_biphasic_t_wave_is_not_qrs(hr, qrs, qt, axis):
    """A biphasic T wave of 0.6 mV lobes swinging round by 140°: its spatial velocity reaches 30 % of a wide or
    small QRS's peak, which made it part of the QRS's steep core, and QRS and QT ran 65-210 and 30-300 ms long.
    The core is the steep stretch around the peak slope without a pause; the ST segment is one."""
    for seed in (1, 2, 3):
        signal, names = synthetic_12lead(hr, 180, qrs, qt, seed=seed, t_mv=0.6, t_biphasic=True, qrs_axis=axis)
        result = measure(signal, 500, names)
        assert result["qrs_duration"] == pytest.approx(qrs, abs=15), seed
        assert result["qt_interval"] == pytest.approx(qt, abs=20), seed


@pytest.mark.parametrize("hr,qt", [(55, 460), (60, 440), (70, 420)])
def test_a_notched_t_wave_is_measured_to_its_end(hr, qt):
    """A bifid T wave (two humps pointing the same way, as in long QT type 2) whose notch dips 14-19 % of its
    first hump: the rise to the second hump was taken for the next wave, the T wave ended after the first, and
    QT came out 150-180 ms short (282-296 ms for 440-460 at 55-60 bpm; at 70 bpm on 4 of 6 seeds and lead sets).
    A rise before the curve has dipped a fifth is the same T wave. At 50 bpm the notch dips close to that fifth
    and noise tips one seed in three over it; at 45 bpm it dips more and the T wave is still cut at its first hump,
    as one followed by a U wave is (docs/measurements.md, "Still fragile")."""
    for seed in (1, 2, 3):
        signal, names = synthetic_12lead(hr, 160, 90, qt, seed=seed, t_notched=True)
        limb = [names.index(lead) for lead in LIMB_LEADS]
        for measured in (measure(signal, 500, names), measure(signal[limb], 500, LIMB_LEADS)):
            assert measured["qt_interval"] == pytest.approx(qt, abs=15), seed


# (leads measured, HR, PR, QRS, QT, T size mV, QRS axis): biphasic T waves of 0.35-0.6 mV lobes, after a wide QRS
# in all 12 leads, or in two leads that see the QRS small (a Holter's II and V5)
TALL_T_SOON_AFTER_ITS_BEAT = [(None, 76, 165, 148, 414, 0.6, 39), (("II", "V5"), 119, 274, 89, 307, 0.6, 60),
                              (("II", "V5"), 99, 154, 116, 383, 0.6, 80), (("II", "V5"), 84, 243, 135, 397, 0.35, 55)]


@pytest.mark.parametrize("leads,hr,pr,qrs,qt,t_mv,axis", TALL_T_SOON_AFTER_ITS_BEAT)
def test_a_tall_t_wave_soon_after_its_beat_is_not_a_beat(leads, hr, pr, qrs, qt, t_mv, axis):
    """T waves 0.19-0.26 s after their QRS and 0.26-0.46 times as steep: over the quarter that made a "beat"
    within 0.45 s a T wave, so they were counted as beats (up to twice the rate). Within 0.36 s, under half as
    steep is a T wave (Pan and Tompkins' rule)."""
    for seed in (1, 2, 3):
        signal, names = synthetic_12lead(hr, pr, qrs, qt, seed=seed, t_mv=t_mv, t_biphasic=True, qrs_axis=axis,
                                         noise_mv=0.02)
        if leads:
            signal, names = signal[[names.index(lead) for lead in leads]], leads
        assert measure(signal, 500, names)["heart_rate"] == pytest.approx(hr, abs=1.5), seed


@pytest.mark.parametrize("scale", [1.0, 0.25, 0.15])
def test_low_voltage_keeps_the_whole_qrs(scale):
    """The QRS ends where the spatial velocity stays under an absolute 8 mV/s (an ST segment sloping into
    the T wave is not QRS); a low-voltage ECG (QRS down to ~0.2 mV) must not lose the ends of its QRS."""
    for seed in (1, 2):
        signal, names = synthetic_12lead(70, 160, 100, 400, seed=seed, noise_mv=0.01 * scale ** 0.5, wander_mv=0.05)
        result = measure(signal * scale, 500, names)
        assert result["qrs_duration"] == pytest.approx(100, abs=15)
        assert result["qt_interval"] == pytest.approx(400, abs=20)


@pytest.mark.parametrize("hr,qt", [(200, 220), (220, 200)])
def test_fast_rates_up_to_220_bpm_keep_rate_qrs_and_axis(hr, qt):
    """At 200-220 bpm the P wave sits on the T wave (both left unmeasured with the reason), but every beat
    is found and the median beat still gives the QRS and its axis."""
    signal, names = synthetic_12lead(hr, 110, 80, qt, seed=2)
    result = measure(signal, 500, names)
    assert result["heart_rate"] == pytest.approx(hr, abs=2)
    assert result["qrs_duration"] == pytest.approx(80, abs=15)
    assert result["qrs_axis"] == pytest.approx(qrs_axis_deg(), abs=10)
    assert result["pr_interval"] is None and result["unmeasured"]["pr_interval"]


# (spike before the QRS onset ms, its decay's time constant ms): a bare 1 ms spike, spikes with the ~6 ms
# exponential tail LUDB's paced records show (the tail once pulled the QRS onset 10-20 ms before the spike)
PACING_SPIKES = [(4, 0), (4, 6), (10, 6), (20, 6)]


@pytest.mark.parametrize("before_ms,tail_ms", PACING_SPIKES)
def test_ventricular_pacing_spikes_are_found_and_kept_out_of_the_qrs(before_ms, tail_ms):
    """A ventricular-paced rhythm (true QRS 150 ms, QT 440 ms): the spikes are found and said to pace the
    ventricles, PR is None with the reason, and the QRS starts after the spike: neither the spike nor the
    tail it leaves widens the QRS, lengthens the QT or is taken for a P wave."""
    paced, names = synthetic_12lead(70, 160, 150, 440, seed=3, p_wave=False, ventricular_spike_mv=3.0,
                                    spike_before_qrs_ms=before_ms, spike_tail_ms=tail_ms)
    plain, _ = synthetic_12lead(70, 160, 150, 440, seed=3, p_wave=False)
    with_spikes, without = measure(paced, 500, names), measure(plain, 500, names)
    assert with_spikes["pacing"] == {"spikes": with_spikes["beat_count"], "atrial": False, "ventricular": True,
                                     "mode": "ventricular", "note": None}
    assert without["pacing"]["mode"] is None and without["pacing"]["spikes"] == 0
    assert with_spikes["pr_interval"] is None and "ventricular pacing" in with_spikes["unmeasured"]["pr_interval"]
    assert 150 - 4 <= with_spikes["qrs_duration"] <= without["qrs_duration"] + 4
    assert with_spikes["qt_interval"] == pytest.approx(440, abs=10)
    view = analyse(paced, 500, names).median_beat
    onset_s = view.beat_times_s + (view.bounds.qrs_on - view.beat.fiducial) / view.beat.fs
    spikes_s = np.flatnonzero(np.abs(np.diff(paced[0])) > 1.0) / 500
    nearest = np.array([spikes_s[np.argmin(np.abs(spikes_s - onset))] for onset in onset_s])
    assert np.all(onset_s >= nearest)  # no QRS onset before its spike


def test_a_fusion_beat_keeps_the_qrs_begun_before_its_pacing_spike():
    """The pacemaker fires 20 ms into a QRS the heart's own conduction began (a fusion beat): the QRS onset
    stays where the QRS begins, not after the spike."""
    fused, names = synthetic_12lead(70, 160, 150, 440, seed=3, p_wave=False, ventricular_spike_mv=3.0,
                                    spike_before_qrs_ms=-20, spike_tail_ms=6)
    plain, _ = synthetic_12lead(70, 160, 150, 440, seed=3, p_wave=False)
    result, without = measure(fused, 500, names), measure(plain, 500, names)
    assert result["pacing"]["ventricular"] is True
    assert result["qrs_duration"] == pytest.approx(without["qrs_duration"], abs=6)
    assert result["qt_interval"] == pytest.approx(without["qt_interval"], abs=8)


@pytest.mark.parametrize("pr_ms,tail_ms", [(120, 0), (200, 6), (300, 0)])
def test_atrial_pacing_is_told_from_ventricular(pr_ms, tail_ms):
    """A spike 10 ms before each P wave paces the atria: the QRS follows it only after the P wave and the AV delay,
    so the atria are paced and the PR is measured (as without the spikes); with a second spike just before each QRS
    both chambers are, and the PR is None."""
    atrial, names = synthetic_12lead(60, pr_ms, 100, 400, seed=5, atrial_spike_mv=3.0, spike_tail_ms=tail_ms)
    plain, _ = synthetic_12lead(60, pr_ms, 100, 400, seed=5)
    result, without = measure(atrial, 500, names), measure(plain, 500, names)
    assert (result["pacing"]["mode"], without["pacing"]["mode"]) == ("atrial", None)
    assert result["pr_interval"] == pytest.approx(without["pr_interval"], abs=6)
    assert result["qrs_duration"] == pytest.approx(without["qrs_duration"], abs=4)
    both, _ = synthetic_12lead(60, pr_ms, 150, 400, seed=5, atrial_spike_mv=3.0, ventricular_spike_mv=3.0,
                               spike_tail_ms=tail_ms)
    dual = measure(both, 500, names)
    assert dual["pacing"]["mode"] == "dual-chamber"
    assert dual["pr_interval"] is None and "ventricular pacing" in dual["unmeasured"]["pr_interval"]


def test_fast_ventricular_pacing_is_not_taken_for_dual_chamber():
    """At 190 bpm the previous beat's spike lies within 0.4 s of a beat's fiducial: it is that beat's, not an
    atrial spike of this one (a fixed window made this dual-chamber pacing)."""
    paced, names = synthetic_12lead(190, 160, 120, 260, seed=3, p_wave=False, ventricular_spike_mv=3.0,
                                    spike_before_qrs_ms=10)
    assert measure(paced, 500, names)["pacing"]["mode"] == "ventricular"


def test_a_stated_pacemaker_is_weighed_against_the_spikes_found():
    """Whether the patient has a pacemaker (as the request or the file states) measures nothing: every value stays
    as it was, and ``pacing.note`` says where the statement and the spikes disagree: a pacemaker stated and no
    spike found (a bipolar pacemaker's can be too small to see at 500 Hz), spikes found and none stated."""
    paced, names = synthetic_12lead(70, 160, 150, 440, seed=3, p_wave=False, ventricular_spike_mv=3.0,
                                    spike_tail_ms=6)
    plain, _ = synthetic_12lead(70, 160, 150, 440, seed=3, p_wave=False)
    expected_notes = {("paced", True): None, ("paced", False): "may be artefacts",
                      ("plain", True): "no pacing spike was found", ("plain", False): None}
    for (kind, stated), says in expected_notes.items():
        signal = paced if kind == "paced" else plain
        unstated, result = measure(signal, 500, names), measure(signal, 500, names, pacemaker=stated)
        assert unstated["pacing"]["note"] is None
        note = result["pacing"]["note"]
        assert (note is None) if says is None else (says in note), (kind, stated, note)
        result["pacing"]["note"] = None
        assert result == unstated, (kind, stated)


def _philips_paced_as(status: str) -> bytes:
    """The real PageWriter file (an unpaced sinus rhythm) with its ``pacestatus`` ("Unknown") set to ``status``."""
    data = fixture_path("formats", "philips", "pagewriter_tc_sinus.xml").read_bytes()
    field = "<pacestatus>{}</pacestatus>"
    assert data.count(field.format("Unknown").encode("utf-16-le")) == 1
    return data.replace(field.format("Unknown").encode("utf-16-le"), field.format(status).encode("utf-16-le"))


def test_a_pacemaker_the_file_states_reaches_the_result_and_the_request_overrides_it(demo_handler):
    """The Philips ``pacestatus`` "Paced" on a recording without spikes gives the note in ``measurements.pacing``
    and ``clinical_analysis.notes``; "No", "Unknown", or the request's ``pacemaker: false`` give none. The
    statement itself is not echoed back, and a ``pacemaker`` that is not true or false is a 400 naming it."""
    from ecg_files import b64

    items = [{"file": b64(_philips_paced_as(status)), "task": "measure", **extra}
             for status, extra in (("Paced", {}), ("No", {}), ("Unknown", {}), ("Paced", {"pacemaker": False}))]
    stated, stated_no, unknown, overridden = demo_handler({"inputs": items})
    note = stated["measurements"]["pacing"]["note"]
    assert note and "no pacing spike was found" in note and note in stated["clinical_analysis"]["notes"]
    for result in (stated_no, unknown, overridden):
        assert result["measurements"]["pacing"]["note"] is None
        assert not any("pacemaker" in text for text in result["clinical_analysis"]["notes"])
    assert '"pacemaker"' not in json.dumps([stated, stated_no, unknown, overridden])
    for value in ("yes", 1, "true"):
        with pytest.raises(InputError, match="inputs.pacemaker"):
            demo_handler({"inputs": {**items[2], "pacemaker": value}})


def _scp_stating_a_pacemaker() -> bytes:
    """The Welch Allyn 2008 SCP-ECG file with its sequence-number tag (section 1, tag 31: 7 bytes) rewritten as a
    medical history tag (32) listing code 42, pacemaker (EN 1064), and the section's and record's CRC-CCITT
    recomputed, as a cart that records the history would have written them."""
    import binascii
    import struct

    data = bytearray(fixture_path("formats", "scp", "welchallyn_simulator_2008.scp").read_bytes())
    pointers = {}  # section 0 (from byte 6): a 16-byte header, then (id, length, 1-based index) per section
    for at in range(6 + 16, 6 + struct.unpack_from("<I", data, 6 + 4)[0], 10):
        section, length, index = struct.unpack_from("<HII", data, at)
        pointers[section] = (index - 1, length)
    start, length = pointers[1]
    at = start + 16
    while data[at] != 31:  # tag (1 byte), length (2), value
        at += 3 + struct.unpack_from("<H", data, at + 1)[0]
    assert struct.unpack_from("<H", data, at + 1)[0] == 7
    data[at:at + 10] = bytes([32, 7, 0, 0]) + bytes([42] * 6)  # table 0, then the codes
    struct.pack_into("<H", data, start, binascii.crc_hqx(bytes(data[start + 2:start + length]), 0xFFFF))
    struct.pack_into("<H", data, 0, binascii.crc_hqx(bytes(data[2:]), 0xFFFF))
    return bytes(data)


def test_a_pacemaker_an_scp_file_s_medical_history_states_reaches_the_result(demo_handler):
    """SCP-ECG keeps a pacemaker in the patient's medical history (section 1, tag 32, code 42): read by ecgdatakit,
    it gives the Welch Allyn recording, which has no pacing spike, the note."""
    from ecg_files import b64
    from ecg_core.files import read_ecg_file

    data = _scp_stating_a_pacemaker()
    source = read_ecg_file(data, filename="stated.scp", limits=Limits())
    assert source.pacemaker is True
    assert not any("checksum" in note for note in source.recording.notes)  # the CRCs were rewritten right
    [result] = demo_handler({"inputs": {"file": b64(data), "task": "measure"}})
    assert "no pacing spike was found" in result["measurements"]["pacing"]["note"]
    unstated = fixture_path("formats", "scp", "welchallyn_simulator_2008.scp").read_bytes()
    [plain] = demo_handler({"inputs": {"file": b64(unstated), "task": "measure"}})
    assert plain["measurements"]["pacing"]["note"] is None


def _cart_file(*parts: str):
    from ecg_core.files import read_ecg_file

    path = fixture_path("formats", *parts)
    return read_ecg_file(path.read_bytes(), filename=path.name, limits=Limits())


def _philips(name: str = "pagewriter_tc_sinus.xml"):
    return _cart_file("philips", name)


# ours → the Philips name (µV, ms)
_PHILIPS_AMPLITUDES = {"p": "pamp", "p_prime": "ppamp", "q": "qamp", "r": "ramp", "s": "samp", "r_prime": "rpamp",
                       "s_prime": "spamp", "t": "tamp", "t_prime": "tpamp"}
_PHILIPS_DURATIONS = {"q": "qdur", "r": "rdur", "s": "sdur"}


@pytest.mark.parametrize("name", ["pagewriter_tc_sinus.xml", "heartstart_mrx_simulator.xml"])
def test_per_lead_measurements_match_the_philips_carts(name):
    """Against the Philips carts' own per-lead measurements, in all 12 leads: the amplitudes of P, P′
    (second lobe of a biphasic P), Q, R, S, R′, S′, T and T′, the ST level at the J point (``ston``), the
    Q, R and S durations and the lead's P duration (``ppppdur``, its P and P′ together). The HeartStart
    file simulates an anterior STEMI: V1-V4 are QS complexes running into raised ST segments, which the
    cart (and we) do not call R waves.

    Where the carts and we read a wave differently, each reading is defensible and the test says which:
    HeartStart aVF starts its T window in a depressed ST segment, which the cart calls the T's first
    lobe (−52 µV, T′ +52) and we the ST level (T +57 µV); its lead II's R runs to the QRS end for the cart
    (97 ms) and to where the lead crosses into that depressed ST for us (62 ms)."""
    source = _philips(name)
    recording = source.recording
    per_lead = measure(recording.signal, recording.fs, recording.lead_names)["per_lead"]
    assert set(per_lead) == set(source.cart_lead_measurements) == set(recording.lead_names)
    amplitude_mv: dict[str, list[float]] = {wave: [] for wave in _PHILIPS_AMPLITUDES}
    duration_ms: list[float] = []
    p_duration_ms: list[float] = []
    t_read_apart = []
    for lead, cart in source.cart_lead_measurements.items():
        ours = per_lead[lead]
        cart_biphasic_t = cart["tamp"] * cart["tpamp"] < 0
        if cart_biphasic_t and ours["t_prime_amplitude_mv"] == 0:
            t_read_apart.append(lead)
        for wave, key in _PHILIPS_AMPLITUDES.items():
            if not (wave.startswith("t") and lead in t_read_apart):
                amplitude_mv[wave].append(ours[f"{wave}_amplitude_mv"] - cart[key] / 1000)
        duration_ms += [ours[f"{wave}_duration_ms"] - cart[key] for wave, key in _PHILIPS_DURATIONS.items()]
        if isinstance(cart["ppppdur"], (int, float)):  # the HeartStart's aVL says "Failed"
            p_duration_ms.append(ours["p_duration_ms"] - cart["ppppdur"])
        assert ours["st_j_mv"] == pytest.approx(cart["ston"] / 1000, abs=0.06), lead  # J a few ms apart on a steep ST
    for wave, values in amplitude_mv.items():
        print(f"\n{name} {wave}: max |ours − cart| {np.max(np.abs(values)):.3f} mV")
        assert np.max(np.abs(values)) <= 0.03, wave
    assert t_read_apart == ([] if name.startswith("pagewriter") else ["aVF"])
    duration_ms, p_duration_ms = np.abs(duration_ms), np.array(p_duration_ms)
    print(f"{name} Q/R/S durations: median |difference| {np.median(duration_ms):.0f} ms, max {duration_ms.max():.0f}; "
          f"P duration {p_duration_ms.mean():+.1f} ± {p_duration_ms.std():.1f} ms")
    assert np.median(duration_ms) <= 3 and np.sum(duration_ms > 12) <= (0 if name.startswith("pagewriter") else 1)
    assert abs(p_duration_ms.mean()) <= 8 and np.median(np.abs(p_duration_ms)) <= 10


@pytest.mark.parametrize("name", ["welchallyn_simulator_2007.scp", "welchallyn_simulator_2008.scp"])
def test_st_levels_match_the_welch_allyn_carts(name):
    """Against the Welch Allyn carts' own per-lead ST levels (SCP section 10, µV), in all 12 leads: at the
    J point and 60 ms after it. (Their Q, R and S amplitudes are not compared: they do not describe the
    stored signal, lead I's S being 0.24 mV deep in every stored beat of the 2007 file and 0.335 in its table.)"""
    source = _cart_file("scp", name)
    recording = source.recording
    per_lead = measure(recording.signal, recording.fs, recording.lead_names)["per_lead"]
    assert set(source.cart_lead_measurements) == set(recording.lead_names)
    cart = source.cart_lead_measurements
    at_j = np.abs([per_lead[lead]["st_j_mv"] - cart[lead]["j_point_amplitude"] / 1000 for lead in cart])
    at_j60 = np.abs([per_lead[lead]["st_j60_mv"] - cart[lead]["st_j60"] / 1000 for lead in cart])
    print(f"\n{name}: ST at J max |ours − cart| {at_j.max():.3f} mV, at J+60 {at_j60.max():.3f} mV")
    assert at_j.max() <= 0.03 and at_j60.max() <= 0.015


def test_morphology_the_welch_allyn_cart_states():
    """The Welch Allyn cart's own statements on its 2007 file (Swedish): "RSR' in V1", "Q > 40 ms i V2",
    "Q/R > 1/3 i V2", left ventricular hypertrophy ("VK-hypertrofi") with a Sokolow index of 4.1 mV. Our
    per-lead waves say the same (V1 read as QR, its S taken for a Q, before the lobes were named in order)."""
    import re

    source = _cart_file("scp", "welchallyn_simulator_2007.scp")
    statements = source.cart_statements
    assert {"RSR' in V1", "Q > 40 ms i V2", "Q/R > 1/3 i V2", "VK-hypertrofi"} <= set(statements)
    result = measure(source.recording.signal, source.recording.fs, source.recording.lead_names, sex=source.sex)
    v1, v2 = result["per_lead"]["V1"], result["per_lead"]["V2"]
    assert v1["r_amplitude_mv"] > 0 and v1["s_amplitude_mv"] < 0 and v1["r_prime_amplitude_mv"] > 0
    assert v1["q_amplitude_mv"] == 0.0
    assert v2["q_duration_ms"] > 40 and abs(v2["q_amplitude_mv"]) > v2["r_amplitude_mv"] / 3
    [sokolow_text] = [text for text in statements if "Sokolow" in text]
    cart_sokolow_mv = float(re.search(r"= ([0-9.]+) mV", sokolow_text).group(1))
    criteria = result["voltage_criteria"]
    assert criteria["sokolow_lyon_lvh"] is True
    assert criteria["sokolow_lyon_mv"] == pytest.approx(cart_sokolow_mv, abs=0.3)  # the cart's is age-corrected


def test_the_acute_anterior_infarct_the_heartstart_states_is_an_urgent_finding(demo_handler):
    """The HeartStart's statements: "Extensive anterior infarct, acute (LAD) (ST >0.20mV, V1-V6)" and
    ">>> Acute MI <<<". Through the handler, sex and age from the file (a man of 50), the ST elevation is
    an urgent finding in the anterior leads, each at ≥ 0.2 mV in V2-V3 as the Fourth Universal Definition
    asks of him."""
    from ecg_files import b64, cart_file_bytes

    [result] = demo_handler({"inputs": {"file": b64(cart_file_bytes(("formats", "philips",
                                                                     "heartstart_mrx_simulator.xml")))}})
    assert ">>> Acute MI <<<" in result["cart_statements"]
    urgent = result["clinical_analysis"]["urgent_findings"]
    anterior = next(finding for finding in urgent if finding["territory"] == "anterior")
    assert {"V2", "V3"} <= set(anterior["leads"])
    assert min(anterior["st_j_mv"]["V2"], anterior["st_j_mv"]["V3"]) >= 0.2
    assert "men aged 40 or more" in anterior["criterion"]


def test_what_the_cart_calls_a_normal_ecg_has_no_urgent_finding(demo_handler):
    """The Welch Allyn 2008 file's cart says "Normal ECG" (a man of 40): no urgent finding, no voltage
    criterion of hypertrophy met, no R′ or Q wave in V1-V2."""
    from ecg_files import b64, cart_file_bytes

    [result] = demo_handler({"inputs": {"file": b64(cart_file_bytes(("formats", "scp",
                                                                     "welchallyn_simulator_2008.scp")))}})
    assert "Normal ECG" in result["cart_statements"]
    assert result["clinical_analysis"]["urgent_findings"] == []
    parameters = result["clinical_analysis"]["physiological_parameters"]
    assert parameters["voltage_criteria"]["sokolow_lyon_lvh"] is False
    assert parameters["voltage_criteria"]["cornell_lvh"] is False
    for lead in ("V1", "V2"):
        assert parameters["per_lead"][lead]["r_prime_amplitude_mv"] == 0.0
        assert parameters["per_lead"][lead]["q_amplitude_mv"] == 0.0


def test_the_r_wave_progression_the_pagewriter_states():
    """The PageWriter's statement "Abnormal R-wave progression, early transition (QRS area>0 in V2)": our
    V2 QRS area is positive, V1's negative."""
    source = _cart_file("philips", "pagewriter_tc_sinus.xml")
    assert any("QRS area>0 in V2" in text for text in source.cart_statements)
    per_lead = measure(source.recording.signal, source.recording.fs, source.recording.lead_names)["per_lead"]
    assert per_lead["V2"]["qrs_area_mv_ms"] > 0 > per_lead["V1"]["qrs_area_mv_ms"]


def test_voltage_criteria_on_the_philips_ecg():
    source = _philips()
    result = measure(source.recording.signal, source.recording.fs, source.recording.lead_names, sex="F")
    cart = source.cart_lead_measurements
    sokolow = abs(cart["V1"]["samp"]) / 1000 + max(cart["V5"]["ramp"], cart["V6"]["ramp"]) / 1000
    cornell = cart["aVL"]["ramp"] / 1000 + abs(cart["V3"]["samp"]) / 1000
    criteria = result["voltage_criteria"]
    assert criteria["sokolow_lyon_mv"] == pytest.approx(sokolow, abs=0.05) and criteria["sokolow_lyon_lvh"] is False
    assert criteria["cornell_mv"] == pytest.approx(cornell, abs=0.05)
    assert criteria["cornell_threshold_mv"] == 2.0 and criteria["cornell_lvh"] is False


def _with_st_elevation(leads: tuple[str, ...], elevation_mv: float):
    """The pydicom 12-lead (real) with its ST segments raised in ``leads``: a plateau of ``elevation_mv``
    from each beat's J point, fading over the T wave, where this code's own boundaries put them."""
    from pydicom import examples

    signal = examples.waveform.waveform_array(0).T / 1000.0
    names = ("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6")
    analysis = analyse(signal, 1000, names)
    view = analysis.median_beat
    scale = 1000 / view.beat.fs  # median-beat samples (500 Hz) to the recording's 1000 Hz
    j_offset = int((view.bounds.qrs_off - view.beat.fiducial) * scale)
    t_offset = int((view.bounds.t_end - view.beat.fiducial) * scale)
    raised = signal.copy()
    shape = np.concatenate([np.ones((t_offset - j_offset) // 2),
                            np.linspace(1, 0, t_offset - j_offset - (t_offset - j_offset) // 2)])
    fiducials = analysis.beats  # R peaks; the median beat's fiducial is within a few ms of them
    for beat in fiducials:
        start = beat + j_offset
        if start + shape.size < signal.shape[1]:
            for lead in leads:
                raised[names.index(lead), start:start + shape.size] += elevation_mv * shape
    return raised, names


def test_st_elevation_in_contiguous_leads_is_an_urgent_finding():
    signal, names = _with_st_elevation(("V2", "V3"), 0.18)
    measured = measure(signal, 1000, names)
    assert measured["per_lead"]["V2"]["st_j_mv"] >= 0.15 and measured["per_lead"]["V3"]["st_j_mv"] >= 0.15
    women = st_elevation_findings(measured, Patient(60, "F"))  # cut-point 0.15 mV in V2-V3
    assert [finding["territory"] for finding in women] == ["anterior"] and women[0]["leads"] == ["V2", "V3"]
    assert st_elevation_findings(measured, Patient(35, "M")) == []  # men under 40: 0.25 mV
    assert st_elevation_findings(measured, Patient(None, None))[0]["territory"] == "anterior"  # lowest cut-point
    untouched = measure(*_with_st_elevation((), 0.0)[:1], 1000, names)
    assert st_elevation_findings(untouched, Patient(60, "F")) == []


def test_inferior_st_elevation_through_the_handler(demo_handler):
    signal, names = _with_st_elevation(("II", "III", "aVF"), 0.15)
    inputs = {"signal": signal[:, ::2].round(4).tolist(), "fs": 500, "lead_names": list(names), "task": "measure",
              "age": 70, "sex": "male"}
    result = demo_handler({"inputs": inputs})[0]
    urgent = result["clinical_analysis"]["urgent_findings"]
    assert [finding["territory"] for finding in urgent] == ["inferior"]
    assert set(urgent[0]["leads"]) == {"II", "III", "aVF"}
    text = json.dumps(result)
    assert '"age"' not in text and '"sex"' not in text and "male" not in text  # no patient data echoed


def test_patient_fields_are_checked_and_fall_back_to_the_file():
    class File:
        age_years, sex, pacemaker = 64.0, "F", True

    assert parse_patient({}, "inputs") == Patient(None, None, None)
    assert parse_patient({"sex": "M", "pacemaker": False}, "inputs", File()) == Patient(64.0, "M", False)
    assert parse_patient({}, "inputs", File()) == Patient(64.0, "F", True)
    for item, field in (({"age": -1}, "inputs.age"), ({"age": "old"}, "inputs.age"), ({"age": True}, "inputs.age"),
                        ({"sex": "x"}, "inputs.sex"), ({"sex": 1}, "inputs.sex"),
                        ({"pacemaker": "yes"}, "inputs.pacemaker"), ({"pacemaker": 0}, "inputs.pacemaker")):
        with pytest.raises(InputError, match=field):
            parse_patient(item, "inputs")


def test_quality_uses_the_beats_measure_found():
    from ecg_core.quality import assess

    signal, names = synthetic_12lead(60, 160, 90, 400, seed=1)
    analysis = analyse(signal, 500, names)
    assert assess(signal, 500, names, analysis.beats) == assess(signal, 500, names)
    assert "no QRS complexes could be detected" in assess(signal, 500, names, analysis.beats[:1])["reasons"][0]


def _cart_marks_pydicom() -> tuple[float, dict[str, list[float]]]:
    """(fs, {boundary: [s, ...]}) from the per-beat fiducials the cart wrote into pydicom's 12-lead DICOM."""
    import pydicom
    from pydicom import examples

    dataset = pydicom.dcmread(examples.get_path("waveform"))
    fs = float(dataset.WaveformSequence[0].SamplingFrequency)
    names = {"P Onset": "p_on", "QRS Onset": "qrs_on", "QRS Offset": "qrs_off", "T Offset": "t_end"}
    marks: dict[str, list[float]] = {}
    for item in dataset.WaveformAnnotationSequence:
        concept = item.get("ConceptNameCodeSequence")
        if concept and concept[0].CodeMeaning in names and item.get("ReferencedSamplePositions") is not None:
            marks.setdefault(names[concept[0].CodeMeaning], []).append((float(item.ReferencedSamplePositions) - 1) / fs)
    return fs, marks


def _cart_marks_aecg(path) -> dict[str, list[float]]:
    """{boundary: [s, ...]} from the Mortara's own per-beat wave annotations in the HL7 aECG (the first
    annotation set, which the device wrote; the second is a human reader's)."""
    from defusedxml import ElementTree

    ns = {"h": "urn:hl7-org:v3"}
    root = ElementTree.parse(str(path)).getroot()
    start = root.find(".//h:series//h:sequence/h:value/h:head", ns).get("value")
    device_set = root.find(".//h:annotationSet", ns)

    def seconds(stamp: str) -> float:  # HL7 TS: yyyymmddHHMMSS.fff, all in one minute here
        return float(stamp[12:]) - float(start[12:])

    marks: dict[str, list[float]] = {}
    for annotation in device_set.iter("{urn:hl7-org:v3}annotation"):
        wave = annotation.find("h:value", ns)
        boundary = annotation.find(".//h:boundary/h:value", ns)
        if wave is None or boundary is None:
            continue
        low, high = boundary.find("h:low", ns), boundary.find("h:high", ns)
        code = wave.get("code")
        if code == "MDC_ECG_WAVC_PWAVE" and low is not None:
            marks.setdefault("p_on", []).append(seconds(low.get("value")))
        elif code == "MDC_ECG_WAVC_QRSWAVE":
            marks.setdefault("qrs_on", []).append(seconds(low.get("value")))
            marks.setdefault("qrs_off", []).append(seconds(high.get("value")))
        elif code == "MDC_ECG_WAVC_TWAVE" and high is not None:
            marks.setdefault("t_end", []).append(seconds(high.get("value")))
    return marks


# our boundary − the cart's, ms: the QRS onset as the carts mark it; offset, T end and P onset within
# what carts differ by among themselves (ours − cart, pydicom / aECG: onset +2/-2, offset +5/-4, T end +18/+14,
# P onset +11/0 ms)
_FIDUCIAL_TOLERANCE_MS = {"qrs_on": 4, "qrs_off": 8, "t_end": 20, "p_on": 12}


@pytest.mark.parametrize("source", ["pydicom", "aecg"])
def test_wave_boundaries_sit_where_the_carts_put_theirs(source):
    """Beat by beat, each of the cart's own boundary marks is set against the dominant beat it belongs to;
    the median of (cart mark − that beat's fiducial) is compared with our median-beat boundary."""
    from ecg_core.files import read_ecg_file

    if source == "pydicom":
        from pydicom import examples

        _, marks = _cart_marks_pydicom()
        data, name = Path(examples.get_path("waveform")).read_bytes(), "waveform_ecg.dcm"
    else:
        path = fixture_path("formats", "hl7_aecg", "example_aecg.xml")
        marks, data, name = _cart_marks_aecg(path), path.read_bytes(), path.name
    recording = read_ecg_file(data, filename=name, limits=Limits()).recording
    view = analyse(recording.signal, recording.fs, recording.lead_names).median_beat
    beat_times, fs = view.beat_times_s, view.beat.fs
    for key, tolerance in _FIDUCIAL_TOLERANCE_MS.items():
        ours_ms = (getattr(view.bounds, key) - view.beat.fiducial) * 1000 / fs
        cart_ms = np.median([1000 * (mark - beat_times[np.argmin(np.abs(beat_times - mark))]) for mark in marks[key]])
        print(f"\n{source} {key}: ours {ours_ms:+.0f} ms, cart {cart_ms:+.0f} ms from the beat's fiducial")
        assert len(marks[key]) >= 8 and abs(ours_ms - cart_ms) <= tolerance, key
