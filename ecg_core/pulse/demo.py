"""Small PULSE-architecture checkpoints written in PULSE's original on-disk format.

Demo mode (ECG_DEMO=1) and the tests need a model that exercises the real loading path without the 14 GB
weights: the same LLaVA architecture (CLIP-336 tiles of 576 tokens, mlp2x_gelu projector, LLaMA decoder)
shrunk to a few layers of width 32-64, deterministic random weights, saved with the original LLaVA key names
and a ``llava_llama`` config.json, plus a SentencePiece tokenizer trained offline on a built-in corpus and
saved like PULSE's (``tokenizer.model`` + ``tokenizer_config.json``).
"""

from __future__ import annotations

import io
import json
import re
import shutil
import tempfile
from pathlib import Path

import sentencepiece
import torch
from safetensors.torch import save_file

from .checkpoint import to_original_layout
from .config import CLIP_VIT_L_14_336, PULSE_GRID_PINPOINTS, llava_config
from .prompt import SYSTEM_PROMPT

# The architecture-defining fields of PULSE-7B's config.json (sizes are replaced by shrink_config).
PULSE_ARCHITECTURE = {
    "model_type": "llava_llama", "architectures": ["LlavaLlamaForCausalLM"], "mm_projector_type": "mlp2x_gelu",
    "mm_patch_merge_type": "flat", "image_aspect_ratio": "anyres", "image_grid_pinpoints": PULSE_GRID_PINPOINTS,
    "mm_vision_tower": "openai/clip-vit-large-patch14-336", "mm_vision_select_layer": -2,
    "mm_vision_select_feature": "patch", "mm_use_im_start_end": False, "mm_use_im_patch_token": False,
    "hidden_act": "silu", "max_position_embeddings": 4096, "rms_norm_eps": 1e-5, "rope_theta": 10000.0,
    "bos_token_id": 1, "eos_token_id": 2, "pad_token_id": 0, "tie_word_embeddings": False, "vocab_size": 32000,
}
TINY_TEXT = {"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4,
             "num_key_value_heads": 4}
# Same image geometry as CLIP ViT-L/14-336 (so tile and token counts are PULSE's), two narrow layers.
TINY_VISION = {**CLIP_VIT_L_14_336, "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2,
               "num_attention_heads": 2, "projection_dim": 32}
DEMO_VOCAB_SIZE = 512
_BYTE_PIECE = re.compile(r"<0x[0-9A-F]{2}>")
_DEMO_CORPUS = (
    SYSTEM_PROMPT, "USER: What is the rhythm? ASSISTANT: Sinus rhythm at 72 beats per minute.",
    "The ECG shows atrial fibrillation with a rapid ventricular response.",
    "The QRS complex is wide, consistent with left bundle branch block.",
    "First degree AV block: the PR interval is longer than 200 ms.",
    "ST elevation in leads V1 to V4 suggests an anterior myocardial infarction.",
    "Normal axis, no acute ST-T changes, QTc 420 ms. Leads I, II, III, aVR, aVL, aVF and V1-V6 are shown.",
    "Please describe this 12-lead electrocardiogram and give a diagnosis.",
)


def shrink_config(raw: dict, vocab_size: int) -> dict:
    """PULSE's config.json with tiny layer sizes (and a matching vision tower) for a small random model."""
    return {**raw, **TINY_TEXT, "vocab_size": vocab_size, "mm_hidden_size": TINY_VISION["hidden_size"],
            "vision_config": TINY_VISION}


def write_tiny_checkpoint(directory: Path, raw_config: dict, seed: int = 0) -> None:
    """config.json + model.safetensors with random weights under the original LLaVA key names."""
    from transformers import LlavaForConditionalGeneration

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = LlavaForConditionalGeneration(llava_config(raw_config))
    weights = to_original_layout({name: tensor.contiguous() for name, tensor in model.state_dict().items()})
    weights["model.image_newline"] = torch.zeros(raw_config["hidden_size"])  # present in PULSE, unused
    directory.mkdir(parents=True, exist_ok=True)
    save_file(weights, directory / "model.safetensors", metadata={"format": "pt"})
    (directory / "config.json").write_text(json.dumps(raw_config, indent=2))


def write_demo_tokenizer(directory: Path) -> int:
    """A LLaMA-style SentencePiece BPE (byte fallback, <unk>/<s>/</s> = 0/1/2) saved like PULSE's files.

    Returns its vocabulary size (at most DEMO_VOCAB_SIZE: the small corpus may yield fewer merges)."""
    model = io.BytesIO()
    sentencepiece.SentencePieceTrainer.train(
        sentence_iterator=iter(_DEMO_CORPUS * 8), model_writer=model, vocab_size=DEMO_VOCAB_SIZE, model_type="bpe",
        byte_fallback=True, hard_vocab_limit=False, num_threads=1, minloglevel=2, character_coverage=1.0,
        unk_id=0, bos_id=1, eos_id=2, pad_id=-1, normalization_rule_name="identity", remove_extra_whitespaces=False)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "tokenizer.model").write_bytes(model.getvalue())
    (directory / "tokenizer_config.json").write_text(json.dumps({
        "tokenizer_class": "LlamaTokenizer", "add_bos_token": True, "add_eos_token": False, "legacy": False,
        "bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "pad_token": "<unk>",
        "model_max_length": 4096, "clean_up_tokenization_spaces": False}, indent=2))
    return sentencepiece.SentencePieceProcessor(model_proto=model.getvalue()).get_piece_size()


def byte_fallback_ids(tokenizer) -> list[int]:
    """The demo tokenizer's byte pieces (``<0x00>``..``<0xFF>``). Random demo weights would emit them in any
    order, i.e. invalid UTF-8 and control characters; real PULSE learned to spell with them."""
    return [index for piece, index in tokenizer.get_vocab().items() if _BYTE_PIECE.fullmatch(piece)]


def ensure_demo_model(cache_dir: Path) -> Path:
    """The demo checkpoint directory under ``cache_dir/demo/pulse``, built once (atomically) if absent."""
    target = Path(cache_dir) / "demo" / "pulse"
    if (target / "model.safetensors").is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix="pulse-", dir=target.parent))
    try:
        vocab_size = write_demo_tokenizer(staging)
        write_tiny_checkpoint(staging, shrink_config(PULSE_ARCHITECTURE, vocab_size))
        staging.rename(target)
    except OSError:
        if not (target / "model.safetensors").is_file():  # not just a concurrent builder winning the rename
            raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target
