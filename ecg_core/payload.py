"""Checks every client JSON value gets before any route reads it: nesting depth and encodable text.

JSON parsers differ (orjson refuses lone surrogates and huge integers; the json module FastAPI uses accepts
both), so the routes run these checks on the parsed value whatever parsed it. The walk is iterative (no
recursion, so a 1000-deep list cannot overflow the stack) and visits every list item, not only the first:
``[0, [[[...]]]]`` is as deep as ``[[[[...]]]]``.
"""

from __future__ import annotations

import math
import numbers
import reprlib
import sys
from typing import Any

from .errors import InputError

_SCALAR_TYPES = frozenset({int, float, bool, type(None)})
_brief = reprlib.Repr()
_brief.maxlevel, _brief.maxstring, _brief.maxother, _brief.maxlist, _brief.maxdict = 3, 40, 40, 4, 4


def brief(value: Any) -> str:
    """A short repr for error messages: never the whole of a large or deep client value."""
    return _brief.repr(value)


def check_payload(value: Any, max_depth: int, field: str = "body") -> None:
    """InputError for JSON nested deeper than ``max_depth`` or text that is not valid Unicode."""
    stack = [(value, 1, field)]
    while stack:
        node, depth, path = stack.pop()
        if depth > max_depth:
            raise InputError(path, f"JSON nested deeper than {max_depth} levels")
        if isinstance(node, dict):
            for key, child in node.items():
                if isinstance(key, str):
                    check_text(key, f"{path} key")
                if isinstance(child, str):
                    check_text(child, f"{path}.{str(key)[:40]}")
                elif isinstance(child, (list, dict)):
                    stack.append((child, depth + 1, f"{path}.{str(key)[:40]}"))
        elif isinstance(node, list):
            if _SCALAR_TYPES.issuperset(map(type, node)):  # a signal's row of numbers: nothing below it
                continue
            for index, child in enumerate(node):
                if isinstance(child, str):
                    check_text(child, f"{path}[{index}]")
                elif isinstance(child, (list, dict)):
                    stack.append((child, depth + 1, f"{path}[{index}]"))
        elif isinstance(node, str):
            check_text(node, path)


def check_text(text: str, field: str) -> None:
    """Lone surrogates (``"\\ud800"``) cannot be encoded as UTF-8: refuse them before they reach a response."""
    if text.isascii():
        return
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InputError(field[:80].encode("utf-8", "backslashreplace").decode("ascii"),
                         "text contains a lone surrogate (invalid Unicode)") from None


def is_finite_number(value: Any) -> bool:
    """A real number (not a bool) that is finite as a float. Integers are compared, not converted: a
    400-digit JSON integer makes ``math.isfinite`` and ``float()`` raise OverflowError."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return False
    if isinstance(value, int):
        return abs(value) <= sys.float_info.max
    return math.isfinite(value)
