"""Load PULSE-7B weights into transformers' `LlavaForConditionalGeneration`.

PULSE's safetensors keep the original LLaVA names; `KEY_MAPPING` renames them while loading (no converted
copy on disk). The same mapping leaves an already converted (transformers-layout) checkpoint unchanged, and
transformers' own Llava rules handle its older ``language_model.model.*`` names. Loading is strict: a weight
of the model that the checkpoint does not fill, or a checkpoint weight nothing consumes, is an error rather
than a silently random layer.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import torch
import transformers
from packaging import version
from transformers import BitsAndBytesConfig, LlavaForConditionalGeneration

from ..errors import ModelNotConfigured

# transformers 4.52 moved Llava's parts under `model` (a LlavaModel) and the decoder layers up one level; the
# endpoint image's 4.51 keeps them on the model itself. 4.51's loader strips the `model.` prefix that every PULSE
# name but lm_head carries (its Llava has no `model` attribute), so both mappings target `model.*` names.
_NESTED_LLAVA = hasattr(transformers, "LlavaModel")
_LANGUAGE_MODEL = "model.language_model." if _NESTED_LLAVA else "model.language_model.model."
KEY_MAPPING: dict[str, str] = {
    r"^model\.vision_tower\.vision_tower\.": "model.vision_tower.",
    r"^model\.mm_projector\.0\.": "model.multi_modal_projector.linear_1.",
    r"^model\.mm_projector\.2\.": "model.multi_modal_projector.linear_2.",
    r"^model\.(embed_tokens|layers|norm)\.": _LANGUAGE_MODEL + r"\1.",
    **({} if _NESTED_LLAVA else {r"^lm_head\.": "model.language_model.lm_head."}),
    # A key_mapping replaces the class's own renaming of older transformers layouts, which 4.52-4.57's
    # save_pretrained writes back (`language_model.lm_head.*`, ...): keep it, so converted folders load too.
    **getattr(LlavaForConditionalGeneration, "_checkpoint_conversion_mapping", {}),
}
# The image-newline vector is only used by LLaVA's "spatial_unpad" merge; PULSE was trained with "flat".
# (4.51 reports it without its `model.` prefix.)
DROPPED_KEYS: tuple[str, ...] = (r"^(model\.)?image_newline$",)
# from_pretrained's dtype argument: `dtype` from transformers 4.56, `torch_dtype` before.
_DTYPE_ARGUMENT = "dtype" if version.parse(transformers.__version__) >= version.parse("4.56") else "torch_dtype"

# transformers prefix → original LLaVA prefix, the inverse of KEY_MAPPING (to write checkpoints like PULSE's).
_ORIGINAL_PREFIXES = (
    ("model.vision_tower.vision_model.", "model.vision_tower.vision_tower.vision_model."),  # transformers 4.52+ CLIP
    ("model.vision_tower.", "model.vision_tower.vision_tower.vision_model."),  # 5.x CLIP has no vision_model level
    ("model.multi_modal_projector.linear_1.", "model.mm_projector.0."),
    ("model.multi_modal_projector.linear_2.", "model.mm_projector.2."),
    ("model.language_model.", "model."),
    # transformers 4.51 layout
    ("vision_tower.vision_model.", "model.vision_tower.vision_tower.vision_model."),
    ("multi_modal_projector.linear_1.", "model.mm_projector.0."),
    ("multi_modal_projector.linear_2.", "model.mm_projector.2."),
    ("language_model.model.", "model."),
    ("language_model.lm_head.", "lm_head."),
)
# bitsandbytes quantizes the language model only; the vision tower, projector and output head stay in dtype.
_NOT_QUANTIZED = ["vision_tower", "multi_modal_projector", "lm_head"]


class PulseLlavaForConditionalGeneration(LlavaForConditionalGeneration):
    """`LlavaForConditionalGeneration` that knows PULSE's unused ``model.image_newline`` weight."""

    # 4.51 also lists lm_head (the one PULSE name without the `model.` prefix it strips) as unexpected although it
    # renames and loads it; were it absent from the checkpoint, its weight would show among the missing keys.
    _keys_to_ignore_on_load_unexpected = [*DROPPED_KEYS, *([] if _NESTED_LLAVA else [r"^lm_head\.weight$"])]


def to_original_layout(state_dict: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Rename a transformers Llava state dict to the original LLaVA names (what PULSE's files contain)."""
    renamed = {}
    for name, tensor in state_dict.items():
        for prefix, original in _ORIGINAL_PREFIXES:
            if name.startswith(prefix):
                name = original + name[len(prefix):]
                break
        renamed[name] = tensor
    return renamed


def load_model(model_dir: Path, config, device: torch.device, dtype: torch.dtype, quantization: str = ""):
    """The model on `device` in eval mode; ModelNotConfigured when the files do not fit the architecture."""
    options = dict(config=config, key_mapping=KEY_MAPPING, device_map=str(device), **{_DTYPE_ARGUMENT: dtype},
                   attn_implementation="sdpa", output_loading_info=True)
    if quantization:
        options["quantization_config"] = _quantization_config(quantization, device, dtype)
    try:
        model, info = PulseLlavaForConditionalGeneration.from_pretrained(model_dir, **options)
    except (OSError, ValueError, RuntimeError) as error:
        raise ModelNotConfigured(f"cannot load the PULSE weights: {type(error).__name__}: {str(error)[:300]}") from error
    problems = [f"{len(keys)} {what} (e.g. {sorted(keys)[0]})"
                for what, keys in (("model weights missing from the checkpoint", info["missing_keys"]),
                                   ("checkpoint weights not used", info["unexpected_keys"]),
                                   ("weights with the wrong shape", info["mismatched_keys"])) if keys]
    if problems:
        raise ModelNotConfigured("the PULSE checkpoint does not match the LLaVA architecture: " + "; ".join(problems))
    return model.eval()


def add_image_token(model, tokenizer) -> list[int]:
    """Give the tokenizer's ``<image>`` id an embedding row; return the ids generation must never produce.

    PULSE's vocabulary has 32000 entries and LLaVA never embedded its image placeholder (-200); transformers
    embeds the placeholder id before replacing those positions with image features, so the tables grow
    (padded to a multiple of 64 for fast matmuls). The new rows are never read as text.
    """
    image_token_id = tokenizer.convert_tokens_to_ids("<image>")
    text_vocab = model.get_input_embeddings().num_embeddings
    if image_token_id >= text_vocab:
        model.resize_token_embeddings(len(tokenizer), pad_to_multiple_of=64, mean_resizing=False)
    model.config.image_token_id = image_token_id
    model.config.image_token_index = image_token_id  # the name transformers 4.51 reads
    rows = model.get_input_embeddings().num_embeddings
    return sorted({image_token_id, *range(len(tokenizer), rows)})


def _quantization_config(quantization: str, device: torch.device, dtype: torch.dtype) -> BitsAndBytesConfig:
    if device.type != "cuda":
        raise ModelNotConfigured(f"PULSE_QUANTIZATION={quantization} needs a CUDA GPU (bitsandbytes)")
    if importlib.util.find_spec("bitsandbytes") is None:
        raise ModelNotConfigured(f"PULSE_QUANTIZATION={quantization} needs the bitsandbytes package")
    if quantization == "8bit":
        return BitsAndBytesConfig(load_in_8bit=True, llm_int8_skip_modules=_NOT_QUANTIZED)
    return BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_compute_dtype=dtype,
                              bnb_4bit_use_double_quant=True, llm_int8_skip_modules=_NOT_QUANTIZED)

