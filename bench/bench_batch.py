"""Batch scoring throughput: the `python -m ecg_core batch` pipeline vs a plain loop over `EndpointHandler`.

The same LUDB records (10 s, 12 leads, 500 Hz, WFDB from ../shared/fixtures/ludb) go through
  - loop:     one process calling `EndpointHandler` per file, as a client script would (`inputs.file`: the
              record's .hea and .dat zipped, base64), the model loaded before timing;
  - batch wN: `run_batch` on the local Ray (started once, before timing) with N scoring actors; each run
              includes what a batch command pays: actor start-up, model load, parsing, scoring, Parquet writes.
Repeats are interleaved so changes in the machine's load hit every mode alike; medians are printed.

    python bench/bench_batch.py                 # demo weights, 48 records, 3 repeats, 1 and 2 workers
    python bench/bench_batch.py --full-size     # the released ECG-FM architecture (90 M, random weights)
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT_DIR))  # the repository root: handler.py, utils.py, ecg_core

from ecg_core.batch.pipeline import BatchConfig, run_batch, start_ray  # noqa: E402
from ecg_core.settings import Settings  # noqa: E402

LUDB = ROOT_DIR.parent / "shared" / "fixtures" / "ludb"


def record_folder(directory: Path, count: int) -> Path:
    folder = directory / "records"
    folder.mkdir()
    names = sorted((path.stem for path in LUDB.glob("*.hea")), key=int)[:count]
    for name in names:
        for suffix in (".hea", ".dat"):
            (folder / f"{name}{suffix}").symlink_to(LUDB / f"{name}{suffix}")
    return folder


def full_size_weights(directory: Path) -> Path:
    import torch

    from ecg_core.ecgfm.checkpoint import save_converted
    from ecg_core.ecgfm.labels import MIMIC_IV_ECG_LABELS
    from ecg_core.ecgfm.model import ECGFM, released_config

    torch.manual_seed(0)
    save_converted(ECGFM(released_config(MIMIC_IV_ECG_LABELS)).eval(), directory / "ecgfm")
    return directory / "ecgfm"


def loop_over_handler(folder: Path):
    import base64
    import io
    import zipfile

    from handler import EndpointHandler

    def zipped(header: Path) -> str:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            for path in (header, header.with_suffix(".dat")):
                archive.write(path, path.name)
        return base64.b64encode(buffer.getvalue()).decode()

    handler = EndpointHandler(str(ROOT_DIR))
    headers = sorted(folder.glob("*.hea"))
    handler({"inputs": {"file": zipped(headers[0])}})  # loads the model: not timed, like a warm endpoint

    def run() -> int:
        for header in headers:
            result = handler({"inputs": {"file": zipped(header)}})[0]
            assert "labels" in result, result
        return len(headers)
    return run


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=48)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--full-size", action="store_true", help="full-size random ECG-FM instead of demo weights")
    args = parser.parse_args()
    if not LUDB.exists():
        print(f"fixtures not found at {LUDB}", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as scratch:
        directory = Path(scratch)
        os.environ.setdefault("ECG_CACHE_DIR", str(directory / "cache"))
        if args.full_size:
            os.environ.update(ECGFM_CLASSIFIER=str(full_size_weights(directory)), ECGFM_ENCODER="none")
        else:
            os.environ["ECG_DEMO"] = "1"
        folder = record_folder(directory, args.records)
        settings = Settings.from_env(ROOT_DIR)
        began = time.perf_counter()
        start_ray(num_cpus=os.cpu_count())
        print(f"local Ray start-up: {time.perf_counter() - began:.1f} s (paid once per batch command, not timed below)")
        runs = {"loop over EndpointHandler": loop_over_handler(folder)}
        for workers in args.workers:
            runs[f"batch, {workers} worker{'s' * (workers > 1)}"] = _batch_run(folder, directory, settings, workers,
                                                                               args.batch_size)
        seconds: dict[str, list[float]] = {name: [] for name in runs}
        for _ in range(args.repeats):
            for name, run in runs.items():
                began = time.perf_counter()
                assert run() == args.records
                seconds[name].append(time.perf_counter() - began)
    weights = "full-size ECG-FM (random weights)" if args.full_size else "demo weights"
    print(f"\n{args.records} LUDB records, {weights}, batch size {args.batch_size}, {os.cpu_count()} CPUs, "
          f"median of {args.repeats}")
    print("| mode | seconds | recordings/s | vs loop |\n| --- | ---: | ---: | ---: |")
    baseline = statistics.median(seconds["loop over EndpointHandler"])
    for name, values in seconds.items():
        median = statistics.median(values)
        print(f"| {name} | {median:.1f} | {args.records / median:.2f} | {baseline / median:.2f}× |")
    return 0


def _batch_run(folder: Path, directory: Path, settings: Settings, workers: int, batch_size: int):
    counter = iter(range(10**6))

    def run() -> int:
        out = directory / f"out-{workers}-{next(counter)}"
        summary = run_batch(BatchConfig(inputs=(str(folder),), out=out, workers=workers, batch_size=batch_size),
                            settings)
        assert summary["failed"] == 0, summary
        return summary["ok"]
    return run


if __name__ == "__main__":
    raise SystemExit(main())
