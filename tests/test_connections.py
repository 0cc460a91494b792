"""Issue 16 over real sockets: one client must not stall the others, and /health tells strangers little.

A real uvicorn server on loopback (tests/endpoint_harness.py); slow clients are raw sockets that trickle.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time

import requests

from conftest import make_handler
from ecg_core.guards import header_deadline_protocol
from ecg_core.server import create_app
from endpoint_harness import running_server
from test_server import QUALITY_REQUEST


class GatedHandler:
    """The real handler's engine and health, with a call that can be held open by the test."""

    def __init__(self, inner):
        self.inner, self.engine = inner, inner.engine
        self.gate = threading.Event()
        self.started: list[str] = []

    def __call__(self, data):
        tag = data["inputs"]["tag"]
        self.started.append(tag)
        if tag == "slow":
            self.gate.wait(30)
        return [{"tag": tag}]

    def health(self):
        return self.inner.health()


def _host_port(url: str) -> tuple[str, int]:
    host, port = url.removeprefix("http://").split(":")
    return host, int(port)


def _raw_post(url: str, body: bytes, content_length: int | None = None) -> socket.socket:
    sock = socket.create_connection(_host_port(url), timeout=10)
    length = len(body) if content_length is None else content_length
    sock.sendall(b"POST / HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
                 b"Content-Length: %d\r\n\r\n" % length + body)
    return sock


def test_work_of_a_client_that_left_while_queued_is_skipped(tmp_path, caplog):
    handler = GatedHandler(make_handler(tmp_path))
    with running_server(create_app(handler)) as url, caplog.at_level(logging.INFO, logger="ecg_core.server"):
        slow = threading.Thread(target=requests.post, args=(url,),
                                kwargs={"json": {"inputs": {"tag": "slow"}}, "timeout": 30})
        slow.start()
        deadline = time.monotonic() + 20
        while handler.started != ["slow"] and time.monotonic() < deadline:
            time.sleep(0.01)
        assert handler.started == ["slow"]
        for _ in range(5):  # five clients queue behind the slow one, then leave
            _raw_post(url, json.dumps({"inputs": {"tag": "abandoned"}}).encode()).close()
        time.sleep(0.3)
        handler.gate.set()
        slow.join(30)
        started = time.monotonic()
        response = requests.post(url, json={"inputs": {"tag": "quick"}}, timeout=30)
        assert response.status_code == 200 and response.json() == [{"tag": "quick"}]
        assert time.monotonic() - started < 2
    assert handler.started == ["slow", "quick"]  # the abandoned requests never reached the handler
    skipped = [record for record in caplog.records if "client disconnected before it started" in record.message]
    assert len(skipped) == 5


def test_slow_headers_are_cut_at_the_header_deadline(tmp_path):
    handler = make_handler(tmp_path)
    with running_server(create_app(handler), http=header_deadline_protocol(1.0)) as url:
        sock = socket.create_connection(_host_port(url), timeout=10)
        started = time.monotonic()
        sock.sendall(b"POST / HTTP/1.1\r\n")
        closed_after = None
        for byte in b"X-Slow: " + b"a" * 100:  # one byte every 0.2 s: each restarts any socket timeout
            try:
                sock.sendall(bytes([byte]))
                sock.settimeout(0.2)
                if sock.recv(1024) == b"":
                    closed_after = time.monotonic() - started
                    break
            except socket.timeout:
                continue
            except OSError:
                closed_after = time.monotonic() - started
                break
        sock.close()
        assert closed_after is not None and 0.9 < closed_after < 3.0, closed_after
        assert requests.post(url, json=QUALITY_REQUEST, timeout=30).status_code == 200  # others unaffected


def test_a_body_shorter_than_its_content_length_gets_408_at_the_body_deadline(tmp_path):
    handler = make_handler(tmp_path, ECG_BODY_TIMEOUT_S="1")
    with running_server(create_app(handler)) as url:
        started = time.monotonic()
        sock = _raw_post(url, b'{"inputs": ', content_length=5000)
        sock.settimeout(10)
        reply = b""
        while b"\r\n\r\n" not in reply or not reply.rstrip().endswith(b"}"):
            chunk = sock.recv(4096)
            if not chunk:
                break
            reply += chunk
        elapsed = time.monotonic() - started
        sock.close()
        head, _, body = reply.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 408"), reply[:200]
        assert b"connection: close" in head.lower()
        assert json.loads(body) == {"error": "body: not received in full within 1 s"}
        assert 0.9 < elapsed < 3.0
        assert requests.post(url, json=QUALITY_REQUEST, timeout=30).status_code == 200


def test_open_health_says_only_up_and_details_need_the_token(tmp_path):
    handler = make_handler(tmp_path, ENDPOINT_TOKEN="s3cret-token",
                           DEEPSEEK_API_KEY="sk-health0123456789",
                           DEEPSEEK_BASE_URL="https://user:sk-inurl987654321@proxy.example/v1")
    with running_server(create_app(handler)) as url:
        auth = {"Authorization": "Bearer s3cret-token"}
        analyzed = requests.post(url, json={"inputs": QUALITY_REQUEST["inputs"] | {"task": "analyze"},
                                            "parameters": {"enable_turkish_commentary": False}},
                                 headers=auth, timeout=60)
        assert analyzed.status_code == 200
        assert analyzed.json()[0]["model_source"] == "demo (random ECG-FM weights)"  # not a server path
        assert requests.get(f"{url}/health", timeout=10).json() == {"status": "ok"}
        wrong = requests.get(f"{url}/health", headers={"Authorization": "Bearer nope"}, timeout=10)
        assert wrong.json() == {"status": "ok"}
        details = requests.get(f"{url}/health", headers=auth, timeout=10)
        assert details.status_code == 200 and details.json()["models"]["ecgfm"]["state"] == "ready"
        assert str(tmp_path) not in details.text and "sk-" not in details.text
        assert details.json()["commentary"]["host"] == "proxy.example"


def test_a_damaged_registry_index_is_reported_inside_a_200_and_other_routes_serve(tmp_path):
    handler = make_handler(tmp_path)
    with running_server(create_app(handler)) as url:
        assert requests.post(url, json={"inputs": {"task": "list_models"}}, timeout=60).status_code == 200
        (tmp_path / "tabular_models" / "index.json").write_text("{ this is not json")
        health = requests.get(f"{url}/health", timeout=10)
        assert health.status_code == 200
        tabular = health.json()["models"]["tabular"]
        assert tabular["state"] == "failed" and "index" in tabular["reason"]
        assert requests.post(url, json=QUALITY_REQUEST, timeout=30).status_code == 200
        listing = requests.post(url, json={"inputs": {"task": "list_models"}}, timeout=30)
        assert listing.status_code == 503 and "unreadable" in listing.json()["error"]
