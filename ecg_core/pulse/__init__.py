"""PULSE-7B (LLaVA-v1.6-Vicuna-7B fine-tuned on ECG images) through transformers, without the LLaVA repository.

`load_tokenizer` and `prepare_inputs` reproduce PULSE's tokenizer, prompt and anyres image tiles; the model
itself is loaded by `service.build_service` (imported lazily: it pulls in the transformers model classes).
"""

from .prompt import load_tokenizer, parse_history, prepare_inputs

__all__ = ["load_tokenizer", "parse_history", "prepare_inputs"]
