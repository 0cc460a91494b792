"""Resolve a model source setting to files on disk.

A source is one of: an absolute path, a path relative to the repository directory (weights shipped inside
the endpoint's model repository), or a Hugging Face Hub reference, ``owner/repo`` for a whole repository or
``owner/repo/path/in/repo.ext`` for one file, downloaded with `huggingface_hub` on first use and cached.
"""

from __future__ import annotations

from pathlib import Path

from .errors import ModelNotConfigured

_DISABLED = {"", "none", "off", "disabled"}


def is_disabled(source: str) -> bool:
    return source.strip().lower() in _DISABLED


def _local(source: str, repo_dir: Path) -> Path | None:
    """The local file or folder a source names, None for a Hub reference; a missing explicit path is an error."""
    if is_disabled(source):
        raise ModelNotConfigured("no model source configured")
    path = Path(source).expanduser()
    for candidate in (path,) if path.is_absolute() else (repo_dir / path, path):
        if candidate.exists():
            return candidate
    if path.is_absolute() or source.startswith(("./", "../", "~")):
        raise ModelNotConfigured(f"{source!r} does not exist")
    return None


def resolve_file(source: str, repo_dir: Path) -> Path:
    """A local file, or ``owner/repo/filename`` downloaded from the Hub."""
    local = _local(source, repo_dir)
    if local is not None:
        return local
    parts = source.strip("/").split("/")
    if len(parts) < 3:
        raise ModelNotConfigured(f"{source!r} is neither an existing file nor a Hub file 'owner/repo/filename'")
    from huggingface_hub import hf_hub_download

    return _download(source, lambda: hf_hub_download(repo_id="/".join(parts[:2]), filename="/".join(parts[2:])))


def resolve_dir(source: str, repo_dir: Path) -> Path:
    """A local directory, or an ``owner/repo`` snapshot downloaded from the Hub."""
    local = _local(source, repo_dir)
    if local is not None:
        return local
    if source.count("/") != 1:
        raise ModelNotConfigured(f"{source!r} is neither an existing directory nor a Hub repository 'owner/repo'")
    from huggingface_hub import snapshot_download

    return _download(source, lambda: snapshot_download(repo_id=source))


def _download(source: str, fetch) -> Path:
    try:
        return Path(fetch())
    except Exception as error:  # network, auth, missing file: all mean "this model is not available here"
        raise ModelNotConfigured(f"could not download {source!r} from the Hugging Face Hub: "
                                 f"{type(error).__name__}") from error
