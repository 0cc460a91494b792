"""Seeded generator of hostile HTTP requests for every route of the local server (the fuzz suite's input).

Each request starts from a valid one for its route and gets one to three mutations: a field replaced by a
hostile value (deep lists of either shape, lone surrogates, 400-digit integers, ±1e308, NaN, huge or empty
strings, SSRF URLs, other schemes...), a field dropped or added, the body wrapped or replaced, the JSON text
cut or corrupted, a wrong content type. Expensive valid work is kept small (short signals, one new token),
so thousands of requests run in about a minute.
"""

from __future__ import annotations

import base64
import json
import random
from dataclasses import dataclass

import numpy as np

DEEP_MARK = "__deep1000__"
DEEP_PLAIN_MARK = "__deep1000plain__"
_DEEP_TEXT = "[" * 1000 + "]" * 1000
_DEEP_PLAIN_TEXT = "[0," * 999 + "[0]" + "]" * 999
_SIGNAL = np.sin(np.arange(300) / 10).round(3).tolist()  # 1 lead, 3 s at 100 Hz
_SIGNAL_12 = [_SIGNAL] * 12
_LEADS = ["I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6"]
_DEMO_ROW = [70, 90, 380, 410, 30]
_FIT_X = [[1.0, 2.0], [2.0, 1.0], [3.0, 3.0], [4.0, 1.0], [5.0, 2.0], [6.0, 0.5]]
_FIT_Y = ["a", "b", "a", "b", "a", "b"]
_CSV_FILE = base64.b64encode(("II\n" + "\n".join(map(str, _SIGNAL))).encode()).decode()  # an ECG file: CSV
_PNG_1PX = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")

HOSTILE_SCALARS = [
    None, True, False, 0, -1, 1, 2**63, 10**400, -(10**400), 1e308, -1e308, 5e-324, float("nan"), float("inf"),
    "", " ", "a", "\ud800", "x\udfffy", "\U0001F600", "x" * 5000, "II", "mV", "uV", "demo", "analyze", "predict",
    "list_models", "generate", "render", "logic", "rf", "http://127.0.0.1:1/x.png", "http://[::ffff:127.0.0.1]/a",
    "http://[64:ff9b::a00:1]/a", "http://169.254.169.254/latest/meta-data/", "file:///etc/passwd",
    "gopher://127.0.0.1:6379/_INFO", "ftp://x/y.png", "data:image/png;base64,AAAA", _PNG_1PX, "../../etc/passwd",
    "sk-abcdef1234567890", "%00", "<xml/>", "{\"inputs\": 1}", DEEP_MARK, DEEP_PLAIN_MARK,
]


def _hostile_structures(rng: random.Random) -> list:
    nested: list = [0]
    for _ in range(rng.randint(30, 60)):
        nested = [nested] if rng.random() < 0.5 else [0, nested]
    return [[], [None], [[]], [0, [0, [0]]], [0] * 1000, nested, {"a": 1}, {"\ud800": 1}, {"": None},
            [[1e308] * 5], [[10**400, 1]], [["a", "b"]], [{"x": 1}], {"signal": [[1]]}, [_SIGNAL[:10]] * 13,
            [[0.1] * 3] * 3, {"task": "list_models"}]


def hostile_value(rng: random.Random):
    if rng.random() < 0.6:
        return rng.choice(HOSTILE_SCALARS)
    return rng.choice(_hostile_structures(rng))


def _signal_item(rng: random.Random) -> dict:
    item = {"signal": [_SIGNAL], "fs": 100, "lead_names": ["II"],
            "task": rng.choice(["quality", "measure", "quality", "measure", "features", "analyze"])}
    if rng.random() < 0.03:
        item["task"] = "render"
    if rng.random() < 0.05:
        item.update(signal=_SIGNAL_12, lead_names=_LEADS)
    return item


def _inputs_item(rng: random.Random) -> dict:
    kind = rng.random()
    if kind < 0.55:
        return _signal_item(rng)
    if kind < 0.8:
        return {"model_id": "demo", "X": [_DEMO_ROW]}
    if kind < 0.9:
        return {"task": "list_models"}
    if kind < 0.95:
        return {"model_id": "demo", "signal": [_SIGNAL] * 12, "fs": 100, "lead_names": _LEADS}
    if kind < 0.97:
        return {"file": _CSV_FILE, "fs": 100, "task": rng.choice(["quality", "measure"])}
    return {"query": "Is this normal?"}


