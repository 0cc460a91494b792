"""ECG-FM (bowang-lab) re-implemented in plain PyTorch. Not implemented yet (issue 3)."""
