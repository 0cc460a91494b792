"""Settings from the environment, model sources, lazy model slots, signal intake and the handler contract."""

from __future__ import annotations

import threading
import time

import numpy as np
import orjson
import pytest

from conftest import ROOT, make_handler
from ecg_core.errors import InputError, ModelNotConfigured
from ecg_core.settings import Settings
from ecg_core.signal import parse_recording
from ecg_core.slots import ModelSlot
from ecg_core.sources import resolve_dir, resolve_file


# --- settings -------------------------------------------------------------------------------------------

def test_settings_read_every_documented_variable(tmp_path):
    settings = Settings.from_env(tmp_path, env={
        "ECGFM_CLASSIFIER": "weights/ecgfm", "ECGFM_ENCODER": "none", "PULSE_MODEL": "/models/pulse",
        "TABULAR_MODEL_DIR": "registry", "ECG_DEVICE": "CPU", "ECG_DTYPE": "bfloat16", "ECG_DEMO": "true",
        "ECG_PRELOAD": "1", "deep_key": "sk-old-style", "DEEPSEEK_MODEL": "deepseek-v4-pro",
        "DEEPSEEK_BASE_URL": "https://api.example.org/", "ENDPOINT_TOKEN": "tok", "ECG_MAX_BATCH_ITEMS": "8",
        "ECG_MAX_FS": "1000.5"})
    assert settings.ecgfm_classifier == "weights/ecgfm" and settings.pulse_model == "/models/pulse"
    assert settings.tabular_model_dir == tmp_path.resolve() / "registry"
    assert (settings.device, settings.dtype, settings.demo, settings.preload) == ("cpu", "bfloat16", True, True)
    assert settings.deepseek_api_key == "sk-old-style"  # the older variable name still works
    assert settings.deepseek_base_url == "https://api.example.org"
    assert settings.limits.max_batch_items == 8 and settings.limits.max_fs == 1000.5
    assert "sk-old-style" not in repr(settings) and "tok" not in repr(settings)


@pytest.mark.parametrize("name,value,phrase", [
    ("ECG_DEVICE", "tpu", "ECG_DEVICE"), ("ECG_DTYPE", "int4", "ECG_DTYPE"), ("ECG_DEMO", "maybe", "ECG_DEMO"),
    ("ECG_MAX_BATCH_ITEMS", "lots", "ECG_MAX_BATCH_ITEMS"), ("ECG_MAX_SAMPLES", "-5", "must be positive"),
    ("PULSE_QUANTIZATION", "2bit", "PULSE_QUANTIZATION")])
def test_bad_settings_name_the_variable(name, value, phrase):
    with pytest.raises(InputError, match=phrase):
        Settings.from_env(ROOT, env={name: value})


# --- model sources --------------------------------------------------------------------------------------

def test_sources_resolve_local_paths_inside_the_repository(tmp_path):
    (tmp_path / "weights").mkdir()
    (tmp_path / "weights" / "model.pt").write_bytes(b"x")
    assert resolve_file("weights/model.pt", tmp_path) == tmp_path / "weights" / "model.pt"
    assert resolve_dir("weights", tmp_path) == tmp_path / "weights"
    assert resolve_file(str(tmp_path / "weights" / "model.pt"), ROOT) == tmp_path / "weights" / "model.pt"


def test_missing_explicit_paths_fail_at_once_without_a_download(tmp_path):
    started = time.monotonic()
    for source in ("/no/such/dir/model.pt", "./missing/model.pt"):
        with pytest.raises(ModelNotConfigured, match="does not exist"):
            resolve_file(source, tmp_path)
    with pytest.raises(ModelNotConfigured, match="no model source"):
        resolve_dir("none", tmp_path)
    assert time.monotonic() - started < 1


def test_hub_references_are_split_into_repository_and_file(tmp_path, monkeypatch):
    import huggingface_hub

    calls = []
    monkeypatch.setattr(huggingface_hub, "hf_hub_download",
                        lambda repo_id, filename: calls.append((repo_id, filename)) or str(tmp_path / filename))
    resolve_file("wanglab/ecg-fm/sub/mimic_iv_ecg_finetuned.pt", tmp_path)
    assert calls == [("wanglab/ecg-fm", "sub/mimic_iv_ecg_finetuned.pt")]


