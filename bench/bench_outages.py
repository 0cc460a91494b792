"""What an upstream outage costs other clients (issue 16), measured in one run.

1. DeepSeek hangs (a loopback server that accepts and never answers): N sequential signal requests with the
   Turkish commentary on (deadline `--deadline` s), with the circuit breaker (threshold 3, the default) and
   with it effectively off (threshold 10**9), on the same handler code.
2. An image host trickles one byte every 0.5 s: a PULSE request for its image over the local server, and a
   quick quality request sent 0.2 s later by another client, which queues behind it (one request at a time).

    python bench/bench_outages.py [--requests 8] [--deadline 5] [--image-timeout 3]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from timing import sample_seconds  # noqa: F401  (puts the repository root on sys.path)

import numpy as np  # noqa: E402
import requests  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
LEAD = (np.sin(2 * np.pi * 1.2 * np.arange(5 * 500) / 500) ** 15).round(4).tolist()


class _Hang(BaseHTTPRequestHandler):
    def do_POST(self):
        self.server.stop.wait(120)

    def log_message(self, *args):
        pass


def _handler(**env):
    from conftest import make_handler  # the tests' isolated-environment handler factory

    return make_handler(Path(tempfile.mkdtemp()), **env)


def deepseek_outage(count: int, deadline_s: float) -> dict:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hang)
    server.stop = threading.Event()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    results = {}
    for label, threshold in (("breaker (3 failures)", "3"), ("no breaker", str(10**9))):
        handler = _handler(DEEPSEEK_API_KEY="sk-bench-0000000000", DEEPSEEK_BASE_URL=base,
                           DEEPSEEK_BREAKER_FAILURES=threshold)
        seconds, statuses = [], []
        for i in range(count):  # distinct signals: no cache hits
            payload = {"inputs": {"signal": [[v * (1 + i / 100) for v in LEAD]], "fs": 500, "lead_names": ["II"],
                                  "task": "analyze"}, "parameters": {"deepseek_timeout": deadline_s}}
            started = time.perf_counter()
            (result,) = handler(payload)
            seconds.append(time.perf_counter() - started)
            statuses.append(result["commentary_status"])
        results[label] = seconds
        results[f"{label} statuses"] = statuses
    server.stop.set()
    server.shutdown()
    return results


def image_host_outage(image_timeout_s: float) -> tuple[float, float]:
    from ecg_core.server import create_app
    from endpoint_harness import running_server

    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def trickle():
        conn, _ = listener.accept()
        conn.recv(65536)
        for byte in b"HTTP/1.1 200 OK\r\nContent-Type: image/png\r\n" * 100:
            if stop.wait(0.5):
                break
            try:
                conn.sendall(bytes([byte]))
            except OSError:
                break
        conn.close()

    threading.Thread(target=trickle, daemon=True).start()
    handler = _handler(ECG_ALLOW_PRIVATE_IMAGE_URLS="1", ECG_IMAGE_FETCH_TIMEOUT_S=str(image_timeout_s))
    quick = {"inputs": {"signal": [LEAD], "fs": 500, "lead_names": ["II"], "task": "quality"}}
    with running_server(create_app(handler)) as url:
        requests.post(url, json=quick, timeout=30)  # warm
        image_seconds = {}

        def fetch():
            started = time.perf_counter()
            requests.post(url, json={"inputs": {"image": f"http://127.0.0.1:{listener.getsockname()[1]}/x.png",
                                                "query": "?"}}, timeout=120)
            image_seconds["value"] = time.perf_counter() - started

        first = threading.Thread(target=fetch)
        first.start()
        time.sleep(0.2)
        started = time.perf_counter()
        requests.post(url, json=quick, timeout=120)
        queued_s = time.perf_counter() - started
        first.join()
    stop.set()
    return image_seconds["value"], queued_s


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=8)
    parser.add_argument("--deadline", type=float, default=5.0)
    parser.add_argument("--image-timeout", type=float, default=3.0)
    args = parser.parse_args()
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    outage = deepseek_outage(args.requests, args.deadline)
    print(f"DeepSeek hanging, {args.requests} sequential requests, commentary deadline {args.deadline:g} s:")
    for label, seconds in outage.items():
        if label.endswith("statuses"):
            print(f"  {label}: {' '.join(seconds)}")
            continue
        print(f"  {label:22s} per request: {' '.join(f'{s:.2f}' for s in seconds)} s; total {sum(seconds):.1f} s; "
              f"median {statistics.median(seconds):.2f} s")
    image_s, queued_s = image_host_outage(args.image_timeout)
    print(f"image host trickling 1 byte / 0.5 s, ECG_IMAGE_FETCH_TIMEOUT_S={args.image_timeout:g}: the image "
          f"request answered after {image_s:.2f} s; a quick request queued behind it took {queued_s:.2f} s")


if __name__ == "__main__":
    main()
