"""The handler tests at both ends of the transformers range the code supports, besides the suite's own version.

requirements.txt allows 4.51 (the endpoint image's) up to the newest 4.x (what a fresh test environment gets);
the code also runs on 5.x (<5 is only for the toolkit, which imports a module 5.0 removed). Each end gets a
cached environment that sees this interpreter's packages and shadows only transformers (and what that version
needs), and runs the PULSE and handler tests in a subprocess.
"""

from __future__ import annotations

import os
import subprocess

import pytest

from cached_venv import cached_venv
from conftest import ROOT

HANDLER_TESTS = ("tests/test_pulse_model.py", "tests/test_pulse_prompt.py", "tests/test_pulse_generation.py",
                 "tests/test_requests_replay.py::test_example_through_handler")
ENDS = {
    # the endpoint image's versions (tests/test_toolkit.py also serves the bundle with them, in the toolkit)
    "transformers-4.51.3": ("transformers==4.51.3", "huggingface_hub==0.30.2", "accelerate==1.6.0"),
    "transformers-5.x": ("transformers>=5,<6",),
}


@pytest.mark.timeout(1800)  # building the environment on a fresh machine, then the tests
@pytest.mark.parametrize("end", ENDS)
def test_handler_tests_pass_under(end):
    # transformers itself first, ignoring this interpreter's copy (which may already satisfy the range and would
    # then not be shadowed: the environment would test whatever the suite has), then what that version needs.
    venv = cached_venv(end, [["install", "--ignore-installed", "--no-deps", *ENDS[end]], ["install", *ENDS[end]]],
                       system_site_packages=True)
    pinned = subprocess.run([str(venv.python), "-c", "import transformers; print(transformers.__version__)"],
                            check=True, capture_output=True, text=True, timeout=120).stdout.strip()
    assert pinned.startswith(end.removeprefix("transformers-").removesuffix("x"))
    result = subprocess.run([str(venv.python), "-m", "pytest", "-q", "-p", "no:cacheprovider", *HANDLER_TESTS],
                            cwd=ROOT, capture_output=True, text=True, timeout=1200,
                            env={**os.environ, "PYTHONNOUSERSITE": "1"})
    summary = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""
    assert result.returncode == 0, f"transformers {pinned}:\n{result.stdout[-6000:]}\n{result.stderr[-2000:]}"
    assert " passed" in summary and " failed" not in summary, summary
