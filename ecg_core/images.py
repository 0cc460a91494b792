"""Client images: an http(s) URL, a data URI, bare base64, raw bytes or a PIL image → an RGB PIL image.

Fetching is guarded against server-side request forgery: only http/https, the host is resolved once and
every address it resolves to must be public (no loopback, private, link-local/cloud-metadata, shared,
multicast or reserved ranges), the connection goes to that checked address (the Host header and, for
https, SNI and certificate verification keep the original name, so a DNS answer that changes between check
and connect cannot redirect us), redirects are followed by hand and each hop is checked again, proxies from
the environment are ignored, and the body is capped in bytes and total time. Decoding accepts common raster
formats only (no EPS/PostScript), caps pixels before decompressing, applies EXIF orientation and returns RGB.
"""

from __future__ import annotations

import io
import ipaddress
import socket
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator
from urllib.parse import urljoin, urlsplit

import requests
from PIL import Image, ImageOps, UnidentifiedImageError
from requests.adapters import HTTPAdapter

from . import encoded
from .errors import InputError
from .settings import Limits, Settings

IMAGE_FORMATS = ("PNG", "JPEG", "WEBP", "BMP", "GIF", "TIFF")
MAX_REDIRECTS = 5
_REDIRECT_CODES = {301, 302, 303, 307, 308}
_CHUNK_BYTES = 64 * 1024


def load_image(value, field: str, settings: Settings) -> Image.Image:
    """Decode `value` (URL, data URI, base64 text, bytes or PIL image); problems raise InputError(field, ...)."""
    limits = settings.limits
    if isinstance(value, Image.Image):
        _check_pixels(value.size, field, limits)
        return _to_rgb(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        data = bytes(value)
    elif isinstance(value, str):
        text = value.strip()
        if text.lower().startswith(("http://", "https://")):
            data = fetch_image_bytes(text, field, settings)
        elif text[:5].lower() == "data:":
            data = _decode_data_uri(text, field, limits)
        else:
            data = _decode_base64(text, field, limits)
    else:
        raise InputError(field, f"expected an image URL, a data URI or base64 text, got {type(value).__name__}")
    if len(data) > limits.max_image_bytes:
        raise InputError(field, f"image is {len(data)} bytes; at most {limits.max_image_bytes} are accepted")
    return decode_image(data, field, limits)


def decode_image(data: bytes, field: str, limits: Limits) -> Image.Image:
    """Pillow decoding with the pixel cap checked from the header, before any pixel is decompressed."""
    try:
        image = Image.open(io.BytesIO(data), formats=IMAGE_FORMATS)
        _check_pixels(image.size, field, limits)
        image.load()
    except Image.DecompressionBombError:
        raise InputError(field, f"image has too many pixels (limit {limits.max_image_pixels})") from None
    except UnidentifiedImageError:
        raise InputError(field, f"not a supported image (expected {', '.join(IMAGE_FORMATS)})") from None
    except (OSError, SyntaxError, ValueError) as error:  # truncated or corrupt data
        raise InputError(field, f"image data is corrupt or truncated ({str(error)[:80]})") from None
    return _to_rgb(image)


def fetch_image_bytes(url: str, field: str, settings: Settings) -> bytes:
    """GET the image with the SSRF checks of this module, following at most MAX_REDIRECTS redirects."""
    limits = settings.limits
    deadline = time.monotonic() + limits.image_fetch_timeout_s
    for _ in range(MAX_REDIRECTS + 1):
        target = _resolve_target(url, field, settings)
        try:
            with _open(target, deadline) as response:
                if response.status_code in _REDIRECT_CODES and response.headers.get("location"):
                    url = urljoin(url, response.headers["location"])
                    continue
                return _read_body(response, target.host, field, limits, deadline)
        except requests.Timeout:
            raise InputError(field, f"fetching the image from {target.host} timed out after "
                             f"{limits.image_fetch_timeout_s:g} s") from None
        except requests.exceptions.SSLError:
            raise InputError(field, f"TLS certificate of {target.host} could not be verified") from None
        except requests.RequestException as error:
            raise InputError(field, f"could not fetch the image from {target.host} ({type(error).__name__})") from None
    raise InputError(field, f"more than {MAX_REDIRECTS} redirects")


@dataclass(frozen=True)
class _Target:
    scheme: str
    host: str  # the name in the URL (Host header, TLS SNI and certificate name)
    host_header: str
    address_url: str  # the same URL with the checked IP address in place of the name


def _resolve_target(url: str, field: str, settings: Settings) -> _Target:
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise InputError(field, "malformed URL") from None
    if parts.scheme not in {"http", "https"}:
        raise InputError(field, f"only http and https URLs are fetched, not {parts.scheme or 'scheme-less'} URLs")
    if not parts.hostname:
        raise InputError(field, "URL has no host")
    try:
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise InputError(field, f"cannot resolve host {parts.hostname!r}") from None
    addresses = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]
    if not settings.allow_private_image_urls:
        for address in addresses:
            if not is_public_address(address):
                raise InputError(field, f"host {parts.hostname!r} resolves to a non-public address ({address}); "
                                 "loopback, private, link-local and metadata addresses are refused")
    address = addresses[0]
    literal = f"[{address}]" if address.version == 6 else str(address)
    default_port = port == (443 if parts.scheme == "https" else 80)
    host_header = parts.hostname if default_port else f"{parts.hostname}:{port}"
    path = parts.path or "/"
    address_url = f"{parts.scheme}://{literal}:{port}{path}" + (f"?{parts.query}" if parts.query else "")
    return _Target(parts.scheme, parts.hostname, host_header, address_url)


