"""Stability of `measure` against the noise real recordings carry, on LUDB's 100 records.

Run: python bench/eval_noise.py [--records 0,4,8]. Each record is measured clean and again with one kind
of noise added to all 12 leads (seeded by the record number): broadband (white) noise of 12.5 and 50 µV
RMS (electrode and muscle noise; 50 µV is a tense patient), 50 Hz mains hum of 50 µV peak-to-peak, and
0.3 Hz baseline wander of 1 mV peak-to-peak (breathing), each lead with its own phase. Per kind and
measurement, over the records where the clean recording has a value: the share still measured, and the
share within the tolerance of the clean value (`TOLERANCES`: the issue's cart tolerances; P duration as
PR). Atrial fibrillation and flutter must keep PR None.
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

import numpy as np  # noqa: E402

import ludb_reference  # noqa: E402
from ecg_core.measure import measure  # noqa: E402

LUDB = ROOT.parent / "shared" / "fixtures" / "ludb"
TOLERANCES = {"heart_rate": 2, "pr_interval": 20, "qrs_duration": 15, "qt_interval": 25, "p_duration": 20}


def white(rms_mv: float):
    return lambda rng, shape, fs: rng.normal(0.0, rms_mv, shape)


def sine(frequency_hz: float, peak_to_peak_mv: float):
    def noise(rng, shape, fs):
        phase = rng.uniform(0.0, 2 * np.pi, (shape[0], 1))
        return 0.5 * peak_to_peak_mv * np.sin(2 * np.pi * frequency_hz * np.arange(shape[1]) / fs + phase)
    return noise


NOISES = {"white 12.5 µV RMS": white(0.0125), "white 50 µV RMS": white(0.05),
          "mains 50 Hz 50 µV p-p": sine(50.0, 0.05), "wander 0.3 Hz 1 mV p-p": sine(0.3, 1.0)}


def evaluate(numbers: list[int]) -> list[dict]:
    """One row per record: its split, whether it is AF/flutter, and the measurements clean and per noise."""
    rows = []
    for number in numbers:
        record = ludb_reference.load(LUDB, number)
        rng = np.random.default_rng(number)
        noisy = {name: measure(record.signal + noise(rng, record.signal.shape, record.fs), record.fs,
                               ludb_reference.LEADS) for name, noise in NOISES.items()}
        rows.append({"number": number, "split": ludb_reference.split(number),
                     "af": ludb_reference.is_af_or_flutter(record.rhythm),
                     "clean": measure(record.signal, record.fs, ludb_reference.LEADS), "noisy": noisy})
    return rows


def stability(rows: list[dict], noise: str, key: str) -> dict:
    """{"n", "kept", "within"}: records with a clean value, and the shares still measured / within tolerance."""
    pairs = [(row["clean"][key], row["noisy"][noise][key]) for row in rows if row["clean"][key] is not None]
    kept = [abs(noisy - clean) <= TOLERANCES[key] for clean, noisy in pairs if noisy is not None]
    return {"n": len(pairs), "kept": len(kept) / len(pairs) if pairs else float("nan"),
            "within": sum(kept) / len(pairs) if pairs else float("nan")}


def pr_none_on_af(rows: list[dict], noise: str) -> float:
    af = [row for row in rows if row["af"]]
    return float(np.mean([row["noisy"][noise]["pr_interval"] is None for row in af])) if af else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", help="comma-separated LUDB record numbers (default: all)")
    args = parser.parse_args()
    numbers = ([int(n) for n in args.records.split(",")] if args.records
               else ludb_reference.record_numbers(LUDB))
    rows = evaluate(numbers)
    for noise in NOISES:
        print(f"\n{noise}: PR None on AF/flutter {pr_none_on_af(rows, noise):.0%}")
        for key, tolerance in TOLERANCES.items():
            cells = []
            for name, subset in (("DEV", [r for r in rows if r["split"] == "dev"]),
                                 ("TEST", [r for r in rows if r["split"] == "test"]), ("all", rows)):
                s = stability(subset, noise, key)
                cells.append(f"{name} {s['kept']:4.0%} kept, {s['within']:4.0%} within ({s['n']})")
            print(f"  {key:13s} ±{tolerance:<3d} " + "   ".join(cells))


if __name__ == "__main__":
    main()
