"""Heart rate from one lead alone (a wearable's lead I, one Holter channel) or two (a Holter's), and the intervals
from the six limb leads alone (a six-lead device's), on LUDB's real 12-lead records.

Run: python bench/eval_few_leads.py [--records 0,4,8]. Every LUDB record with a regular rhythm (not atrial
fibrillation or flutter, whose reference rate the record's edges decide) is measured on each of its 12 leads
alone and on the lead pairs of `PAIRS`, and the heart rate is checked against the cardiologists'
(`tests/ludb_reference.py`: the mean RR of their annotated beats) with the issue's 3 bpm; per split (DEV:
thresholds may be chosen on it, TEST held out), per lead and per pair, then every miss, marked when the record is
paced (a single lead cannot tell a pacing spike from a QRS: `pacing.find_spikes` needs two leads). A lead alone
sees the heart from its own angle: P and T waves as steep as a small QRS, one beat's deflections far apart.
The six limb leads (`evaluate_limb_leads`) are measured against the experts' boundaries in those six leads
(`ludb_reference.lead_subset_reference`, built as the 12-lead reference is) and against the 12-lead measurement
within the cart tolerances: without the chest leads the QRS's steepest slopes are gone, and the P and T waves are
steeper beside it. Then how far noise moves them (`evaluate_limb_leads_under_noise`): a six-lead device is held in
the hands.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[variable] = "1"

import numpy as np  # noqa: E402

import eval_robustness  # noqa: E402
import ludb_reference  # noqa: E402
from ecg_core.leads import LIMB_LEADS  # noqa: E402  (a six-lead device's: limb electrodes only)
from ecg_core.measure import measure  # noqa: E402
from eval_measure import CART_TOLERANCES, LUDB, chosen_records, interval_summary, records_option  # noqa: E402

RATE_TOLERANCE_BPM = 3.0
PAIRS = (("II", "V5"), ("II", "V1"), ("I", "II"), ("V1", "V5"))  # Holter channels: modified II with V1 or V5
LIMB_ROWS = [ludb_reference.LEADS.index(lead) for lead in LIMB_LEADS]  # their rows in a LUDB record
INTERVALS = ("pr_interval", "qrs_duration", "qt_interval")
# what a six-lead device meets: `eval_robustness.CONDITIONS` that reach the limb leads
LIMB_NOISE_CONDITIONS = ("white 12.5 µV RMS", "white 50 µV RMS", "muscle bursts 0.1 mV RMS", "amplitude × 0.5",
                         "amplitude × 0.25, 12.5 µV RMS", "resampled to 250 Hz")


def evaluate(numbers: list[int]) -> list[dict]:
    """One row per (regular-rhythm record, lead or pair of `PAIRS`): split, paced, the leads, the experts' rate and
    the leads' own."""
    rows = []
    for number in numbers:
        record = ludb_reference.load(LUDB, number)
        if ludb_reference.is_af_or_flutter(record.rhythm) or not record.reference["rr_ms"]:
            continue
        reference_bpm = 60000.0 / record.reference["rr_ms"]
        for leads in [(lead,) for lead in ludb_reference.LEADS] + list(PAIRS):
            indices = [ludb_reference.LEADS.index(lead) for lead in leads]
            heart_rate = measure(record.signal[indices], record.fs, leads)["heart_rate"]
            rows.append({"number": number, "split": ludb_reference.split(number), "paced": record.paced,
                         "leads": leads, "reference_bpm": reference_bpm, "heart_rate": heart_rate,
                         "right": heart_rate is not None and abs(heart_rate - reference_bpm) <= RATE_TOLERANCE_BPM})
    return rows


def evaluate_limb_leads(numbers: list[int]) -> list[dict]:
    """One row per record, as `eval_measure.evaluate_ludb`'s (so `interval_summary` reads it), measured on the six
    limb leads alone, the record's reference replaced by the experts' boundaries in those leads; and
    "twelve_leads", the same record measured on all 12."""
    rows = []
    for number in numbers:
        record = ludb_reference.load(LUDB, number)
        rows.append({"number": number, "split": ludb_reference.split(number),
                     "record": replace(record, reference=ludb_reference.lead_subset_reference(record, LIMB_LEADS)),
                     "measured": measure(record.signal[LIMB_ROWS], record.fs, LIMB_LEADS),
                     "twelve_leads": measure(record.signal, record.fs, ludb_reference.LEADS)})
    return rows


