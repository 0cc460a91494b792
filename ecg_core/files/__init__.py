"""ECG files in: the formats carts and databases write → a validated `Recording` plus the cart's own findings.

``read_ecg_file(data, format_hint=..., limits=...)`` detects the format from the content (a hint may name it),
decodes it with the format's maintained library, and returns an `EcgFile`. Every problem with a file is an
`InputError(field, "<format>: <problem>")`. Patient identity stays inside the parser; only age, sex and a stated
pacemaker leave it.
"""

from .model import EcgFile
from .reader import ACCEPTED_FORMATS, read_ecg_file

__all__ = ["ACCEPTED_FORMATS", "EcgFile", "read_ecg_file"]
