"""The request contract: a client payload → a validated, typed `ParsedRequest`.

Everything a client can get wrong is caught here, before any model runs, with an `InputError` that names
the field. Route modules own the validation of their own parameters (generation, commentary); this module
decides which route each item goes to and checks the shapes every route shares.

Accepted shapes under ``inputs`` (a list of them is a batch; a plain string is a PULSE question):
  signal analysis  {"signal": [[...]], "fs": 500, "lead_names": [...], "units": "mV", "task": "analyze"}
  PULSE-7B         {"query": "...", "image": "<https URL | data URI | base64>", "history": [...]}
  signal + PULSE   {"signal": [[...]], "fs": 500, "query": "..."}  (renders the ECG and asks PULSE)
  ECG file         {"file": "<base64 | data URI>", "format": "<optional hint>", ...}  in place of signal, on
                   every route that takes a signal (files.request says which signal fields it refuses)
  tabular model    {"model_id": "...", "X": [[...], ...]}  or  {"model_id": "...", "signal": [[...]], "fs": ...}
  registry         {"task": "list_models"}
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Union

from . import commentary
from .errors import InputError
from .files import EcgFile
from .files.request import parse_file_input
from .patient import Patient, parse_patient
from .payload import brief, check_payload, is_finite_number
from .pulse import service as pulse_service
from .settings import Limits, Settings
from .signal import Recording, parse_recording
from .tabular.rows import check_row_list

SIGNAL_TASKS = ("analyze", "features", "quality", "measure", "render")
TASKS = (*SIGNAL_TASKS, "generate", "predict", "list_models")
SIGNAL_PARAMETER_NAMES = frozenset({"return_features", "return_segments", "pad_short", "thresholds",
                                    "return_median_beat"})
DEFAULT_IMAGE_QUERY = "What are the main features in this ECG image?"

SIGNAL_KEYS = ("signal", "fs", "sampling_rate", "lead_names", "units", "recording_duration")
_FILE_KEYS = ("file", "format")
_IMAGE_KEYS = ("image", "image_url", "image_base64")
_ROW_KEYS = ("X", "features")
_PATIENT_KEYS = ("age", "sex", "pacemaker")
_ALLOWED_KEYS = {"task", "query", "history", "model_id", *SIGNAL_KEYS, *_PATIENT_KEYS, *_FILE_KEYS, *_IMAGE_KEYS, *_ROW_KEYS}
_SHAPES = ("inputs.signal (+ fs, lead_names) for signal analysis; inputs.image and/or inputs.query "
           "(or inputs as a plain string) for PULSE-7B; inputs.model_id with inputs.X or inputs.features "
           "for a tabular model; inputs.task = 'list_models'; or a list of these for a batch")


@dataclass(frozen=True)
class SignalTask:
    task: str  # one of SIGNAL_TASKS
    recording: Recording
    source: EcgFile | None = None  # the file the recording came from, with the cart's findings
    patient: Patient = Patient()  # inputs.age / inputs.sex, else the file's: they set ST and voltage cut-points


@dataclass(frozen=True)
class GenerateTask:
    query: str
    image: Any  # raw client value (URL / data URI / base64 str, bytes, PIL image) or None
    image_field: str
    history: Any  # validated by the PULSE route's parse_history, or None
    recording: Recording | None  # a signal to render and ask about


@dataclass(frozen=True)
class PredictTask:
    model_id: str
    rows: list | None
    recording: Recording | None
    prefix: str = "inputs"  # the item's field path, so errors name e.g. inputs[2].X[0][3]
    rows_key: str = "X"


@dataclass(frozen=True)
class ListModelsTask:
    pass


Task = Union[SignalTask, GenerateTask, PredictTask, ListModelsTask]


@dataclass(frozen=True)
class SignalOptions:
    return_features: bool = False
    return_segments: bool = False
    pad_short: bool = False
    return_median_beat: bool = False  # analyze/measure results carry the median beat with its boundaries
    thresholds: float | dict[str, float] | None = None


@dataclass(frozen=True)
class ParsedRequest:
    tasks: tuple[Task, ...]
    batch: bool
    signal_options: SignalOptions
    generation: Any  # the PULSE route's GenerationParams, or None when no item generates text
    commentary: Any  # commentary.CommentaryOptions


def parse_request(data: Any, settings: Settings) -> ParsedRequest:
    limits = settings.limits
    if not isinstance(data, dict):
        raise InputError("body", f"expected a JSON object with 'inputs', got {type(data).__name__}")
    check_payload(data, limits.max_json_depth)
    parameters = data.get("parameters") or {}
    if not isinstance(parameters, dict):
        raise InputError("parameters", f"expected an object, got {type(parameters).__name__}")
    _check_parameter_names(parameters)
    # Like the Inference Endpoints toolkit: a body without "inputs" is itself the inputs.
    inputs = data["inputs"] if "inputs" in data else {k: v for k, v in data.items() if k != "parameters"}
    batch = isinstance(inputs, list)
    items = inputs if batch else [inputs]
    if batch and not items:
        raise InputError("inputs", "empty batch; expected at least one item")
    if len(items) > limits.max_batch_items:
        raise InputError("inputs", f"batch of {len(items)} items exceeds the limit of {limits.max_batch_items}")
    tasks = tuple(_parse_item(item, f"inputs[{i}]" if batch else "inputs", limits, settings)
                  for i, item in enumerate(items))
    generation = (pulse_service.parse_generation_params(parameters, settings)
                  if any(isinstance(task, GenerateTask) for task in tasks) else None)
    return ParsedRequest(tasks=tasks, batch=batch, signal_options=_parse_signal_options(parameters),
                         generation=generation, commentary=commentary.parse_options(parameters, settings))


def _parse_item(item: Any, prefix: str, limits: Limits, settings: Settings) -> Task:
    if isinstance(item, (bytes, bytearray)) or _is_pil_image(item):
        item = {"image": item}  # the toolkit decodes a raw image/* body to the image itself
    if isinstance(item, str):
        return GenerateTask(query=_parse_query(item, prefix, limits), image=None, image_field="",
                            history=None, recording=None)
    if not isinstance(item, dict):
        raise InputError(prefix, f"expected an object or a string, got {type(item).__name__}; accepted: {_SHAPES}")
    unknown = sorted(set(item) - _ALLOWED_KEYS)
    if unknown:
        raise InputError(f"{prefix}.{unknown[0]}", f"unknown field; accepted fields are {', '.join(sorted(_ALLOWED_KEYS))}")
    task = _route(item, prefix)
    if "format" in item and "file" not in item:
        raise InputError(f"{prefix}.format", "a format hint goes with inputs.file (the ECG file it describes)")
    source = parse_file_input(item, prefix, limits) if "file" in item else None
    if task in SIGNAL_TASKS:
        return SignalTask(task=task, recording=_parse_signal(item, prefix, limits, source), source=source,
                          patient=parse_patient(item, prefix, source))
    if task == "generate":
        return _parse_generate(item, prefix, limits, settings, source)
    if task == "predict":
        return _parse_predict(item, prefix, limits, source)
    return ListModelsTask()


def _route(item: dict, prefix: str) -> str:
    """Which route an item goes to: its explicit task, else what its keys say."""
    has_signal = "signal" in item or "file" in item  # a file is a signal in another encoding
    image_keys = [key for key in _IMAGE_KEYS if key in item]
    has_rows = any(key in item for key in _ROW_KEYS)
    if len(image_keys) > 1:
        raise InputError(f"{prefix}.{image_keys[1]}", f"give one image, not both {image_keys[0]} and {image_keys[1]}")
    if has_rows and has_signal:
        raise InputError(prefix, "give either feature rows (X/features) or a signal, not both")
    if image_keys and (has_signal or has_rows):
        raise InputError(prefix, f"an image cannot be combined with {'a signal' if has_signal else 'feature rows'}")
    if has_rows and "query" in item:
        raise InputError(prefix, "a query cannot be combined with feature rows (X/features)")
    task = item.get("task")
    if task is not None:
        if not isinstance(task, str) or task not in TASKS:
            raise InputError(f"{prefix}.task", f"unknown task {str(task)[:40]!r}; expected one of {', '.join(TASKS)}")
        needs_signal = task in SIGNAL_TASKS
        if needs_signal and not has_signal:
            raise InputError(f"{prefix}.signal", f"task {task!r} needs a signal (or an ECG file)")
        if needs_signal and (image_keys or has_rows):
            raise InputError(prefix, f"task {task!r} takes a signal only")
        if task == "generate" and not ("query" in item or image_keys or has_signal):
            raise InputError(f"{prefix}.query", "task 'generate' needs a query, an image or a signal")
        if task == "predict" and "model_id" not in item:
            raise InputError(f"{prefix}.model_id", "task 'predict' needs a model_id")
        return task
    if has_rows or (has_signal and "model_id" in item):
        if "model_id" not in item:
            raise InputError(f"{prefix}.model_id", "required with feature rows (X/features)")
        return "predict"
    if has_signal:
        return "generate" if "query" in item else "analyze"
    if image_keys or "query" in item:
        return "generate"
    raise InputError(prefix, f"cannot tell what to do with fields {sorted(item)[:8]}; accepted: {_SHAPES}")


def _parse_signal(item: dict, prefix: str, limits: Limits, source: EcgFile | None) -> Recording:
    recording = source.recording if source is not None else parse_recording(item, prefix, limits)
    duration = item.get("recording_duration")
    if duration is not None:
        if isinstance(duration, bool) or not is_finite_number(duration) \
                or duration <= 0:
            raise InputError(f"{prefix}.recording_duration",
                             f"expected a positive number of seconds, got {brief(duration)}")
        if abs(duration - recording.duration_s) > 0.05 * recording.duration_s:
            raise InputError(f"{prefix}.recording_duration", f"{duration:g} s does not match "
                             f"{recording.signal.shape[1]} samples at {recording.fs:g} Hz "
                             f"({recording.duration_s:.2f} s); check fs")
    return recording


def _parse_query(value: Any, field: str, limits: Limits) -> str:
    if not isinstance(value, str):
        raise InputError(field, f"expected text, got {type(value).__name__}")
    if len(value) > limits.max_query_chars:
        raise InputError(field, f"{len(value)} characters exceeds the limit of {limits.max_query_chars}")
    if not value.strip():
        raise InputError(field, "is empty")
    return value.strip()


def _parse_generate(item: dict, prefix: str, limits: Limits, settings: Settings,
                    source: EcgFile | None) -> GenerateTask:
    image_field = next((key for key in _IMAGE_KEYS if key in item), "")
    image = item.get(image_field) if image_field else None
    if image_field:
        _check_image_value(image, f"{prefix}.{image_field}")
    recording = _parse_signal(item, prefix, limits, source) if "signal" in item or source else None
    if "query" in item:
        query = _parse_query(item["query"], f"{prefix}.query", limits)
    elif image is not None or recording is not None:
        query = DEFAULT_IMAGE_QUERY
    else:
        raise InputError(f"{prefix}.query", "missing; a question or an image is needed")
    history = item.get("history")
    if history is not None:
        history = pulse_service.parse_history(history, f"{prefix}.history", limits)
    return GenerateTask(query=query, image=image, image_field=f"{prefix}.{image_field}" if image_field else "",
                        history=history, recording=recording)


def _check_image_value(value: Any, field: str) -> None:
    """The image's type only: its size and content are checked by images.load_image, before any model runs."""
    if isinstance(value, str):
        if not value.strip():
            raise InputError(field, "is empty")
        return
    if isinstance(value, (bytes, bytearray)) or _is_pil_image(value):
        return
    raise InputError(field, f"expected an https URL, a data URI or base64 text, got {type(value).__name__}")