def _base(rng: random.Random) -> tuple[str, str, object]:
    """(method, path, JSON body or None) of a valid request."""
    route = rng.random()
    if route < 0.45:
        inputs = _inputs_item(rng) if rng.random() < 0.85 else [_inputs_item(rng) for _ in range(rng.randint(2, 4))]
        body = {"inputs": inputs, "parameters": {"pad_short": True, "max_new_tokens": 1,
                                                 "enable_turkish_commentary": False}}
        return "POST", rng.choice(["/", "/predict"]), body
    if route < 0.6:
        flat = {"signal": [_SIGNAL], "fs": 100, "lead_names": ["II"]}
        return "POST", rng.choice(["/analyze", "/extract_features", "/assess_quality"]), flat
    if route < 0.7:
        model_type, hyperparameters = rng.choice([("logic", {}), ("logic", {"C": 0.5}), ("rf", {"n_estimators": 3}),
                                                  ("iforest", {"n_estimators": 3}), ("svc", {"C": 2.0})])
        config = {"id": rng.choice(["fz0", "fz1", "fz2"]), "ml_model_type": model_type,
                  "hyperparameters": hyperparameters}
        return "POST", "/api/v1/models/fit", {"X": _FIT_X, "y": _FIT_Y, "config": config}
    if route < 0.85:
        path = rng.choice(["load", "unload", "predict"])
        body: dict = {"id": rng.choice(["demo", "fz0", "fz1", "nope"])}
        if path == "predict":
            body["X"] = [_DEMO_ROW]
        return "POST", f"/api/v1/models/{path}", body
    if route < 0.88:
        return "GET", "/api/v1/models/models", None
    if route < 0.9:  # the page's routes (ecg_core/ui)
        path = rng.choice(["/ui/api/analyze", "/ui/api/analyze", "/ui/api/beats", "/report?format=png"])
        return "POST", path, {"inputs": {"signal": [_SIGNAL], "fs": 100, "lead_names": ["II"]},
                              "parameters": {"pad_short": True, "enable_turkish_commentary": False}}
    if route < 0.93:
        return "DELETE", f"/api/v1/models/remove/{rng.choice(['fz0', 'fz1', 'demo', 'nope', '..', '%2e%2e', 'a b'])}", None
    return rng.choice([("GET", "/health", None), ("HEAD", "/health", None), ("GET", "/no/such/route", None),
                       ("GET", "/", None), ("HEAD", "/", None), ("GET", "/docs", None), ("GET", "/ui", None),
                       ("GET", "/ui/api/examples", None), ("GET", "/ui/api/examples/%2e%2e", None),
                       ("PUT", "/", None), ("GET", "/api/v1/models/fit", None), ("POST", "/health", None)])


def _paths(value, prefix=()):
    """Every (path to a node) inside a JSON-like value, the value itself included."""
    yield prefix
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _paths(child, (*prefix, key))
    elif isinstance(value, list) and value and len(value) <= 16:
        index = len(value) - 1
        yield from _paths(value[index], (*prefix, index))


def _replace(value, path, new):
    if not path:
        return new
    head, *rest = path
    if isinstance(value, dict):
        return {**value, head: _replace(value[head], rest, new)}
    copy = list(value)
    copy[head] = _replace(copy[head], rest, new)
    return copy


def _mutate(rng: random.Random, body):
    choice = rng.random()
    paths = list(_paths(body))
    path = rng.choice(paths)
    if choice < 0.6:
        return _replace(body, path, hostile_value(rng))
    if choice < 0.75 and path:
        parent_path, key = path[:-1], path[-1]
        parent = body
        for step in parent_path:
            parent = parent[step]
        if isinstance(parent, dict):
            return _replace(body, parent_path, {k: v for k, v in parent.items() if k != key})
        return body
    if choice < 0.9:
        target = body
        for step in path:
            target = target[step]
        if isinstance(target, dict):
            extra = rng.choice(["extra", "\ud800", "parameters", "inputs", "X", "signal", "__proto__", ""])
            return _replace(body, path, {**target, extra: hostile_value(rng)})
        return _replace(body, path, [target, hostile_value(rng)])
    return rng.choice([[body], {"inputs": body}, hostile_value(rng)])


def _short_generation(body):
    """Keep any text generation to one new token (a dropped ``parameters`` would mean 512 of them)."""
    if isinstance(body, dict) and "inputs" in body and isinstance(body.get("parameters", {}), dict):
        parameters = body.get("parameters", {})
        if parameters.get("max_new_tokens") not in (0, -1, 2**63, 10**400):  # kept when it is invalid anyway
            return {**body, "parameters": {**parameters, "max_new_tokens": 1}}
    return body


@dataclass(frozen=True)
class HostileRequest:
    method: str
    path: str
    body: bytes | None
    content_type: str | None


def _encode(body) -> bytes:
    text = json.dumps(body, ensure_ascii=True)  # lone surrogates travel as \\ud800 escapes; NaN as NaN
    return text.replace(f'"{DEEP_MARK}"', _DEEP_TEXT).replace(f'"{DEEP_PLAIN_MARK}"', _DEEP_PLAIN_TEXT).encode()


def hostile_requests(seed: int, count: int):
    """`count` requests, the same for the same seed."""
    rng = random.Random(seed)
    for _ in range(count):
        method, path, body = _base(rng)
        if body is None:
            yield HostileRequest(method, path, None, None)
            continue
        for _ in range(rng.randint(1, 3)):
            body = _mutate(rng, body)
        data = _encode(_short_generation(body))
        content_type = "application/json"
        corruption = rng.random()
        if corruption < 0.04:
            data = data[: rng.randint(0, len(data))]  # cut short
        elif corruption < 0.06:
            data = data.replace(b'"', b"'", 1)
        elif corruption < 0.08:
            data = b"\xff\xfe" + data  # not UTF-8
        elif corruption < 0.1:
            content_type = rng.choice(["text/plain", "image/png", "application/x-www-form-urlencoded",
                                       "multipart/form-data; boundary=x", "application/json; charset=latin-1"])
        yield HostileRequest(method, path, data, content_type)
