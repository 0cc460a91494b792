"""Inputs that used to give 500 (issue 16): each is now a 400 naming the field, on every route that takes it.

Requests go through the whole app in-process (Starlette's TestClient), with `raise_server_exceptions=False`
so a 500 is seen as a 500. The seed routes parse JSON with the `json` module, which lets through what
orjson (``POST /``) refuses: lone surrogates and integers of any length; both parsers are exercised.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from fastapi.testclient import TestClient

from conftest import make_handler
from ecg_core.server import create_app

FS = 500
LEAD = (np.sin(2 * np.pi * 1.2 * np.arange(5 * FS) / FS) ** 15).round(4).tolist()
HUGE_INT = "9" * 400
LONE_SURROGATE = '"\\ud800"'  # as it travels in JSON text


def deep(levels: int, first_plain: bool = False) -> str:
    """A `levels`-deep JSON list; with `first_plain` each level starts with a number ([0, [0, [...]]])."""
    if first_plain:
        return "[0," * (levels - 1) + "[0]" + "]" * (levels - 1)
    return "[" * levels + "]" * levels


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    handler = make_handler(tmp_path_factory.mktemp("hostile"))
    with TestClient(create_app(handler), raise_server_exceptions=False) as test_client:
        yield test_client


def post(client, path: str, body: str):
    return client.post(path, content=body.encode("utf-8", "surrogatepass"),
                       headers={"Content-Type": "application/json"})


def assert_400(response, field: str):
    assert response.status_code == 400, (response.status_code, response.text[:300])
    message = response.json()["error"]
    assert message.startswith(field), message
    assert len(message) < 600  # never the whole client value


SIGNAL = "[0.1, 0.2, 0.3]"  # the depth check comes before any signal check
DEEP_CASES = [
    ("/", '{"inputs": {"signal": [%s], "fs": %s, "lead_names": ["II"]}}' % (SIGNAL, "{deep}"), "body"),
    ("/", '{"inputs": {"model_id": %s, "X": [[1]]}}' % "{deep}", "body"),
    ("/", '{"inputs": {"signal": [%s], "task": %s}}' % (SIGNAL, "{deep}"), "body"),
    ("/", '{"inputs": {"signal": [%s], "lead_names": %s}}' % (SIGNAL, "{deep}"), "body"),
    ("/", '{"inputs": {"signal": [%s], "lead_names": ["II"]}, "parameters": {"pad_short": %s}}'
     % (SIGNAL, "{deep}"), "body"),
    ("/analyze", '{"signal": [%s], "fs": %s, "lead_names": ["II"]}' % (SIGNAL, "{deep}"), "body"),
    ("/api/v1/models/load", '{"id": %s}' % "{deep}", "body"),
    ("/api/v1/models/fit", '{"X": [[1], [2]], "y": ["a", "b"], "config": {"id": "m", "ml_model_type": "logic", '
     '"hyperparameters": {"C": %s}}}' % "{deep}", "body"),
]


@pytest.mark.parametrize("first_plain", [False, True], ids=["[[[...]]]", "[0,[0,[...]]]"])
@pytest.mark.parametrize("path, template, field", DEEP_CASES, ids=[f"{case[0]}#{i}" for i, case in enumerate(DEEP_CASES)])
@pytest.mark.parametrize("levels", [100, 1000])
def test_deep_lists_in_scalar_fields_are_400(client, path, template, field, first_plain, levels):
    response = post(client, path, template.replace("{deep}", deep(levels, first_plain)))
    assert_400(response, field)
    if levels == 100 or path == "/":  # 1000 levels are past the json module's own limit on the seed routes
        assert "nested deeper than 32 levels" in response.json()["error"]


def test_overflowing_numbers_are_400(client):
    row = "[1e308, 80, 400, 420, 30]"
    assert_400(post(client, "/", '{"inputs": {"model_id": "demo", "X": [%s]}}' % row), "inputs.X[0][0]")
    fit_rows = '[[1e308, 1], [2, 1], [3, 1], [4, 1]]'
    fit = '{"X": %s, "y": ["a", "b", "a", "b"], "config": {"id": "big", "ml_model_type": "rf"}}'
    assert_400(post(client, "/api/v1/models/fit", fit % fit_rows), "X[0][0]")
    assert_400(post(client, "/api/v1/models/fit", fit % f"[[{HUGE_INT}, 1], [2, 1], [3, 1], [4, 1]]"), "X[0][0]")
    labels = f'{{"X": [[1], [2], [3], [4]], "y": [{HUGE_INT}, 1, {HUGE_INT}, 1], "config": {{"id": "lab"}}}}'
    assert_400(post(client, "/api/v1/models/fit", labels), "y[0]")
    # a 400-digit sample: the seed route's parser accepts the integer, the signal check refuses it
    samples = ", ".join([HUGE_INT] + ["0.1"] * 2999)
    response = post(client, "/analyze", '{"signal": [[%s]], "fs": 500, "lead_names": ["II"]}' % samples)
    assert_400(response, "inputs.signal[0][0]")
    # on POST / orjson itself refuses it, also as a 400
    assert_400(post(client, "/", '{"inputs": {"signal": [[%s]], "lead_names": ["II"]}}' % samples), "body")


@pytest.mark.parametrize("path, body, field", [
    ("/analyze", '{%s: 1}' % LONE_SURROGATE, "body key"),
    ("/analyze", '{"signal": [[1, 2]], "lead_names": [%s]}' % LONE_SURROGATE, "body.lead_names[0]"),
    ("/api/v1/models/load", '{"id": %s}' % LONE_SURROGATE, "body.id"),
    ("/api/v1/models/fit", '{"X": [[1], [2], [3], [4]], "y": [%s, "b", %s, "b"], "config": {"id": "s"}}'
     % (LONE_SURROGATE, LONE_SURROGATE), "body.y[0]"),
    ("/api/v1/models/fit", '{"X": [{%s: 1}, {%s: 2}], "y": ["a", "b"], "config": {"id": "s"}}'
     % (LONE_SURROGATE, LONE_SURROGATE), "body.X["),
    ("/", '{"inputs": {"query": %s}}' % LONE_SURROGATE, "body"),
])
def test_lone_surrogates_are_400(client, path, body, field):
    assert_400(post(client, path, body), field)


def test_a_stored_lone_surrogate_label_never_breaks_listing_or_predict(tmp_path):
    """A model stored before surrogates were refused (index edited to hold one) must not 500 anyone."""
    handler = make_handler(tmp_path)
    app = create_app(handler)
    with TestClient(app, raise_server_exceptions=False) as client:
        rows = [[float(i), float(i % 2)] for i in range(12)]
        fit = {"X": rows, "y": ["a", "b"] * 6, "config": {"id": "old", "ml_model_type": "logic"}}
        assert client.post("/api/v1/models/fit", json=fit).status_code == 200
        index_path = tmp_path / "tabular_models" / "index.json"
        index = json.loads(index_path.read_text())
        index["models"]["old"]["classes"] = ["\ud800", "b"]
        index["models"]["old"]["feature_names"] = ["\udfff", "feature_1"]
        index_path.write_text(json.dumps(index))  # ensure_ascii: the file holds the \\ud800 escape
        listed = client.get("/api/v1/models/models")
        assert listed.status_code == 200 and {m["id"] for m in listed.json()[0]["models"]} >= {"demo", "old"}
        via_handler = client.post("/", json={"inputs": {"task": "list_models"}})
        assert via_handler.status_code == 200
        assert "\\ud800" in via_handler.text  # escaped, still readable
        assert client.post("/", json={"inputs": {"model_id": "demo", "X": [[70, 90, 380, 410, 30]]}}
                           ).status_code == 200


def test_fastapi_errors_use_the_error_shape_and_health_answers_head(client):
    missing = client.get("/no/such/route")
    assert missing.status_code == 404 and missing.json() == {"error": "Not Found"}
    wrong_method = client.get("/api/v1/models/fit")
    assert wrong_method.status_code == 405 and "error" in wrong_method.json()
    unparsable = post(client, "/api/v1/models/load", "{not json")
    assert unparsable.status_code in (400, 422) and "error" in unparsable.json()
    head = client.head("/health")
    assert head.status_code == 200 and head.content == b""


def test_oversize_image_batches_say_oversize(client):
    import base64
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("L", (6300, 6300), 255).save(buffer, format="PNG", optimize=True)
    encoded = base64.b64encode(buffer.getvalue()).decode()
    batch = {"inputs": [{"image": encoded, "query": "?"}] * 3}  # 3 × 39.7 M pixels > 80 M per request
    response = client.post("/", json=batch)
    assert_400(response, "inputs[2].image")
    assert "oversize" in response.json()["error"] and "per request" in response.json()["error"]


@pytest.mark.parametrize("body, field", [
    ('{"signal": [[0.1, 0.2]], "fs": %s, "lead_names": ["II"]}' % HUGE_INT, "inputs.fs"),
    ('{"signal": [[0.1, 0.2]], "fs": -%s, "lead_names": ["II"]}' % HUGE_INT, "inputs.fs"),
    ('{"signal": [%s], "fs": 500, "lead_names": ["II"], "recording_duration": %s}' % (SIGNAL, HUGE_INT),
     "inputs."),
])
def test_huge_integers_in_number_fields_of_the_seed_routes_are_400(client, body, field):
    assert_400(post(client, "/analyze", body), field)


@pytest.fixture(scope="module")
def handler(tmp_path_factory):
    return make_handler(tmp_path_factory.mktemp("hostile-handler"))


@pytest.mark.parametrize("parameter", ["deepseek_timeout", "temperature", "thresholds", "max_new_tokens"])
def test_huge_integers_in_parameters_are_input_errors(handler, parameter):
    """The handler itself sees Python ints of any size (the toolkit's JSON parser lets them through)."""
    from ecg_core.errors import InputError

    item = {"query": "Is this normal?"} if parameter in ("temperature", "max_new_tokens") else \
        {"signal": [LEAD], "fs": FS, "lead_names": ["II"], "task": "analyze"}
    with pytest.raises(InputError, match=rf"^parameters\.{parameter}"):
        handler({"inputs": item, "parameters": {parameter: 10**400, "pad_short": True}})
