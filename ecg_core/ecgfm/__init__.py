"""ECG-FM (bowang-lab/ECG-FM, weights wanglab/ecg-fm) re-implemented in plain PyTorch, without fairseq."""

from .checkpoint import load_ecgfm
from .preprocess import preprocess

__all__ = ["load_ecgfm", "preprocess"]
