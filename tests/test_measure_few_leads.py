"""Heart rate from one lead alone (a wearable's lead I, one Holter channel) or two (a Holter's), and the intervals
from the six limb leads alone (a six-lead device's): a lead sees the
QRS from its own angle, where P and T waves can be nearly as steep as a small QRS and one beat's deflections lie
far apart. `bench/eval_few_leads.py` prints the figures; before this round a lead alone gave the rate within 3 bpm
on 95.8 % of LUDB's DEV leads and 97.0 % of TEST's, two leads on 94.9 % and 96.9 %."""

from __future__ import annotations

import sys

import pytest

from conftest import ROOT, fixture_path
from ecg_core.measure import measure
from synthetic_ecg import synthetic_12lead

sys.path.insert(0, str(ROOT / "bench"))


@pytest.fixture(scope="module")
def ludb_rows():
    pytest.importorskip("wfdb")
    folder = fixture_path("ludb")
    import eval_few_leads
    import ludb_reference

    return eval_few_leads.evaluate(ludb_reference.record_numbers(folder))


@pytest.mark.parametrize("split", ["dev", "test"])
def test_one_lead_gives_the_heart_rate_on_ludb(ludb_rows, split):
    """Every lead of every regular-rhythm LUDB record alone: the experts' rate within 3 bpm on at least 98 %
    of them, 99 % of those of unpaced records (one lead cannot tell a pacing spike from a QRS)."""
    import eval_few_leads

    rows = [row for row in ludb_rows if row["split"] == split and len(row["leads"]) == 1]
    unpaced = [row for row in rows if not row["paced"]]
    print(f"\nLUDB {split}: one lead's rate within 3 bpm {eval_few_leads.share_right(rows):.1%} ({len(rows)}), "
          f"unpaced {eval_few_leads.share_right(unpaced):.1%} ({len(unpaced)})")
    assert len(rows) > 500
    assert eval_few_leads.share_right(rows) >= 0.98 and eval_few_leads.share_right(unpaced) >= 0.99


@pytest.mark.parametrize("split", ["dev", "test"])
def test_two_leads_give_the_heart_rate_on_ludb(ludb_rows, split):
    """A Holter's pairs (II with V1 or V5, I with II, V1 with V5) of every regular-rhythm LUDB record, paced ones
    too: the experts' rate within 3 bpm on at least 99 % (before the round that built the rules 94.9 % on DEV; all
    of them until the limb leads a cart derives were derived, which gave I and II of paced LUDB 72 its six limb
    leads' 89.5 bpm for 62.8, docs/measurements.md "One or two leads")."""
    import eval_few_leads

    rows = [row for row in ludb_rows if row["split"] == split and len(row["leads"]) == 2]
    print(f"\nLUDB {split}: two leads' rate within 3 bpm {eval_few_leads.share_right(rows):.1%} ({len(rows)})")
    assert len(rows) > 150 and eval_few_leads.share_right(rows) >= 0.99


@pytest.fixture(scope="module")
def limb_rows():
    pytest.importorskip("wfdb")
    folder = fixture_path("ludb")
    import eval_few_leads
    import ludb_reference

    return eval_few_leads.evaluate_limb_leads(ludb_reference.record_numbers(folder))


def test_six_limb_leads_give_the_intervals_on_ludb(limb_rows):
    """A six-lead device's recording (the limb leads alone) of every LUDB record, against the experts' boundaries
    in those six leads and the 12-lead values: what the code achieves, which misses the 12-lead figures (README
    "What misses the goals"). PR SD 9.8 ms, QRS 14.6, QT 20.2; within the cart tolerances of the 12-lead value:
    PR 95 %, QRS 91 %, QT 87 % (before the limb-lead QRS onset of `qrs.median_beat_qrs`: PR SD 14.2 ms, QRS
    17.5, QT 26.5; PR 92 %, QRS 82 %, QT 81 %; before a notched T wave was one: QT SD 24.2 ms, 86 %)."""
    import eval_few_leads
    from eval_measure import interval_summary

    for key, min_coverage, max_sd_ms, min_near in (("pr_interval", 0.95, 11.0, 0.93),
                                                   ("qrs_duration", 1.0, 15.5, 0.88),
                                                   ("qt_interval", 0.98, 21.5, 0.85)):
        summary = interval_summary(limb_rows, key)
        near = eval_few_leads.share_near_twelve_leads(limb_rows, key)
        print(f"\nsix limb leads, {key}: {summary['mean']:+.1f} ± {summary['sd']:.1f} ms, coverage "
              f"{summary['coverage']:.0%}; near the 12 leads' {near:.0%}")
        assert len(limb_rows) == 100 and summary["coverage"] >= min_coverage and summary["sd"] <= max_sd_ms, key
        assert near >= min_near, key


def test_a_t_loop_that_swings_round_is_one_t_wave(limb_rows):
    """LUDB 28's T wave in II, III and aVF is biphasic with a loop that swings round rather than back, so over
    the six limb leads the magnitude dips only 15-17 % between the lobes before rising to the second: that rise
    was taken for the next wave and the QT ended at the first lobe (332 ms; 440 on all 12 leads, the experts' 470
    in these six). A rise before the curve has dipped a fifth is the same T wave."""
    row = next(row for row in limb_rows if row["number"] == 28)
    limb_qt_ms, twelve_qt_ms = row["measured"]["qt_interval"], row["twelve_leads"]["qt_interval"]
    print(f"\nLUDB 28, six limb leads: QT {limb_qt_ms} ms, 12 leads {twelve_qt_ms}")
    assert limb_qt_ms is not None and abs(limb_qt_ms - twelve_qt_ms) <= 25


