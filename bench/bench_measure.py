"""Time `measure` (and `assess`) on a 10 s and a 5 min 12-lead 500 Hz recording, pinned to one CPU core.

Run: python bench/bench_measure.py [--repeats 50]. Prints median and p95 in ms; the target for
`measure` on 10 s is < 300 ms. The 5 min record (measured in 30 windows) gets a fifth of the repeats.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[variable] = "1"  # before numpy is imported: one core means one thread

import numpy as np  # noqa: E402

from ecg_core.measure import measure  # noqa: E402
from ecg_core.quality import assess  # noqa: E402
from synthetic_ecg import synthetic_12lead  # noqa: E402
from timing import sample_seconds  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=50)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    signal, names = synthetic_12lead(75, 160, 95, 400, fs=500, duration_s=10, seed=1)
    long_signal, _ = synthetic_12lead(75, 160, 95, 400, fs=500, duration_s=300, seed=2)
    long_repeats = max(1, args.repeats // 5)
    for label, function, repeats in (
            ("measure 12x5000 @500 Hz (10 s)", lambda: measure(signal, 500, names), args.repeats),
            ("assess  12x5000 @500 Hz (10 s)", lambda: assess(signal, 500, names), args.repeats),
            ("measure 12x150000 @500 Hz (5 min)", lambda: measure(long_signal, 500, names), long_repeats)):
        function()  # warm-up: imports, filter design caches
        times = 1000 * np.array(sample_seconds(function, repeats))
        print(f"{label}: median {np.median(times):.1f} ms, p95 {np.percentile(times, 95):.1f} ms "
              f"({repeats} repeats, 1 core)")


if __name__ == "__main__":
    main()
