"""PULSE inputs: anyres tiles, CLIP preprocessing, llava_v1 prompt and LLaVA's chunked tokenization.

The tokenization oracle is LLaVA's own algorithm (tokenizer_image_token) run on the raw SentencePiece model
of PULSE, independent of transformers' tokenizer classes.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from conftest import fixture_path
from ecg_core.errors import InputError
from ecg_core.pulse import load_tokenizer, parse_history, prepare_inputs
from ecg_core.pulse.anyres import anyres_tiles, clip_normalize, select_best_resolution, tile_image
from ecg_core.pulse.config import PULSE_GRID_PINPOINTS
from ecg_core.pulse.prompt import SYSTEM_PROMPT, build_prompt

LLAVA_IMAGE_TOKEN_INDEX = -200  # LLaVA's placeholder id in input_ids


@pytest.fixture(scope="module")
def pulse_tokenizer():
    return load_tokenizer(fixture_path("pulse7b"))


@pytest.fixture(scope="module")
def sentencepiece_model():
    import sentencepiece

    return sentencepiece.SentencePieceProcessor(model_file=str(fixture_path("pulse7b", "tokenizer.model")))


def llava_chunked_ids(sp, prompt: str) -> list[int]:
    """LLaVA's tokenizer_image_token: chunks tokenized separately, BOS (1) only once, -200 between."""
    chunks = [sp.encode(chunk) for chunk in prompt.split("<image>")]
    ids = [1] + chunks[0]
    for chunk in chunks[1:]:
        ids += [LLAVA_IMAGE_TOKEN_INDEX] + chunk
    return ids


def ecg_like_image(width: int, height: int) -> Image.Image:
    """Pink grid with a dark trace: content whose resizing and padding show up in the pixels."""
    array = np.full((height, width, 3), 255, np.uint8)
    array[::10, :, 1:] = 180
    array[:, ::10, 1:] = 180
    rows = (height / 2 + height / 4 * np.sin(np.arange(width) / 15)).astype(int)
    array[rows, np.arange(width)] = 0
    return Image.fromarray(array)


@pytest.mark.parametrize("size, grid, tiles", [
    ((1000, 500), (672, 336), 3),
    ((2200, 1700), (672, 672), 5),
    ((1100, 850), (672, 672), 5),
    ((500, 1000), (336, 672), 3),
    ((3000, 400), (1008, 336), 4),
    ((336, 336), (336, 672), 3),  # ties on kept pixels: the least padding, then the first listed
])
def test_anyres_tile_and_token_counts(size, grid, tiles):
    tiled = tile_image(ecg_like_image(*size), PULSE_GRID_PINPOINTS)
    assert tiled.grid == grid
    assert tiled.pixel_values.shape == (tiles, 3, 336, 336)
    assert tiled.n_tokens == tiles * 576


def test_best_resolution_prefers_kept_pixels_then_less_padding():
    # 2200×1700 fits 672×519 into 672×672 (348 768 px kept) vs 435×336 into 1008×336.
    assert select_best_resolution((2200, 1700), PULSE_GRID_PINPOINTS) == (672, 672)
    assert select_best_resolution((100, 100), [(336, 336), (672, 672)]) == (336, 336)


def test_tiles_are_overview_then_row_major_crops_of_the_padded_image():
    image = ecg_like_image(2200, 1700)
    tiles, grid = anyres_tiles(image, PULSE_GRID_PINPOINTS)
    assert grid == (672, 672) and len(tiles) == 5
    assert np.array_equal(np.asarray(tiles[0]), np.asarray(image.resize((336, 336), Image.Resampling.BICUBIC)))
    fitted = np.asarray(image.resize((672, 520), Image.Resampling.BICUBIC))  # LLaVA rounds up: ceil(519.3)
    top = (672 - fitted.shape[0]) // 2
    assert np.array_equal(np.asarray(tiles[1])[top:], fitted[:336 - top, :336])  # row 0, left
    assert np.array_equal(np.asarray(tiles[2])[top:], fitted[:336 - top, 336:])  # row 0, right
    assert not np.asarray(tiles[1])[:top].any()  # black padding above the image
    assert not np.asarray(tiles[4])[336 - (672 - top - fitted.shape[0]):].any()  # and below


def test_clip_normalisation_matches_transformers_clip_processor():
    try:  # transformers 5 names the PIL-based processor apart from the torchvision one
        from transformers.models.clip.image_processing_pil_clip import CLIPImageProcessorPil as CLIPImageProcessor
    except ImportError:  # 4.x
        from transformers import CLIPImageProcessor

    processor = CLIPImageProcessor(size={"shortest_edge": 336}, crop_size={"height": 336, "width": 336})
    tile = Image.fromarray(np.random.default_rng(0).integers(0, 256, (336, 336, 3), dtype=np.uint8))
    expected = processor(tile, return_tensors="np")["pixel_values"][0]
    np.testing.assert_allclose(clip_normalize(tile), expected, atol=1e-5)


