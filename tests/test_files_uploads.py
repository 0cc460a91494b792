"""One ECG file, the same analysis four ways: inputs.file in JSON, a raw upload, a multipart upload, the CLI."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
import requests

from conftest import ROOT, fixture_path
from ecg_core.server import create_app
from ecg_files import b64
from endpoint_harness import running_server

PAGEWRITER = ("formats", "philips", "pagewriter_tc_sinus.xml")
COMPARED = ("measurements", "measurement_vs_cart", "cart_measurements", "cart_statements", "recording")


def same_analysis(result: dict) -> dict:
    return {key: result[key] for key in COMPARED}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from conftest import make_handler

    with running_server(create_app(make_handler(tmp_path_factory.mktemp("uploads")))) as url:
        yield url


def test_json_raw_multipart_and_cli_agree(server, tmp_path):
    path = fixture_path(*PAGEWRITER)
    data = path.read_bytes()
    as_json = requests.post(server, json={"inputs": {"file": b64(data), "task": "measure"}}, timeout=60)
    raw = requests.post(f"{server}/predict?task=measure", data=data,
                        headers={"Content-Type": "application/xml"}, timeout=60)
    multipart = requests.post(server, files={"file": ("ecg.xml", data, "application/xml")},
                              data={"task": "measure"}, timeout=60)
    for response in (as_json, raw, multipart):
        assert response.status_code == 200, response.text
    expected = same_analysis(as_json.json()[0])
    assert expected["recording"]["format"] == "philips" and expected["cart_measurements"]["heart_rate"] == 64
    assert same_analysis(raw.json()[0]) == expected
    assert same_analysis(multipart.json()[0]) == expected
    cli = subprocess.run([sys.executable, "-m", "ecg_core", "analyze", str(path), "--task", "measure", "--json"],
                         capture_output=True, text=True, cwd=ROOT, timeout=120, env=_demo_env(tmp_path))
    assert cli.returncode == 0, cli.stderr
    [from_cli] = json.loads(cli.stdout)
    assert same_analysis(from_cli["result"]) == expected


def test_cli_summary_is_readable(tmp_path):
    path = fixture_path("formats", "scp", "welchallyn_simulator_2008.scp")
    cli = subprocess.run([sys.executable, "-m", "ecg_core", "analyze", str(path), "--task", "measure"],
                         capture_output=True, text=True, cwd=ROOT, timeout=120, env=_demo_env(tmp_path))
    assert cli.returncode == 0, cli.stderr
    assert "scp, 12 leads, 600 Hz, 10.0 s" in cli.stdout
    assert re.search(r"heart_rate\s+[\d.]+\s+80\s", cli.stdout)  # ours beside the cart's 80 bpm
    assert "sinus rhythm" in cli.stdout  # the cart's statements
    assert "bandwidth: the file states a 35 Hz low-pass filter" in cli.stdout  # tests/test_bandwidth.py


def test_cli_bad_file_is_an_error_line_not_a_traceback(tmp_path):
    bad = tmp_path / "broken.scp"
    bad.write_bytes(fixture_path("formats", "scp", "welchallyn_simulator_2008.scp").read_bytes()[:3000])
    cli = subprocess.run([sys.executable, "-m", "ecg_core", "analyze", str(bad)], capture_output=True, text=True,
                         cwd=ROOT, timeout=120, env=_demo_env(tmp_path))
    assert cli.returncode == 1
    assert "inputs.file: scp: " in cli.stdout + cli.stderr and "Traceback" not in cli.stderr


def test_bad_uploads_are_400_naming_the_format(server):
    data = fixture_path(*PAGEWRITER).read_bytes()
    truncated = requests.post(server, data=data[:5000], headers={"Content-Type": "application/xml"}, timeout=60)
    assert truncated.status_code == 400 and truncated.json()["error"].startswith("inputs.file: philips: ")
    mislabelled = requests.post(server, data=data, headers={"Content-Type": "application/dicom"}, timeout=60)
    assert mislabelled.status_code == 400
    assert mislabelled.json()["error"] == "inputs.file: dicom: the file's content is philips, not dicom"
    no_file = requests.post(server, files={"other": ("x", b"1")}, timeout=60)
    assert no_file.status_code == 400 and no_file.json()["error"].startswith("file: missing")
    bad_rate = requests.post(f"{server}?fs=fast", data=b"I,II\n", headers={"Content-Type": "text/csv"}, timeout=60)
    assert bad_rate.status_code == 400 and bad_rate.json()["error"].startswith("inputs.fs: expected a number")


def _demo_env(tmp_path) -> dict:
    import os

    env = {k: v for k, v in os.environ.items() if k not in ("ENDPOINT_TOKEN", "ECG_PRELOAD")}
    env.update(ECG_DEMO="1", ECG_CACHE_DIR=str(tmp_path / "cache"), TABULAR_MODEL_DIR=str(tmp_path / "tab"))
    return env
