"""The page's beat-anomaly view: every beat of a recording scored by a beat model, against the
cardiologists' annotations when the record has them (a WFDB record with its ``.atr`` file).

The model is one of the tabular registry's beat models (feature set ``beats``) or an isolation forest fit
here, through the registry (so the fit is tracked like any other), on the beats of the recording's first
minutes, the way the MIT-BIH 100 evaluation does it (tests/test_tabular_mitbih.py).
"""

from __future__ import annotations

import base64
import binascii
import re
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError
from ..leads import canonical_lead_name
from ..settings import Limits
from ..signal import Recording, parse_recording
from ..tabular import features
from ..tabular.beat_eval import beat_annotations, score_flags
from ..tabular.service import TabularService
from .display import downsample

# RR prematurity, the pause after the beat, and its QRS width (the evaluation's choice, see README)
BEAT_MODEL_FEATURES = ("rr_local_ratio", "next_rr_ratio", "qrs_width_ms")
PAGE_MODEL_ID = "page-beats"
MIN_TRAINING_BEATS = 30
DISPLAY_FS = 120.0  # a 30 min rhythm strip stays a few MB of JSON
_WFDB_NAME = re.compile(r"^[\w\-.]{1,64}\.(hea|dat|atr)$")


def read_wfdb_files(files: Any, limits: Limits, field: str = "wfdb_files") -> tuple[Recording, Any]:
    """A WFDB record sent as ``{"100.hea": base64, "100.dat": base64, "100.atr": base64}``:
    (recording, (annotated beat samples, symbols) or None without an .atr)."""
    import wfdb

    if not isinstance(files, dict) or not files:
        raise InputError(field, "expected an object {file name: base64 content} with a .hea and its .dat")
    with tempfile.TemporaryDirectory(prefix="ecg-wfdb-") as folder:
        for name, content in files.items():
            if not isinstance(name, str) or not _WFDB_NAME.match(name):
                raise InputError(field, f"unexpected file name {str(name)[:40]!r}; expected NAME.hea, .dat, .atr")
            try:
                (Path(folder) / name).write_bytes(base64.b64decode(str(content), validate=True))
            except (binascii.Error, ValueError):
                raise InputError(f"{field}.{name}", "not valid base64") from None
        headers = [name[:-4] for name in files if name.endswith(".hea")]
        if len(headers) != 1:
            raise InputError(field, f"expected exactly one .hea header, got {len(headers)}")
        path = str(Path(folder) / headers[0])
        try:
            record = wfdb.rdrecord(path)
            annotation = wfdb.rdann(path, "atr") if f"{headers[0]}.atr" in files else None
        except Exception as error:  # wfdb raises many kinds for a damaged record; none is the client's stack trace
            raise InputError(field, f"wfdb: could not read the record ({type(error).__name__}: {error})"[:300]) \
                from None
    names = [canonical_lead_name(name) for name in record.sig_name]
    keep = [i for i, name in enumerate(names) if name is not None and name not in names[:i]] or [0]
    units = {(record.units[i] or "mV") for i in keep}
    spec = {"signal": record.p_signal[:, keep].T.tolist(), "fs": float(record.fs), "units": units.pop(),
            "lead_names": [names[i] for i in keep] if names[keep[0]] else None}
    recording = parse_recording(spec, field, limits)
    return recording, None if annotation is None else beat_annotations(annotation.sample, annotation.symbol)


def beat_view(service: TabularService, recording: Recording, *, model_id: str | None, train_minutes: float,
              contamination: float, annotations: Any = None) -> dict:
    """Every beat flagged or not, the rhythm strip to draw them on, and precision/recall when annotated."""
    fitted = None
    train_until_s = None
    if model_id is None:
        train_until_s = train_minutes * 60.0
        fitted = _fit_on_first_minutes(service, recording, train_until_s, contamination)
        model_id = PAGE_MODEL_ID
    predicted = service.predict(model_id, None, recording, rows_field="model_id", id_field="model_id")
    if predicted["predictions"] and "sample" not in predicted["predictions"][0]:
        raise InputError("model_id", f"model {model_id!r} scores whole recordings, not beats; pick a beat model")
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
                          contamination: float) -> dict:
    first = Recording(recording.signal[:, :int(train_until_s * recording.fs)], recording.fs, recording.lead_names)
    table = features.beat_features(first)
    if len(table.rows) < MIN_TRAINING_BEATS:
        raise InputError("train_minutes", f"the first {train_until_s / 60:g} min hold {len(table.rows)} scorable "
                         f"beats; at least {MIN_TRAINING_BEATS} are needed (a longer recording or more minutes)")
    columns = [table.names.index(name) for name in BEAT_MODEL_FEATURES]
    entry = service.fit(PAGE_MODEL_ID, table.rows[:, columns].tolist(), model_type="isolation_forest",
                        hyperparameters={"contamination": contamination}, feature_names=BEAT_MODEL_FEATURES,
                        feature_set="beats")
    return {"rows": entry["training"]["rows"], "contamination": contamination,
            "training_anomaly_fraction": entry["training"].get("training_anomaly_fraction")}
