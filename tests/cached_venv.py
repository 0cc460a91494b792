"""Virtual environments for tests that need other library versions than the suite's own.

Each is built once and cached under ``$ECG_TEST_VENV_DIR`` (default ``~/.cache/ecg-endpoint/venvs``) in a
folder named by the hash of everything that goes into it (the Python version, the pip commands, the contents
of the files they install), so later runs on the same machine reuse it and any change builds a fresh one.
Packages come from the machine's pip configuration: PyPI plus the local torch wheel.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from filelock import FileLock

VENV_ROOT = Path(os.environ.get("ECG_TEST_VENV_DIR") or Path.home() / ".cache" / "ecg-endpoint" / "venvs")
BUILD_TIMEOUT_S = 1800  # one pip command, on a fresh machine with a cold pip cache
_COMPLETE = "complete.json"  # written last: its presence means the build finished
_LAYOUT = 2  # of complete.json; part of the cache key
_SKIPPED = {"build", "__pycache__"}


@dataclass(frozen=True)
class Venv:
    path: Path
    build_seconds: float | None  # None: reused from an earlier run

    @property
    def python(self) -> Path:
        return self.path / "bin" / "python"

    @property
    def versions_after_each_command(self) -> list[dict[str, str]]:
        """{distribution: version} of what the environment itself held after each pip command of its build."""
        return json.loads((self.path / _COMPLETE).read_text())["versions"]


def cached_venv(name: str, pip_commands: Sequence[Sequence[str]], *, system_site_packages: bool = False) -> Venv:
    """The environment after ``python -m pip <command>`` for each command, built now if not cached.

    Files the commands install from belong under `staged_copy` paths, so their contents are part of the key.
    With `system_site_packages` the environment sees the running interpreter's packages and only adds (or
    shadows them with) what the commands install."""
    recipe = json.dumps([_LAYOUT, sys.version, list(map(list, pip_commands)), system_site_packages])
    target = VENV_ROOT / f"{name}-{hashlib.sha256(recipe.encode()).hexdigest()[:16]}"
    VENV_ROOT.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target) + ".lock"):
        if (target / _COMPLETE).is_file():
            return Venv(target, None)
        shutil.rmtree(target, ignore_errors=True)  # a build that was interrupted
        started = time.monotonic()
        command = [sys.executable, "-m", "venv", str(target)]
        _run(command + (["--system-site-packages"] if system_site_packages else []))
        versions = []
        for pip_command in pip_commands:
            _run([str(target / "bin" / "python"), "-m", "pip", *pip_command])
            versions.append(_installed_versions(target / "bin" / "python"))
        seconds = time.monotonic() - started
        (target / _COMPLETE).write_text(json.dumps({"commands": list(map(list, pip_commands)), "seconds": seconds,
                                                    "versions": versions}))
        return Venv(target, seconds)


def _installed_versions(python: Path) -> dict[str, str]:
    """{normalised distribution name: version} of what the environment itself holds (not the system's)."""
    listing = subprocess.run([str(python), "-m", "pip", "list", "--format=json", "--local"],
                             check=True, capture_output=True, text=True, timeout=120).stdout
    return {entry["name"].lower().replace("_", "-"): entry["version"] for entry in json.loads(listing)}


def staged_copy(source: Path) -> Path:
    """A copy of `source` (a file or a folder, without build outputs) at a path named by its contents.

    pip writes build/ and egg-info into a source tree it installs, so shared sources are installed from such a
    copy; and since the path changes exactly when the contents do, a pip command naming it is a cache key."""
    files = [source] if source.is_file() else sorted(
        file for file in source.rglob("*")
        if file.is_file() and not _SKIPPED.intersection(file.relative_to(source).parts[:-1])
        and ".egg-info" not in str(file.relative_to(source)))
    digest = hashlib.sha256()
    for file in files:
        digest.update(str(file.relative_to(source.parent)).encode() + b"\0" + file.read_bytes())
    target = VENV_ROOT / "sources" / digest.hexdigest()[:16]
    if not target.exists():
        staging = target.with_name(f"{target.name}.{os.getpid()}")
        for file in files:
            copy = staging / file.relative_to(source.parent)
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(file, copy)
        try:
            staging.rename(target)
        except OSError:  # another run staged the same contents first
            shutil.rmtree(staging, ignore_errors=True)
    return target / source.name


def _run(command: list[str]) -> None:
    result = subprocess.run(command, capture_output=True, text=True, timeout=BUILD_TIMEOUT_S,
                            env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PYTHONNOUSERSITE": "1"})
    if result.returncode:
        raise RuntimeError(f"{' '.join(command[:6])} ... failed ({result.returncode}):\n{result.stdout[-3000:]}"
                           f"\n{result.stderr[-3000:]}")
