"""Timing helpers shared by the benchmarks: wall-clock samples of repeated runs, and their median."""

from __future__ import annotations

import statistics
import sys
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root: utils.py, ecg_core

from utils import timed  # noqa: E402


def sample_seconds(run: Callable[[], object], repeats: int) -> list[float]:
    samples = []
    for _ in range(repeats):
        with timed() as timer:
            run()
        samples.append(timer.seconds)
    return samples


def median_seconds(run: Callable[[], object], repeats: int) -> float:
    return statistics.median(sample_seconds(run, repeats))
