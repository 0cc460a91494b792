"""ECG-FM throughput: plain fp32 eager forward vs the project's serving path, plus the accuracy check.

A full-size (90.4 M parameter) ECG-FM with random weights, built from the released architecture, is
written as converted safetensors and loaded back through `build_runner` (the real serving path: weights
in the serving dtype, recordings → preprocessing → batched forward → per-recording results). The inputs
are the real CODE-15 ECGs of ../shared/fixtures/ecgfm/code15, as 5 s recordings at 500 Hz.

    python bench/bench_ecgfm.py            # batch 1 and 32, 5 repeats (a few minutes on 2 CPU cores)
    python bench/bench_ecgfm.py --quick    # smoke run: batch 1 and 8, 1 repeat
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

import numpy as np
import scipy.io
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ecg_core.ecgfm import preprocess  # noqa: E402
from ecg_core.ecgfm.checkpoint import save_converted  # noqa: E402
from ecg_core.ecgfm.labels import MIMIC_IV_ECG_LABELS  # noqa: E402
from ecg_core.ecgfm.model import ECGFM, released_config  # noqa: E402
from ecg_core.ecgfm.runner import build_runner  # noqa: E402
from ecg_core.leads import STANDARD_LEADS  # noqa: E402
from ecg_core.settings import Settings  # noqa: E402
from ecg_core.signal import Recording  # noqa: E402
from utils import Timer  # noqa: E402

SEGMENTS = ROOT.parent / "shared" / "fixtures" / "ecgfm" / "code15" / "segmented"
ACCURACY_LIMIT = 0.02  # max |p_serving - p_fp32| allowed on the CODE-15 segments
SPEEDUP_GOAL = 2.5  # serving vs plain fp32 at batch 32 on the CPU


def median_seconds(runs: dict, repeats: int) -> dict[str, float]:
    """Median wall seconds of each callable; repeats are interleaved so load changes hit all alike."""
    for run in runs.values():
        run()  # warm-up: allocator, oneDNN kernel selection
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeats):
        for name, run in runs.items():
            timer = Timer()
            run()
            times[name].append(timer.stop())
    return {name: statistics.median(values) for name, values in times.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="batch 1 and 8, one repeat")
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--batch-sizes", type=int, nargs="+", help="default 1 32 (CPU) or 1 64 512 (CUDA)")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    if not SEGMENTS.exists():
        print(f"fixtures not found at {SEGMENTS}", file=sys.stderr)
        return 1
    cuda = args.device.startswith("cuda")
    batch_sizes = args.batch_sizes or ([1, 8] if args.quick else [1, 64, 512] if cuda else [1, 32])
    repeats = 1 if args.quick else args.repeats

    segments = np.stack([scipy.io.loadmat(path)["feats"] for path in sorted(SEGMENTS.glob("*.mat"))])
    torch.manual_seed(0)
    model = ECGFM(released_config(MIMIC_IV_ECG_LABELS)).eval().requires_grad_(False)
    device = torch.device(args.device)
    with tempfile.TemporaryDirectory() as directory:
        save_converted(model, Path(directory) / "ecgfm")
        settings = Settings.from_env(ROOT, env={}).replace(
            ecgfm_classifier=str(Path(directory) / "ecgfm"), ecgfm_encoder="none", device=args.device)
        runner = build_runner(settings)
    model = model.to(device)
    described = runner.describe()
    print(f"ECG-FM {described['parameters'] / 1e6:.1f} M parameters; device {device}, "
          f"{torch.get_num_threads()} CPU threads; serving dtype {described['dtype']}")

    def plain_fp32(batch: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            logits = model(torch.from_numpy(batch).to(device))["logits"]
            return torch.sigmoid(logits).cpu().numpy()

    def serving(batch: np.ndarray) -> np.ndarray:
        recordings = [Recording(segment, 500.0, STANDARD_LEADS) for segment in batch]
        results = runner.predict(recordings)
        return np.array([[label["probability"] for label in result["labels"]] for result in results])

    # The model sees each 5 s recording standardised on its own; both paths get exactly that input.
    inputs = np.concatenate([preprocess(segment, 500.0) for segment in segments])
    difference = np.abs(serving(segments) - plain_fp32(inputs)).max()
    print(f"accuracy: max |p_serving - p_fp32| on {len(segments)} CODE-15 segments = {difference:.4f} "
          f"(limit {ACCURACY_LIMIT}) {'OK' if difference <= ACCURACY_LIMIT else 'FAIL'}")

    print("| batch | plain fp32 eager (segments/s) | serving path (segments/s) | speed-up |")
    print("| ---: | ---: | ---: | ---: |")
    speedups = {}
    for batch_size in batch_sizes:
        raw, standardized = (np.resize(array, (batch_size, *array.shape[1:])) for array in (segments, inputs))
        seconds = median_seconds({"plain": lambda: plain_fp32(standardized), "serving": lambda: serving(raw)},
                                 repeats)
        plain, served = batch_size / seconds["plain"], batch_size / seconds["serving"]
        speedups[batch_size] = served / plain
        print(f"| {batch_size} | {plain:.2f} | {served:.2f} | {served / plain:.2f}× |", flush=True)
    if not cuda and 32 in speedups:
        print(f"goal at batch 32: ≥ {SPEEDUP_GOAL}× → {'met' if speedups[32] >= SPEEDUP_GOAL else 'NOT met'}")
    return 0 if difference <= ACCURACY_LIMIT else 1


if __name__ == "__main__":
    sys.exit(main())
