"""Shared test fixtures. Reference data lives beside the project in ../shared/fixtures (never copied in)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # handler.py and utils.py live at the repository root

FIXTURES = ROOT.parent / "shared" / "fixtures"


def fixture_path(*parts: str) -> Path:
    """Path inside ../shared/fixtures; skips the calling test (with the reason) when it is absent."""
    path = FIXTURES.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"reference fixture {path} is not available (../shared/fixtures missing)")
    return path


@pytest.fixture
def settings(tmp_path, monkeypatch):
    """Settings isolated from the caller's environment, with caches and registries under tmp_path."""
    from ecg_core.settings import Settings

    for name in ("DEEPSEEK_API_KEY", "deep_key", "DEEP_KEY", "ENDPOINT_TOKEN", "ECG_DEMO", "ECG_PRELOAD"):
        monkeypatch.delenv(name, raising=False)
    return Settings.from_env(ROOT, env={}).replace(
        cache_dir=tmp_path / "cache", tabular_model_dir=tmp_path / "tabular_models")


_ENV_TO_CLEAR = ("DEEPSEEK_API_KEY", "deep_key", "DEEP_KEY", "ENDPOINT_TOKEN", "ECG_PRELOAD",
                 "ECGFM_CLASSIFIER", "ECGFM_ENCODER", "PULSE_MODEL")


def make_handler(tmp_dir: Path, **env: str):
    """An EndpointHandler built from the given environment (demo mode unless ECG_DEMO says otherwise)."""
    from handler import EndpointHandler

    with pytest.MonkeyPatch.context() as patch:
        for name in _ENV_TO_CLEAR:
            patch.delenv(name, raising=False)
        values = {"ECG_DEMO": "1", "ECG_CACHE_DIR": str(tmp_dir / "cache"),
                  "TABULAR_MODEL_DIR": str(tmp_dir / "tabular_models"), **env}
        for name, value in values.items():
            patch.setenv(name, value)
        return EndpointHandler(str(ROOT))  # settings are read once, here


@pytest.fixture(scope="session")
def demo_handler(tmp_path_factory):
    """One demo-mode handler for the session (demo weights are generated once, on first use)."""
    return make_handler(tmp_path_factory.mktemp("demo"))
