"""The Turkish commentary against a real HTTP server on loopback that plays DeepSeek.

pytest-httpserver answers the plain status-code cases; a tiny threaded `http.server` covers what it cannot
(keep-alive blank lines, a server that never answers, a truncated body, connection reuse, concurrency).
Every test also checks that the API key never reaches a log line or a response.
"""

from __future__ import annotations

import copy
import gzip
import json
import logging
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ecg_core import commentary
from ecg_core.commentary import Commentator, parse_options
from ecg_core.qtc_limits import qtc_finding
from utils import DeepSeekClient, DeepSeekError, timed

pytestmark = pytest.mark.timeout(30)

API_KEY = "sk-test-4f9c2b7e1d8a4c3f9e6b0a5d2c1f8e7a"
COMMENTARY_KEYS = {"comment_text", "commentary_model", "commentary_tokens", "commentary_status", "commentary_error"}
TURKISH_REPLY = ("EKG'nizde kalp hızınız normalden biraz yavaş ve QTc aralığı uzamış görünüyor. Bu durum acil "
                 "değildir, ancak birkaç gün içinde bir kardiyoloğa görünmeniz önerilir. Göğüs ağrısı veya "
                 "bayılma olursa hemen 112'yi arayın. Bu otomatik yorum doktor muayenesinin yerini tutmaz.")


def completion(content: str = TURKISH_REPLY, total_tokens: int = 321) -> dict:
    """A chat completion shaped like DeepSeek's (OpenAI-compatible) non-streaming answer."""
    return {
        "id": "0b6c9f7e-1d2a-4c3b-9e8f-7a6b5c4d3e2f", "object": "chat.completion", "created": 1767225600,
        "model": "deepseek-v4-flash",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "logprobs": None,
                     "finish_reason": "stop"}],
        "usage": {"prompt_tokens": total_tokens - 120, "completion_tokens": 120, "total_tokens": total_tokens},
        "system_fingerprint": "fp_v4_flash",
    }


def signal_result(qtc_ms: float = 487.0) -> dict:
    """An ECG-FM analyze result as the signal route builds it."""
    return {
        "model": "ECG-FM", "task": "analyze", "processing_time": 0.412,
        "clinical_analysis": {
            "rhythm": "Sinus bradycardia", "heart_rate": 52.0, "qrs_duration": 96.0, "qt_interval": 522.0,
            "pr_interval": 168.0, "axis_deviation": "Normal",
            "abnormalities": ["Bradycardia (52 bpm < 60)",
                              qtc_finding(qtc_ms, "M")],
            "confidence": 0.82,
            "physiological_parameters": {"heart_rate": 52.0, "pr_interval": 168.0, "qrs_duration": 96.0,
                                         "qt_interval": 522.0, "qtc_bazett": qtc_ms, "qrs_axis": 41.0},
        },
        "labels": [{"name": "Sinus bradycardia", "probability": 0.91, "threshold": 0.5, "present": True},
                   {"name": "Atrial fibrillation", "probability": 0.04, "threshold": 0.5, "present": False}],
        "findings": ["Sinus bradycardia"],
        "signal_quality": {"grade": "Good", "score": 0.84, "reasons": []},
    }


def pulse_result(text: str = "Sinus rhythm with first-degree AV block. No acute ST changes.") -> dict:
    return {"model": "PULSE-7B", "task": "generate", "processing_time": 3.2, "generated_text": text,
            "success": True}


@pytest.fixture(autouse=True)
def key_never_logged(caplog):
    caplog.set_level(logging.DEBUG)
    yield
    records = caplog.get_records("call")
    assert records, "expected the commentary to log something"
    for record in records:
        assert API_KEY not in record.getMessage()
        assert "Bearer" not in record.getMessage()


@pytest.fixture
def keyed(settings):
    """Settings with a key, pointing at a base URL the test fills in."""
    return lambda base_url: settings.replace(deepseek_api_key=API_KEY, deepseek_base_url=base_url)


def annotate(settings, results: list[dict], timeout_s: float = 5) -> float:
    """Run the commentary as the engine does; check the primary results are intact; return the seconds taken."""
    originals = copy.deepcopy(results)
    commentator = Commentator(settings)
    with timed() as timer:
        commentator.annotate(results, parse_options({"deepseek_timeout": timeout_s}, settings))
    for result, original in zip(results, originals):
        assert {key: result[key] for key in original} == original
        assert set(result) - set(original) <= COMMENTARY_KEYS
        text = json.dumps(result)  # plain JSON, no numpy or tensors
        assert API_KEY not in text
    return timer.seconds


