"""Generation parameters from the request's ``parameters``: types and ranges checked, never clamped.

Defaults come from the repository's ``generation_config.json`` (PULSE/LLaVA's own: temperature 0.2,
top_p 0.9), with the same values built in for a bundle that lacks the file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..payload import is_finite_number

CONTEXT_TOKENS = 4096  # PULSE's max_position_embeddings: prompt + generated tokens must fit
MAX_STOP_STRINGS = 8
MAX_STOP_CHARS = 64
MAX_SEED = 2**63 - 1

# Same values as the repository's generation_config.json (used only if that file is missing).
BUILTIN_DEFAULTS = {"max_new_tokens": 512, "temperature": 0.2, "top_p": 0.9, "top_k": 0, "repetition_penalty": 1.05}


@dataclass(frozen=True)
class GenerationParams:
    max_new_tokens: int
    temperature: float  # 0 → greedy decoding
    top_p: float
    top_k: int  # 0 → no top-k filtering
    do_sample: bool
    repetition_penalty: float
    stop: tuple[str, ...] = ()
    return_full_text: bool = False
    seed: int | None = None


PARAMETER_NAMES: frozenset[str] = frozenset(
    {"max_new_tokens", "temperature", "top_p", "top_k", "do_sample", "repetition_penalty", "stop",
     "return_full_text", "seed"})


def load_defaults(repo_dir: Path) -> dict[str, Any]:
    path = Path(repo_dir) / "generation_config.json"
    if not path.is_file():
        return dict(BUILTIN_DEFAULTS)
    saved = json.loads(path.read_text())
    return {key: saved.get(key, value) for key, value in BUILTIN_DEFAULTS.items()}


def parse_generation_params(parameters: dict[str, Any], settings) -> GenerationParams:
    """Validate the generation keys of ``parameters`` (other keys belong to other routes and are ignored)."""
    given = {key: value for key, value in (parameters or {}).items() if key in PARAMETER_NAMES}
    values = {**load_defaults(settings.repo_dir), **{k: v for k, v in given.items() if v is not None}}
    max_new_tokens = _integer(values, "max_new_tokens", 1, CONTEXT_TOKENS - 1)
    temperature = _number(values, "temperature", 0.0, 2.0)
    top_p = _number(values, "top_p", 0.0, 1.0, exclusive_low=True)
    top_k = _integer(values, "top_k", 0, 32000)
    repetition_penalty = _number(values, "repetition_penalty", 0.0, 10.0, exclusive_low=True)
    do_sample = _boolean(values, "do_sample", temperature > 0)
    if do_sample and temperature == 0:
        raise InputError("parameters.do_sample", "sampling needs temperature > 0 (temperature 0 means greedy)")
    return GenerationParams(
        max_new_tokens=max_new_tokens, temperature=temperature, top_p=top_p, top_k=top_k, do_sample=do_sample,
        repetition_penalty=repetition_penalty, stop=_stop_strings(values.get("stop")),
        return_full_text=_boolean(values, "return_full_text", False),
        seed=_integer(values, "seed", 0, MAX_SEED) if "seed" in values else None)


def cut_at_stop(text: str, stop: tuple[str, ...]) -> tuple[str, bool]:
    """Text up to the earliest stop string, and whether one was found."""
    positions = [position for position in (text.find(s) for s in stop) if position >= 0]
    return (text[:min(positions)], True) if positions else (text, False)


def _integer(values: dict, name: str, low: int, high: int) -> int:
    value = values[name]
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(f"parameters.{name}", f"expected an integer, got {_show(value)}")
    if not low <= value <= high:
        raise InputError(f"parameters.{name}", f"{value} is out of range; expected {low} to {high}")
    return value


def _number(values: dict, name: str, low: float, high: float, exclusive_low: bool = False) -> float:
    value = values[name]
    if isinstance(value, bool) or not is_finite_number(value):
        raise InputError(f"parameters.{name}", f"expected a number, got {_show(value)}")
    if value > high or value < low or (exclusive_low and value == low):
        bound = f"greater than {low:g}" if exclusive_low else f"at least {low:g}"
        raise InputError(f"parameters.{name}", f"{value:g} is out of range; expected {bound} and at most {high:g}")
    return float(value)


def _boolean(values: dict, name: str, default: bool) -> bool:
    value = values.get(name, default)
    if not isinstance(value, bool):
        raise InputError(f"parameters.{name}", f"expected true or false, got {_show(value)}")
    return value


def _stop_strings(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or len(value) > MAX_STOP_STRINGS:
        raise InputError("parameters.stop", f"expected a list of at most {MAX_STOP_STRINGS} strings")
    for index, item in enumerate(value):
        if not isinstance(item, str) or not item or len(item) > MAX_STOP_CHARS:
            raise InputError(f"parameters.stop[{index}]", f"expected a non-empty string of at most "
                             f"{MAX_STOP_CHARS} characters, got {_show(item)}")
    return tuple(value)


def _show(value: Any) -> str:
    return f"{type(value).__name__} {str(value)[:20]!r}"
