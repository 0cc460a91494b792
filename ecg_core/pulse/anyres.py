"""LLaVA-v1.6 "anyres" image tiling exactly as PULSE was trained (``process_anyres_image`` in LLaVA).

The image is fitted (aspect kept, bicubic) into the best of the grid resolutions, padded centred on black,
cut into 336×336 tiles row-major, and preceded by the whole image squashed to 336×336. Each tile then goes
through CLIP's preprocessing; because every tile is already 336×336, CLIP's shortest-edge resize and centre
crop leave it unchanged and only the rescale to [0, 1] and the per-channel normalisation remain.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image
from transformers.image_utils import OPENAI_CLIP_MEAN, OPENAI_CLIP_STD

TILE_SIZE = 336  # pixels, CLIP ViT-L/14-336 input
TOKENS_PER_TILE = (TILE_SIZE // 14) ** 2  # 576 patch features per tile (CLS dropped)


@dataclass(frozen=True)
class TiledImage:
    pixel_values: torch.Tensor  # (1 + tiles, 3, 336, 336) float32, CLIP-normalised
    grid: tuple[int, int]  # chosen resolution (width, height) in pixels

    @property
    def n_tiles(self) -> int:
        """Crops including the squashed overview (the first one)."""
        return self.pixel_values.shape[0]

    @property
    def n_tokens(self) -> int:
        return self.n_tiles * TOKENS_PER_TILE


def select_best_resolution(size: tuple[int, int], candidates) -> tuple[int, int]:
    """LLaVA's choice: the candidate keeping the most original pixels, then the one wasting the fewest."""
    width, height = size
    best, best_effective, best_wasted = None, 0, math.inf
    for candidate_width, candidate_height in candidates:
        scale = min(candidate_width / width, candidate_height / height)
        effective = min(int(width * scale) * int(height * scale), width * height)
        wasted = candidate_width * candidate_height - effective
        if effective > best_effective or (effective == best_effective and wasted < best_wasted):
            best, best_effective, best_wasted = (candidate_width, candidate_height), effective, wasted
    return best


def resize_and_pad(image: Image.Image, target: tuple[int, int]) -> Image.Image:
    """Fit inside `target` keeping the aspect ratio (LLaVA rounds the fitted side up), pad centred on black."""
    width, height = image.size
    target_width, target_height = target
    scale_width, scale_height = target_width / width, target_height / height
    if scale_width < scale_height:
        new_size = (target_width, min(math.ceil(height * scale_width), target_height))
    else:
        new_size = (min(math.ceil(width * scale_height), target_width), target_height)
    canvas = Image.new("RGB", target, (0, 0, 0))
    canvas.paste(image.resize(new_size, Image.Resampling.BICUBIC),
                 ((target_width - new_size[0]) // 2, (target_height - new_size[1]) // 2))
    return canvas


def anyres_tiles(image: Image.Image, grid_pinpoints) -> tuple[list[Image.Image], tuple[int, int]]:
    """[overview, tile row 0 col 0, row 0 col 1, ...] and the chosen grid resolution."""
    image = image.convert("RGB")
    grid = select_best_resolution(image.size, grid_pinpoints)
    padded = resize_and_pad(image, grid)
    tiles = [padded.crop((left, top, left + TILE_SIZE, top + TILE_SIZE))
             for top in range(0, grid[1], TILE_SIZE) for left in range(0, grid[0], TILE_SIZE)]
    overview = image.resize((TILE_SIZE, TILE_SIZE), Image.Resampling.BICUBIC)
    return [overview, *tiles], grid


def clip_normalize(tile: Image.Image) -> np.ndarray:
    """(3, 336, 336) float32: pixels / 255, minus CLIP's mean, over CLIP's std, per channel."""
    array = np.asarray(tile, dtype=np.float32) / 255.0
    array = (array - np.asarray(OPENAI_CLIP_MEAN, np.float32)) / np.asarray(OPENAI_CLIP_STD, np.float32)
    return array.transpose(2, 0, 1)


def tile_image(image: Image.Image, grid_pinpoints) -> TiledImage:
    tiles, grid = anyres_tiles(image, grid_pinpoints)
    return TiledImage(torch.from_numpy(np.stack([clip_normalize(tile) for tile in tiles])), grid)