def chat_request(httpserver):
    return httpserver.expect_request("/chat/completions", method="POST")


# --- plain status codes (pytest-httpserver) ---------------------------------------------------------------

def test_success_adds_the_commentary_and_sends_a_compact_english_summary(httpserver, keyed):
    chat_request(httpserver).respond_with_json(completion())
    settings = keyed(httpserver.url_for("").rstrip("/"))
    results = [signal_result()]
    seconds = annotate(settings, results)

    result = results[0]
    assert result["commentary_status"] == "success"
    assert result["comment_text"] == TURKISH_REPLY
    assert result["commentary_tokens"] == 321
    assert result["commentary_model"] == "deepseek-v4-flash"
    assert "commentary_error" not in result
    assert seconds < 2
    (request, _), = httpserver.log
    assert request.headers["Authorization"] == f"Bearer {API_KEY}"
    body = request.get_json()
    assert body["model"] == settings.deepseek_model
    assert body["stream"] is False and body["thinking"] == {"type": "disabled"}
    system, user = body["messages"]
    assert system["role"] == "system" and "Turkish" in system["content"] and "cardiologist" in system["content"]
    assert user["role"] == "user"
    assert "QTc (Bazett) 487 ms" in user["content"] and "Sinus bradycardia (probability 0.91)" in user["content"]
    assert "Atrial fibrillation" not in user["content"]  # below its threshold: not a finding


def test_demo_results_tell_deepseek_they_are_not_a_diagnosis(httpserver, keyed):
    chat_request(httpserver).respond_with_json(completion())
    results = [{**pulse_result(), "weights": "demo", "notice": "demo weights"}]
    annotate(keyed(httpserver.url_for("").rstrip("/")), results)
    assert results[0]["commentary_status"] == "success"
    user_text = httpserver.log[0][0].get_json()["messages"][1]["content"]
    assert "demo weights" in user_text and "not a diagnosis" in user_text
    assert "first-degree AV block" in user_text


@pytest.mark.parametrize("status, message, meaning", [
    (401, f"Authentication Fails, Your api key: {API_KEY} is invalid", "authentication failed"),
    (402, "Insufficient Balance", "insufficient balance"),
    (422, "Failed to deserialize the JSON body into the target type: messages[1]", "invalid parameters"),
])
def test_client_errors_fail_at_once_without_retrying(httpserver, keyed, status, message, meaning):
    error_body = {"error": {"message": message, "type": "invalid_request_error", "param": None,
                            "code": "invalid_request_error"}}
    chat_request(httpserver).respond_with_json(error_body, status=status)
    results = [signal_result()]
    seconds = annotate(keyed(httpserver.url_for("").rstrip("/")), results)

    result = results[0]
    assert result["commentary_status"] == "failed"
    assert result["comment_text"] is None and result["commentary_tokens"] == 0
    assert f"HTTP {status}" in result["commentary_error"] and meaning in result["commentary_error"]
    assert API_KEY not in result["commentary_error"]  # DeepSeek's 401 message echoes the key here
    assert len(httpserver.log) == 1
    assert seconds < 1.5


def test_unknown_model_is_reported_clearly(httpserver, keyed):
    chat_request(httpserver).respond_with_json(
        {"error": {"message": "Model Not Exist", "type": "invalid_request_error", "param": None,
                   "code": "invalid_request_error"}}, status=400)
    settings = keyed(httpserver.url_for("").rstrip("/")).replace(deepseek_model="deepseek-chat")
    results = [pulse_result()]
    annotate(settings, results)
    error = results[0]["commentary_error"]
    assert results[0]["commentary_status"] == "failed"
    assert "'deepseek-chat'" in error and "Model Not Exist" in error and "DEEPSEEK_MODEL" in error
    assert len(httpserver.log) == 1


def test_rate_limit_is_retried_after_the_time_deepseek_asks_for(httpserver, keyed):
    httpserver.expect_oneshot_request("/chat/completions", method="POST").respond_with_json(
        {"error": {"message": "Rate Limit Reached"}}, status=429, headers={"Retry-After": "1"})
    chat_request(httpserver).respond_with_json(completion())
    results = [signal_result()]
    seconds = annotate(keyed(httpserver.url_for("").rstrip("/")), results)
    assert results[0]["commentary_status"] == "success"
    assert len(httpserver.log) == 2
    assert 1.0 <= seconds < 2.5


