"""The output folder: its Parquet files, what a resumed run can skip, and the closing summary.

Ray writes each block of scored rows as its own Parquet file, so a killed run leaves complete files for the
finished blocks and at most a few torn ones for the blocks in flight; `completed_sources` deletes torn
files (their recordings are scored again) and returns the sources of the complete ones.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq

from .schema import OK

log = logging.getLogger(__name__)


def parquet_files(out: Path) -> set[Path]:
    return set(out.glob("*.parquet")) if out.is_dir() else set()


def completed_sources(out: Path) -> set[str]:
    done: set[str] = set()
    for path in sorted(parquet_files(out)):
        try:
            done.update(pq.read_table(path, columns=["source"]).column("source").to_pylist())
        except Exception as error:  # noqa: BLE001 - a torn file from a killed run: redo its rows
            log.warning("removing %s, unreadable (%s: %s); its recordings are scored again",
                        path.name, type(error).__name__, error)
            path.unlink()
    return done


def summarize(files: set[Path], seconds: float, already_done: int) -> dict:
    """Recordings written to ``files``, failures grouped by reason, throughput over ``seconds``."""
    statuses = [status for path in sorted(files)
                for status in pq.read_table(path, columns=["status"]).column("status").to_pylist()]
    failures = Counter(failure_reason(status) for status in statuses if status != OK)
    return {"recordings": len(statuses), "ok": len(statuses) - sum(failures.values()),
            "failed": sum(failures.values()), "failures_by_reason": dict(failures.most_common()),
            "already_done": already_done, "seconds": round(seconds, 2),
            "recordings_per_s": round(len(statuses) / seconds, 2) if seconds > 0 else None}


def failure_reason(status: str) -> str:
    """An error message without its particulars (numbers, quoted names), so alike failures group together."""
    reason = re.sub(r"'[^']*'|\"[^\"]*\"", "'…'", status)
    return re.sub(r"\d+(\.\d+)?", "#", reason)[:160]
