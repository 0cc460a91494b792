"""PULSE's prompt (LLaVA ``llava_v1`` conversation) and LLaVA's chunked tokenization of it.

LLaVA tokenizes the text before and after ``<image>`` separately (``tokenizer_image_token``): BOS on the first
chunk only, and each later chunk starts with the SentencePiece ``▁`` that a whole-prompt tokenization would
drop. The image placeholder becomes one ``<image>`` id per image feature (576 per tile), which
`LlavaForConditionalGeneration` replaces with the projected CLIP features in order.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from PIL import Image

from ..errors import InputError
from ..settings import Limits
from .anyres import tile_image
from .config import PULSE_GRID_PINPOINTS

IMAGE_TOKEN = "<image>"
SYSTEM_PROMPT = ("A chat between a curious human and an artificial intelligence assistant. "
                 "The assistant gives helpful, detailed, and polite answers to the human's questions.")
_ROLES = {"user": "USER", "assistant": "ASSISTANT"}


def load_tokenizer(path: str | Path):
    """PULSE's LLaMA SentencePiece tokenizer plus ``<image>`` as a special token (id 32000 for PULSE)."""
    from transformers import AddedToken, LlamaTokenizer

    tokenizer = LlamaTokenizer.from_pretrained(str(path))
    if IMAGE_TOKEN not in tokenizer.get_vocab():  # converted llava-hf repositories already have it
        tokenizer.add_tokens([AddedToken(IMAGE_TOKEN, special=True, normalized=False)], special_tokens=True)
    return tokenizer


def parse_history(value: Any, field: str, limits: Limits) -> list[dict[str, str]]:
    """Earlier turns ``[{"role": "user"|"assistant", "content": str}, ...]``, alternating, user first."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise InputError(field, f"expected a list of {{'role', 'content'}} turns, got {type(value).__name__}")
    if len(value) > limits.max_history_turns:
        raise InputError(field, f"{len(value)} turns; at most {limits.max_history_turns} are accepted")
    turns = []
    for index, turn in enumerate(value):
        expected_role = "user" if index % 2 == 0 else "assistant"
        if not isinstance(turn, dict):
            raise InputError(f"{field}[{index}]", f"expected an object with role and content, got {type(turn).__name__}")
        if turn.get("role") != expected_role:
            raise InputError(f"{field}[{index}].role", f"expected {expected_role!r} (turns alternate user/assistant, "
                             f"starting with user), got {str(turn.get('role'))[:20]!r}")
        turns.append({"role": expected_role, "content": _text(turn.get("content"), f"{field}[{index}].content",
                                                              limits.max_query_chars)})
    if len(turns) % 2:
        raise InputError(field, "must end with an assistant turn (the query is the next user turn)")
    return turns


def build_prompt(query: str, history: list[dict[str, str]] | None = None, with_image: bool = False) -> str:
    """The llava_v1 conversation text; the image goes at the start of the first user turn, as in LLaVA."""
    turns = [*(history or []), {"role": "user", "content": query}]
    prompt = SYSTEM_PROMPT + " "
    for index, turn in enumerate(turns):
        content = f"{IMAGE_TOKEN}\n{turn['content']}" if with_image and index == 0 else turn["content"]
        prompt += f"{_ROLES[turn['role']]}: {content}" + (" " if turn["role"] == "user" else "</s>")
    return prompt + "ASSISTANT:"


def prepare_inputs(tokenizer, query: str, image: Image.Image | None = None,
                   history: list[dict[str, str]] | None = None,
                   grid_pinpoints=PULSE_GRID_PINPOINTS) -> dict[str, torch.Tensor | None]:
    """``input_ids`` (1×L) with the image placeholder expanded to (1 + tiles) × 576 ``<image>`` ids,
    ``attention_mask`` (1×L), and ``pixel_values`` ((1 + tiles)×3×336×336 float32, None without an image)."""
    query = _text(query, "inputs.query", None)
    tiled = tile_image(image, grid_pinpoints) if image is not None else None
    chunks = build_prompt(query, history, with_image=tiled is not None).split(IMAGE_TOKEN)
    image_ids = [tokenizer.convert_tokens_to_ids(IMAGE_TOKEN)] * (tiled.n_tokens if tiled else 0)
    ids: list[int] = []
    for index, chunk in enumerate(chunks):
        chunk_ids = tokenizer(chunk).input_ids
        if index:
            ids += image_ids
            if chunk_ids[:1] == [tokenizer.bos_token_id]:
                chunk_ids = chunk_ids[1:]
        ids += chunk_ids
    input_ids = torch.tensor([ids], dtype=torch.long)
    return {"input_ids": input_ids, "attention_mask": torch.ones_like(input_ids),
            "pixel_values": tiled.pixel_values if tiled else None}


def _text(value: Any, field: str, max_chars: int | None) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InputError(field, "expected a non-empty string")
    if max_chars is not None and len(value) > max_chars:
        raise InputError(field, f"{len(value)} characters; at most {max_chars} are accepted")
    if IMAGE_TOKEN in value:
        raise InputError(field, f"must not contain the literal {IMAGE_TOKEN} placeholder (send the image in inputs.image)")
    return value
