"""``python -m ecg_core batch INPUT... --out results.parquet``: its options, and the closing summary."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from ..contract import SignalOptions
from ..ecgfm.labels import MIMIC_IV_ECG_LABELS, default_thresholds, parse_thresholds
from ..errors import InputError
from ..settings import Settings

BATCH_TASKS = ("analyze", "features", "measure", "quality")


def add_parser(commands, repo_dir: Path) -> None:
    batch = commands.add_parser(
        "batch", help="score whole ECG datasets into Parquet (Ray Data; see README 'Batch scoring')",
        description="Score ECG files, Parquet/Arrow tables or local Hugging Face datasets with the endpoint's "
                    "own signal route on Ray Data, one output row per recording.")
    batch.add_argument("inputs", nargs="+", metavar="INPUT",
                       help="a folder or glob of ECG files, a .parquet/.arrow table, or a saved HF dataset folder")
    batch.add_argument("--out", required=True, type=Path, help="output folder of Parquet files")
    batch.add_argument("--task", choices=BATCH_TASKS, default="analyze")
    batch.add_argument("--features", action="store_true", help="add the ECG-FM embedding column")
    batch.add_argument("--thresholds", help="one number, or a JSON object {label: threshold}")
    batch.add_argument("--pad-short", action="store_true", help="zero-pad recordings shorter than 5 s")
    batch.add_argument("--resume", action="store_true", help="skip the sources already in --out")
    batch.add_argument("--address", help="an existing Ray cluster (e.g. ray://head:10001 or auto)")
    batch.add_argument("--workers", type=int, help="scoring actors (default: one per CPU, or per GPU)")
    batch.add_argument("--gpus-per-worker", type=float, help="GPU share of each actor, e.g. 0.25 for four per GPU")
    batch.add_argument("--batch-size", type=int, default=16, help="recordings per actor call (default 16)")
    batch.add_argument("--demo", action="store_true", help="use built-in demo weights (same as ECG_DEMO=1)")
    batch.add_argument("--repo-dir", default=str(repo_dir), help="the model repository directory")
    table = batch.add_argument_group("tables and datasets")
    table.add_argument("--id-column", default="id", help="the column naming each recording (default: id)")
    table.add_argument("--signal-column", default="signal", help="leads × samples values (default: signal)")
    table.add_argument("--fs", type=float, help="sampling rate when the table has no fs column")
    table.add_argument("--lead-names", help="comma-separated lead names when the table has no lead_names column")
    table.add_argument("--units", help="signal units when the table has no units column (default mV)")


def run(args: argparse.Namespace) -> int:
    sys.path.insert(0, args.repo_dir)  # utils.py lives at the repository root
    from .parse import TableColumns
    from .pipeline import BatchConfig, run_batch

    if args.demo:
        os.environ["ECG_DEMO"] = "1"
    try:
        settings = Settings.from_env(args.repo_dir)
        config = BatchConfig(
            inputs=tuple(args.inputs), out=args.out, task=args.task, options=_options(args), resume=args.resume,
            columns=TableColumns(id=args.id_column, signal=args.signal_column, fs=args.fs, units=args.units,
                                 lead_names=tuple(args.lead_names.split(",")) if args.lead_names else None),
            address=args.address, workers=_positive(args.workers, "--workers"),
            gpus_per_worker=args.gpus_per_worker, batch_size=_positive(args.batch_size, "--batch-size"))
        summary = run_batch(config, settings)
    except InputError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(format_summary(summary))
    return 1 if summary["recordings"] and not summary["ok"] else 0


def _options(args: argparse.Namespace) -> SignalOptions:
    thresholds = None
    if args.thresholds:
        # bad JSON or values fail here, before Ray starts
        parse_thresholds(args.thresholds, "--thresholds", base=default_thresholds(MIMIC_IV_ECG_LABELS))
        thresholds = json.loads(args.thresholds)
    return SignalOptions(return_features=args.features, pad_short=args.pad_short, thresholds=thresholds)


def _positive(value: int | None, flag: str) -> int | None:
    if value is not None and value < 1:
        raise InputError(flag, f"must be at least 1, got {value}")
    return value


def format_summary(summary: dict) -> str:
    lines = [f"{summary['recordings']} recordings scored ({summary['ok']} ok, {summary['failed']} failed) in "
             f"{summary['seconds']} s: {summary['recordings_per_s']} recordings/s with {summary['workers']} "
             f"workers; {summary['already_done']} already in {summary['output']}"]
    lines += [f"  {count:6d} × {reason}" for reason, count in summary["failures_by_reason"].items()]
    return "\n".join(lines)