@pytest.mark.parametrize("number", [12, 24, 56, 10])
def test_six_limb_leads_keep_the_qrs_out_of_the_p_wave(limb_rows, number):
    """Without the chest leads the QRS's peak slope is small, and its onset ran through the PR segment's fast
    wiggles into the P wave: the limb leads of LUDB 12, 24 and 56 (DEV) gave QRS 150, 212 and 140 ms against the
    experts' 104, 178 and 99 in those leads (12's PR 100 ms for 133). Found below 40 Hz, the onset stays out of
    it; the offset keeps the full band, which a terminal notch needs (TEST record 10: 136 ms, experts' 139; 94
    with the offset low-passed too)."""
    row = next(row for row in limb_rows if row["number"] == number)
    measured, experts = row["measured"]["qrs_duration"], row["record"].reference["qrs_duration"]
    print(f"\nLUDB {number}, six limb leads: QRS {measured} ms, experts {experts}")
    assert measured is not None and abs(measured - experts) <= 10.0


# per condition: PR, QRS, QT shares within the cart tolerance of the clean limb-lead value (each 2 points under
# what the code achieves; before the limb-lead QRS onset: white 12.5 µV 93 / 91 / 94 %, muscle 89 / 90 / 88 %,
# quartered under 12.5 µV 85 / 84 / 88 %)
LIMB_NOISE_FLOORS = {"white 12.5 µV RMS": (0.96, 0.93, 0.97), "white 50 µV RMS": (0.82, 0.88, 0.87),
                     "muscle bursts 0.1 mV RMS": (0.92, 0.91, 0.93), "amplitude × 0.5": (0.98, 0.95, 0.97),
                     "amplitude × 0.25, 12.5 µV RMS": (0.86, 0.87, 0.84), "resampled to 250 Hz": (0.94, 0.90, 0.91)}


def test_six_limb_leads_hold_their_intervals_under_noise():
    """A six-lead device is held in the hands: every LUDB record's limb leads under `eval_robustness`'s noise
    (white, muscle bursts at the electrodes, a quarter of the amplitude under the electrodes' noise, 250 Hz),
    against the same leads clean."""
    pytest.importorskip("wfdb")
    folder = fixture_path("ludb")
    import eval_few_leads
    import eval_robustness
    import ludb_reference

    rows = eval_few_leads.evaluate_limb_leads_under_noise(ludb_reference.record_numbers(folder))
    assert set(LIMB_NOISE_FLOORS) == set(eval_few_leads.LIMB_NOISE_CONDITIONS)
    for condition, floors in LIMB_NOISE_FLOORS.items():
        shares = [eval_robustness.stability(rows, condition, key)["within"] for key in eval_few_leads.INTERVALS]
        print(f"\n{condition}: PR, QRS, QT within tolerance " + ", ".join(f"{share:.0%}" for share in shares))
        assert all(share >= floor for share, floor in zip(shares, floors)), condition


@pytest.mark.parametrize("number, lead", [(24, "V2"), (120, "III"), (124, "aVF")])
def test_one_lead_counts_its_qrs_complexes_and_not_its_p_or_t_waves(number, lead):
    """LUDB records (DEV) where one lead went wrong in three ways: 24's V2 (LBBB, a deep QS) had beats placed
    where the lead is flat short of the QS (the upright pass's peak, moved to the edge of its window), from where
    the QS looks like a baseline step, and they were taken for steps (34 bpm for 51): of two detections of one beat the steeper is kept. 120's III has P waves 0.21 s before each QRS,
    found as beats (108 bpm for 58): a detection within 0.36 s before a beat and under half as steep is its P
    wave, as one after it is its T wave. 124's aVF has T waves 0.53 s after the QRS and a tenth as steep (77
    bpm for 56): within 0.6 s, under 0.15 as steep is no beat either."""
    pytest.importorskip("wfdb")
    folder = fixture_path("ludb")
    import ludb_reference

    record = ludb_reference.load(folder, number)
    index = ludb_reference.LEADS.index(lead)
    heart_rate = measure(record.signal[index:index + 1], record.fs, (lead,))["heart_rate"]
    assert heart_rate == pytest.approx(60000 / record.reference["rr_ms"], abs=3)


# (HR, PR, QRS, QT, T size mV, QRS axis): lead II alone at a QRS axis of about -20°, where it sees the QRS small
# and the P and T waves (axes 60° and 45°) at full size
LEAD_II_ACROSS_THE_AXIS = [(49, 202, 113, 480, 0.35, -22), (106, 292, 70, 310, 0.15, -21),
                           (47, 330, 90, 421, 0.35, -18)]


@pytest.mark.parametrize("hr,pr,qrs,qt,t_mv,axis", LEAD_II_ACROSS_THE_AXIS)
def test_a_lead_across_the_qrs_axis_does_not_count_p_waves(hr, pr, qrs, qt, t_mv, axis):
    """P waves 0.3-0.5 times as steep as the small QRS lead II sees were counted as beats (up to twice the
    rate), since only a "beat" after another was judged against it."""
    for seed in (1, 2, 3):
        signal, names = synthetic_12lead(hr, pr, qrs, qt, seed=seed, t_mv=t_mv, qrs_axis=axis, noise_mv=0.02)
        lead_ii = signal[[names.index("II")]]
        assert measure(lead_ii, 500, ("II",))["heart_rate"] == pytest.approx(hr, abs=1.5), seed
