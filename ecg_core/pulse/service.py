"""PULSE-7B serving: load once, then answer a query about an ECG image (or text only) per call.

Heavy imports (transformers model classes) happen in `build_service`, so the request parser can import
this module for `PARAMETER_NAMES` and `parse_generation_params` cheaply.
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

import torch
from PIL import Image

from ..device import resolve_device, resolve_dtype
from ..errors import InputError, ModelError, ModelNotConfigured
from ..settings import Settings
from ..sources import resolve_dir
from .config import grid_pinpoints, llava_config, read_raw_config
from .generation import CONTEXT_TOKENS, PARAMETER_NAMES, GenerationParams, cut_at_stop, parse_generation_params
from .prompt import build_prompt, load_tokenizer, parse_history, prepare_inputs

__all__ = ["PARAMETER_NAMES", "GenerationParams", "PulseService", "build_service", "parse_generation_params",
           "parse_history"]


@dataclass
class PulseService:
    tokenizer: object
    model: object  # LlavaForConditionalGeneration
    grid_pinpoints: tuple[tuple[int, int], ...]
    suppressed_token_ids: list[int]  # <image> and embedding padding rows: never generated
    source: str
    device: torch.device
    dtype: torch.dtype
    demo: bool = False
    quantization: str = ""

    def describe(self) -> dict:
        return {"source": self.source, "device": str(self.device), "dtype": str(self.dtype).removeprefix("torch."),
                "demo": self.demo, "quantization": self.quantization or None}

    def generate(self, query: str, image: Image.Image | None, history: list[dict] | None,
                 params: GenerationParams) -> dict:
        """Answer `query` about `image` (None: text only) after the earlier `history` turns."""
        inputs = prepare_inputs(self.tokenizer, query, image, history, self.grid_pinpoints)
        prompt_tokens = inputs["input_ids"].shape[1]
        image_tiles = 0 if inputs["pixel_values"] is None else inputs["pixel_values"].shape[0]
        room = CONTEXT_TOKENS - prompt_tokens
        if room < 1:
            raise InputError("inputs.query", f"the prompt is {prompt_tokens} tokens (image tiles: {image_tiles}); "
                             f"PULSE's context holds {CONTEXT_TOKENS}; shorten the query or history")
        output_ids = self._run(inputs, self.generation_config(params, min(params.max_new_tokens, room)), params)
        new_ids = output_ids[prompt_tokens:]
        ended = bool(new_ids.numel()) and int(new_ids[-1]) == self.tokenizer.eos_token_id
        text, stopped = cut_at_stop(self.tokenizer.decode(new_ids, skip_special_tokens=True), params.stop)
        text = text.strip()
        if params.return_full_text:
            text = f"{build_prompt(query, history, with_image=image is not None)} {text}"
        return {"generated_text": text, "prompt_tokens": prompt_tokens, "generated_tokens": int(new_ids.numel()),
                "finish_reason": "stop" if ended or stopped else "length", "image_tiles": image_tiles,
                "image_tokens": int((inputs["input_ids"] == self.model.config.image_token_id).sum())}

    def generation_config(self, params: GenerationParams, max_new_tokens: int):
        """transformers GenerationConfig; on CUDA a static KV cache of the whole context, which transformers
        compiles once (one cache shape for every request, so no recompilation per prompt length)."""
        from transformers import GenerationConfig

        sampling = dict(temperature=params.temperature, top_p=params.top_p, top_k=params.top_k)
        static = dict(cache_implementation="static", max_cache_len=CONTEXT_TOKENS) if self.device.type == "cuda" else {}
        return GenerationConfig(
            max_new_tokens=max_new_tokens, do_sample=params.do_sample, **(sampling if params.do_sample else {}),
            repetition_penalty=params.repetition_penalty, suppress_tokens=self.suppressed_token_ids,
            stop_strings=list(params.stop) or None, bos_token_id=self.tokenizer.bos_token_id,
            eos_token_id=self.tokenizer.eos_token_id, pad_token_id=self.tokenizer.pad_token_id, **static)

    def _run(self, inputs: dict, config, params: GenerationParams) -> torch.Tensor:
        model_inputs = {name: value.to(self.device) for name, value in inputs.items() if value is not None}
        if "pixel_values" in model_inputs:
            model_inputs["pixel_values"] = model_inputs["pixel_values"].to(self.dtype)
        seeded = torch.random.fork_rng(devices=[self.device] if self.device.type == "cuda" else [])
        try:
            with torch.inference_mode(), seeded if params.seed is not None else nullcontext():
                if params.seed is not None:
                    torch.manual_seed(params.seed)
                return self.model.generate(**model_inputs, generation_config=config,
                                           tokenizer=self.tokenizer if params.stop else None)[0].cpu()
        except torch.OutOfMemoryError:
            raise ModelError("PULSE ran out of GPU memory; try a smaller image, fewer history turns "
                             "or a lower max_new_tokens") from None
        except RuntimeError as error:
            raise ModelError(f"PULSE generation failed ({type(error).__name__})") from error


def build_service(settings: Settings) -> PulseService:
    """Load tokenizer and model from settings.pulse_model (or the demo checkpoint when settings.demo)."""
    from .checkpoint import add_image_token, load_model
    from .demo import byte_fallback_ids, ensure_demo_model

    if settings.demo:
        model_dir, source = ensure_demo_model(settings.cache_dir), "demo (tiny random PULSE architecture)"
    else:
        model_dir, source = resolve_dir(settings.pulse_model, settings.repo_dir), settings.pulse_model
    device = resolve_device(settings)
    dtype = resolve_dtype(settings, device)
    raw = read_raw_config(Path(model_dir))
    try:
        tokenizer = load_tokenizer(model_dir)
    except (OSError, ValueError) as error:
        raise ModelNotConfigured(f"cannot load the PULSE tokenizer: {type(error).__name__}") from error
    model = load_model(Path(model_dir), llava_config(raw), device, dtype, settings.pulse_quantization)
    suppressed = add_image_token(model, tokenizer) + (byte_fallback_ids(tokenizer) if settings.demo else [])
    return PulseService(tokenizer=tokenizer, model=model, grid_pinpoints=grid_pinpoints(raw),
                        suppressed_token_ids=sorted(suppressed), source=source, device=device,
                        dtype=dtype, demo=settings.demo, quantization=settings.pulse_quantization)