def test_image_tokens_sit_where_llava_puts_its_placeholder(pulse_tokenizer, sentencepiece_model):
    query = "What is the rhythm? Is there ST elevation in V2?"
    inputs = prepare_inputs(pulse_tokenizer, query, ecg_like_image(1000, 500))
    expected = llava_chunked_ids(sentencepiece_model, f"{SYSTEM_PROMPT} USER: <image>\n{query} ASSISTANT:")
    slot = expected.index(LLAVA_IMAGE_TOKEN_INDEX)
    expected = expected[:slot] + [32000] * 1728 + expected[slot + 1:]
    assert inputs["input_ids"].dtype == torch.long
    assert inputs["input_ids"][0].tolist() == expected
    assert inputs["pixel_values"].shape == (3, 3, 336, 336)
    # The "▁" after the image is the token a one-pass tokenization of the prompt loses.
    assert expected[slot + 1728] == sentencepiece_model.piece_to_id("▁")
    whole = pulse_tokenizer(build_prompt(query, with_image=True)).input_ids
    assert len(whole) == len(expected) - 1728


def test_text_only_prompt(pulse_tokenizer, sentencepiece_model):
    inputs = prepare_inputs(pulse_tokenizer, "Define the QT interval.")
    assert inputs["pixel_values"] is None
    assert inputs["input_ids"][0].tolist() == [1] + sentencepiece_model.encode(
        f"{SYSTEM_PROMPT} USER: Define the QT interval. ASSISTANT:")


def test_history_turns_end_with_eos_and_image_goes_to_the_first_turn(pulse_tokenizer):
    history = [{"role": "user", "content": "Describe this ECG."},
               {"role": "assistant", "content": "Sinus rhythm, normal axis."},
               {"role": "user", "content": "Any ischaemia?"}, {"role": "assistant", "content": "No."}]
    assert build_prompt("And the QTc?", history, with_image=True) == (
        f"{SYSTEM_PROMPT} USER: <image>\nDescribe this ECG. ASSISTANT: Sinus rhythm, normal axis.</s>"
        "USER: Any ischaemia? ASSISTANT: No.</s>USER: And the QTc? ASSISTANT:")
    ids = prepare_inputs(pulse_tokenizer, "And the QTc?", ecg_like_image(600, 600), history)["input_ids"][0].tolist()
    assert ids.count(pulse_tokenizer.eos_token_id) == 2
    assert ids.count(32000) == 5 * 576  # 600×600 → 672×672 grid
    assert ids.index(32000) < ids.index(pulse_tokenizer.eos_token_id)


def test_image_placeholder_text_is_refused(pulse_tokenizer, settings):
    with pytest.raises(InputError, match=r"^inputs\.query: .*<image>"):
        prepare_inputs(pulse_tokenizer, "look at <image> please")
    with pytest.raises(InputError, match=r"^inputs\.history\[0\]\.content: .*<image>"):
        parse_history([{"role": "user", "content": "<image>"}, {"role": "assistant", "content": "ok"}],
                      "inputs.history", settings.limits)


@pytest.mark.parametrize("history, field", [
    ("hello", r"inputs\.history"),
    ([{"role": "assistant", "content": "hi"}, {"role": "user", "content": "x"}], r"inputs\.history\[0\]\.role"),
    ([{"role": "user", "content": "hi"}], r"inputs\.history"),  # must end with the assistant
    ([{"role": "user", "content": 5}, {"role": "assistant", "content": "x"}], r"inputs\.history\[0\]\.content"),
    ([{"role": "user", "content": "a"}, {"role": "assistant", "content": "b" * 5000}],
     r"inputs\.history\[1\]\.content"),
    ([{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}] * 9, r"inputs\.history"),
    (["user: hi"], r"inputs\.history\[0\]"),
])
def test_bad_history_names_the_field(history, field, settings):
    with pytest.raises(InputError, match=rf"^{field}: "):
        parse_history(history, "inputs.history", settings.limits)


def test_history_is_normalised(settings):
    turns = [{"role": "user", "content": "a", "extra": 1}, {"role": "assistant", "content": "b"}]
    assert parse_history(turns, "inputs.history", settings.limits) == [
        {"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]
    assert parse_history(None, "inputs.history", settings.limits) == []
