"""``python -m ecg_core analyze FILE [FILE ...] [--task T] [--format F] [--json] [--demo]``.

Runs each file through the endpoint handler exactly as ``{"inputs": {"file": ..., "task": ...}}`` and prints
what the endpoint would answer: a readable summary by default, the results as JSON with ``--json``. A file
the endpoint would refuse prints its error (no traceback); the exit status is 1 when any file failed.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from ..contract import SIGNAL_TASKS
from ..errors import InputError, ModelNotConfigured
from ..ui.ranges import measurements_of


def add_command(commands) -> None:
    analyze = commands.add_parser("analyze", help="analyse ECG files (DICOM, vendor XML, SCP, WFDB zip, EDF, CSV)")
    analyze.add_argument("files", nargs="+", type=Path)
    analyze.add_argument("--task", default="analyze", choices=SIGNAL_TASKS)
    analyze.add_argument("--format", default=None, help="a format hint; the content is still checked")
    analyze.add_argument("--json", action="store_true", help="print the endpoint's results as JSON")
    analyze.add_argument("--demo", action="store_true", help="use built-in demo weights (same as ECG_DEMO=1)")
    analyze.set_defaults(run=run)


def run(args: argparse.Namespace, repo_dir: str) -> int:
    if args.demo:
        os.environ["ECG_DEMO"] = "1"
    from handler import EndpointHandler  # at the repository root, like the toolkit loads it

    handler = EndpointHandler(repo_dir)
    outcomes = []
    for path in args.files:
        item = {"task": args.task, **({"format": args.format} if args.format else {})}
        try:
            [result] = handler({"inputs": {"file": path.read_bytes(), **item}})
            outcomes.append({"file": str(path), "result": result})
        except (InputError, ModelNotConfigured, OSError) as error:
            outcomes.append({"file": str(path), "error": str(error) if not isinstance(error, OSError)
                             else f"cannot read the file ({error.strerror})"})
    if args.json:
        print(json.dumps(outcomes, indent=1))
    else:
        for outcome in outcomes:
            print("\n".join(summary(outcome)), end="\n\n")
    return 1 if any("error" in outcome for outcome in outcomes) else 0


def summary(outcome: dict) -> list[str]:
    name = Path(outcome["file"]).name
    if "error" in outcome:
        return [f"{name}: error: {outcome['error']}"]
    result = outcome["result"]
    recording = result["recording"]
    lines = [f"{name}: {recording.get('format')}, {recording['n_leads']} leads, {recording['fs']:g} Hz, "
             f"{recording['duration_s']:.1f} s ({result.get('model')}, task {result.get('task')}"
             f"{', demo weights' if result.get('weights') == 'demo' else ''})"]
    lines += [f"  note: {note}" for note in recording.get("notes", [])]
    lines += [f"  bandwidth: {limit}" for limit in (measurements_of(result).get("bandwidth") or {}).get("limits", [])]
    clinical = result.get("clinical_analysis")
    if clinical:
        lines.append(f"  rhythm: {clinical.get('rhythm')}; axis: {clinical.get('axis_deviation')}")
        lines += [f"  finding: {finding}" for finding in clinical.get("abnormalities", [])]
    if result.get("findings") is not None:
        lines.append(f"  ECG-FM labels: {', '.join(result['findings']) or 'none above threshold'}")
    comparison = result.get("measurement_vs_cart") or {}
    if comparison:
        lines.append(f"  {'measurement':<16}{'ours':>8}{'cart':>8}{'ours - cart':>13}")
        for key, entry in comparison.items():
            name = f"{key} ({entry['formula']})" if entry.get("formula") else key  # the cart's inferred QTc formula
            lines.append(f"  {name:<16}{_cell(entry['ours']):>8}{_cell(entry['cart']):>8}"
                         f"{_cell(entry['difference'], signed=True):>13}")
    elif result.get("cart_measurements"):
        lines.append("  cart measurements: " + ", ".join(f"{k} {v}" for k, v in result["cart_measurements"].items()))
    lines += [f"  cart says: {statement}" for statement in result.get("cart_statements", [])]
    if result.get("signal_quality"):
        lines.append(f"  signal quality: {result['signal_quality'].get('grade')}")
    return lines


def _cell(value, signed: bool = False) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:+.1f}" if signed else f"{value:.1f}"
    return f"{value:+d}" if signed and isinstance(value, int) else str(value)


