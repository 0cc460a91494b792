"""The registry on disk: hashes, tampering, atomic writes under SIGKILL, concurrent fits, cache."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from conftest import ROOT
from ecg_core.errors import InputError, ModelNotConfigured
from ecg_core.tabular.demo import DEMO_FEATURES, synthetic_measurement_rows
from ecg_core.tabular.registry import INDEX_NAME
from ecg_core.tabular.service import TabularService

PROBE = [[72.0, 92.0, 390.0, 430.0, 25.0], [150.0, 150.0, 290.0, 460.0, 40.0]]


@pytest.fixture
def service(settings):
    service = TabularService(settings)
    rows, labels = synthetic_measurement_rows(count=200, seed=5)
    service.fit("base", rows.tolist(), labels, feature_names=DEMO_FEATURES)
    return service


def _index(service) -> dict:
    return json.loads((service.registry.directory / INDEX_NAME).read_text())


def _files(service) -> set[str]:
    return {path.name for path in service.registry.directory.iterdir()}


def test_index_records_what_the_issue_lists(service):
    entry = _index(service)["models"]["base"]
    for key in ("id", "model_type", "hyperparameters", "feature_names", "n_features", "classes", "training",
                "metrics", "created", "sklearn_version", "sha256", "file"):
        assert key in entry, key
    data = (service.registry.directory / entry["file"]).read_bytes()
    import hashlib

    assert hashlib.sha256(data).hexdigest() == entry["sha256"]
    assert _files(service) == {INDEX_NAME, ".lock", entry["file"]}


def test_tampered_file_is_refused(service, settings):
    entry = _index(service)["models"]["base"]
    path = service.registry.directory / entry["file"]
    data = bytearray(path.read_bytes())
    data[-20] ^= 0xFF
    path.write_bytes(bytes(data))
    fresh = TabularService(settings)  # a new process: nothing cached
    with pytest.raises(ModelNotConfigured, match="model 'base' refused: the SHA-256 .* does not match the index"):
        fresh.predict("base", PROBE)


def test_file_swapped_for_another_models_is_refused(service, settings):
    rows = np.random.default_rng(0).normal(size=(50, 3)).tolist()
    other = service.fit("other", rows, model_type="iforest")
    base = _index(service)["models"]["base"]
    (service.registry.directory / base["file"]).write_bytes((service.registry.directory / other["file"]).read_bytes())
    with pytest.raises(ModelNotConfigured, match="SHA-256"):
        TabularService(settings).load("base")


def test_feature_count_mismatch_in_index_is_refused(service, settings):
    index = _index(service)
    index["models"]["base"]["n_features"] = 6
    (service.registry.directory / INDEX_NAME).write_text(json.dumps(index))
    with pytest.raises(ModelNotConfigured, match="expects 5 features but the index records 6"):
        TabularService(settings).load("base")


def test_corrupt_index_is_reported_not_overwritten(service, settings):
    (service.registry.directory / INDEX_NAME).write_text('{"models": {"base": ')
    fresh = TabularService(settings)
    with pytest.raises(ModelNotConfigured, match="index .* is unreadable"):
        fresh.list_models()
    with pytest.raises(ModelNotConfigured, match="unreadable"):
        fresh.fit("new", PROBE * 5, ["NORM", "PROBLEM"] * 5)
    assert (service.registry.directory / INDEX_NAME).read_text() == '{"models": {"base": '


def test_cache_load_unload_and_remove(service, settings):
    fresh = TabularService(settings)
    assert fresh.registry.loaded_ids() == []
    fresh.load("base")
    assert fresh.is_loaded("base")
    assert fresh.unload("base") is True and fresh.unload("base") is False
    expected = service.predict("base", PROBE)["predictions"]
    assert fresh.predict("base", PROBE)["predictions"] == expected  # loads lazily, same model
    assert fresh.remove("base") == {"removed": "base"}
    assert fresh.list_models() == {"models": []} and _files(fresh) == {INDEX_NAME, ".lock"}
    with pytest.raises(InputError, match="inputs.model_id: no model 'base'"):
        fresh.remove("base")


def test_refit_replaces_the_model_and_its_file(service):
    old = _index(service)["models"]["base"]
    rows, labels = synthetic_measurement_rows(count=200, seed=6)
    new = service.fit("base", rows.tolist(), labels, model_type="rf", feature_names=DEMO_FEATURES)
    assert new["sha256"] != old["sha256"]
    assert _files(service) == {INDEX_NAME, ".lock", new["file"]}
    assert service.list_models()["models"][0]["model_type"] == "random_forest"


def test_concurrent_fits_all_land_in_the_index(service, settings):
    rows, labels = synthetic_measurement_rows(count=120, seed=8)

    def fit(number: int) -> str:
        # separate services, as separate workers would have; they share only the directory and its lock
        return TabularService(settings).fit(f"m{number}", rows.tolist(), labels, model_type="logic")["sha256"]

    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(fit, range(12)))
    models = _index(service)["models"]
    assert set(models) == {"base", *(f"m{number}" for number in range(12))}
    assert _files(service) == {INDEX_NAME, ".lock", *(entry["file"] for entry in models.values())}
    for model_id in models:
        TabularService(settings).load(model_id)  # every file matches its hash


# The child fits "victim" and stalls (sleeps) right after the Nth fsync of the save, so the parent's
# SIGKILL lands at a known point: 1 = model bytes written to the temporary file, 2 = model file renamed
# into place but not in the index, 3 = new index written to its temporary file, 4 = index replaced.
_CHILD = textwrap.dedent("""
    import os, sys, time
    sys.path.insert(0, {root!r})
    from ecg_core.settings import Settings
    from ecg_core.tabular.demo import DEMO_FEATURES, synthetic_measurement_rows
    from ecg_core.tabular.service import TabularService
    from pathlib import Path

    stall_at, calls, real_fsync = int(sys.argv[1]), [0], os.fsync
    def stalling_fsync(fd):
        real_fsync(fd)
        calls[0] += 1
        if calls[0] == stall_at:
            print("stalled", flush=True)
            time.sleep(60)
    os.fsync = stalling_fsync
    settings = Settings.from_env({root!r}, env={{}}).replace(tabular_model_dir=Path({directory!r}))
    rows, labels = synthetic_measurement_rows(count=300, seed=9)
    TabularService(settings).fit("victim", rows.tolist(), labels, model_type="rf", feature_names=DEMO_FEATURES)
    print("finished", flush=True)
""")


@pytest.mark.timeout(60)
@pytest.mark.parametrize("stall_at", [1, 2, 3, 4])
def test_fit_killed_mid_write_leaves_the_registry_consistent(service, settings, stall_at):
    directory = service.registry.directory
    expected = service.predict("base", PROBE)["predictions"]
    script = _CHILD.format(root=str(ROOT), directory=str(directory))
    child = subprocess.Popen([sys.executable, "-c", script, str(stall_at)], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "stalled"
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    assert child.returncode == -signal.SIGKILL

    fresh = TabularService(settings)
    models = _index(service)["models"]  # parses: never half-written
    assert fresh.predict("base", PROBE)["predictions"] == expected  # nothing lost
    assert ("victim" in models) == (stall_at == 4)  # registered only once the index was replaced
    if "victim" in models:
        assert fresh.predict("victim", PROBE)["predictions"][0]["label"] == "NORM"
    # The next write sweeps the debris (a temporary file or an unreferenced model file) under the lock.
    fresh.remove("base")
    assert _files(service) == {INDEX_NAME, ".lock", *(entry["file"] for entry in _index(service)["models"].values())}
