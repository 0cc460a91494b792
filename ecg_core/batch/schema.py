"""The output table of `python -m ecg_core batch`: one fixed Arrow schema, and endpoint results → its rows.

The schema depends only on whether embeddings are asked for (and their size), never on the data, so every
Parquet file of a run (and of a resumed run) has the same columns and types. README.md documents it.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pyarrow as pa

from ..ecgfm.labels import MIMIC_IV_ECG_LABELS
from ..measure import MEASUREMENT_KEYS

OK = "ok"
_INTEGER_MEASUREMENTS = {"beat_count": pa.int32(), "rhythm_regular": pa.bool_()}


def label_column(label: str) -> str:
    """``"1st degree atrioventricular block"`` → ``"prob_1st_degree_atrioventricular_block"``."""
    return "prob_" + re.sub(r"[^0-9a-z]+", "_", label.lower()).strip("_")


PROBABILITY_COLUMNS = {label: label_column(label) for label in MIMIC_IV_ECG_LABELS}
# the cart's own measurements: ours that are numbers, and `qtc` (a QTc whose formula the file does not state)
CART_KEYS = (*(key for key in MEASUREMENT_KEYS if key not in _INTEGER_MEASUREMENTS), "qtc")


def output_schema(embedding_dim: int | None = None) -> pa.Schema:
    """The columns of every output row; ``embedding`` only when embeddings are asked for."""
    fields = [
        pa.field("source", pa.string(), nullable=False),
        pa.field("status", pa.string(), nullable=False),  # "ok" or the error message
        pa.field("task", pa.string()),
        pa.field("weights", pa.string()),  # "demo" for demo weights, else null
        pa.field("model_source", pa.string()),
        pa.field("format", pa.string()),
        pa.field("fs", pa.float64()),
        pa.field("duration_s", pa.float64()),
        pa.field("n_leads", pa.int32()),
        pa.field("lead_names", pa.list_(pa.string())),
        pa.field("notes", pa.list_(pa.string())),
        *(pa.field(column, pa.float64()) for column in PROBABILITY_COLUMNS.values()),
        pa.field("findings", pa.list_(pa.string())),
        *(pa.field(key, _INTEGER_MEASUREMENTS.get(key, pa.float64())) for key in MEASUREMENT_KEYS),
        pa.field("unmeasured_json", pa.string()),  # {measurement: why it is null}
        pa.field("rhythm", pa.string()),
        pa.field("abnormalities", pa.list_(pa.string())),
        pa.field("urgent_findings_json", pa.string()),  # ST elevation and the like, as the endpoint reports them
        pa.field("clinical_json", pa.string()),  # the endpoint's whole clinical_analysis object
        pa.field("quality_grade", pa.string()),
        pa.field("quality_score", pa.float64()),
        pa.field("quality_reasons", pa.list_(pa.string())),
        *(pa.field(f"cart_{key}", pa.float64()) for key in CART_KEYS),
        pa.field("cart_statements", pa.list_(pa.string())),
        pa.field("measurement_vs_cart_json", pa.string()),  # {name: {ours, cart, difference}}
    ]
    if embedding_dim is not None:
        fields += [pa.field("embedding", pa.list_(pa.float32(), embedding_dim)),
                   pa.field("embedding_source", pa.string())]
    return pa.schema(fields)


def error_row(source: str, status: str, task: str, fmt: str | None) -> dict[str, Any]:
    return {"source": source, "status": status, "task": task, "format": fmt}


def result_row(source: str, fmt: str, result: dict, *, weights: str | None) -> dict[str, Any]:
    """One endpoint signal result (as `EndpointHandler` returns it) → one output row."""
    recording = result["recording"]
    row: dict[str, Any] = {
        "source": source, "status": OK, "task": result["task"], "weights": weights,
        "model_source": result.get("model_source"), "format": fmt,
        "fs": recording["fs"], "duration_s": recording["duration_s"], "n_leads": recording["n_leads"],
        "lead_names": recording["lead_names"], "notes": [*recording["notes"], *result.get("notes", ())],
    }
    for label in result.get("labels", ()):
        row[PROBABILITY_COLUMNS[label["name"]]] = label["probability"]
    if "findings" in result:
        row["findings"] = result["findings"]
    clinical = result.get("clinical_analysis")
    measurements = result.get("measurements") or (clinical or {}).get("physiological_parameters")
    if measurements is not None:
        row.update({key: measurements[key] for key in MEASUREMENT_KEYS})
        row["unmeasured_json"] = json.dumps(measurements.get("unmeasured", {}))
    if clinical is not None:
        row.update(rhythm=clinical["rhythm"], abnormalities=clinical["abnormalities"],
                   urgent_findings_json=json.dumps(clinical["urgent_findings"]), clinical_json=json.dumps(clinical))
    quality = result.get("signal_quality")
    if quality is not None:
        row.update(quality_grade=quality["grade"], quality_score=quality["score"],
                   quality_reasons=quality["reasons"])
    for key, value in (result.get("cart_measurements") or {}).items():
        if key in CART_KEYS:
            row[f"cart_{key}"] = value
    row["cart_statements"] = result.get("cart_statements")
    if result.get("measurement_vs_cart") is not None:
        row["measurement_vs_cart_json"] = json.dumps(result["measurement_vs_cart"])
    if "features" in result:
        row.update(embedding=result["features"], embedding_source=result["feature_source"])
    return row


def to_table(rows: list[dict[str, Any]], schema: pa.Schema) -> pa.Table:
    """Rows (missing keys are nulls) → a table with exactly ``schema``."""
    return pa.Table.from_pylist([{name: row.get(name) for name in schema.names} for row in rows], schema=schema)
