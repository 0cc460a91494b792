"""All configuration, read once from environment variables into one immutable `Settings` object.

Every variable is documented in README.md and deployment_guide.md. Limits are explicit settings so an
operator can tighten or relax them without touching code.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from .errors import InputError

DEFAULT_ECGFM_CLASSIFIER = "wanglab/ecg-fm/mimic_iv_ecg_finetuned.pt"
DEFAULT_ECGFM_ENCODER = "wanglab/ecg-fm/mimic_iv_ecg_physionet_pretrained.pt"
DEFAULT_PULSE_MODEL = "PULSE-ECG/PULSE-7B"
DEFAULT_DEEPSEEK_BASE_URL = "https://api.deepseek.com"
DEFAULT_DEEPSEEK_MODEL = "deepseek-v4-flash"


@dataclass(frozen=True)
class Limits:
    """Input limits. Requests beyond them are refused with an error naming the field."""

    max_body_bytes: int = 64 * 1024 * 1024  # whole HTTP request body
    header_timeout_s: float = 10.0  # local server: a request's headers must arrive within this
    body_timeout_s: float = 60.0  # local server: and its whole body within this, from the request's start
    max_json_depth: int = 32
    max_batch_items: int = 64
    max_leads: int = 12
    min_samples: int = 64
    max_samples: int = 1_200_000  # per lead: 10 min at 2000 Hz
    min_fs: float = 100.0
    max_fs: float = 2000.0
    min_duration_s: float = 2.5
    max_nan_fraction: float = 0.05  # per lead; below this NaN runs are interpolated and reported
    max_query_chars: int = 4000
    max_history_turns: int = 16
    max_image_bytes: int = 20 * 1024 * 1024
    max_image_pixels: int = 40_000_000
    max_request_image_pixels: int = 80_000_000  # decoded pixels in one request (3 bytes each as RGB)
    image_fetch_timeout_s: float = 10.0
    max_tabular_rows: int = 10_000
    max_tabular_features: int = 4096
    max_file_bytes: int = 32 * 1024 * 1024  # one ECG file, after base64 decoding; checked before parsing
    max_decompressed_bytes: int = 128 * 1024 * 1024  # a zip's members together, from its directory, before extraction
    max_archive_members: int = 16
    max_file_amplitude_mv: float = 50.0  # a lead spanning more than this has a calibration that makes no sense
    max_abs_feature_value: float = 1e15  # feature rows: far beyond any measurement, well inside float32
    max_estimators: int = 500  # n_estimators of forests (memory grows with it)
    max_iterations: int = 10_000  # max_iter of iterative solvers
    fit_timeout_s: float = 120.0  # a fit runs in a worker process that is killed at this wall-clock limit
    max_concurrent_fits: int = 2  # more are refused with 503 + Retry-After


@dataclass(frozen=True)
class Settings:
    repo_dir: Path = Path(".")
    demo: bool = False
    preload: bool = False
    ecgfm_classifier: str = DEFAULT_ECGFM_CLASSIFIER
    ecgfm_encoder: str = DEFAULT_ECGFM_ENCODER
    ecgfm_trust_pickle: bool = False
    ecgfm_thresholds: str = ""  # JSON object {label: threshold} or one number for all labels
    pulse_model: str = DEFAULT_PULSE_MODEL
    pulse_quantization: str = ""  # "", "8bit" or "4bit" (bitsandbytes)
    tabular_model_dir: Path = Path("tabular_models")
    device: str = "auto"  # auto | cpu | cuda | cuda:N
    dtype: str = "auto"  # auto | float32 | float16 | bfloat16
    cache_dir: Path = Path(".cache") / "ecg_endpoint"
    deepseek_api_key: str = field(default="", repr=False)
    deepseek_base_url: str = DEFAULT_DEEPSEEK_BASE_URL
    deepseek_model: str = DEFAULT_DEEPSEEK_MODEL
    deepseek_breaker_failures: int = 3  # failed DeepSeek calls in a row that open the circuit breaker
    deepseek_breaker_cooldown_s: float = 60.0  # how long it then stays open before one probe call
    endpoint_token: str = field(default="", repr=False)
    allow_private_image_urls: bool = False  # only for tests / trusted networks
    mlflow_tracking_uri: str = ""  # MLFLOW_TRACKING_URI: log every tabular fit to MLflow (tabular/tracking.py)
    cors_origins: tuple[str, ...] = ()  # local server: origins whose browser pages may call it ("*": any)
    limits: Limits = Limits()

    @classmethod
    def from_env(cls, repo_dir: str | os.PathLike = ".", env: Mapping[str, str] | None = None) -> "Settings":
        env = os.environ if env is None else env
        repo = Path(repo_dir or ".").resolve()

        def text(name: str, default: str = "", *aliases: str) -> str:
            for key in (name, *aliases):
                value = env.get(key)
                if value is not None and value.strip():
                    return value.strip()
            return default

        limits = Limits(**{
            f.name: _parse_number(f"ECG_{f.name.upper()}", env[f"ECG_{f.name.upper()}"], type(f.default))
            for f in dataclasses.fields(Limits) if f"ECG_{f.name.upper()}" in env
        })
        return cls(
            repo_dir=repo,
            demo=_parse_bool("ECG_DEMO", text("ECG_DEMO", "0")),
            preload=_parse_bool("ECG_PRELOAD", text("ECG_PRELOAD", "0")),
            ecgfm_classifier=text("ECGFM_CLASSIFIER", DEFAULT_ECGFM_CLASSIFIER),
            ecgfm_encoder=text("ECGFM_ENCODER", DEFAULT_ECGFM_ENCODER),
            ecgfm_trust_pickle=_parse_bool("ECGFM_TRUST_PICKLE", text("ECGFM_TRUST_PICKLE", "0")),
            ecgfm_thresholds=text("ECGFM_THRESHOLDS"),
            pulse_model=text("PULSE_MODEL", DEFAULT_PULSE_MODEL),
            pulse_quantization=text("PULSE_QUANTIZATION").lower(),
            tabular_model_dir=_under(repo, text("TABULAR_MODEL_DIR", "tabular_models")),
            device=text("ECG_DEVICE", "auto").lower(),
            dtype=text("ECG_DTYPE", "auto").lower(),
            cache_dir=_under(repo, text("ECG_CACHE_DIR", str(Path(".cache") / "ecg_endpoint"))),
            deepseek_api_key=text("DEEPSEEK_API_KEY", "", "deep_key", "DEEP_KEY"),
            deepseek_base_url=text("DEEPSEEK_BASE_URL", DEFAULT_DEEPSEEK_BASE_URL).rstrip("/"),
            deepseek_model=text("DEEPSEEK_MODEL", DEFAULT_DEEPSEEK_MODEL),
            deepseek_breaker_failures=_parse_number(
                "DEEPSEEK_BREAKER_FAILURES", text("DEEPSEEK_BREAKER_FAILURES", "3"), int),
            deepseek_breaker_cooldown_s=_parse_number(
                "DEEPSEEK_BREAKER_COOLDOWN_S", text("DEEPSEEK_BREAKER_COOLDOWN_S", "60"), float),
            endpoint_token=text("ENDPOINT_TOKEN"),
            allow_private_image_urls=_parse_bool(
                "ECG_ALLOW_PRIVATE_IMAGE_URLS", text("ECG_ALLOW_PRIVATE_IMAGE_URLS", "0")),
            mlflow_tracking_uri=text("MLFLOW_TRACKING_URI"),
            cors_origins=tuple(origin.strip().rstrip("/") for origin in text("ECG_CORS_ORIGINS").split(",")
                               if origin.strip()),
            limits=limits,
        ).validated()

    def validated(self) -> "Settings":
        if self.device not in {"auto", "cpu", "cuda"} and not self.device.startswith("cuda:"):
            raise InputError("ECG_DEVICE", f"expected auto, cpu, cuda or cuda:N, got {self.device!r}")
        if self.dtype not in {"auto", "float32", "float16", "bfloat16"}:
            raise InputError("ECG_DTYPE", f"expected auto, float32, float16 or bfloat16, got {self.dtype!r}")
        if self.pulse_quantization not in {"", "8bit", "4bit"}:
            raise InputError("PULSE_QUANTIZATION", f"expected 8bit or 4bit, got {self.pulse_quantization!r}")
        for origin in self.cors_origins:
            if origin != "*" and not origin.startswith(("http://", "https://")):
                raise InputError("ECG_CORS_ORIGINS", f"expected '*' or http(s) origins separated by commas, "
                                 f"got {origin!r}")
        return self

    def replace(self, **changes) -> "Settings":
        return dataclasses.replace(self, **changes).validated()


def _under(repo: Path, value: str) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else repo / path


def _parse_bool(name: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise InputError(name, f"expected a boolean (1/0, true/false), got {value!r}")


def _parse_number(name: str, value: str, kind: type):
    try:
        number = kind(value)
    except ValueError:
        raise InputError(name, f"expected a {kind.__name__}, got {value!r}") from None
    if number <= 0:
        raise InputError(name, f"must be positive, got {value!r}")
    return number
