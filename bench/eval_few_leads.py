"""Heart rate from one lead alone (a wearable's lead I, one Holter channel) or two (a Holter's), on LUDB's real
12-lead records.

Run: python bench/eval_few_leads.py [--records 0,4,8]. Every LUDB record with a regular rhythm (not atrial
fibrillation or flutter, whose reference rate the record's edges decide) is measured on each of its 12 leads
alone and on the lead pairs of `PAIRS`, and the heart rate is checked against the cardiologists'
(`tests/ludb_reference.py`: the mean RR of their annotated beats) with the issue's 3 bpm; per split (DEV:
thresholds may be chosen on it, TEST held out), per lead and per pair, then every miss, marked when the record is
paced (a single lead cannot tell a pacing spike from a QRS: `pacing.find_spikes` needs two leads). A lead alone
sees the heart from its own angle: P and T waves as steep as a small QRS, one beat's deflections far apart.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[variable] = "1"

import ludb_reference  # noqa: E402
from ecg_core.measure import measure  # noqa: E402
from eval_measure import LUDB, chosen_records, records_option  # noqa: E402

RATE_TOLERANCE_BPM = 3.0
PAIRS = (("II", "V5"), ("II", "V1"), ("I", "II"), ("V1", "V5"))  # Holter channels: modified II with V1 or V5


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


def share_right(rows: list[dict]) -> float:
    return sum(row["right"] for row in rows) / len(rows) if rows else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    records_option(parser)
    rows = evaluate(chosen_records(parser.parse_args()))
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


if __name__ == "__main__":
    main()
