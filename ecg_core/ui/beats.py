"""The page's beat-anomaly view: every beat of a recording scored by a beat model, against the
cardiologists' annotations when the record has them (a WFDB record with its ``.atr`` file).

The model is one of the tabular registry's beat models (feature set ``beats``) or an isolation forest fit
here, through the registry (so the fit is tracked like any other), on the beats of the recording's first
minutes, the way the MIT-BIH 100 evaluation does it (tests/test_tabular_mitbih.py).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError
from ..files import vendor
from ..settings import Limits
from ..signal import Recording
from ..tabular import features
from ..tabular.beat_eval import beat_annotations, score_flags
from ..tabular.service import TabularService
from .display import downsample

# RR prematurity, the pause after the beat, and its QRS width (the evaluation's choice, see README)
BEAT_MODEL_FEATURES = ("rr_local_ratio", "next_rr_ratio", "qrs_width_ms")
PAGE_MODEL_PREFIX = "page-beats-"  # + a digest of the training rows: two page users never share a fit
MIN_TRAINING_BEATS = 30
DISPLAY_FS = 120.0  # a 30 min rhythm strip stays a few MB of JSON
_WFDB_NAME = re.compile(r"^[\w\-.]{1,64}\.(hea|dat|atr)$", re.ASCII)


def read_wfdb_files(files: Any, limits: Limits, field: str = "wfdb_files") -> tuple[Recording, Any]:
    """A WFDB record sent as ``{"100.hea": base64, "100.dat": base64, "100.atr": base64}``: the recording
    (through the file reader, ecg_core.files) and its beat annotations (samples, symbols), None without .atr."""
    import wfdb

    if not isinstance(files, dict) or not files:
        raise InputError(field, "expected an object {file name: base64 content} with a .hea and its .dat")
    headers = [name for name in files if isinstance(name, str) and name.endswith(".hea")]
    if len(headers) != 1:
        raise InputError(field, f"expected exactly one .hea header, got {len(headers)}")
    record = headers[0][:-4]
    with tempfile.TemporaryDirectory(prefix="ecg-wfdb-") as folder:
        for name, content in files.items():
            if not isinstance(name, str) or not _WFDB_NAME.match(name):
                raise InputError(field, f"unexpected file name {str(name)[:40]!r}; expected NAME.hea, .dat, .atr")
            try:
                (Path(folder) / name).write_bytes(base64.b64decode(str(content), validate=True))
            except (binascii.Error, ValueError):
                raise InputError(f"{field}.{name}", "not valid base64") from None
        recording = vendor.read_path(Path(folder) / headers[0], "wfdb", field, limits).recording
        if f"{record}.atr" not in files:
            return recording, None
        try:
            annotation = wfdb.rdann(str(Path(folder) / record), "atr")
        except Exception as error:  # wfdb raises many kinds for a damaged file; the client gets the message only
            raise InputError(f"{field}.{record}.atr", f"wfdb: not a readable annotation file "
                             f"({type(error).__name__})") from None
    return recording, beat_annotations(annotation.sample, annotation.symbol)


def beat_view(service: TabularService, recording: Recording, *, model_id: str | None, train_minutes: float,
              contamination: float, annotations: Any = None) -> dict:
    """Every beat flagged or not, the rhythm strip to draw them on, and precision/recall when annotated."""
    fitted = None
    train_until_s = None
    if model_id is None:
        train_until_s = train_minutes * 60.0
        model_id, fitted = _fit_on_first_minutes(service, recording, train_until_s, contamination)
    feature_set = service.load(model_id, id_field="model_id").get("feature_set")
    if feature_set != "beats":
        raise InputError("model_id", f"model {model_id!r} scores {feature_set or 'client-supplied'} features, "
                         "not beats; pick a model fit on the 'beats' feature set")
    predicted = service.predict(model_id, None, recording, rows_field="model_id", id_field="model_id")
    samples = np.array([p["sample"] for p in predicted["predictions"]])
    flagged = np.array([p["anomaly"] for p in predicted["predictions"]])
    lead_index = recording.lead_names.index("II") if recording.lead_names and "II" in recording.lead_names else 0
    fs, strip = downsample(recording.signal[lead_index], recording.fs, DISPLAY_FS)
    view = {"model_id": model_id, "model_type": predicted["model_type"], "fitted": fitted,
            "train_until_s": train_until_s, "lead": (recording.lead_names or ("lead 1",))[lead_index],
            "fs": fs, "signal": np.round(strip - np.median(strip), 3), "duration_s": round(recording.duration_s, 3),
            "beats": [{"time_s": p["time_s"], "anomaly": p["anomaly"], "score": round(p["score"], 4)}
                      for p in predicted["predictions"]], "evaluation": None, "annotated_abnormal": []}
    if annotations is not None:
        annotated, symbols = annotations
        abnormal = symbols != "N"
        view["annotated_abnormal"] = [{"time_s": round(sample / recording.fs, 3), "symbol": symbol}
                                      for sample, symbol in zip(annotated[abnormal], symbols[abnormal])]
        scored = samples / recording.fs >= (train_until_s or 0.0)  # beats the model did not train on
        if scored.any():
            view["evaluation"] = {**score_flags(samples[scored], flagged[scored], annotated, symbols, recording.fs),
                                  "from_s": train_until_s or 0.0}
    return view


def _fit_on_first_minutes(service: TabularService, recording: Recording, train_until_s: float,
                          contamination: float) -> tuple[str, dict]:
    """(model id, what was fit). The id names the training data, so a second page fitting at the same time
    cannot replace this fit before it predicts, and the same fit again lands on the same id."""
    first = Recording(recording.signal[:, :int(train_until_s * recording.fs)], recording.fs, recording.lead_names)
    table = features.beat_features(first)
    if len(table.rows) < MIN_TRAINING_BEATS:
        raise InputError("train_minutes", f"the first {train_until_s / 60:g} min hold {len(table.rows)} scorable "
                         f"beats; at least {MIN_TRAINING_BEATS} are needed (a longer recording or more minutes)")
    columns = [table.names.index(name) for name in BEAT_MODEL_FEATURES]
    rows = np.ascontiguousarray(table.rows[:, columns], dtype=np.float64)
    digest = hashlib.sha256(rows.tobytes() + repr(contamination).encode()).hexdigest()[:12]
    model_id = PAGE_MODEL_PREFIX + digest
    entry = service.fit(model_id, rows.tolist(), model_type="isolation_forest",
                        hyperparameters={"contamination": contamination}, feature_names=BEAT_MODEL_FEATURES,
                        feature_set="beats")
    return model_id, {"rows": entry["training"]["rows"], "contamination": contamination,
                      "training_anomaly_fraction": entry["training"].get("training_anomaly_fraction")}
