"""Checkpoint reading: config parsing without eval, safe unpickling, the full-size architecture."""

from __future__ import annotations

import argparse

import pytest
import torch
from safetensors.torch import save_file

from conftest import fixture_path
from ecg_core.ecgfm import load_ecgfm
from ecg_core.ecgfm.checkpoint import config_from_fairseq, parse_conv_layers
from ecg_core.ecgfm.labels import MIMIC_IV_ECG_LABELS
from ecg_core.ecgfm.model import ECGFM, released_config
from ecg_core.errors import ModelNotConfigured

# cfg["model"] fields of wanglab/ecg-fm mimic_iv_ecg_finetuned.pt that decide the architecture.
RELEASED_MODEL_CFG = {
    "_name": "ecg_transformer_classifier", "extractor_mode": "default", "conv_feature_layers": "[(256, 2, 2)] * 4",
    "in_d": 12, "conv_bias": False, "encoder_layers": 12, "encoder_embed_dim": 768, "encoder_ffn_embed_dim": 3072,
    "encoder_attention_heads": 12, "layer_norm_first": False, "conv_pos": 128, "conv_pos_groups": 16,
    "num_labels": 17,
}


@pytest.mark.parametrize("text, expected", [
    ("[(256, 2, 2)] * 4", ((256, 2, 2),) * 4),
    ("[(512, 10, 5)] + [(512, 3, 2)] * 2", ((512, 10, 5), (512, 3, 2), (512, 3, 2))),
    ("[(32, 2, 2), (64, 3, 1)]", ((32, 2, 2), (64, 3, 1))),
])
def test_conv_feature_layers_are_parsed(text, expected):
    assert parse_conv_layers(text) == expected


@pytest.mark.parametrize("text", ["__import__('os').system('true')", "[(256, 2)] * 4", "[]", "[(1, 2, 3)] * x",
                                  "[(1, 2, 3)] * 1000000000", "4 * [(1, 2, 3)]"])
def test_conv_feature_layers_that_are_not_plain_literals_are_refused(text):
    with pytest.raises(ModelNotConfigured, match="conv_feature_layers"):
        parse_conv_layers(text)


def test_full_size_model_from_the_released_config():
    torch.manual_seed(0)
    config = config_from_fairseq(RELEASED_MODEL_CFG, num_labels=17)
    assert config == released_config(MIMIC_IV_ECG_LABELS)
    model = ECGFM(config).eval()
    parameters = sum(p.numel() for p in model.parameters())
    # The released file also stores the positional conv's weight-norm magnitude (128 values) separately.
    assert round((parameters + 128) / 1e6, 1) == 90.4
    assert model.labels == list(MIMIC_IV_ECG_LABELS)
    with torch.inference_mode():
        output = model(torch.randn(2, 12, 2500))
    assert output["logits"].shape == (2, 17)
    assert output["embeddings"].shape == (2, 768)
    assert output["encoder_out"].shape == (2, 156, 768)  # 2500 samples → 4 stride-2 convs → 156 steps
    assert torch.isfinite(output["logits"]).all()


def test_unsupported_variants_are_refused():
    with pytest.raises(ModelNotConfigured, match="layer_norm_first"):
        config_from_fairseq({**RELEASED_MODEL_CFG, "layer_norm_first": True}, num_labels=17)


def _old_style_checkpoint(tmp_path):
    """A fairseq checkpoint that keeps its config as argparse.Namespace (needs full unpickling)."""
    checkpoint = torch.load(fixture_path("ecgfm", "ecgfm_tiny_finetuned.pt"), weights_only=True)
    path = tmp_path / "old_style.pt"
    torch.save({"args": argparse.Namespace(**checkpoint["cfg"]["model"]), "cfg": None,
                "model": checkpoint["model"]}, path)
    return path


def test_file_needing_arbitrary_unpickling_is_refused_without_trust(tmp_path):
    with pytest.raises(ModelNotConfigured, match=r"argparse\.Namespace.*ECGFM_TRUST_PICKLE"):
        load_ecgfm(_old_style_checkpoint(tmp_path))


def test_trusted_file_needing_unpickling_loads_and_matches_the_safe_one(tmp_path):
    trusted = load_ecgfm(_old_style_checkpoint(tmp_path), trust_pickle=True)
    safe = load_ecgfm(fixture_path("ecgfm", "ecgfm_tiny_finetuned.pt"))
    x = torch.randn(3, 12, 2500)
    with torch.inference_mode():
        torch.testing.assert_close(trusted(x)["logits"], safe(x)["logits"], rtol=0, atol=0)


def test_files_that_are_not_ecgfm_checkpoints_are_refused(tmp_path):
    torch.save({"state_dict": {"w": torch.zeros(2)}}, tmp_path / "other.pt")
    with pytest.raises(ModelNotConfigured, match="not a fairseq-signals checkpoint"):
        load_ecgfm(tmp_path / "other.pt")
    checkpoint = torch.load(fixture_path("ecgfm", "ecgfm_tiny_finetuned.pt"), weights_only=True)
    del checkpoint["model"]["encoder.encoder.layers.1.fc1.weight"]
    torch.save(checkpoint, tmp_path / "truncated.pt")
    with pytest.raises(ModelNotConfigured, match="does not match the ECG-FM architecture"):
        load_ecgfm(tmp_path / "truncated.pt")
    with pytest.raises(ModelNotConfigured, match="do not exist"):
        load_ecgfm(tmp_path / "missing.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint at all")
    (tmp_path / "junk.safetensors").write_bytes(b"not a checkpoint at all")
    for junk in ("junk.pt", "junk.safetensors"):
        with pytest.raises(ModelNotConfigured, match="is not a readable"):
            load_ecgfm(tmp_path / junk)
    save_file({"w": torch.zeros(2)}, tmp_path / "plain.safetensors")
    with pytest.raises(ModelNotConfigured, match="has no ECG-FM config"):
        load_ecgfm(tmp_path / "plain.safetensors")
