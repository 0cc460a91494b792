"""ECG inference endpoint core: request contract, signal analysis, ECG-FM, PULSE-7B, tabular models."""

__version__ = "0.1.0"
