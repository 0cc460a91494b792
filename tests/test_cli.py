"""`python -m ecg_core`: the help text advertises only options the command really takes."""

from __future__ import annotations

import re
import subprocess
import sys

from conftest import ROOT


def _help(*args: str) -> str:
    return subprocess.run([sys.executable, "-m", "ecg_core", *args, "--help"], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, check=True).stdout


def test_every_advertised_option_exists():
    """Each ``python -m ecg_core COMMAND [--option]`` usage line of the top-level help names real options."""
    usages = re.findall(r"python -m ecg_core (serve|analyze)\b([^`]*)", _help())
    assert {command for command, _ in usages} == {"serve", "analyze"}
    for command, usage in usages:
        advertised = set(re.findall(r"--[a-z][a-z-]+", usage))
        accepted = set(re.findall(r"--[a-z][a-z-]+", _help(command)))
        assert advertised <= accepted, (command, advertised - accepted)
    assert {"--demo", "--port"} <= set(re.findall(r"--[a-z][a-z-]+", usages[0][1]))