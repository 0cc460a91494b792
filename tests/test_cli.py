"""`python -m ecg_core`: the help text advertises only options the command really takes."""

from __future__ import annotations

import re
import subprocess
import sys

from conftest import ROOT


def _help(*args: str) -> str:
    return subprocess.run([sys.executable, "-m", "ecg_core", *args, "--help"], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, check=True).stdout


def test_every_advertised_serve_option_exists():
    advertised = set(re.findall(r"--[a-z][a-z-]+", _help()))
    accepted = set(re.findall(r"--[a-z][a-z-]+", _help("serve")))
    assert {"--demo", "--port"} <= advertised
    assert advertised <= accepted, advertised - accepted