def _is_pil_image(value: Any) -> bool:
    return type(value).__module__.startswith("PIL.")


def _parse_predict(item: dict, prefix: str, limits: Limits, source: EcgFile | None) -> PredictTask:
    model_id = item.get("model_id")
    if not isinstance(model_id, str) or not model_id:
        raise InputError(f"{prefix}.model_id", f"expected a model id string, got {brief(model_id)}")
    row_key = next((key for key in _ROW_KEYS if key in item), None)
    if row_key is None:
        return PredictTask(model_id=model_id, rows=None, recording=_parse_signal(item, prefix, limits, source),
                           prefix=prefix)
    rows = item[row_key]
    check_row_list(rows, f"{prefix}.{row_key}", limits)
    return PredictTask(model_id=model_id, rows=rows, recording=None, prefix=prefix, rows_key=row_key)


def _parse_signal_options(parameters: dict) -> SignalOptions:
    flags = {}
    for name in ("return_features", "return_segments", "pad_short", "return_median_beat"):
        value = parameters.get(name, False)
        if not isinstance(value, bool):
            raise InputError(f"parameters.{name}", f"expected true or false, got {brief(value)}")
        flags[name] = value
    thresholds = parameters.get("thresholds")
    if thresholds is not None and (isinstance(thresholds, bool) or not isinstance(thresholds, (int, float, dict))):
        raise InputError("parameters.thresholds", "expected a number or an object {label: number}")
    return SignalOptions(**flags, thresholds=thresholds)


def _check_parameter_names(parameters: dict) -> None:
    known = SIGNAL_PARAMETER_NAMES | pulse_service.PARAMETER_NAMES | commentary.PARAMETER_NAMES
    unknown = sorted(set(parameters) - known)
    if unknown:
        raise InputError(f"parameters.{unknown[0]}"[:80], f"unknown parameter; accepted: {', '.join(sorted(known))}")
