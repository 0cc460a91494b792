"""Small deterministic demo weights of the ECG-FM architecture, for endpoints run with ECG_DEMO=1.

They are random (fixed seed), so their outputs mean nothing clinically; they exist so the whole signal
route can be exercised without downloading the 1 GB released checkpoints. They are written once as a
converted safetensors directory and then loaded through the same path as real weights.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import torch

from .checkpoint import CONVERTED_WEIGHTS, save_converted
from .labels import MIMIC_IV_ECG_LABELS
from .model import ECGFM, ECGFMConfig

DEMO_SEED = 20240
# ECG-FM's output shapes (768-d embeddings, 17 labels) on a narrow convolution front end and two thin layers.
DEMO_CONFIG = ECGFMConfig(
    conv_layers=((32, 2, 2),) * 4,
    embed_dim=768,
    ffn_dim=256,
    num_heads=4,
    num_layers=2,
    conv_pos=16,
    conv_pos_groups=16,
    labels=MIMIC_IV_ECG_LABELS,
)


def demo_weights(directory: Path) -> Path:
    """Path of ``directory/model.safetensors``, creating it on first use (safe with concurrent workers)."""
    weights = directory / CONVERTED_WEIGHTS
    if weights.exists():
        return weights
    with torch.random.fork_rng(devices=[]):  # a fixed seed without disturbing the caller's generator
        torch.manual_seed(DEMO_SEED)
        model = ECGFM(DEMO_CONFIG)
    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".demo-", dir=directory.parent))
    save_converted(model, staging)
    try:
        os.replace(staging, directory)  # atomic: readers see no directory or a complete one
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)
        if not weights.exists():  # not another worker finishing first: something else occupies the folder
            raise
    return weights
