"""The on-disk model registry: ``index.json`` plus one ``.joblib`` file per model.

A joblib file is a pickle, so loading one runs code: a model is loaded only when the index vouches for it
(its SHA-256 matches the index entry), and the bytes that were hashed are the bytes that are unpickled.

Crash safety: every write happens under one file lock (``.lock``, shared by processes and threads). The
model file is written to a temporary name, fsynced and renamed to a name unique to its content, then the
index is replaced the same way; the index is the only source of truth, so a crash at any moment leaves
either the old or the new model registered, never a half-written one. Left-over temporary or unreferenced
files are debris of such a crash and are swept the next time the lock is taken.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import tempfile
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import joblib
import sklearn
from filelock import FileLock

from ..errors import InputError, ModelNotConfigured

INDEX_NAME = "index.json"
INDEX_FORMAT = 1
MODEL_ID_PATTERN = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_TEMP_SUFFIX = ".tmp"


def validate_model_id(model_id: Any, field: str) -> str:
    """The id itself, or InputError: ids are file-name safe (``[A-Za-z0-9_.-]{1,64}``, not ``.``/``..``)."""
    if not isinstance(model_id, (str, int)) or isinstance(model_id, bool):
        raise InputError(field, f"expected a model id string, got {type(model_id).__name__}")
    model_id = str(model_id)
    if not MODEL_ID_PATTERN.fullmatch(model_id) or model_id in {".", ".."}:
        raise InputError(field, f"invalid model id {model_id[:80]!r}; use 1 to 64 letters, digits, '_', '.' or '-'")
    return model_id


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Registry:
    """Models saved under ``directory``, with an in-memory cache of the loaded ones."""

    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self._lock = FileLock(str(self.directory / ".lock"))
        self._cache: dict[str, tuple[str, Any]] = {}  # id -> (sha256, estimator)
        self._cache_lock = threading.Lock()

    # ---- reading -------------------------------------------------------------------------------
    def entries(self) -> dict[str, dict]:
        """All index entries by model id (empty when no index exists yet)."""
        path = self.directory / INDEX_NAME
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        try:
            index = json.loads(text)
            models = index["models"]
            if not isinstance(models, dict):
                raise TypeError("'models' is not an object")
        except (ValueError, KeyError, TypeError) as error:
            # Never rewrite a damaged index silently: the operator must look at it.
            raise ModelNotConfigured(f"the tabular model index {path} is unreadable ({error}); "
                                     "restore it or remove the directory") from None
        return models

    def entry(self, model_id: str) -> dict | None:
        return self.entries().get(model_id)

    def load(self, model_id: str) -> Any:
        """The fitted estimator, from the cache or from its verified file."""
        entry = self.entry(model_id)
        if entry is None:
            raise InputError("model_id", f"no model {model_id!r} in the registry")
        with self._cache_lock:
            cached = self._cache.get(model_id)
        if cached is not None and cached[0] == entry["sha256"]:
            return cached[1]
        estimator = self._read_verified(model_id, entry)
        with self._cache_lock:
            self._cache[model_id] = (entry["sha256"], estimator)
        return estimator

    def _read_verified(self, model_id: str, entry: dict) -> Any:
        path = self.directory / entry["file"]
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise ModelNotConfigured(f"model {model_id!r}: its file {entry['file']} is missing") from None
        digest = sha256_hex(data)
        if digest != entry["sha256"]:
            raise ModelNotConfigured(
                f"model {model_id!r} refused: the SHA-256 of {entry['file']} ({digest[:16]}…) does not match "
                f"the index ({entry['sha256'][:16]}…); the file changed after it was saved. Re-fit or remove it")
        estimator = joblib.load(io.BytesIO(data))  # the verified bytes, not a second read of the file
        if getattr(estimator, "n_features_in_", None) != entry["n_features"]:
            raise ModelNotConfigured(f"model {model_id!r} expects {getattr(estimator, 'n_features_in_', '?')} "
                                     f"features but the index records {entry['n_features']}")
        return estimator

    def loaded_ids(self) -> list[str]:
        with self._cache_lock:
            return sorted(self._cache)

    def is_loaded(self, model_id: str) -> bool:
        with self._cache_lock:
            return model_id in self._cache

    def unload(self, model_id: str) -> bool:
        with self._cache_lock:
            return self._cache.pop(model_id, None) is not None

    # ---- writing (all under the lock) ----------------------------------------------------------
    def save(self, model_id: str, estimator: Any, entry: dict) -> dict:
        """Write the estimator and register ``entry`` (completed with file, hash, time and versions)."""
        validate_model_id(model_id, "model_id")
        buffer = io.BytesIO()
        joblib.dump(estimator, buffer)
        data = buffer.getvalue()
        digest = sha256_hex(data)
        entry = {**entry, "id": model_id, "file": f"{model_id}-{digest[:16]}.joblib", "sha256": digest,
                 "file_bytes": len(data), "sklearn_version": sklearn.__version__,
                 "created": datetime.now(timezone.utc).isoformat(timespec="seconds")}
        self.directory.mkdir(parents=True, exist_ok=True)
        with self._lock:
            self._sweep()
            self._write_atomic(self.directory / entry["file"], data)
            models = self.entries()
            models[model_id] = entry
            self._write_index(models)
            self._sweep()  # the replaced model's old file, if any
        self.unload(model_id)  # fitting does not load: seed clients call load; predict() loads lazily
        return entry

    def remove(self, model_id: str) -> bool:
        """Unregister and delete a model; False when it was not registered."""
        self.unload(model_id)
        if not (self.directory / INDEX_NAME).exists():
            return False
        with self._lock:
            models = self.entries()
            if models.pop(model_id, None) is None:
                return False
            self._write_index(models)
            self._sweep()
        return True

    def _write_index(self, models: dict[str, dict]) -> None:
        text = json.dumps({"format": INDEX_FORMAT, "models": models}, indent=2, sort_keys=True)
        self._write_atomic(self.directory / INDEX_NAME, text.encode("utf-8"))

    def _write_atomic(self, path: Path, data: bytes) -> None:
        handle, temp_name = tempfile.mkstemp(dir=self.directory, prefix=f".{path.name}.", suffix=_TEMP_SUFFIX)
        try:
            with os.fdopen(handle, "wb") as temp:
                temp.write(data)
                temp.flush()
                os.fsync(temp.fileno())
            os.replace(temp_name, path)
        except BaseException:
            Path(temp_name).unlink(missing_ok=True)
            raise
        directory = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(directory)  # make the rename itself durable
        finally:
            os.close(directory)

    def _sweep(self) -> None:
        """Delete temporary files and model files the index does not reference (call under the lock)."""
        referenced = {entry["file"] for entry in self.entries().values()}
        for path in self.directory.iterdir():
            if path.name.endswith(_TEMP_SUFFIX) or (path.suffix == ".joblib" and path.name not in referenced):
                path.unlink(missing_ok=True)
