"""Binary content sent inside JSON: a data URI or bare base64 (standard or URL-safe alphabet) → bytes.

Shared by images and ECG files; the size is checked on the base64 text, before anything is decoded.
"""

from __future__ import annotations

import base64
import binascii

from .errors import InputError


def split_data_uri(text: str, field: str) -> tuple[str, str]:
    """``data:<media type>;base64,<payload>`` → (media type in lower case, payload)."""
    header, comma, payload = text.partition(",")
    if not comma or not header.lower().endswith(";base64"):
        raise InputError(field, "data URI must be base64-encoded (data:<media type>;base64,...)")
    return header[5:-len(";base64")].strip().lower(), payload


def decode_base64(text: str, field: str, max_bytes: int, what: str) -> bytes:
    compact = "".join(text.split())
    if len(compact) > (max_bytes + 2) // 3 * 4:
        raise InputError(field, f"oversize: base64 {what} is larger than {max_bytes} bytes")
    compact = compact.replace("-", "+").replace("_", "/")  # URL-safe alphabet too
    try:
        return base64.b64decode(compact + "=" * (-len(compact) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise InputError(field, "not valid base64 (nor an http(s) URL or data URI)") from None
