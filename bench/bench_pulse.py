"""PULSE generation speed: time to first token and decode tokens/s, plain generate() vs the serving path.

    python bench/bench_pulse.py                    # CPU: the demo (tiny PULSE-architecture) model
    python bench/bench_pulse.py --full-size        # GPU: random weights of PULSE-7B's real shapes, bf16

Both paths get the same inputs (PULSE prompt + a 1100×850 image → 5 anyres tiles) and are forced to
produce exactly --new-tokens tokens (EOS ignored). "plain" is model.generate() with transformers' defaults
(dynamic KV cache); "serving" is the GenerationConfig PulseService uses (on CUDA a static 4096-token KV
cache, which transformers compiles with torch.compile). Speed does not depend on the weight values, so the
full-size run needs no download. Medians over --repeats after one warm-up run of each path.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ecg_core.pulse import prepare_inputs  # noqa: E402
from ecg_core.pulse.checkpoint import PulseLlavaForConditionalGeneration, add_image_token  # noqa: E402
from ecg_core.pulse.config import grid_pinpoints, llava_config  # noqa: E402
from ecg_core.pulse.demo import PULSE_ARCHITECTURE, ensure_demo_model  # noqa: E402
from ecg_core.pulse.prompt import load_tokenizer  # noqa: E402
from ecg_core.pulse.service import PulseService, build_service, parse_generation_params  # noqa: E402
from ecg_core.settings import Settings  # noqa: E402

LLAMA_7B = {"hidden_size": 4096, "intermediate_size": 11008, "num_hidden_layers": 32, "num_attention_heads": 32,
            "num_key_value_heads": 32}
QUERY = "What are the main features of this ECG? Give a diagnosis."


class FirstTokenClock:
    """A generate() streamer that notes when the first new token arrives (the first put() is the prompt)."""

    def __init__(self):
        self.start = time.perf_counter()
        self.first_token_at: float | None = None
        self._calls = 0

    def put(self, value):
        self._calls += 1
        if self._calls == 2:
            if torch.cuda.is_available():
                torch.cuda.synchronize()
            self.first_token_at = time.perf_counter()

    def end(self):
        pass


def full_size_service(device: torch.device, dtype: torch.dtype, cache_dir: Path) -> PulseService:
    tokenizer = load_tokenizer(ensure_demo_model(cache_dir))  # any LLaMA-style tokenizer: ids stay < 32000
    config = llava_config({**PULSE_ARCHITECTURE, **LLAMA_7B})
    with torch.device("meta"):
        model = PulseLlavaForConditionalGeneration(config)
    model = model.to_empty(device=device).to(dtype)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.normal_(0.0, 0.02)
    model.eval()
    return PulseService(tokenizer=tokenizer, model=model, grid_pinpoints=grid_pinpoints(PULSE_ARCHITECTURE),
                        suppressed_token_ids=add_image_token(model, tokenizer), source="random full-size",
                        device=device, dtype=dtype)


def run_once(service: PulseService, inputs: dict, config) -> tuple[float, float, int]:
    """(time to first token s, decode tokens/s after the first, tokens generated)."""
    model_inputs = {key: value.to(service.device) for key, value in inputs.items() if value is not None}
    if "pixel_values" in model_inputs:
        model_inputs["pixel_values"] = model_inputs["pixel_values"].to(service.dtype)
    clock = FirstTokenClock()
    with torch.inference_mode():
        output = service.model.generate(**model_inputs, generation_config=config, streamer=clock)
    if service.device.type == "cuda":
        torch.cuda.synchronize()
    end = time.perf_counter()
    generated = output.shape[1] - model_inputs["input_ids"].shape[1]
    return clock.first_token_at - clock.start, (generated - 1) / (end - clock.first_token_at), generated


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--full-size", action="store_true", help="random weights of PULSE-7B's shapes")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--new-tokens", type=int, default=None, help="default 512 on CUDA, 128 on CPU")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--bandwidth-gbs", type=float, default=3000.0, help="GPU memory bandwidth for the bound")
    args = parser.parse_args()

    cache = Path(tempfile.mkdtemp(prefix="bench_pulse_"))
    settings = Settings.from_env(ROOT, env={}).replace(demo=True, device=args.device, cache_dir=cache)
    if args.full_size:
        from ecg_core.device import resolve_device, resolve_dtype

        device = resolve_device(settings)
        service = full_size_service(device, resolve_dtype(settings, device), cache)
    else:
        service = build_service(settings)
    new_tokens = args.new_tokens or (512 if service.device.type == "cuda" else 128)
    params = parse_generation_params({"max_new_tokens": new_tokens, "temperature": 0}, settings)
    inputs = prepare_inputs(service.tokenizer, QUERY, Image.new("RGB", (1100, 850), "white"),
                            grid_pinpoints=service.grid_pinpoints)
    serving = service.generation_config(params, new_tokens)
    serving.min_new_tokens = new_tokens
    plain = serving.__class__(max_new_tokens=new_tokens, min_new_tokens=new_tokens, do_sample=False,
                              pad_token_id=service.tokenizer.pad_token_id,
                              eos_token_id=service.tokenizer.eos_token_id)
    weight_bytes = sum(p.numel() * p.element_size() for p in service.model.parameters())
    results = {}
    for name, config in (("plain generate()", plain), ("serving path", serving)):
        run_once(service, inputs, config)  # warm-up (and torch.compile on CUDA)
        runs = [run_once(service, inputs, config) for _ in range(args.repeats)]
        results[name] = {"ttft_s": statistics.median(r[0] for r in runs),
                         "tokens_per_s": statistics.median(r[1] for r in runs), "tokens": runs[0][2]}
    report = {"device": torch.cuda.get_device_name() if service.device.type == "cuda" else "cpu",
              "model": service.source, "dtype": str(service.dtype), "weights_gb": round(weight_bytes / 1e9, 3),
              "prompt_tokens": int(inputs["input_ids"].shape[1]), "image_tiles": int(inputs["pixel_values"].shape[0]),
              "new_tokens": new_tokens, "repeats": args.repeats, "results": results,
              "serving_over_plain": results["serving path"]["tokens_per_s"] / results["plain generate()"]["tokens_per_s"]}
    if service.device.type == "cuda":
        bound = args.bandwidth_gbs * 1e9 / weight_bytes
        report["bandwidth_bound_tokens_per_s"] = bound
        report["fraction_of_bound"] = {name: r["tokens_per_s"] / bound for name, r in results.items()}
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
