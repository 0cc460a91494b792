"""ECG file uploads to the local server → the handler's JSON payload ``{"inputs": {"file": <bytes>, ...}}``.

Two ways in, on ``POST /`` and ``/predict``:
  raw body   Content-Type of the format (application/dicom, application/xml, application/zip, text/csv, ...);
             the item's other fields come from the query string: ``?task=measure&format=philips&fs=500``.
  multipart  multipart/form-data with a ``file`` part, and optional ``task``, ``format``, ``fs``, ``units``
             fields and ``parameters`` (JSON text).
The format itself is still detected from the content; a content type only hints at it.
"""

from __future__ import annotations

from typing import Any, Mapping

import orjson
from starlette.datastructures import UploadFile
from starlette.requests import Request

from .errors import InputError
from .settings import Limits

# content type → format hint (None: the content decides alone)
FILE_CONTENT_TYPES = {
    "application/dicom": "dicom",
    "application/xml": None,
    "text/xml": None,
    "application/zip": "wfdb",
    "application/x-zip-compressed": "wfdb",
    "text/csv": "csv",
    "text/tab-separated-values": "csv",
    "application/edf": "edf",
    "application/octet-stream": None,
}
MULTIPART = "multipart/form-data"
_ITEM_FIELDS = ("task", "format", "fs", "units")


def is_upload(content_type: str) -> bool:
    return content_type in FILE_CONTENT_TYPES or content_type == MULTIPART


async def upload_payload(request: Request, body: bytes, content_type: str, limits: Limits) -> dict:
    if content_type != MULTIPART:
        item = _item_fields(request.query_params, "query")
        item.setdefault("format", FILE_CONTENT_TYPES[content_type])
        return {"inputs": {"file": body, **{k: v for k, v in item.items() if v is not None}}}
    try:
        form = await request.form(max_files=1, max_fields=len(_ITEM_FIELDS) + 1,
                                  max_part_size=limits.max_query_chars)
    except Exception as error:  # python-multipart's parse errors and starlette's limit errors
        raise InputError("body", f"malformed multipart upload ({str(error)[:80]})") from None
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise InputError("file", "missing: send the ECG file as the multipart part named 'file'")
    data = await upload.read(limits.max_file_bytes + 1)
    item = {"file": data, **_item_fields(form, "form")}
    payload: dict[str, Any] = {"inputs": item}
    if form.get("parameters"):
        try:
            payload["parameters"] = orjson.loads(str(form["parameters"]))
        except orjson.JSONDecodeError:
            raise InputError("parameters", "expected a JSON object") from None
    return payload


def _item_fields(values: Mapping, where: str) -> dict:
    item = {name: str(values[name]) for name in _ITEM_FIELDS if name in values}
    if "fs" in item:
        try:
            item["fs"] = float(item["fs"])
        except ValueError:
            raise InputError("inputs.fs", f"expected a number of samples per second in the {where}, "
                             f"got {item['fs'][:20]!r}") from None
    return item
