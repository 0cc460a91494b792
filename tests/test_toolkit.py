"""The bundle inside the real Inference Endpoints toolkit (../shared/hf-inference-toolkit, 0.5.6).

A cached virtual environment holds what the endpoint image holds (the toolkit, transformers 4.51.3,
huggingface_hub 0.30.2, accelerate 1.6.0, ...; torch from the machine's local CPU wheel), then the bundle's
requirements.txt installed on top exactly as the toolkit's entrypoint does. uvicorn serves the toolkit's
``webservice_starlette:app`` with ``HF_MODEL_DIR`` at a copy of the bundle in demo mode, and every example of
test_requests.json is replayed through it, as are the toolkit behaviours the local server mirrors.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time

import pytest
import requests

from cached_venv import cached_venv, staged_copy
from conftest import ROOT
from endpoint_harness import free_port
from test_requests_replay import EXAMPLES, check_results, image_server, local_request  # noqa: F401 (fixture)
from toolkit_cases import TOOLKIT_CASES, check_case

TOOLKIT = ROOT.parent / "shared" / "hf-inference-toolkit"
# What the image's Dockerfile installs (`pip install ".[torch,st,diffusers]"` of setup.py), less the audio
# libraries and kenlm (a git requirement); torch is the machine's local CPU wheel instead of the image's CUDA
# 2.5.1; starlette and setuptools are held where they were when the image was built (August 2025): starlette
# below 1.0 (which drops `on_startup`), setuptools at the 80.9 that get-pip then installed for Python 3.11.
IMAGE_PINS = (
    "torch==2.13.0", "transformers[sklearn,sentencepiece,vision]==4.51.3", "huggingface_hub[hf_transfer]==0.30.2",
    "accelerate==1.6.0", "peft==0.15.1", "sentence_transformers==4.0.2", "diffusers==0.33.1", "Pillow",
    "starlette<1", "uvicorn", "pandas", "orjson", "einops", "setuptools==80.9.0",
)
# The bundle as uploaded to the model repository (deployment_guide.md).
BUNDLE_FILES = ("handler.py", "utils.py", "requirements.txt", "generation_config.json", "test_requests.json",
                "ecg_core")
STARTUP_TIMEOUT_S = 300
# The first test builds the environment on a fresh machine (downloads included): more than pytest.ini's 600 s.
pytestmark = pytest.mark.timeout(1800)


@pytest.fixture(scope="module")
def toolkit_venv():
    if not TOOLKIT.is_dir():
        pytest.skip(f"the toolkit source {TOOLKIT} is not available (../shared missing)")
    return cached_venv("toolkit-0.5.6", [
        ["install", "--no-deps", str(staged_copy(TOOLKIT))],
        ["install", *IMAGE_PINS],
        # scripts/entrypoint.sh, at every container start:
        ["install", "-r", str(staged_copy(ROOT / "requirements.txt")), "--no-cache-dir"],
    ])


@pytest.fixture(scope="module")
def toolkit_url(toolkit_venv, tmp_path_factory):
    """Base URL of uvicorn serving the toolkit's app over a demo-mode copy of the bundle."""
    work = tmp_path_factory.mktemp("toolkit")
    model_dir = work / "model"
    for name in BUNDLE_FILES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, model_dir / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            model_dir.mkdir(exist_ok=True)
            shutil.copy2(source, model_dir / name)
    port = free_port()
    env = {"PATH": os.environ["PATH"], "HOME": str(work), "HF_MODEL_DIR": str(model_dir), "HF_HUB_OFFLINE": "1",
           "ECG_DEMO": "1", "ECG_ALLOW_PRIVATE_IMAGE_URLS": "1", "ECG_CACHE_DIR": str(work / "cache"),
           "TABULAR_MODEL_DIR": str(work / "tabular_models"), "OMP_NUM_THREADS": "2"}
    log = (work / "uvicorn.log").open("w+")
    server = subprocess.Popen(
        [str(toolkit_venv.python), "-m", "uvicorn", "huggingface_inference_toolkit.webservice_starlette:app",
         "--host", "127.0.0.1", "--port", str(port)], cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url, server, log)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def _wait_until_up(url: str, server: subprocess.Popen, log) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            log.seek(0)
            pytest.fail(f"the toolkit server exited ({server.returncode}):\n{log.read()[-4000:]}")
        try:
            if requests.get(url + "/health", timeout=2).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.5)
    log.seek(0)
    pytest.fail(f"the toolkit server did not start in {STARTUP_TIMEOUT_S} s:\n{log.read()[-4000:]}")


def test_requirements_keep_what_the_image_has(toolkit_venv):
    """requirements.txt on top of the image changes no package the image has and pulls no web framework."""
    image, versions = toolkit_venv.versions_after_each_command[1:]
    changed = {name: f"{image[name]} -> {versions.get(name)}" for name in image if versions.get(name) != image[name]}
    assert not changed
    assert versions["transformers"] == "4.51.3"
    assert versions["huggingface-hub"] == "0.30.2"
    assert versions["accelerate"] == "1.6.0"
    assert versions["torch"].startswith("2.13.0")
    assert int(versions["starlette"].split(".")[0]) < 1
    assert "fastapi" not in versions and "python-multipart" not in versions
    if toolkit_venv.build_seconds is not None:
        print(f"toolkit venv built in {toolkit_venv.build_seconds:.0f} s", file=sys.stderr)


def test_every_example_through_the_toolkit(toolkit_url, image_server):
    for example in EXAMPLES:
        response = requests.post(toolkit_url, json=local_request(example, image_server), timeout=300)
        if "expect_error" in example:
            assert response.status_code == 400, (example["name"], response.text[:300])
            assert example["expect_error"] in response.json()["error"], example["name"]
        else:
            assert response.status_code == 200, (example["name"], response.text[:300])
            check_results(example, response.json())


@pytest.mark.parametrize("case", TOOLKIT_CASES, ids=[case.name for case in TOOLKIT_CASES])
def test_toolkit_behaviour(toolkit_url, case):
    """The behaviours the local server mirrors (tests/test_server_toolkit.py runs the same cases)."""
    check_case(case, toolkit_url)
