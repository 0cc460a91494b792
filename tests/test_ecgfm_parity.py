"""ECG-FM in plain PyTorch reproduces what fairseq-signals computed with the same checkpoints."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.io
import torch

from conftest import fixture_path
from ecg_core.ecgfm import load_ecgfm
from ecg_core.ecgfm.__main__ import main as ecgfm_cli

TOLERANCE = 1e-4


def _segments(names) -> torch.Tensor:
    folder = fixture_path("ecgfm", "code15", "segmented")
    return torch.from_numpy(np.stack([scipy.io.loadmat(folder / name)["feats"] for name in names]).astype(np.float32))


def _expected(kind: str):
    return np.load(fixture_path("ecgfm", f"ecgfm_tiny_{kind}_expected.npz"))


def _assert_matches(model, expected, keys):
    with torch.inference_mode():
        output = model(_segments(expected["names"]))
    for key in keys:
        np.testing.assert_allclose(output[key].numpy(), expected[key], atol=TOLERANCE, rtol=0, err_msg=key)


def test_finetuned_checkpoint_matches_fairseq_signals():
    model = load_ecgfm(fixture_path("ecgfm", "ecgfm_tiny_finetuned.pt"))
    _assert_matches(model, _expected("finetuned"), ("logits", "embeddings", "encoder_out"))
    expected = _expected("finetuned")
    with torch.inference_mode():
        probabilities = torch.sigmoid(model(_segments(expected["names"]))["logits"]).numpy()
    np.testing.assert_allclose(probabilities, expected["probs"], atol=TOLERANCE, rtol=0)
    assert len(model.labels) == 17 and model.labels[0] == "Poor data quality"


def test_pretrained_checkpoint_matches_fairseq_signals_and_has_no_head():
    model = load_ecgfm(fixture_path("ecgfm", "ecgfm_tiny_pretrained.pt"))
    _assert_matches(model, _expected("pretrained"), ("embeddings", "encoder_out"))
    with torch.inference_mode():
        assert model(torch.zeros(1, 12, 2500))["logits"] is None
    assert model.labels == []


@pytest.mark.parametrize("kind", ["finetuned", "pretrained"])
def test_converted_safetensors_round_trip_keeps_outputs(kind, tmp_path, capsys):
    source = fixture_path("ecgfm", f"ecgfm_tiny_{kind}.pt")
    assert ecgfm_cli(["convert", str(source), str(tmp_path / "converted")]) == 0
    assert "model.safetensors" in capsys.readouterr().out
    converted = load_ecgfm(tmp_path / "converted" / "model.safetensors")
    keys = ("logits", "embeddings", "encoder_out") if kind == "finetuned" else ("embeddings", "encoder_out")
    _assert_matches(converted, _expected(kind), keys)
    assert load_ecgfm(tmp_path / "converted").labels == converted.labels  # a converted directory works too


def test_newer_weight_norm_parametrization_keys_load_identically(tmp_path):
    checkpoint = torch.load(fixture_path("ecgfm", "ecgfm_tiny_finetuned.pt"), weights_only=True)
    renamed = {}
    for key, tensor in checkpoint["model"].items():
        key = key.replace("pos_conv.0.weight_g", "pos_conv.0.parametrizations.weight.original0")
        renamed[key.replace("pos_conv.0.weight_v", "pos_conv.0.parametrizations.weight.original1")] = tensor
    assert renamed.keys() != checkpoint["model"].keys()
    torch.save({"cfg": checkpoint["cfg"], "model": renamed}, tmp_path / "new_style.pt")
    _assert_matches(load_ecgfm(tmp_path / "new_style.pt"), _expected("finetuned"), ("logits", "encoder_out"))


def test_half_precision_weights_stay_close_to_fp32():
    expected = _expected("finetuned")
    model = load_ecgfm(fixture_path("ecgfm", "ecgfm_tiny_finetuned.pt"), dtype=torch.bfloat16)
    assert next(model.parameters()).dtype == torch.bfloat16
    with torch.inference_mode():
        logits = model(_segments(expected["names"]).bfloat16())["logits"].float()
    np.testing.assert_allclose(torch.sigmoid(logits).numpy(), expected["probs"], atol=0.02, rtol=0)
