"""Client images: an http(s) URL, a data URI, bare base64, raw bytes or a PIL image → an RGB PIL image.

Fetching is guarded against server-side request forgery: only http/https, the host is resolved once and
every address it resolves to must be public (no loopback, private, link-local/cloud-metadata, shared,
multicast or reserved ranges), the connection goes to that checked address (the Host header and, for
https, SNI and certificate verification keep the original name, so a DNS answer that changes between check
and connect cannot redirect us), redirects are followed by hand and each hop is checked again, proxies from
the environment are ignored, and the body is capped in bytes; one wall-clock deadline covers connect, headers and body. Decoding accepts common raster
formats only (no EPS/PostScript), caps pixels before decompressing, applies EXIF orientation and returns RGB.
"""

from __future__ import annotations

import concurrent.futures
import io
import ipaddress
import re
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
from utils import Watchdog

IMAGE_FORMATS = ("PNG", "JPEG", "WEBP", "BMP", "GIF", "TIFF")
MAX_REDIRECTS = 5
_RESOLVER = concurrent.futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="image-dns")
_REDIRECT_CODES = {301, 302, 303, 307, 308}
_CHUNK_BYTES = 64 * 1024
_URL_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]{0,30}):/")  # file:/, gopher://...; base64 never has ':'


class PixelBudget:
    """Decoded pixels one request may hold: a batch of large images is refused before it fills memory."""

    def __init__(self, max_pixels: int):
        self.max_pixels = max_pixels
        self.used = 0

    def charge(self, size: tuple[int, int], field: str) -> None:
        self.used += size[0] * size[1]
        if self.used > self.max_pixels:
            raise InputError(field, f"oversize: the request's images add up to {self.used} pixels; at most "
                             f"{self.max_pixels} are accepted per request (send fewer or smaller images)")