def test_retry_after_beyond_the_deadline_gives_up_at_once(httpserver, keyed):
    chat_request(httpserver).respond_with_json({"error": {"message": "Rate Limit Reached"}}, status=429,
                                               headers={"Retry-After": "60"})
    results = [signal_result()]
    seconds = annotate(keyed(httpserver.url_for("").rstrip("/")), results)
    assert results[0]["commentary_status"] == "failed"
    assert "HTTP 429" in results[0]["commentary_error"] and "60 s" in results[0]["commentary_error"]
    assert len(httpserver.log) == 1
    assert seconds < 1


def test_server_errors_are_retried_until_success(httpserver, keyed):
    for _ in range(2):
        httpserver.expect_oneshot_request("/chat/completions", method="POST").respond_with_json(
            {"error": {"message": "Server Error"}}, status=500)
    chat_request(httpserver).respond_with_json(completion())
    results = [signal_result()]
    seconds = annotate(keyed(httpserver.url_for("").rstrip("/")), results)
    assert results[0]["commentary_status"] == "success"
    assert [response.status_code for _, response in httpserver.log] == [500, 500, 200]
    assert seconds < 4


def test_overloaded_forever_fails_at_the_deadline(httpserver, keyed):
    chat_request(httpserver).respond_with_json({"error": {"message": "Server Overloaded"}}, status=503)
    results = [signal_result()]
    seconds = annotate(keyed(httpserver.url_for("").rstrip("/")), results, timeout_s=5)
    assert results[0]["commentary_status"] == "failed"
    assert "HTTP 503" in results[0]["commentary_error"] and "attempts" in results[0]["commentary_error"]
    assert len(httpserver.log) >= 3  # backoff, not a tight loop, not a single try
    assert abs(seconds - 5) <= 1


@pytest.mark.parametrize("body, problem", [
    ('{"id": "x", "choices": [{"message": {"content": "Merhaba', "malformed JSON"),
    (json.dumps({**completion(), "choices": []}), "no choices"),
    (json.dumps(completion(content="   ")), "empty reply"),
])
def test_unusable_answers_fail_without_retrying(httpserver, keyed, body, problem):
    chat_request(httpserver).respond_with_data(body, status=200, content_type="application/json")
    results = [pulse_result()]
    seconds = annotate(keyed(httpserver.url_for("").rstrip("/")), results)
    assert results[0]["commentary_status"] == "failed"
    assert problem in results[0]["commentary_error"]
    assert len(httpserver.log) == 1
    assert seconds < 1.5


def test_results_without_text_are_not_sent(httpserver, keyed):
    chat_request(httpserver).respond_with_json(completion())
    failed_generation = {"model": "PULSE-7B", "task": "generate", "processing_time": 0.1, "generated_text": "",
                         "error": "CUDA out of memory", "success": False}
    rendering = {"model": "ecg-renderer", "task": "render", "processing_time": 0.2, "image": "data:image/png;base64,"}
    results = [failed_generation, signal_result(), rendering]
    annotate(keyed(httpserver.url_for("").rstrip("/")), results)
    assert [result["commentary_status"] for result in results] == ["no_text", "success", "no_text"]
    assert len(httpserver.log) == 1


# --- a tiny threaded server for what pytest-httpserver cannot do ------------------------------------------

class FakeDeepSeek(ThreadingHTTPServer):
    """Loopback HTTP/1.1 server; `behaviour(handler, request_number)` writes each answer."""

    daemon_threads = True
    block_on_close = False

    def __init__(self, behaviour):
        super().__init__(("127.0.0.1", 0), _FakeHandler)
        self.behaviour = behaviour
        self.stop = threading.Event()
        self.connections = 0
        self.requests = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.lock = threading.Lock()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _FakeHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so connection reuse is visible

    def setup(self):
        super().setup()
        with self.server.lock:
            self.server.connections += 1

    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        with self.server.lock:
            self.server.requests += 1
            self.server.in_flight += 1
            self.server.max_in_flight = max(self.server.max_in_flight, self.server.in_flight)
            number = self.server.requests
        try:
            self.server.behaviour(self, number)
        except OSError:  # the client gave up and closed the socket
            pass
        finally:
            with self.server.lock:
                self.server.in_flight -= 1

    def send_json(self, payload: dict, status: int = 200):
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def send_blank_lines(self, seconds: float):
        """DeepSeek's keep-alive for slow non-streaming requests: status and headers, then blank lines."""
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Connection", "close")
        self.end_headers()
        until = time.monotonic() + seconds
        while time.monotonic() < until and not self.server.stop.is_set():
            self.wfile.write(b"\n")
            self.wfile.flush()
            time.sleep(0.2)

    def log_message(self, *args):
        pass