def test_unreachable_hub_is_model_not_configured(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    with pytest.raises(ModelNotConfigured, match="could not download 'PULSE-ECG/PULSE-7B'"):
        resolve_dir("PULSE-ECG/PULSE-7B", tmp_path)


# --- lazy model slots -----------------------------------------------------------------------------------

def test_slot_loads_once_under_concurrent_first_use():
    loads = []

    def loader():
        loads.append(1)
        time.sleep(0.2)
        return object()

    slot = ModelSlot("model", loader)
    results = []
    threads = [threading.Thread(target=lambda: results.append(slot.get())) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(loads) == 1 and len({id(result) for result in results}) == 1
    assert slot.status()["state"] == "ready"


def test_slot_failure_is_reported_and_retried_only_after_the_pause():
    attempts = []

    def loader():
        attempts.append(1)
        raise OSError("disk on fire")

    slot = ModelSlot("PULSE-7B", loader, retry_after_s=0.3)
    for _ in range(3):
        with pytest.raises(ModelNotConfigured, match="PULSE-7B failed to load: OSError: disk on fire"):
            slot.get()
    assert len(attempts) == 1
    assert slot.status() == {"state": "failed", "reason": "OSError: disk on fire"}
    time.sleep(0.35)
    with pytest.raises(ModelNotConfigured):
        slot.get()
    assert len(attempts) == 2


# --- signal intake --------------------------------------------------------------------------------------

def test_signal_orientation_units_and_nan_repair(settings):
    fs = 250
    leads = np.vstack([np.sin(np.arange(1500) / 20 + k) for k in range(3)])  # 3 leads, 6 s, in mV
    microvolts_by_sample = (leads.T * 1000).tolist()
    microvolts_by_sample[100][1] = None  # one missing sample in lead II
    recording = parse_recording({"signal": microvolts_by_sample, "fs": fs, "units": "uV",
                                 "lead_names": ["lead I", "ii", "V2"]}, "inputs", settings.limits)
    assert recording.signal.shape == (3, 1500) and recording.lead_names == ("I", "II", "V2")
    assert np.allclose(recording.signal[0], leads[0])
    assert abs(recording.signal[1, 100] - leads[1, 100]) < 1e-3  # linearly interpolated
    assert recording.notes == ("lead II: 1 missing samples linearly interpolated",)


def test_unnamed_twelve_leads_take_the_standard_order_and_say_so(settings):
    recording = parse_recording({"signal": np.zeros((12, 2500)).tolist()}, "inputs", settings.limits)
    assert recording.lead_names[:3] == ("I", "II", "III") and recording.fs == 500
    assert any("assumed 500 Hz" in note for note in recording.notes)
    assert any("standard order" in note for note in recording.notes)


# --- the handler contract -------------------------------------------------------------------------------

def test_handler_results_serialise_with_orjson_and_carry_the_envelope(tmp_path):
    handler = make_handler(tmp_path)
    signal = np.vstack([np.sin(np.arange(3000) / 30 + k) for k in range(2)]).round(4).tolist()
    results = handler({"inputs": [{"signal": signal, "fs": 500, "lead_names": ["I", "II"], "task": "measure"},
                                  "What is a normal QRS duration?", {"task": "list_models"}],
                       "parameters": {"max_new_tokens": 4}})
    assert [result["task"] for result in results] == ["measure", "generate", "list_models"]
    orjson.dumps(results)  # no numpy scalars, no tensors: plain orjson (no numpy option) accepts it
    for result in results:
        assert result["weights"] == "demo" and result["processing_time"] >= 0 and result["model"]


def test_preload_loads_every_model_at_start_up(tmp_path):
    handler = make_handler(tmp_path, ECG_PRELOAD="1")
    states = {name: status["state"] for name, status in handler.health()["models"].items()}
    assert states == {"ecgfm": "ready", "pulse": "ready", "tabular": "ready"}


def test_demo_weights_of_every_route_coexist_whatever_is_used_first(tmp_path):
    """Regression: the PULSE demo folder once made the ECG-FM demo's atomic rename fail."""
    handler = make_handler(tmp_path)
    signal = np.vstack([np.sin(np.arange(3000) / 30 + k) for k in range(2)]).round(4).tolist()
    handler({"inputs": "Is this a regular rhythm?", "parameters": {"max_new_tokens": 2}})
    (result,) = handler({"inputs": {"signal": signal, "fs": 500, "lead_names": ["I", "II"]}})
    assert result["model"] == "ECG-FM" and len(result["labels"]) == 17
