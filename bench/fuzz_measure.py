"""Random synthetic ECGs against `measure`: where a number comes back far from the truth.

Run: python bench/fuzz_measure.py [--cases 300] [--seed 0] [--leads I,II]. Each case draws the rate (40-180 bpm), PR
(110-330 ms), QRS (70-170 ms), QT from a Bazett QTc of 360-500 ms, the T wave's size (0.08-0.6 mV) and shape
(one in five biphasic), broadband noise (0-40 µV), baseline wander (0-0.3 mV) and the QRS axis (-60 to 150°),
and keeps it when the waves fit the RR interval (the P wave after the previous QRS, the T wave before the next
one). A case is wrong when the heart rate or QRS is missing, or a value is further from the truth than HR 2
bpm, PR 30, QRS 20 or QT 40 ms; `None` is never wrong here (overlapping waves are left unmeasured with the
reason). Prints each wrong case and the share of cases right; `docs/measurements.md` ("Still fragile") says
which remain.
``--leads`` measures only those leads (a wearable's lead I, a Holter's two), against the same global truth:
one lead's QRS, PR and QT may be shorter than the global ones, where its axis hides a wave's start or end.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import numpy as np  # noqa: E402

from ecg_core.measure import measure  # noqa: E402
from synthetic_ecg import synthetic_12lead  # noqa: E402

LIMITS = {"heart_rate": 2.0, "pr_interval": 30.0, "qrs_duration": 20.0, "qt_interval": 40.0}


def draw_case(rng: np.random.Generator) -> dict | None:
    """One random ECG's parameters (`synthetic_12lead` keywords), None when its waves do not fit."""
    hr = int(rng.integers(40, 181))
    rr_ms = 60000 / hr
    pr, qrs = int(rng.integers(110, 331)), int(rng.integers(70, 171))
    qt = int(rng.uniform(360, 500) * (rr_ms / 1000) ** 0.5)
    if qt < qrs + 150 or qt > rr_ms - 20 or rr_ms - pr < qrs + 40:
        return None
    return {"hr_bpm": hr, "pr_ms": pr, "qrs_ms": qrs, "qt_ms": qt, "t_mv": float(rng.choice([0.08, 0.15, 0.35, 0.6])),
            "t_biphasic": bool(rng.random() < 0.2), "noise_mv": float(rng.choice([0.0, 0.01, 0.02, 0.04])),
            "wander_mv": float(rng.choice([0.0, 0.1, 0.3])), "qrs_axis": round(float(rng.uniform(-60, 150)))}


def wrong_values(case: dict, result: dict) -> dict[str, float | None]:
    """Measurement → its error (None: missing although it must be there), for the values out of `LIMITS`."""
    truth = {"heart_rate": case["hr_bpm"], "pr_interval": case["pr_ms"], "qrs_duration": case["qrs_ms"],
             "qt_interval": case["qt_ms"]}
    wrong: dict[str, float | None] = {}
    for key, value in truth.items():
        if result[key] is None:
            if key in ("heart_rate", "qrs_duration"):
                wrong[key] = None
        elif abs(result[key] - value) > LIMITS[key]:
            wrong[key] = round(result[key] - value, 1)
    return wrong


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=300, help="cases drawn (those whose waves fit are measured)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--leads", default="", help="comma-separated lead names to measure (default: all 12)")
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    measured = wrong = 0
    for index in range(args.cases):
        case = draw_case(rng)
        if case is None:
            continue
        signal, names = synthetic_12lead(seed=index, **case)
        leads = tuple(args.leads.split(",")) if args.leads else names
        errors = wrong_values(case, measure(signal[[names.index(lead) for lead in leads]], 500, leads))
        measured += 1
        if errors:
            wrong += 1
            gap_ms = 60000 / case["hr_bpm"] - case["pr_ms"] - case["qt_ms"]
            print(f"case {index}: {case}, P onset {gap_ms:+.0f} ms after the T end: {errors}")
    print(f"{measured - wrong} of {measured} right ({(measured - wrong) / max(measured, 1):.0%})")


if __name__ == "__main__":
    main()
