"""Load ECG-FM weights: released fairseq-signals `.pt` checkpoints or this project's slim safetensors.

A fairseq-signals checkpoint is a pickled dict with ``cfg["model"]`` (the architecture) and ``model`` (the
state dict, mostly named like `model.ECGFM`); the 1.08 GB released files also carry optimizer state, which
is never touched. Files are read with ``torch.load(weights_only=True)``; a file that needs arbitrary
unpickling is refused unless the operator trusts it (ECGFM_TRUST_PICKLE).
"""

from __future__ import annotations

import ast
import json
import logging
import pickle
import re
import zipfile
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file

from ..errors import ModelNotConfigured
from ..sources import resolve_file
from .labels import MIMIC_IV_ECG_LABELS
from .model import ECGFM, ECGFMConfig

logger = logging.getLogger(__name__)

CONFIG_METADATA_KEY = "ecgfm_config"
CONVERTED_WEIGHTS = "model.safetensors"
CONVERTED_CONFIG = "config.json"

# Pretraining-only parts of a wav2vec2_cmsc checkpoint that inference never uses.
_PRETRAINING_ONLY = ("mask_emb", "quantizer.", "project_q.", "final_proj.")
# fairseq-signals name → `model.ECGFM` name (after the finetuned files' "encoder." prefix is removed).
_RENAMES = (
    (r"^feature_extractor\.conv_layers\.(\d+)\.0\.", r"feature_extractor.\1.conv."),
    (r"^feature_extractor\.conv_layers\.(\d+)\.2\.", r"feature_extractor.\1.norm."),
    (r"^layer_norm\.", "feature_norm."),
    (r"^post_extract_proj\.", "feature_projection."),
    (r"^conv_pos\.pos_conv\.0\.", "pos_conv."),
    (r"^encoder\.layer_norm\.", "encoder_norm."),
    (r"^encoder\.layers\.", "layers."),
)
_MAX_CONV_LAYERS = 32  # the released model has 4; refuses "[...] * 10**9"-style strings
_WEIGHT_NORM = {"weight_g": "g", "weight_v": "v", "parametrizations.weight.original0": "g",
                "parametrizations.weight.original1": "v"}


def parse_conv_layers(text: str) -> tuple[tuple[int, int, int], ...]:
    """Parse ``conv_feature_layers`` such as ``"[(256, 2, 2)] * 4"`` without `eval`.

    Accepts list literals of (channels, kernel, stride) tuples combined with ``+`` and ``* int``.
    """

    def value(node: ast.AST):
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Mult)):
            left, right = value(node.left), value(node.right)
            if isinstance(node.op, ast.Add):
                return left + right
            if not isinstance(right, int) or len(left) * right > _MAX_CONV_LAYERS:
                raise ValueError(f"expected a list times a small integer (at most {_MAX_CONV_LAYERS} layers)")
            return left * right
        return ast.literal_eval(node)

    try:
        layers = value(ast.parse(text, mode="eval").body)
        parsed = tuple((int(c), int(k), int(s)) for c, k, s in layers)
    except (SyntaxError, ValueError, TypeError) as error:
        raise ModelNotConfigured(f"cannot read conv_feature_layers {text!r}: {error}") from None
    if not parsed:
        raise ModelNotConfigured(f"conv_feature_layers {text!r} describes no layers")
    return parsed


def config_from_fairseq(model_cfg: dict, num_labels: int) -> ECGFMConfig:
    """`ECGFMConfig` from a checkpoint's ``cfg["model"]``; refuses variants this implementation lacks."""
    if model_cfg.get("extractor_mode", "default") != "default" or model_cfg.get("layer_norm_first", False):
        raise ModelNotConfigured("unsupported ECG-FM variant: only extractor_mode='default' with "
                                 "layer_norm_first=False (the released architecture) is implemented")
    labels = MIMIC_IV_ECG_LABELS if num_labels == len(MIMIC_IV_ECG_LABELS) else tuple(
        f"label_{index}" for index in range(num_labels))
    return ECGFMConfig(
        conv_layers=parse_conv_layers(model_cfg["conv_feature_layers"]),
        in_channels=int(model_cfg.get("in_d", 12)),
        embed_dim=int(model_cfg["encoder_embed_dim"]),
        ffn_dim=int(model_cfg["encoder_ffn_embed_dim"]),
        num_heads=int(model_cfg["encoder_attention_heads"]),
        num_layers=int(model_cfg["encoder_layers"]),
        conv_pos=int(model_cfg["conv_pos"]),
        conv_pos_groups=int(model_cfg["conv_pos_groups"]),
        conv_bias=bool(model_cfg.get("conv_bias", False)),
        labels=labels,
    )


