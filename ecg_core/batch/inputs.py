"""Which inputs a batch run reads: ECG files (folders, globs, paths), Parquet/Arrow tables, local HF datasets.

Each kind becomes a Ray dataset of parsed rows (see `parse`); reading and parsing run in Ray tasks.
"""

from __future__ import annotations

import functools
import glob
import os
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError
from ..settings import Limits
from .parse import TableColumns, parse_file, parse_table_row

# What a folder walk picks up: the endpoint's file formats (ecg_core.files) by their usual extensions. A WFDB
# record is its .hea header (its .dat is zipped with it; annotation files are not inputs) or a zip of both.
RECORD_SUFFIXES = frozenset({".hea", ".zip", ".dcm", ".xml", ".scp", ".edf", ".bdf", ".csv", ".tsv"})
TABLE_SUFFIXES = {".parquet": "parquet", ".arrow": "arrow", ".feather": "arrow"}
_HF_DATASET_MARKERS = ("dataset_info.json", "state.json")


@dataclass
class Inputs:
    files: list[str] = field(default_factory=list)
    tables: dict[str, list[str]] = field(default_factory=lambda: {"parquet": [], "arrow": []})
    hf_datasets: list[str] = field(default_factory=list)


def discover(paths: list[str]) -> Inputs:
    """Sort every INPUT into files, tables and datasets; a path that matches nothing is an `InputError`."""
    inputs = Inputs()
    for raw in paths:
        path = Path(raw).expanduser()
        if path.is_dir():
            if any((path / marker).exists() for marker in _HF_DATASET_MARKERS):
                inputs.hf_datasets.append(os.path.abspath(path))
            else:
                inputs.files += sorted(os.path.abspath(found) for found in path.rglob("*")
                                       if found.is_file() and found.suffix.lower() in RECORD_SUFFIXES)
        elif path.is_file():
            _add_file(inputs, path)
        else:
            matches = sorted(glob.glob(raw, recursive=True))
            if not matches:
                raise InputError("INPUT", f"{raw}: no such file or folder, and no file matches it as a glob")
            for match in map(Path, matches):
                if match.is_file():
                    _add_file(inputs, match)
    inputs.files = list(dict.fromkeys(inputs.files))  # a file named twice is scored once
    return inputs


def _add_file(inputs: Inputs, path: Path) -> None:
    kind = TABLE_SUFFIXES.get(path.suffix.lower())
    if kind:
        inputs.tables[kind].append(os.path.abspath(path))
    else:
        inputs.files.append(os.path.abspath(path))


def parsed_datasets(inputs: Inputs, done: set[str], columns: TableColumns, limits: Limits, parallelism: int):
    """One Ray dataset of parsed rows per kind of input, without the sources in ``done``."""
    import ray.data

    # Parsing takes no CPU reservation, so the scoring actors can hold every core; its tasks are capped instead.
    task_args = {"num_cpus": 0, "compute": ray.data.TaskPoolStrategy(size=parallelism)}
    datasets = []
    files = [path for path in inputs.files if path not in done]
    if files:
        items = ray.data.from_items([{"path": path} for path in files],
                                    override_num_blocks=min(len(files), 4 * parallelism))
        datasets.append(items.map(functools.partial(parse_file, limits=limits), **task_args))
    tables = []
    if inputs.tables["parquet"]:
        tables.append(("parquet", ray.data.read_parquet(inputs.tables["parquet"], num_cpus=0)))
    if inputs.tables["arrow"]:
        from pyarrow import feather

        tables.append(("arrow", ray.data.from_arrow([feather.read_table(path) for path in inputs.tables["arrow"]])))
    if inputs.hf_datasets:
        tables.append(("hf_dataset", ray.data.from_huggingface(_load_hf_datasets(inputs.hf_datasets))))
    for fmt, table in tables:
        if columns.id not in table.columns():
            raise InputError("--id-column", f"the {fmt} input has no column {columns.id!r}; name the column "
                             "that identifies each recording")
        if done:
            table = table.filter(lambda row, id_column=columns.id: str(row[id_column]) not in done)
        datasets.append(table.map(functools.partial(parse_table_row, columns=columns, limits=limits, fmt=fmt),
                                  **task_args))
    return datasets


def _load_hf_datasets(paths: list[str]):
    import datasets

    loaded = []
    for path in paths:
        dataset = datasets.load_from_disk(path)
        if isinstance(dataset, datasets.DatasetDict):
            raise InputError("INPUT", f"{path} holds the splits {', '.join(dataset)}; give one split's folder")
        loaded.append(dataset)
    return loaded[0] if len(loaded) == 1 else datasets.concatenate_datasets(loaded)