def is_public_address(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if address.version == 6 and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


class _PinnedHostAdapter(HTTPAdapter):
    """Connects to the URL's IP address but does TLS (SNI, certificate check) for the original host name."""

    def __init__(self, host: str):
        self._host = host
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, server_hostname=self._host, assert_hostname=self._host, **kwargs)


@contextmanager
def _open(target: _Target, deadline: float) -> Iterator[requests.Response]:
    remaining = max(deadline - time.monotonic(), 0.001)
    with requests.Session() as session:
        session.trust_env = False  # an environment proxy would resolve the name itself, bypassing the check
        if target.scheme == "https":
            session.mount("https://", _PinnedHostAdapter(target.host))
        with session.get(target.address_url, headers={"Host": target.host_header, "Accept": "image/*"},
                         stream=True, allow_redirects=False, timeout=(remaining, remaining)) as response:
            yield response


def _read_body(response: requests.Response, host: str, field: str, limits: Limits, deadline: float) -> bytes:
    if response.status_code != 200:
        raise InputError(field, f"{host} answered HTTP {response.status_code} for the image URL")
    content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if not content_type.startswith("image/"):
        raise InputError(field, f"URL content-type is {content_type or 'missing'!r}, expected image/*")
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limits.max_image_bytes:
        raise InputError(field, f"image is {declared} bytes; at most {limits.max_image_bytes} are accepted")
    body = bytearray()
    for chunk in response.iter_content(_CHUNK_BYTES):
        body += chunk
        if len(body) > limits.max_image_bytes:
            raise InputError(field, f"image is larger than {limits.max_image_bytes} bytes")
        if time.monotonic() > deadline:
            raise requests.Timeout()
    return bytes(body)


def _decode_data_uri(text: str, field: str, limits: Limits) -> bytes:
    media_type, payload = encoded.split_data_uri(text, field)
    if media_type and not media_type.startswith("image/"):
        raise InputError(field, f"data URI media type is {media_type!r}, expected image/*")
    return _decode_base64(payload, field, limits)


def _decode_base64(text: str, field: str, limits: Limits) -> bytes:
    return encoded.decode_base64(text, field, limits.max_image_bytes, "image")


def _check_pixels(size: tuple[int, int], field: str, limits: Limits) -> None:
    width, height = size
    if width * height > limits.max_image_pixels:
        raise InputError(field, f"image is {width}×{height} = {width * height} pixels; at most "
                         f"{limits.max_image_pixels} are accepted")
    if width < 1 or height < 1:
        raise InputError(field, "image is empty")


def _to_rgb(image: Image.Image) -> Image.Image:
    """EXIF orientation applied; transparency flattened onto white (ECG paper), not black."""
    image = ImageOps.exif_transpose(image)
    if image.mode in {"RGBA", "LA", "PA"} or "transparency" in image.info:
        rgba = image.convert("RGBA")
        canvas = Image.new("RGB", rgba.size, (255, 255, 255))
        canvas.paste(rgba, mask=rgba.getchannel("A"))
        return canvas
    return image.convert("RGB")
