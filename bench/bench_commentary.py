"""Turkish commentary: a batch against a loopback DeepSeek stand-in with a fixed answer latency.

Compares the worker pool with one-at-a-time calls, and a batch served from the cache, in the same run.
Usage: python bench/bench_commentary.py [--latency-ms 300] [--batch 8] [--repeats 5]
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from ecg_core import commentary  # noqa: E402
from ecg_core.settings import Settings  # noqa: E402
from test_deepseek import FakeDeepSeek, completion, signal_result  # noqa: E402
from timing import median_seconds  # noqa: E402




def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency-ms", type=float, default=300.0)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    def answer(handler, _):
        time.sleep(args.latency_ms / 1000)
        handler.send_json(completion())

    server = FakeDeepSeek(answer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings = Settings.from_env(ROOT, env={"DEEPSEEK_API_KEY": "sk-bench-0000000000",
                                            "DEEPSEEK_BASE_URL": server.base_url})
    options = commentary.parse_options({"deepseek_timeout": 60}, settings)
    batches = iter(range(10**6))  # distinct summaries per run, so nothing comes from the cache

    def fresh_batch(commentator):
        base = next(batches) * args.batch
        return lambda: commentator.annotate([signal_result(qtc_ms=400.0 + base + i) for i in range(args.batch)],
                                            options)

    rows = {}
    default_workers = commentary.MAX_WORKERS
    for workers in (1, default_workers):
        commentary.MAX_WORKERS = workers
        commentator = commentary.Commentator(settings)
        rows[f"{workers} worker(s)"] = median_seconds(lambda: fresh_batch(commentator)(), args.repeats)
    commentary.MAX_WORKERS = default_workers
    cached = commentary.Commentator(settings)
    same = [signal_result(qtc_ms=400.0 + i) for i in range(args.batch)]
    cached.annotate([dict(result) for result in same], options)
    rows["cache hits"] = median_seconds(lambda: cached.annotate([dict(result) for result in same], options),
                                        args.repeats)
    server.shutdown()

    print(f"batch of {args.batch} distinct results, {args.latency_ms:.0f} ms per DeepSeek answer, "
          f"median of {args.repeats}")
    for name, seconds in rows.items():
        print(f"  {name:<14} {seconds * 1000:9.1f} ms")
    sequential, pooled = rows["1 worker(s)"], rows[f"{default_workers} worker(s)"]
    print(f"  speed-up of the pool: {sequential / pooled:.2f}x; cache hit vs pool: {pooled / rows['cache hits']:.0f}x")


if __name__ == "__main__":
    main()
