"""Image inputs: every encoding, SSRF refusals (pytest-httpserver on loopback) and hostile image data."""

from __future__ import annotations

import base64
import io
import ipaddress
import socket
import struct
import time
import zlib

import pytest
from PIL import Image
from werkzeug import Response

from ecg_core import images
from ecg_core.errors import InputError
from ecg_core.images import is_public_address, load_image

FIELD = "inputs.image"


def png_bytes(width=40, height=20, colour=(200, 30, 30), mode="RGB") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, (width, height), colour).save(buffer, format="PNG")
    return buffer.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose IHDR claims width×height (a decompression-bomb header) with a tiny bogus body."""
    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(bytes(64)))
            + chunk(b"IEND", b""))


@pytest.fixture
def loopback(settings):
    """Settings that let the fetcher reach the loopback test server (the SSRF check is exercised elsewhere)."""
    return settings.replace(allow_private_image_urls=True)


def assert_input_error(value, settings, pattern):
    with pytest.raises(InputError, match=rf"^{FIELD}: .*(?:{pattern})"):
        load_image(value, FIELD, settings)


def test_every_encoding_gives_the_same_rgb_image(settings):
    data = png_bytes()
    encoded = base64.b64encode(data).decode()
    for value in (data, encoded, f"data:image/png;base64,{encoded}", "\n".join([encoded[:30], encoded[30:]]),
                  Image.open(io.BytesIO(data))):
        image = load_image(value, FIELD, settings)
        assert image.mode == "RGB" and image.size == (40, 20) and image.getpixel((5, 5)) == (200, 30, 30)


def test_fetch_over_http(httpserver, loopback):
    httpserver.expect_request("/ecg.png").respond_with_data(png_bytes(), content_type="image/png")
    image = load_image(httpserver.url_for("/ecg.png"), FIELD, loopback)
    assert image.size == (40, 20)


def test_connects_to_the_checked_address_with_the_original_host_header(httpserver, settings, monkeypatch):
    """The name is resolved once; the request goes to that address and still names the host."""
    port = httpserver.port
    httpserver.expect_request("/ecg.png", headers={"Host": f"ecg-images.test:{port}"}).respond_with_data(
        png_bytes(), content_type="image/png")
    lookups = []

    def fake_getaddrinfo(host, *args, **kwargs):
        lookups.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]

    monkeypatch.setattr(images.socket, "getaddrinfo", fake_getaddrinfo)
    monkeypatch.setattr(images, "is_public_address", lambda address: address == ipaddress.ip_address("127.0.0.1"))
    assert load_image(f"http://ecg-images.test:{port}/ecg.png", FIELD, settings).size == (40, 20)
    assert lookups[0] == "ecg-images.test"
    assert all(ipaddress.ip_address(host) for host in lookups[1:])  # the connection used the address, not the name


@pytest.mark.parametrize("address", ["127.0.0.1", "10.1.2.3", "192.168.0.10", "172.16.5.5", "169.254.169.254",
                                     "100.64.0.1", "0.0.0.0", "224.0.0.1", "::1", "fe80::1", "fd00:ec2::254",
                                     "::ffff:127.0.0.1",
                                     # IPv6 transition forms that embed a private IPv4 address, and site-local
                                     "64:ff9b::10.0.0.1", "64:ff9b::127.0.0.1", "64:ff9b::169.254.169.254",
                                     "2002:a00:1::1", "2002:7f00:1::", "2002:a9fe:a9fe::1", "::10.0.0.1",
                                     "::127.0.0.1", "::ffff:0:10.0.0.1", "::ffff:0:169.254.169.254",
                                     "fec0::1", "feff:ffff::1"])
def test_non_public_addresses_are_not_public(address):
    assert not is_public_address(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946",
                                     "64:ff9b::93.184.216.34", "2002:5db8:d822::1", "::ffff:93.184.216.34"])
def test_public_address_is_public(address):
    assert is_public_address(ipaddress.ip_address(address))


def test_loopback_url_is_refused(httpserver, settings):
    httpserver.expect_request("/ecg.png").respond_with_data(png_bytes(), content_type="image/png")
    assert_input_error(httpserver.url_for("/ecg.png"), settings, "non-public address")
    assert_input_error("http://localhost:9/x.png", settings, "non-public address")
    assert not httpserver.log  # refused before any connection


def test_name_resolving_to_any_private_address_is_refused(settings, monkeypatch):
    monkeypatch.setattr(images.socket, "getaddrinfo", lambda *a, **k: [
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", 80)),
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("169.254.169.254", 80))])
    assert_input_error("http://rebinding.test/ecg.png", settings, r"non-public address \(169\.254\.169\.254\)")


@pytest.mark.parametrize("target", ["http://127.0.0.2/ecg.png", "http://169.254.169.254/latest/meta-data/",
                                    "http://[::1]/x.png", "http://10.0.0.1/x.png", "file:///etc/passwd",
                                    "gopher://127.0.0.1/"])
def test_redirect_hops_are_checked_again(httpserver, settings, monkeypatch, target):
    # Treat the test server itself (127.0.0.1 exactly) as a public host; every other address keeps the policy.
    public = images.is_public_address
    monkeypatch.setattr(images, "is_public_address",
                        lambda address: address == ipaddress.ip_address("127.0.0.1") or public(address))
    httpserver.expect_request("/start").respond_with_response(Response(status=302, headers={"Location": target}))
    assert_input_error(httpserver.url_for("/start"), settings, "non-public address|only http and https")


def test_redirects_are_followed_and_limited(httpserver, loopback):
    httpserver.expect_request("/a").respond_with_response(Response(status=301, headers={"Location": "/b"}))
    httpserver.expect_request("/b").respond_with_data(png_bytes(), content_type="image/png")
    assert load_image(httpserver.url_for("/a"), FIELD, loopback).size == (40, 20)
    httpserver.expect_request("/loop").respond_with_response(Response(status=302, headers={"Location": "/loop"}))
    assert_input_error(httpserver.url_for("/loop"), loopback, "redirects")


def test_50_mb_body_is_cut_off(httpserver, loopback):
    body = b"\x89PNG" + bytes(50 * 1024 * 1024)
    httpserver.expect_request("/declared").respond_with_data(body, content_type="image/png")
    assert_input_error(httpserver.url_for("/declared"), loopback, "at most 20971520")

    def undeclared(request):  # chunked: no content-length to refuse on, so the read itself must stop
        return Response((bytes(1024 * 1024) for _ in range(50)), content_type="image/png")

    httpserver.expect_request("/chunked").respond_with_handler(undeclared)
    assert_input_error(httpserver.url_for("/chunked"), loopback, "larger than 20971520")


def test_wrong_content_type_and_http_errors(httpserver, loopback):
    httpserver.expect_request("/page").respond_with_data("<html></html>", content_type="text/html")
    assert_input_error(httpserver.url_for("/page"), loopback, "content-type is 'text/html'")
    httpserver.expect_request("/gone").respond_with_data("", status=404)
    assert_input_error(httpserver.url_for("/gone"), loopback, "HTTP 404")


def test_slow_server_times_out(httpserver, loopback):
    def slow(request):
        time.sleep(1.5)
        return Response(png_bytes(), content_type="image/png")

    httpserver.expect_request("/slow").respond_with_handler(slow)
    settings = loopback.replace(limits=loopback.limits.__class__(image_fetch_timeout_s=0.5))
    assert_input_error(httpserver.url_for("/slow"), settings, "within the 0.5 s deadline")


@pytest.fixture
def trickling_server():
    """A loopback HTTP server that answers `GET /` one byte every 0.5 s: in the headers or in the body."""
    import threading

    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()
    mode = {"phase": "headers"}

    def serve():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except socket.timeout:
                continue
            with conn:
                conn.settimeout(5)
                conn.recv(65536)
                image = png_bytes()
                head = b"HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: %d\r\n" % len(image)
                if mode["phase"] == "body":
                    conn.sendall(head + b"\r\n")
                    head, image = image, b""
                try:
                    for byte in head + b"\r\n" + image:
                        if stop.wait(0.5):
                            break
                        conn.sendall(bytes([byte]))
                except OSError:  # the fetcher gave up and closed the connection: expected
                    pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/", mode
    stop.set()
    thread.join(5)
    listener.close()


@pytest.mark.parametrize("phase", ["headers", "body"])
def test_a_trickling_host_is_cut_at_one_wall_clock_deadline(trickling_server, loopback, phase):
    url, mode = trickling_server
    mode["phase"] = phase
    settings = loopback.replace(limits=loopback.limits.__class__(image_fetch_timeout_s=2.0))
    started = time.monotonic()
    with pytest.raises(InputError, match=r"did not finish within the 2 s deadline .*stopped after 2\.\d s"):
        load_image(url, FIELD, settings)
    assert 1.9 < time.monotonic() - started < 3.0  # each byte restarts a socket timeout; the deadline holds


def test_a_hanging_name_lookup_is_under_the_same_deadline(loopback, monkeypatch):
    """A resolver that does not answer (a dead DNS server) costs the request its deadline, not the resolver's."""
    real_getaddrinfo = socket.getaddrinfo

    def hanging_getaddrinfo(host, *args, **kwargs):
        if host == "slow-dns.example":
            time.sleep(5)
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", hanging_getaddrinfo)
    settings = loopback.replace(limits=loopback.limits.__class__(image_fetch_timeout_s=1.0))
    started = time.monotonic()
    with pytest.raises(InputError, match=r"from slow-dns\.example did not finish within the 1 s deadline"):
        load_image("http://slow-dns.example/ecg.png", FIELD, settings)
    assert time.monotonic() - started < 2.0