def evaluate_limb_leads_under_noise(numbers: list[int]) -> list[dict]:
    """One row per record, as `eval_robustness.evaluate`'s (so `eval_robustness.stability` reads it): the six limb
    leads measured clean and under each of `LIMB_NOISE_CONDITIONS`, applied to all 12 leads with
    `eval_robustness`'s noise seeds (muscle noise at the electrodes, the limb leads derived from them)."""
    rows = []
    for number in numbers:
        record = ludb_reference.load(LUDB, number)
        rng = np.random.default_rng(number)
        changed = {}
        for name, condition in eval_robustness.CONDITIONS.items():  # each draws its noise in turn
            signal, fs = condition(record.signal, record.fs, rng)
            if name in LIMB_NOISE_CONDITIONS:
                changed[name] = measure(signal[LIMB_ROWS], fs, LIMB_LEADS)
        rows.append({"number": number, "split": ludb_reference.split(number),
                     "clean": measure(record.signal[LIMB_ROWS], record.fs, LIMB_LEADS), "changed": changed})
    return rows


def share_near_twelve_leads(rows: list[dict], key: str) -> float:
    """Of the records with a 12-lead value: the share whose limb-lead value is within the cart tolerance of it."""
    pairs = [(row["measured"][key], row["twelve_leads"][key]) for row in rows if row["twelve_leads"][key] is not None]
    near = [limb is not None and abs(limb - twelve) <= CART_TOLERANCES[key] for limb, twelve in pairs]
    return sum(near) / len(near) if near else float("nan")


def share_right(rows: list[dict]) -> float:
    return sum(row["right"] for row in rows) / len(rows) if rows else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    records_option(parser)
    numbers = chosen_records(parser.parse_args())
    rows = evaluate(numbers)
    for count, what in ((1, "one lead"), (2, "two leads")):
        of_count = [row for row in rows if len(row["leads"]) == count]
        for name, subset in (("DEV", [r for r in of_count if r["split"] == "dev"]),
                             ("TEST", [r for r in of_count if r["split"] == "test"]), ("all", of_count)):
            unpaced = [r for r in subset if not r["paced"]]
            print(f"{name:4s}: heart rate within {RATE_TOLERANCE_BPM:g} bpm from {what} {share_right(subset):.1%} "
                  f"({len(subset)}), unpaced records {share_right(unpaced):.1%} ({len(unpaced)})")
    print("per lead or pair: " + ", ".join(
        f"{'+'.join(leads)} {share_right([r for r in rows if r['leads'] == leads]):.0%}"
        for leads in [(lead,) for lead in ludb_reference.LEADS] + list(PAIRS)))
    for row in rows:
        if not row["right"]:
            print(f"  {row['number']:4d} {row['split']:4s} {'+'.join(row['leads']):6s} experts "
                  f"{row['reference_bpm']:.1f}, ours {row['heart_rate']}{' (paced)' if row['paced'] else ''}")
    limb_rows = evaluate_limb_leads(numbers)
    for name, subset in (("DEV", [r for r in limb_rows if r["split"] == "dev"]),
                         ("TEST", [r for r in limb_rows if r["split"] == "test"]), ("all", limb_rows)):
        print(f"\n{name}: six limb leads ({len(subset)} records), against the experts' limb-lead reference; share "
              f"within the cart tolerance of the 12-lead value")
        for key in INTERVALS:
            s = interval_summary(subset, key)
            print(f"  {key:13s} {s['mean']:+6.1f} ± {s['sd']:5.1f} ms  coverage {s['coverage']:.0%} "
                  f"({s['n_both']}/{s['n_reference']}); near the 12 leads' {share_near_twelve_leads(subset, key):.0%}")
    noisy_rows = evaluate_limb_leads_under_noise(numbers)
    print("\nsix limb leads under noise: share of the records with a clean value still within the cart tolerance of "
          "it (all records)")
    for condition in LIMB_NOISE_CONDITIONS:
        print(f"  {condition:30s} " + "   ".join(
            f"{key[:3]} {eval_robustness.stability(noisy_rows, condition, key)['within']:4.0%}" for key in INTERVALS))
    for row in limb_rows:
        off = [f"{key[:3]} {row['measured'][key]} (12 leads {row['twelve_leads'][key]}, experts "
               f"{row['record'].reference[key]})" for key in INTERVALS
               if row["twelve_leads"][key] is not None and (row["measured"][key] is None or abs(
                   row["measured"][key] - row["twelve_leads"][key]) > CART_TOLERANCES[key])]
        if off:
            print(f"  {row['number']:4d} {row['split']:4s} " + "; ".join(off))


if __name__ == "__main__":
    main()
