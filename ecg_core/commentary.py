"""Turkish commentary through DeepSeek. Not implemented yet (issue 7)."""

PARAMETER_NAMES = frozenset({"enable_turkish_commentary", "deepseek_timeout"})