def test_truncated_png(settings):
    assert_input_error(png_bytes(400, 300)[:-200], settings, "truncated")


def test_40000_by_40000_header_is_refused_before_decoding(settings):
    assert_input_error(png_header_only(40000, 40000), settings, "too many pixels|1600000000 pixels")
    assert_input_error(png_header_only(8000, 6000), settings, "48000000 pixels")


def test_non_image_bytes_and_unsupported_formats(settings):
    assert_input_error(b"%PDF-1.7 not an image at all", settings, "not a supported image")
    assert_input_error(b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n", settings, "not a supported image")


@pytest.mark.parametrize("value, pattern", [
    ("this is not base64!!", "not valid base64"),
    ("data:image/png,rawbytes", "base64-encoded"),
    ("data:text/html;base64,PGh0bWw+", "media type"),
    (12345, "expected an image URL"),
    ("ftp://example.com/ecg.png", "scheme .ftp. not allowed"),
    ("file:///etc/passwd", "scheme .file. not allowed"),
    ("gopher://127.0.0.1:6379/_INFO", "scheme .gopher. not allowed"),
])
def test_bad_encodings(value, pattern, settings):
    assert_input_error(value, settings, pattern)


def test_oversized_base64_is_refused_before_decoding(settings):
    small = settings.replace(limits=settings.limits.__class__(max_image_bytes=1000))
    assert_input_error(base64.b64encode(bytes(2000)).decode(), small, "larger than 1000 bytes")


def test_exif_orientation_and_transparency(settings):
    image = Image.new("RGB", (40, 20), (0, 0, 255))
    exif = image.getexif()
    exif[0x0112] = 6  # rotate 90° clockwise for display
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif)
    assert load_image(buffer.getvalue(), FIELD, settings).size == (20, 40)
    transparent = load_image(png_bytes(colour=(0, 0, 0, 0), mode="RGBA"), FIELD, settings)
    assert transparent.getpixel((1, 1)) == (255, 255, 255)  # paper white, not black


@pytest.mark.parametrize("certificate_name, works", [("ecg-images.test", True), ("someone-else.test", False)])
def test_https_to_the_checked_address_verifies_the_certificate_of_the_host_name(
        settings, monkeypatch, tmp_path, certificate_name, works):
    import ssl

    import requests.adapters
    import trustme
    from pytest_httpserver import HTTPServer

    authority = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert(certificate_name).configure_cert(server_context)
    authority.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    monkeypatch.setattr(requests.adapters, "DEFAULT_CA_BUNDLE_PATH", str(tmp_path / "ca.pem"))  # trust the test CA
    server = HTTPServer(ssl_context=server_context)
    server.start()
    try:
        server.expect_request("/ecg.png").respond_with_data(png_bytes(), content_type="image/png")
        monkeypatch.setattr(images.socket, "getaddrinfo", lambda *a, **k: [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", server.port))])
        monkeypatch.setattr(images, "is_public_address", lambda address: True)
        url = f"https://ecg-images.test:{server.port}/ecg.png"
        if works:
            assert load_image(url, FIELD, settings).size == (40, 20)
        else:
            assert_input_error(url, settings, "TLS certificate of ecg-images.test")
    finally:
        server.clear()
        server.stop()
