"""PULSE-7B through transformers. Not implemented yet (issue 5)."""