def map_fairseq_state(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Rename a fairseq-signals state dict to `model.ECGFM` names.

    Strips the finetuned files' ``encoder.`` prefix, drops pretraining-only tensors, and folds the
    positional conv's weight norm (``g * v / ||v||``, norm over dims 0 and 1 for each kernel tap).
    """
    finetuned = "proj.weight" in state
    mapped: dict[str, torch.Tensor] = {}
    weight_norm: dict[str, torch.Tensor] = {}
    for key, tensor in state.items():
        if finetuned and key.startswith("encoder."):
            key = key.removeprefix("encoder.")
        if key.startswith(_PRETRAINING_ONLY):
            continue
        for pattern, replacement in _RENAMES:
            key = re.sub(pattern, replacement, key)
        suffix = next((s for s in _WEIGHT_NORM if key == f"pos_conv.{s}"), None)
        if suffix is not None:
            weight_norm[_WEIGHT_NORM[suffix]] = tensor
        else:
            mapped[key] = tensor
    if weight_norm:
        g, v = weight_norm["g"].float(), weight_norm["v"].float()
        mapped["pos_conv.weight"] = g * v / v.norm(dim=(0, 1), keepdim=True)
    return mapped


def _torch_load(path: Path, trust_pickle: bool) -> dict:
    # mmap keeps the released files' optimizer state on disk instead of in memory.
    is_zip = zipfile.is_zipfile(path)
    try:
        try:
            return torch.load(path, map_location="cpu", weights_only=True, mmap=is_zip)
        except pickle.UnpicklingError:
            unsafe = torch.serialization.get_unsafe_globals_in_checkpoint(path) if is_zip else []
            if not unsafe:
                raise  # not a refusal of foreign classes: the file itself is unreadable
            if not trust_pickle:
                raise ModelNotConfigured(
                    f"{path.name} needs arbitrary unpickling ({', '.join(unsafe)}), which is refused. Convert it "
                    "on a trusted machine with `python -m ecg_core.ecgfm convert --trust-pickle`, or set "
                    "ECGFM_TRUST_PICKLE=1 if you trust the file") from None
        logger.warning("loading %s with full unpickling because ECGFM_TRUST_PICKLE is set", path.name)
        return torch.load(path, map_location="cpu", weights_only=False)
    except (ModelNotConfigured, MemoryError):
        raise
    except Exception as error:  # truncated, corrupt or not a PyTorch file at all
        raise ModelNotConfigured(f"{path.name} is not a readable PyTorch checkpoint "
                                 f"({type(error).__name__})") from None


def read_checkpoint(path: Path, trust_pickle: bool = False) -> tuple[ECGFMConfig, dict[str, torch.Tensor]]:
    """Architecture and `model.ECGFM` state dict from a fairseq-signals `.pt` or a converted `.safetensors`."""
    if path.suffix == ".safetensors":
        return _read_converted(path)
    checkpoint = _torch_load(path, trust_pickle)
    try:
        cfg = checkpoint.get("cfg") or {}
        model_cfg = dict(cfg["model"]) if cfg else vars(checkpoint["args"])
        state = map_fairseq_state(checkpoint["model"])
    except (KeyError, TypeError, AttributeError) as error:
        raise ModelNotConfigured(f"{path.name} is not a fairseq-signals checkpoint (missing {error})") from None
    num_labels = state["proj.weight"].shape[0] if "proj.weight" in state else 0
    return config_from_fairseq(model_cfg, num_labels), state


def _read_converted(path: Path) -> tuple[ECGFMConfig, dict[str, torch.Tensor]]:
    try:
        with safe_open(str(path), framework="pt") as handle:
            metadata = handle.metadata() or {}
        state = load_file(str(path))
    except SafetensorError as error:
        raise ModelNotConfigured(f"{path.name} is not a readable safetensors file ({error})") from None
    if CONFIG_METADATA_KEY not in metadata:
        raise ModelNotConfigured(f"{path.name} has no ECG-FM config; write it with `python -m ecg_core.ecgfm convert`")
    return ECGFMConfig.from_dict(json.loads(metadata[CONFIG_METADATA_KEY])), state


def load_ecgfm(source: str | Path, device: torch.device | str | None = None, dtype: torch.dtype | None = None,
               *, trust_pickle: bool = False, repo_dir: Path | None = None) -> ECGFM:
    """Build an `ECGFM` in eval mode from a `.pt`/`.safetensors` file, a directory written by `convert`, or a
    Hub file ``owner/repo/file``; ``device``/``dtype`` default to the CPU and float32.

    Raises `ModelNotConfigured` when the file cannot be had or is not an ECG-FM checkpoint.
    """
    # A Path or an absolute path is a local file; other strings may be Hub references (see ecg_core.sources).
    local = isinstance(source, Path) or Path(source).expanduser().is_absolute()
    path = Path(source).expanduser() if local else resolve_file(source, repo_dir or Path.cwd())
    if path.is_dir():
        path = path / CONVERTED_WEIGHTS
    if not path.exists():
        raise ModelNotConfigured(f"ECG-FM weights {path} do not exist")
    config, state = read_checkpoint(path, trust_pickle)
    with torch.device("meta"):  # no random initialisation of weights that are replaced at once
        model = ECGFM(config)
    try:
        model.load_state_dict(state, strict=True, assign=True)
    except RuntimeError as error:
        raise ModelNotConfigured(f"{path.name} does not match the ECG-FM architecture: {error}") from None
    return model.to(device=device or "cpu", dtype=dtype or torch.float32).eval().requires_grad_(False)


def save_converted(model: ECGFM, out_dir: Path) -> Path:
    """Write ``model.safetensors`` (config in its metadata) and a readable ``config.json``; returns the former."""
    out_dir.mkdir(parents=True, exist_ok=True)
    config_json = json.dumps(model.config.to_dict(), indent=2)
    state = {key: tensor.detach().to("cpu").contiguous() for key, tensor in model.state_dict().items()}
    weights = out_dir / CONVERTED_WEIGHTS
    save_file(state, str(weights), metadata={CONFIG_METADATA_KEY: config_json})
    (out_dir / CONVERTED_CONFIG).write_text(config_json + "\n")
    return weights
