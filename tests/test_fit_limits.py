"""Fits cannot take the endpoint down: bounded sizes, a killed worker at the time limit, a cap on how many
run at once, and a demo model no client can replace or remove (issue 16)."""

from __future__ import annotations

import json
import logging
import os
import threading
import time

import numpy as np
import pytest
import requests

from conftest import make_handler
from ecg_core.errors import InputError
from ecg_core.server import create_app
from ecg_core.tabular.service import TabularService
from endpoint_harness import running_server

RNG = np.random.default_rng(16)
BIG_X = RNG.normal(size=(4000, 30)).round(3).tolist()  # a 500-tree forest on this takes far over a second
BIG_Y = ["a" if row[0] > 0 else "b" for row in BIG_X]
SMALL_X = [[float(i), float(i % 3)] for i in range(30)]
SMALL_Y = ["a", "b"] * 15


def _service(settings, **limits) -> TabularService:
    return TabularService(settings.replace(limits=settings.limits.__class__(**limits)))


@pytest.mark.parametrize("model_type, name, value, setting", [
    ("random_forest", "n_estimators", 10_000_000, "ECG_MAX_ESTIMATORS"),
    ("isolation_forest", "n_estimators", 501, "ECG_MAX_ESTIMATORS"),
    ("logistic_regression", "max_iter", 10**9, "ECG_MAX_ITERATIONS"),
])
def test_estimator_sizes_are_bounded_by_settings(settings, model_type, name, value, setting):
    service = _service(settings)
    with pytest.raises(InputError, match=rf"^config\.hyperparameters\.{name}: {value} exceeds the limit .*{setting}"):
        service.fit("big", SMALL_X, SMALL_Y, model_type=model_type, hyperparameters={name: value})
    assert service.registry.entry("big") is None


def test_a_fit_past_the_time_limit_is_stopped_and_its_worker_killed(settings, caplog):
    service = _service(settings, fit_timeout_s=1.0)
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="ecg_core.tabular.worker"), \
            pytest.raises(InputError, match=r"^config\.hyperparameters: the fit did not finish within 1 s"):
        service.fit("slow", BIG_X, BIG_Y, model_type="random_forest", hyperparameters={"n_estimators": 500})
    assert time.monotonic() - started < 4  # data transfer + 1 s, not the fit's own duration
    (record,) = [r for r in caplog.records if "stopped fit worker" in r.message]
    pid = int(record.message.split()[3])
    deadline = time.monotonic() + 5
    while os.path.exists(f"/proc/{pid}") and _state(pid) != "Z" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not os.path.exists(f"/proc/{pid}") or _state(pid) == "Z"  # no longer running
    assert service.registry.entry("slow") is None
    # the next fit is unaffected
    assert service.fit("next", SMALL_X, SMALL_Y, model_type="logic")["id"] == "next"


def _state(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "gone"


def test_fits_beyond_the_cap_get_503_with_retry_after_while_predictions_keep_serving(tmp_path):
    handler = make_handler(tmp_path, ECG_MAX_CONCURRENT_FITS="1", ECG_FIT_TIMEOUT_S="4")
    service = handler.engine.slots["tabular"].get()  # the demo model is fitted here, before the clock starts
    slow_fit = {"X": BIG_X, "y": BIG_Y, "config": {"id": "slow", "ml_model_type": "rf",
                                                   "hyperparameters": {"n_estimators": 500}}}
    with running_server(create_app(handler)) as url:
        outcome = {}
        first = threading.Thread(target=lambda: outcome.update(
            response=requests.post(f"{url}/api/v1/models/fit", json=slow_fit, timeout=60)))
        first.start()
        deadline = time.monotonic() + 20
        while service._fit_slots._slots._value != 0 and time.monotonic() < deadline:  # the slot is taken
            time.sleep(0.02)
        second = requests.post(f"{url}/api/v1/models/fit", timeout=30, json={
            "X": SMALL_X, "y": SMALL_Y, "config": {"id": "second", "ml_model_type": "logic"}})
        assert second.status_code == 503 and second.headers["Retry-After"] == "10"
        assert "1 fits are already running" in second.json()["error"]
        started = time.monotonic()
        predicted = requests.post(url, json={"inputs": {"model_id": "demo", "X": [[70, 90, 380, 410, 30]]}},
                                  timeout=30)
        assert predicted.status_code == 200 and time.monotonic() - started < 2
        first.join(60)
        assert outcome["response"].status_code == 400
        assert "did not finish within 4 s" in outcome["response"].json()["error"]
        after = requests.post(f"{url}/api/v1/models/fit", timeout=30, json={
            "X": SMALL_X, "y": SMALL_Y, "config": {"id": "second", "ml_model_type": "logic"}})
        assert after.status_code == 200  # the slot was given back


def test_the_demo_model_cannot_be_replaced_or_removed_and_is_restored_at_restart(tmp_path):
    handler = make_handler(tmp_path)
    with running_server(create_app(handler)) as url:
        overwrite = requests.post(f"{url}/api/v1/models/fit", timeout=30, json={
            "X": SMALL_X, "y": SMALL_Y, "config": {"id": "demo", "ml_model_type": "logic"}})
        assert overwrite.status_code == 400 and "built-in demo model" in overwrite.json()["error"]
        removed = requests.delete(f"{url}/api/v1/models/remove/demo", timeout=30)
        assert removed.status_code == 400 and removed.json()["error"].startswith("model_id: 'demo'")
    index_path = tmp_path / "tabular_models" / "index.json"
    index = json.loads(index_path.read_text())
    original_sha = index["models"]["demo"]["sha256"]
    # as an older version let a client do: the entry replaced by a client model; then a restart
    index["models"]["demo"]["demo"] = False
    index_path.write_text(json.dumps(index))
    restarted = make_handler(tmp_path).engine.slots["tabular"].get()
    entry = restarted.registry.entry("demo")
    assert entry["demo"] is True and entry["sha256"] == original_sha  # refitted: the same deterministic model
    # a demo file altered on disk is refitted too
    (tmp_path / "tabular_models" / entry["file"]).write_bytes(b"not a model")
    again = make_handler(tmp_path).engine.slots["tabular"].get()
    assert again.predict("demo", [[70, 90, 380, 410, 30]])["predictions"][0]["label"] == "NORM"
