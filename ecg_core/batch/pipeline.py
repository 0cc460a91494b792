"""The batch pipeline on Ray Data: inputs → parse tasks → ECG-FM actor pool → Parquet, plus a summary.

Without an address it starts Ray embedded in this process, sized to the machine; with one it joins that
cluster and ships this repository to its workers as the job's working directory.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

from ..contract import SignalOptions
from ..errors import InputError
from ..settings import Settings
from . import output
from .inputs import discover, parsed_datasets
from .parse import TableColumns
from .scoring import Scorer

REPO_DIR = Path(__file__).resolve().parents[2]  # handler.py and utils.py live at the repository root
_NOT_SHIPPED = [".git", ".cache", "tabular_models", "demo_weights", "test_requests.json", ".venv*"]
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BatchConfig:
    inputs: tuple[str, ...]
    out: Path
    task: str = "analyze"
    options: SignalOptions = SignalOptions()
    columns: TableColumns = TableColumns()
    resume: bool = False
    address: str | None = None
    workers: int | None = None  # scoring actors; default: one per CPU, or per GPU share
    gpus_per_worker: float | None = None  # default: 1 when the cluster has GPUs and ECG_DEVICE allows them
    batch_size: int = 16  # recordings per actor call (each 10 s recording is two ECG-FM segments)


def start_ray(address: str | None = None, num_cpus: int | None = None) -> bool:
    """Connect to ``address`` or start a local Ray; False when Ray was already running in this process."""
    import ray

    if ray.is_initialized():
        return False
    if address:
        runtime_env = {"working_dir": str(REPO_DIR), "excludes": _NOT_SHIPPED}
    else:  # local workers run the code in place; they only need the repository root on their path
        runtime_env = {"env_vars": {"PYTHONPATH": str(REPO_DIR)}}
    ray.init(address=address, num_cpus=num_cpus, runtime_env=runtime_env, include_dashboard=False,
             configure_logging=False)
    return True


def run_batch(config: BatchConfig, settings: Settings) -> dict:
    """Score every input not yet in ``config.out``; returns the summary (see `output.summarize`)."""
    import ray

    out = config.out.expanduser().resolve()
    if out.exists() and not out.is_dir():
        raise InputError("--out", f"{out} is a file; the output is a folder of Parquet files")
    if output.parquet_files(out) and not config.resume:
        raise InputError("--out", f"{out} already holds results; add --resume to continue that run, "
                         "or choose another folder")
    done = output.completed_sources(out) if config.resume else set()
    inputs = discover(list(config.inputs))
    started = start_ray(config.address)
    try:
        before = output.parquet_files(out)
        began = time.perf_counter()
        resources = ray.cluster_resources()
        cpus = max(1, int(resources.get("CPU", 1)))
        gpus_per_worker = config.gpus_per_worker
        if gpus_per_worker is None:
            gpus_per_worker = 1.0 if resources.get("GPU", 0) and settings.device != "cpu" else 0.0
        workers = config.workers or (max(1, int(resources["GPU"] / gpus_per_worker)) if gpus_per_worker
                                     else cpus)
        datasets = parsed_datasets(inputs, done, config.columns, settings.limits, parallelism=cpus)
        if datasets:
            rows = datasets[0].union(*datasets[1:]) if len(datasets) > 1 else datasets[0]
            scored = rows.map_batches(
                Scorer, fn_constructor_kwargs={"settings": settings, "task": config.task, "options": config.options},
                batch_size=config.batch_size, batch_format="numpy", num_cpus=1, num_gpus=gpus_per_worker or None,
                compute=_actor_pool(workers, reads_parquet=bool(inputs.tables["parquet"])))
            # Writers, like parsers, take no CPU reservation: each finished batch is written while actors score.
            scored.write_parquet(str(out), ray_remote_args={"num_cpus": 0})
        summary = output.summarize(output.parquet_files(out) - before, time.perf_counter() - began, len(done))
    finally:
        if started:
            ray.shutdown()
    summary.update(output=str(out), workers=workers, gpus_per_worker=gpus_per_worker)
    return summary


def _actor_pool(workers: int, reads_parquet: bool):
    """All `workers` actors from the start; with Parquet inputs, one that grows to `workers` as input queues up.

    A Parquet read first lists its files in a task that needs a whole free CPU (Ray Data's ListFiles), which
    actors holding every CPU would starve; growing the pool only once rows arrive leaves that CPU free.
    """
    import ray.data

    if reads_parquet:
        return ray.data.ActorPoolStrategy(min_size=1, max_size=workers)
    return ray.data.ActorPoolStrategy(size=workers)
