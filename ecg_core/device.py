"""Device and dtype selection from settings (ECG_DEVICE, ECG_DTYPE)."""

from __future__ import annotations

import torch

from .errors import ModelNotConfigured
from .settings import Settings

_DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}


def resolve_device(settings: Settings) -> torch.device:
    if settings.device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if settings.device.startswith("cuda") and not torch.cuda.is_available():
        raise ModelNotConfigured(f"ECG_DEVICE={settings.device} but CUDA is not available on this machine")
    return torch.device(settings.device)


def resolve_dtype(settings: Settings, device: torch.device) -> torch.dtype:
    """auto: bfloat16 on CUDA cards that support it, else float16 on CUDA, float32 on the CPU."""
    if settings.dtype != "auto":
        return _DTYPES[settings.dtype]
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.float32