@pytest.fixture
def fake_deepseek():
    servers = []

    def start(behaviour) -> FakeDeepSeek:
        server = FakeDeepSeek(behaviour)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop.set()
        server.shutdown()
        server.server_close()


def test_keep_alive_blank_lines_past_the_deadline_fail_at_the_deadline(fake_deepseek, keyed):
    server = fake_deepseek(lambda handler, _: handler.send_blank_lines(seconds=20))
    results = [signal_result()]
    seconds = annotate(keyed(server.base_url), results, timeout_s=5)
    assert results[0]["commentary_status"] == "failed"
    assert "deadline" in results[0]["commentary_error"]
    assert abs(seconds - 5) <= 1


def test_keep_alive_blank_lines_before_the_answer_are_skipped(fake_deepseek, keyed):
    def slow_then_answer(handler, _):
        handler.send_blank_lines(seconds=1)
        handler.wfile.write(json.dumps(completion()).encode())

    server = fake_deepseek(slow_then_answer)
    results = [signal_result()]
    seconds = annotate(keyed(server.base_url), results)
    assert results[0]["commentary_status"] == "success"
    assert results[0]["comment_text"] == TURKISH_REPLY
    assert 1 <= seconds < 3


def test_a_server_that_goes_quiet_mid_answer_cannot_hold_the_client_past_its_deadline(fake_deepseek):
    # Blank lines for 2 s, then silence: a socket timeout fixed at the start would wait until ~7 s.
    def lines_then_silence(handler, _):
        handler.send_blank_lines(seconds=2)
        handler.server.stop.wait(20)

    server = fake_deepseek(lines_then_silence)
    client = DeepSeekClient(API_KEY, server.base_url, "deepseek-v4-flash")
    started = time.monotonic()
    with pytest.raises(DeepSeekError, match="deadline") as raised:
        client.chat("system", "user", deadline=started + 5)
    assert raised.value.status == "failed"
    assert abs(time.monotonic() - started - 5) <= 0.5


def test_a_server_that_never_answers_fails_the_whole_batch_at_one_deadline(fake_deepseek, keyed):
    server = fake_deepseek(lambda handler, _: handler.server.stop.wait(20))
    # More distinct results than workers: the queued ones must not get a deadline of their own.
    results = [signal_result(qtc_ms=470.0 + i) for i in range(commentary.MAX_WORKERS + 2)]
    seconds = annotate(keyed(server.base_url), results, timeout_s=5)
    assert {result["commentary_status"] for result in results} == {"failed"}
    assert all("deadline" in result["commentary_error"] for result in results)
    assert abs(seconds - 5) <= 1
    assert server.requests == commentary.MAX_WORKERS  # the queued two found no time left


def test_connection_refused_is_unavailable_at_the_deadline(keyed):
    with socket.socket() as bound_not_listening:  # the port is ours, so nobody else can answer on it
        bound_not_listening.bind(("127.0.0.1", 0))
        port = bound_not_listening.getsockname()[1]
        results = [signal_result()]
        seconds = annotate(keyed(f"http://127.0.0.1:{port}"), results, timeout_s=5)
    assert results[0]["commentary_status"] == "unavailable"
    assert "ConnectionRefusedError" in results[0]["commentary_error"]
    assert "attempts" in results[0]["commentary_error"]
    assert abs(seconds - 5) <= 1


