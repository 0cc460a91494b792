"""How the Inference Endpoints toolkit turns an HTTP request into the handler's payload, for the local server.

Mirrors huggingface-inference-toolkit 0.5.6 (``webservice_starlette.predict`` and ``serialization/base.py``),
so a request the local server takes is one the deployed endpoint takes: the Content-Type must be one the
toolkit decodes (JSON, or a raw image, which becomes ``{"inputs": <image>}``), the JSON body must have
``inputs`` (or ``instances``), query-string parameters become ``parameters`` when the body has none, and the
Accept header must ask for JSON. The toolkit's own messages are replaced by ones that say what to send.
"""

from __future__ import annotations

from typing import Any, Mapping

import orjson

from .errors import InputError

# The toolkit matches these strings exactly (case and spacing included).
JSON_CONTENT_TYPES = ("application/json", "application/json; charset=UTF-8")
IMAGE_CONTENT_TYPES = ("image/png", "image/jpeg", "image/jpg", "image/tiff", "image/bmp", "image/gif",
                       "image/webp", "image/x-image")
JSON_ACCEPTS = (None, "*/*", *JSON_CONTENT_TYPES)


def handler_payload(body: bytes, content_type: str | None, query: Mapping[str, str]) -> Any:
    """The data the toolkit would pass to ``EndpointHandler.__call__``; InputError where it answers 400."""
    if content_type in IMAGE_CONTENT_TYPES:
        return {"inputs": body}
    if content_type not in JSON_CONTENT_TYPES:
        raise InputError("Content-Type", f"{content_type or 'none'} is not supported; send the request as "
                         f"{JSON_CONTENT_TYPES[0]}, or a raw image as one of {', '.join(IMAGE_CONTENT_TYPES)}")
    data = parse_json_body(body)
    if not isinstance(data, dict) or ("inputs" not in data and "instances" not in data):
        raise InputError("body", 'needs to provide a inputs key: send {"inputs": ..., "parameters": {...}}')
    if query and "parameters" not in data:
        data["parameters"] = query_parameters(query)
    return data


def check_accept(accept: str | None) -> None:
    if accept not in JSON_ACCEPTS:
        raise InputError("Accept", f"{accept} is not supported; the endpoint answers {JSON_CONTENT_TYPES[0]} "
                         "(send Accept: application/json or */*, or no Accept header)")


def query_parameters(query: Mapping[str, str]) -> dict[str, Any]:
    """The toolkit's conversion: digits become ints, "true"/"false" booleans, everything else stays text."""
    converted: dict[str, Any] = {}
    for name, value in query.items():
        converted[name] = int(value) if value.isdecimal() else {"true": True, "false": False}.get(value, value)
    return converted


def parse_json_body(body: bytes) -> Any:
    if not body:
        raise InputError("body", "empty; expected a JSON object")
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise InputError("body", f"invalid JSON ({error})"[:200]) from None
