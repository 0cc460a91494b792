"""`LlavaConfig` from a PULSE-7B repository's ``config.json``.

PULSE saves the original LLaVA config (``model_type: llava_llama``), which transformers has no class for.
We translate the fields that decide the architecture and refuse the variants PULSE never used (another
projector, unpadded patch merging) instead of silently building a different model. A repository already
converted to transformers' layout (``model_type: llava``) is read as is.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import ModelNotConfigured

# PULSE's image_grid_pinpoints (width, height), used when a converted config does not carry them.
PULSE_GRID_PINPOINTS: tuple[tuple[int, int], ...] = ((336, 672), (672, 336), (672, 672), (1008, 336), (336, 1008))

# openai/clip-vit-large-patch14-336, the vision tower named by PULSE's mm_vision_tower.
CLIP_VIT_L_14_336 = {
    "hidden_size": 1024, "intermediate_size": 4096, "num_hidden_layers": 24, "num_attention_heads": 16,
    "image_size": 336, "patch_size": 14, "projection_dim": 768, "hidden_act": "quick_gelu", "layer_norm_eps": 1e-5,
}
_KNOWN_TOWERS = {"openai/clip-vit-large-patch14-336": CLIP_VIT_L_14_336}
_SELECT_FEATURE = {"patch": "default", "cls_patch": "full"}  # LLaVA's mm_vision_select_feature → transformers
_TEXT_KEYS = ("hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads", "num_key_value_heads",
              "max_position_embeddings", "rms_norm_eps", "rope_theta", "vocab_size", "hidden_act", "attention_bias",
              "bos_token_id", "eos_token_id", "pad_token_id", "tie_word_embeddings")


def read_raw_config(model_dir: Path) -> dict:
    path = Path(model_dir) / "config.json"
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise ModelNotConfigured(f"cannot read {path.name} of the PULSE model: {type(error).__name__}") from error


def grid_pinpoints(raw: dict) -> tuple[tuple[int, int], ...]:
    """anyres candidate resolutions (width, height) in pixels."""
    return tuple(tuple(pair) for pair in raw.get("image_grid_pinpoints") or PULSE_GRID_PINPOINTS)


def llava_config(raw: dict):
    """A transformers `LlavaConfig` for either layout (``llava_llama`` original or ``llava`` converted)."""
    from transformers import CLIPVisionConfig, LlamaConfig, LlavaConfig

    if raw.get("model_type") == "llava":
        return LlavaConfig.from_dict(raw)
    if raw.get("model_type") != "llava_llama":
        raise ModelNotConfigured(f"unsupported PULSE config model_type {raw.get('model_type')!r}; "
                                 "expected 'llava_llama' (original LLaVA layout) or 'llava'")
    _require(raw, "mm_projector_type", "mlp2x_gelu")
    _require(raw, "mm_patch_merge_type", "flat")
    _require(raw, "image_aspect_ratio", "anyres")
    if raw.get("mm_use_im_start_end") or raw.get("mm_use_im_patch_token"):
        raise ModelNotConfigured("PULSE configs with image start/end or patch tokens are not supported")
    select = _SELECT_FEATURE.get(raw.get("mm_vision_select_feature", "patch"))
    if select is None:
        raise ModelNotConfigured(f"unsupported mm_vision_select_feature {raw.get('mm_vision_select_feature')!r}")
    # "vision_config" is our extension for small test/demo checkpoints; real PULSE names its tower instead.
    vision = raw.get("vision_config") or _KNOWN_TOWERS.get(raw.get("mm_vision_tower", ""))
    if vision is None:
        raise ModelNotConfigured(f"unsupported vision tower {raw.get('mm_vision_tower')!r}; "
                                 f"supported: {', '.join(_KNOWN_TOWERS)}")
    text = {key: raw[key] for key in _TEXT_KEYS if key in raw}
    return LlavaConfig(
        vision_config=CLIPVisionConfig(**vision),
        text_config=LlamaConfig(**text),
        image_token_index=raw.get("vocab_size", 32000),  # the id `<image>` gets when added to the tokenizer
        image_seq_length=(vision["image_size"] // vision["patch_size"]) ** 2,
        projector_hidden_act="gelu",  # mlp2x_gelu = Linear, GELU, Linear (with bias)
        multimodal_projector_bias=True,
        vision_feature_layer=raw.get("mm_vision_select_layer", -2),
        vision_feature_select_strategy=select,
        tie_word_embeddings=raw.get("tie_word_embeddings", False),
    )


def _require(raw: dict, key: str, expected: str) -> None:
    if raw.get(key, expected) != expected:
        raise ModelNotConfigured(f"unsupported PULSE config: {key}={raw[key]!r} (only {expected!r} is implemented)")