def test_a_truncated_body_is_retried(fake_deepseek, keyed):
    def truncated_first(handler, number):
        if number > 1:
            return handler.send_json(completion())
        body = json.dumps(completion()).encode()
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        handler.send_header("Connection", "close")
        handler.end_headers()
        handler.wfile.write(body[: len(body) // 2])
        handler.close_connection = True

    server = fake_deepseek(truncated_first)
    results = [signal_result()]
    annotate(keyed(server.base_url), results)
    assert results[0]["commentary_status"] == "success"
    assert server.requests == 2


def test_connections_are_reused_between_requests(fake_deepseek, keyed):
    server = fake_deepseek(lambda handler, _: handler.send_json(completion()))
    settings = keyed(server.base_url)
    commentator = Commentator(settings)
    options = parse_options({"deepseek_timeout": 5}, settings)
    for qtc_ms in (470.0, 480.0, 490.0):  # distinct summaries: no cache hits
        results = [signal_result(qtc_ms)]
        commentator.annotate(results, options)
        assert results[0]["commentary_status"] == "success"
    assert server.requests == 3
    assert server.connections == 1


def test_a_batch_is_commented_concurrently(fake_deepseek, keyed):
    def slow_answer(handler, _):
        time.sleep(1)
        handler.send_json(completion())

    server = fake_deepseek(slow_answer)
    results = [signal_result(qtc_ms=470.0 + i) for i in range(commentary.MAX_WORKERS)]
    seconds = annotate(keyed(server.base_url), results, timeout_s=10)
    assert {result["commentary_status"] for result in results} == {"success"}
    assert server.max_in_flight == commentary.MAX_WORKERS
    assert seconds < 2  # one after another would take 4 s


def test_identical_summaries_are_commented_once_and_cached_for_a_while(fake_deepseek, keyed, monkeypatch):
    monkeypatch.setattr(commentary, "CACHE_TTL_S", 0.5)
    server = fake_deepseek(lambda handler, _: handler.send_json(completion()))
    settings = keyed(server.base_url)
    commentator = Commentator(settings)
    options = parse_options({"deepseek_timeout": 5}, settings)

    batch = [signal_result(), signal_result(), pulse_result()]
    commentator.annotate(batch, options)
    assert server.requests == 2  # the two identical signal results share one call
    assert batch[0]["comment_text"] == batch[1]["comment_text"] == TURKISH_REPLY

    again = [signal_result()]
    commentator.annotate(again, options)
    assert again[0]["commentary_status"] == "success" and server.requests == 2  # from the cache

    time.sleep(0.6)
    commentator.annotate([signal_result()], options)
    assert server.requests == 3  # expired


def test_a_compressed_answer_is_decoded(fake_deepseek, keyed):
    def gzipped(handler, _):
        body = gzip.compress(json.dumps(completion()).encode())
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Encoding", "gzip")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    server = fake_deepseek(gzipped)
    results = [pulse_result()]
    annotate(keyed(server.base_url), results)
    assert results[0]["commentary_status"] == "success"
    assert results[0]["comment_text"] == TURKISH_REPLY


# --- outages: the circuit breaker; a key echoed in a successful reply -----------------------------------

def test_an_outage_opens_the_circuit_so_later_requests_do_not_wait_and_a_probe_closes_it(fake_deepseek, keyed):
    answering = threading.Event()

    def hang_until_answering(handler, _):
        if answering.is_set():
            return handler.send_json(completion())
        handler.server.stop.wait(20)

    server = fake_deepseek(hang_until_answering)
    settings = keyed(server.base_url).replace(deepseek_breaker_failures=2, deepseek_breaker_cooldown_s=1.0)
    commentator = Commentator(settings)
    options = parse_options({"deepseek_timeout": 5}, settings)

    first = [signal_result(470.0), signal_result(480.0)]  # two calls fail at the deadline: the circuit opens
    with timed() as outage:
        commentator.annotate(first, options)
    assert {result["commentary_status"] for result in first} == {"failed"} and outage.seconds >= 4.5
    assert commentator.describe()["circuit"]["state"] == "open"

    skipped = [signal_result(490.0)]
    with timed() as quick:
        commentator.annotate(skipped, options)
    assert quick.seconds < 0.5  # the outage no longer costs this request its deadline
    assert skipped[0]["commentary_status"] == "unavailable"
    assert "skipped after 2 failed calls in a row" in skipped[0]["commentary_error"]
    assert "did not answer before the deadline" in skipped[0]["commentary_error"]
    assert server.requests == 2

    answering.set()
    time.sleep(1.1)  # the cool-down passes: the next call is a probe, and it succeeds
    probed = [signal_result(500.0)]
    commentator.annotate(probed, options)
    assert probed[0]["commentary_status"] == "success" and server.requests == 3
    assert commentator.describe()["circuit"] == {"state": "closed", "consecutive_failures": 0, "threshold": 2,
                                                 "cooldown_s": 1.0}


def test_a_key_echoed_in_a_successful_reply_is_redacted_in_the_result_and_the_cache(fake_deepseek, keyed):
    def echo_authorization(handler, _):
        handler.send_json(completion(f"Sunucu başlığı: {handler.headers['Authorization']} ve {API_KEY}. Tamam."))

    server = fake_deepseek(echo_authorization)
    settings = keyed(server.base_url)
    commentator = Commentator(settings)
    options = parse_options({"deepseek_timeout": 5}, settings)
    for _ in range(2):  # the second answer comes from the cache
        results = [signal_result()]
        commentator.annotate(results, options)
        assert results[0]["commentary_status"] == "success"
        assert API_KEY not in results[0]["comment_text"] and "***" in results[0]["comment_text"]
        assert "Tamam." in results[0]["comment_text"]
    assert server.requests == 1
    assert all(API_KEY not in reply.text for reply in commentator._cache.values())
