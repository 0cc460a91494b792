"""JSON responses of the local server (FastAPI/starlette side only: the handler never imports this).

`ORJSONResponse` serialises with orjson (numpy arrays included); text that cannot be encoded (a lone
surrogate stored before it was refused) is escaped rather than failing with a 500. `error_response` is
every error's ``{"error": ...}`` body.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import JSONResponse


class ORJSONResponse(JSONResponse):
    def render(self, content: Any) -> bytes:
        try:
            return orjson.dumps(content, option=orjson.OPT_SERIALIZE_NUMPY)
        except TypeError:  # text that is not valid UTF-8 (a lone surrogate stored before it was refused)
            return orjson.dumps(json_safe(content), option=orjson.OPT_SERIALIZE_NUMPY)


def error_response(status: int, message: str, **headers: str) -> ORJSONResponse:
    if status >= 500 and status != 503:
        headers.setdefault("Connection", "close")  # the server drops the connection after a 500: say so
    return ORJSONResponse({"error": message}, status_code=status, headers=headers or None)


def json_safe(value: Any) -> Any:
    """`value` with every string made encodable (lone surrogates → ``\\udXXX`` escapes)."""
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, dict):
        return {json_safe(key): json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(item) for item in value]
    return value