def load_image(value, field: str, settings: Settings, budget: PixelBudget | None = None) -> Image.Image:
    """Decode `value` (URL, data URI, base64 text, bytes or PIL image); problems raise InputError(field, ...)."""
    limits = settings.limits
    if isinstance(value, Image.Image):
        _check_pixels(value.size, field, limits)
        if budget is not None:
            budget.charge(value.size, field)
        return _to_rgb(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        data = bytes(value)
    elif isinstance(value, str):
        text = value.strip()
        scheme = _URL_SCHEME.match(text)
        if scheme and scheme.group(1).lower() not in ("http", "https"):
            raise InputError(field, f"URL scheme {scheme.group(1)[:20]!r} not allowed; only http and https "
                             "URLs are fetched")
        if scheme:
            data = fetch_image_bytes(text, field, settings)
        elif text[:5].lower() == "data:":
            data = _decode_data_uri(text, field, limits)
        else:
            data = _decode_base64(text, field, limits)
    else:
        raise InputError(field, f"expected an image URL, a data URI or base64 text, got {type(value).__name__}")
    if len(data) > limits.max_image_bytes:
        raise InputError(field, f"oversize: image is {len(data)} bytes; at most {limits.max_image_bytes} "
                         "are accepted")
    return decode_image(data, field, limits, budget)


def decode_image(data: bytes, field: str, limits: Limits, budget: PixelBudget | None = None) -> Image.Image:
    """Pillow decoding with the pixel cap checked from the header, before any pixel is decompressed."""
    with _pillow_errors(field, limits, "image header is corrupt"):  # a header Pillow recognises but cannot read
        image = Image.open(io.BytesIO(data), formats=IMAGE_FORMATS)
    _check_pixels(image.size, field, limits)  # oversize: said so, before any pixel is decompressed
    if budget is not None:
        budget.charge(image.size, field)
    with _pillow_errors(field, limits, "image data is corrupt or truncated"):
        image.load()
    return _to_rgb(image)


def fetch_image_bytes(url: str, field: str, settings: Settings) -> bytes:
    """GET the image with the SSRF checks of this module, following at most MAX_REDIRECTS redirects.

    One wall-clock deadline covers connect, headers and body of every hop: a watchdog shuts the socket
    down when it passes (socket timeouts restart with each byte, so a trickling host never trips them).
    """
    limits = settings.limits
    started = time.monotonic()
    with Watchdog(started + limits.image_fetch_timeout_s) as watchdog:
        for _ in range(MAX_REDIRECTS + 1):
            target = _resolve_target(url, field, settings, started)
            try:
                with _open(target, started + limits.image_fetch_timeout_s, watchdog) as response:
                    if response.status_code in _REDIRECT_CODES and response.headers.get("location"):
                        url = urljoin(url, response.headers["location"])
                        continue
                    body = _read_body(response, target.host, field, limits)
            except requests.exceptions.SSLError:
                if watchdog.expired.is_set():
                    raise _timed_out(field, target.host, limits, started) from None
                raise InputError(field, f"TLS certificate of {target.host} could not be verified") from None
            except requests.RequestException as error:
                if watchdog.expired.is_set() or isinstance(error, requests.Timeout):
                    raise _timed_out(field, target.host, limits, started) from None
                raise InputError(field, f"could not fetch the image from {target.host} "
                                 f"({type(error).__name__})") from None
            if watchdog.expired.is_set():  # the shutdown can also end the body early without an error
                raise _timed_out(field, target.host, limits, started)
            return body
    raise InputError(field, f"more than {MAX_REDIRECTS} redirects")


def _timed_out(field: str, host: str, limits: Limits, started: float) -> InputError:
    return InputError(field, f"fetching the image from {host} did not finish within the "
                      f"{limits.image_fetch_timeout_s:g} s deadline (name lookup, connect, headers and body; "
                      f"stopped after {time.monotonic() - started:.1f} s)")


@dataclass(frozen=True)
class _Target:
    scheme: str
    host: str  # the name in the URL (Host header, TLS SNI and certificate name)
    host_header: str
    address_url: str  # the same URL with the checked IP address in place of the name


def _resolve_target(url: str, field: str, settings: Settings, started: float) -> _Target:
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise InputError(field, "malformed URL") from None
    if parts.scheme not in {"http", "https"}:
        raise InputError(field, f"only http and https URLs are fetched, not {parts.scheme or 'scheme-less'} URLs")
    if not parts.hostname:
        raise InputError(field, "URL has no host")
    # The name lookup is under the same deadline: getaddrinfo cannot be interrupted, so it runs in a worker
    # thread and is abandoned (it ends with the resolver's own timeout) when the deadline passes first.
    lookup = _RESOLVER.submit(socket.getaddrinfo, parts.hostname, port, type=socket.SOCK_STREAM)
    try:
        infos = lookup.result(timeout=max(started + settings.limits.image_fetch_timeout_s - time.monotonic(), 0))
    except concurrent.futures.TimeoutError:
        lookup.cancel()
        raise _timed_out(field, parts.hostname, settings.limits, started) from None
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


_SITE_LOCAL = ipaddress.ip_network("fec0::/10")  # deprecated, but still routed inside some networks
_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # well-known NAT64 prefix: the last 32 bits are an IPv4 address
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")  # deprecated ::a.b.c.d
_IPV4_TRANSLATED = ipaddress.ip_network("::ffff:0:0:0/96")  # SIIT ::ffff:0:a.b.c.d


def is_public_address(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Public unicast only; an IPv6 address that embeds an IPv4 one is judged by the IPv4 address."""
    if address.version == 6:
        if address in _SITE_LOCAL:
            return False
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and any(address in net for net in (_NAT64, _IPV4_COMPATIBLE, _IPV4_TRANSLATED)):
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            address = embedded
    return address.is_global and not address.is_multicast


class _DeadlineAdapter(HTTPAdapter):
    """Registers every socket it opens with the fetch's watchdog; for https, connects to the checked IP
    address but does TLS (SNI, certificate check) for the original host name."""

    def __init__(self, watchdog: Watchdog, tls_host: str | None):
        self._watchdog, self._tls_host = watchdog, tls_host
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args, **kwargs):
        if self._tls_host:
            kwargs.update(server_hostname=self._tls_host, assert_hostname=self._tls_host)
        super().init_poolmanager(*args, **kwargs)
        watch = self._watchdog.watch
        self.poolmanager.pool_classes_by_scheme = {
            scheme: type("WatchedPool", (pool,), {"ConnectionCls": _watched_connection(pool.ConnectionCls, watch)})
            for scheme, pool in self.poolmanager.pool_classes_by_scheme.items()}


def _watched_connection(base: type, watch) -> type:
    class WatchedConnection(base):
        def _new_conn(self):  # the TCP socket, before any TLS handshake: the deadline covers that too
            sock = super()._new_conn()
            watch(lambda: sock.shutdown(socket.SHUT_RDWR))
            return sock

    return WatchedConnection


@contextmanager
def _open(target: _Target, deadline: float, watchdog: Watchdog) -> Iterator[requests.Response]:
    remaining = max(deadline - time.monotonic(), 0.001)
    with requests.Session() as session:
        session.trust_env = False  # an environment proxy would resolve the name itself, bypassing the check
        session.mount(f"{target.scheme}://",
                      _DeadlineAdapter(watchdog, target.host if target.scheme == "https" else None))
        with session.get(target.address_url, headers={"Host": target.host_header, "Accept": "image/*"},
                         stream=True, allow_redirects=False, timeout=(remaining, remaining)) as response:
            yield response


def _read_body(response: requests.Response, host: str, field: str, limits: Limits) -> bytes:
    if response.status_code != 200:
        raise InputError(field, f"{host} answered HTTP {response.status_code} for the image URL")
    content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if not content_type.startswith("image/"):
        raise InputError(field, f"URL content-type is {content_type or 'missing'!r}, expected image/*")
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limits.max_image_bytes:
        raise InputError(field, f"oversize: image is {declared} bytes; at most {limits.max_image_bytes} "
                         "are accepted")
    body = bytearray()
    for chunk in response.iter_content(_CHUNK_BYTES):
        body += chunk
        if len(body) > limits.max_image_bytes:
            raise InputError(field, f"oversize: image is larger than {limits.max_image_bytes} bytes")
    return bytes(body)


def _decode_data_uri(text: str, field: str, limits: Limits) -> bytes:
    media_type, payload = encoded.split_data_uri(text, field)
    if media_type and not media_type.startswith("image/"):
        raise InputError(field, f"data URI media type is {media_type!r}, expected image/*")
    return _decode_base64(payload, field, limits)


def _decode_base64(text: str, field: str, limits: Limits) -> bytes:
    return encoded.decode_base64(text, field, limits.max_image_bytes, "image")


@contextmanager
def _pillow_errors(field: str, limits: Limits, corrupt: str) -> Iterator[None]:
    """Pillow's errors while opening or decoding an image, as input errors naming `field`."""
    try:
        yield
    except Image.DecompressionBombError:
        raise InputError(field, f"oversize: image has too many pixels (limit {limits.max_image_pixels})") from None
    except UnidentifiedImageError:
        raise InputError(field, f"not a supported image (expected {', '.join(IMAGE_FORMATS)})") from None
    except (OSError, SyntaxError, ValueError) as error:
        raise InputError(field, f"{corrupt} ({str(error)[:80]})") from None


def _check_pixels(size: tuple[int, int], field: str, limits: Limits) -> None:
    width, height = size
    if width * height > limits.max_image_pixels:
        raise InputError(field, f"oversize: image is {width}×{height} = {width * height} pixels; at most "
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
