"""The seed sklearn-trainer routes, replayed as its clients send them, on a bare app with the server's error mapping."""

from __future__ import annotations

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient

from ecg_core.errors import InputError, ModelNotConfigured
from ecg_core.tabular.demo import synthetic_measurement_rows
from ecg_core.tabular.routes import build_router
from ecg_core.tabular.service import TabularService


def _client(settings) -> TestClient:
    """The router on a bare app with the local server's error mapping (400 / 503 / 500)."""
    service = TabularService(settings)
    app = FastAPI()
    app.include_router(build_router(lambda: service))

    @app.exception_handler(InputError)
    async def input_error(_: Request, error: InputError):
        return JSONResponse({"error": str(error)}, status_code=400)

    @app.exception_handler(ModelNotConfigured)
    async def not_configured(_: Request, error: ModelNotConfigured):
        return JSONResponse({"error": str(error)}, status_code=503)

    return TestClient(app, raise_server_exceptions=False)


@pytest.fixture
def client(settings):
    return _client(settings)


@pytest.fixture(scope="module")
def training():
    rows, labels = synthetic_measurement_rows(count=200, seed=11)
    return rows.round(2).tolist(), labels


def _fit(client, training, model_id="123", model_type="logic", hyperparameters=None):
    X, y = training
    return client.post("/api/v1/models/fit", json={
        "X": X, "y": y, "config": {"id": model_id, "ml_model_type": model_type,
                                   "hyperparameters": hyperparameters or {}}})


def test_seed_workflow_fit_load_predict_list_unload_remove(client, training):
    response = _fit(client, training, hyperparameters={"C": 1.0})
    assert response.status_code == 200 and response.json() == [{"message": "Model '123' trained and saved"}]
    assert _fit(client, training, "111", "svc").json() == [{"message": "Model '111' trained and saved"}]

    assert client.get("/api/v1/models/models").json() == [{"models": [{"id": "111", "type": "svc"},
                                                                       {"id": "123", "type": "logic"}]}]
    assert client.post("/api/v1/models/load", json={"id": "123"}).json() == [{"message": "Model '123' loaded"}]

    response = client.post("/api/v1/models/predict", json={"id": "123", "X": [[72, 92, 390, 430, 25],
                                                                              [150, 150, 290, 460, 40]]})
    assert response.status_code == 200
    body = response.json()
    assert list(body) == ["predictions"] and len(body["predictions"]) == 2
    assert [p["label"] for p in body["predictions"]] == ["NORM", "PROBLEM"]
    assert all(isinstance(p["probability"], float) and 0.5 <= p["probability"] <= 1 for p in body["predictions"])

    assert client.post("/api/v1/models/unload", json={"id": "123"}).json() == [{"message": "Model '123' unloaded"}]
    assert client.delete("/api/v1/models/remove/123").json() == [{"message": "Model '123' removed"}]
    assert client.get("/api/v1/models/models").json() == [{"models": [{"id": "111", "type": "svc"}]}]


def test_fit_csv_multipart_last_column_is_the_label(client):
    qrs_ms = [85 + (i * 7) % 60 for i in range(80)]
    lines = ["hr,qrs,label"] + [f"{60 + i % 50},{qrs},{'PROBLEM' if qrs >= 120 else 'NORM'}"
                                for i, qrs in enumerate(qrs_ms)]
    response = client.post("/api/v1/models/fit_csv?model_id=123&ml_model_type=svc",
                           files={"file": ("data.csv", "\n".join(lines).encode(), "text/csv")})
    assert response.status_code == 200 and response.json() == [{"message": "Model '123' trained and saved"}]
    assert client.get("/api/v1/models/models").json() == [{"models": [{"id": "123", "type": "svc"}]}]
    client.post("/api/v1/models/load", json={"id": "123"})
    prediction = client.post("/api/v1/models/predict", json={"id": "123", "X": [[70, 150]]}).json()
    assert prediction["predictions"][0]["label"] == "PROBLEM"


def test_error_paths(client, training):
    _fit(client, training)
    cases = [
        (client.post("/api/v1/models/predict", json={"id": "123", "X": [[1, 2, 3, 4, 5]]}),
         "id: model '123' is not loaded; POST /api/v1/models/load first"),
        (client.post("/api/v1/models/load", json={"id": "999"}), "id: no model '999' in the registry"),
        (client.post("/api/v1/models/predict", json={"id": "999", "X": [[1]]}), "id: no model '999'"),
        (client.delete("/api/v1/models/remove/999"), "model_id: no model '999'"),
        (client.post("/api/v1/models/unload", json={"id": "123"}), "id: model '123' is not loaded"),
        (_fit(client, training, "bad id/..", "logic"), "config.id: invalid model id"),
        (_fit(client, training, "124", "xgb"), "config.ml_model_type: unknown model type 'xgb'"),
        (_fit(client, training, "124", "logic", {"alpha": 1}), "config.hyperparameters.alpha: not a settable"),
        (client.post("/api/v1/models/fit", json={"X": [[1, 2]], "y": [0]}), "config: expected an object"),
        (client.post("/api/v1/models/fit_csv?model_id=124", files={"file": ("d.csv", b"a,b\n1,x\n1,x\n", "text/csv")}),
         "file: only one class"),
    ]
    for response, message in cases:
        assert response.status_code == 400, (message, response.text)
        assert response.json()["error"].startswith(message), response.json()
    client.post("/api/v1/models/load", json={"id": "123"})
    response = client.post("/api/v1/models/predict", json={"id": "123", "X": [[1, 2, 3]]})
    assert response.status_code == 400 and response.json() == {"error": "X[0]: expected 5 features, got 3"}
    assert client.get("/api/v1/models/models").json() == [{"models": [{"id": "123", "type": "logic"}]}]


def test_tampered_model_is_a_503_not_a_traceback(client, training, settings):
    _fit(client, training)
    for path in settings.tabular_model_dir.glob("*.joblib"):
        path.write_bytes(path.read_bytes()[:-10] + b"0123456789")
    restarted = _client(settings)  # a fresh app over the same directory: nothing cached
    response = restarted.post("/api/v1/models/load", json={"id": "123"})
    assert response.status_code == 503 and "SHA-256" in response.json()["error"]
