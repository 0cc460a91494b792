"""Command line: ``python -m ecg_core serve [--demo] [--preload] [--host H] [--port P] [--repo-dir D]``.

Settings come from the environment (README.md, Configuration); e.g. with ENDPOINT_TOKEN set, requests need
``Authorization: Bearer <token>``.
``python -m ecg_core analyze FILE [FILE ...] [--json]`` analyses ECG files (ecg_core/files/cli.py).
``python -m ecg_core batch INPUT... --out results.parquet`` scores whole datasets on Ray Data (ecg_core/batch/).

Model-specific tools have their own entry points: ``python -m ecg_core.ecgfm convert ...`` and
``python -m ecg_core.tabular fit|predict|list|remove|evaluate ...``.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from .batch import cli as batch_cli
from .files import cli as files_cli

REPO_DIR = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ecg_core", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the endpoint handler behind a local HTTP server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=int(os.environ.get("PORT", 7860)))
    serve.add_argument("--demo", action="store_true", help="use built-in demo weights (same as ECG_DEMO=1)")
    serve.add_argument("--preload", action="store_true", help="load every model at start-up (ECG_PRELOAD=1)")
    serve.add_argument("--repo-dir", default=str(REPO_DIR), help="the model repository directory")
    files_cli.add_command(commands)
    batch_cli.add_parser(commands, REPO_DIR)
    args = parser.parse_args(argv)
    if args.command == "analyze":
        sys.path.insert(0, str(REPO_DIR))
        return args.run(args, str(REPO_DIR))

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.command == "batch":
        return batch_cli.run(args)
    if args.demo:
        os.environ["ECG_DEMO"] = "1"
    if args.preload:
        os.environ["ECG_PRELOAD"] = "1"
    sys.path.insert(0, args.repo_dir)  # handler.py and utils.py live at the repository root
    from handler import EndpointHandler

    from .server import serve as run_server

    run_server(EndpointHandler(args.repo_dir), host=args.host, port=args.port)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
