"""PULSE loading: key mapping of the real checkpoint, tiny random checkpoints in PULSE's on-disk format
loaded through the real path, the image really reaching the model, the demo checkpoint."""

from __future__ import annotations

import hashlib
import json
import re
import shutil

import pytest
import torch
from PIL import Image
from safetensors.torch import load_file, save_file

from conftest import ROOT, fixture_path
from ecg_core.errors import ModelNotConfigured
from ecg_core.pulse.checkpoint import DROPPED_KEYS, KEY_MAPPING, PulseLlavaForConditionalGeneration, to_original_layout
from ecg_core.pulse.config import llava_config
from ecg_core.pulse.demo import shrink_config, write_tiny_checkpoint
from ecg_core.pulse.service import build_service, parse_generation_params
from ecg_core.settings import Settings

TOKENIZER_FILES = ("tokenizer.model", "tokenizer_config.json", "special_tokens_map.json")


def pulse_config() -> dict:
    return json.loads(fixture_path("pulse7b", "config.json").read_text())


def tiny_pulse_dir(directory, seed=0):
    """A tiny random model with PULSE's real key names and config fields, and PULSE's own tokenizer."""
    write_tiny_checkpoint(directory, shrink_config(pulse_config(), 32000), seed=seed)
    for name in TOKENIZER_FILES:
        shutil.copy(fixture_path("pulse7b", name), directory / name)
    return directory


def cpu_settings(tmp_path, **changes) -> Settings:
    return Settings.from_env(ROOT, env={}).replace(device="cpu", cache_dir=tmp_path / "cache", **changes)


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory):
    return tiny_pulse_dir(tmp_path_factory.mktemp("pulse_tiny"))


@pytest.fixture(scope="module")
def service(tiny_dir, tmp_path_factory):
    return build_service(cpu_settings(tmp_path_factory.mktemp("cache"), pulse_model=str(tiny_dir)))


def test_key_mapping_consumes_every_pulse_weight_and_fills_every_parameter():
    """Full-size PULSE architecture on the meta device (nothing allocated) against the real 14.1 GB index,
    renamed by transformers' own loading code with our KEY_MAPPING."""
    index = json.loads(fixture_path("pulse7b", "model.safetensors.index.json").read_text())
    with torch.device("meta"):
        model = PulseLlavaForConditionalGeneration(llava_config(pulse_config()))
    expected = model.state_dict()
    kept = [name for name in index["weight_map"] if not any(re.search(p, name) for p in DROPPED_KEYS)]
    mapped = renamed_by_transformers(model, kept)
    assert len(kept) == len(index["weight_map"]) - 1  # only model.image_newline is dropped
    assert len(set(mapped)) == len(mapped)
    assert set(mapped) == set(expected)
    # bf16 sizes of the architecture plus the dropped 4096-vector add up to the checkpoint's 14.1 GB.
    total_bytes = sum(tensor.numel() for tensor in expected.values()) * 2 + 4096 * 2
    assert total_bytes == index["metadata"]["total_size"]


def renamed_by_transformers(model, names: list[str]) -> list[str]:
    """What from_pretrained(key_mapping=KEY_MAPPING) renames checkpoint `names` to, by its own code."""
    try:  # transformers 5
        from transformers.conversion_mapping import get_model_conversion_mapping
        from transformers.core_model_loading import WeightRenaming, rename_source_key
    except ImportError:  # transformers 4: from_pretrained's renaming step, with its base-model-prefix rule
        prefix = model.base_model_prefix
        from_task_dict = bool(prefix) and any(name.startswith(prefix) for name in names) and not hasattr(model, prefix)
        renaming = model._get_key_renaming_mapping(names, KEY_MAPPING, from_task_dict, False)
        return [renaming[name] for name in names]
    transforms = get_model_conversion_mapping(model, KEY_MAPPING)
    renamings = [t for t in transforms if isinstance(t, WeightRenaming)]
    converters = [t for t in transforms if not isinstance(t, WeightRenaming)]
    expected = model.state_dict()
    return [rename_source_key(name, renamings, converters, model.base_model_prefix, expected)[0] for name in names]


def test_config_translation_matches_pulse():
    config = llava_config(pulse_config())
    assert config.vision_config.image_size == 336 and config.vision_config.patch_size == 14
    assert config.vision_config.hidden_size == 1024 and config.vision_config.num_hidden_layers == 24
    assert config.vision_feature_layer == -2 and config.vision_feature_select_strategy == "default"
    assert config.text_config.max_position_embeddings == 4096 and config.text_config.rms_norm_eps == 1e-5
    assert config.text_config.vocab_size == 32000 and config.image_seq_length == 576
    assert config.multimodal_projector_bias and config.projector_hidden_act == "gelu"


@pytest.mark.parametrize("change", [{"mm_patch_merge_type": "spatial_unpad"}, {"mm_projector_type": "linear"},
                                    {"mm_vision_tower": "openai/clip-vit-base-patch32"}, {"model_type": "mistral"}])
def test_unsupported_config_variants_are_refused(change):
    with pytest.raises(ModelNotConfigured):
        llava_config({**pulse_config(), **change})


def test_tiny_checkpoint_uses_pulse_key_names_and_loads_exactly(tiny_dir, service):
    saved = load_file(tiny_dir / "model.safetensors")
    index = json.loads(fixture_path("pulse7b", "model.safetensors.index.json").read_text())
    def pattern(names):  # the tiny model has 2 layers per stack, PULSE 24 (vision) and 32 (text)
        return {re.sub(r"\.layers\.\d+\.", ".layers.N.", name) for name in names}

    assert pattern(saved) == pattern(index["weight_map"])  # PULSE's real names, nothing more
    loaded = to_original_layout(service.model.state_dict())
    image_token_rows = slice(32000, None)
    for name, tensor in saved.items():
        if name == "model.image_newline":
            continue
        if name in ("model.embed_tokens.weight", "lm_head.weight"):  # grew by the <image> row (+ padding)
            assert loaded[name].shape == (32064, tensor.shape[1])
            assert not loaded[name][image_token_rows].isnan().any()
            loaded[name] = loaded[name][:32000]
        assert torch.equal(loaded[name], tensor), name
    assert service.model.config.image_token_id == 32000
    assert service.suppressed_token_ids == list(range(32000, 32064))


def test_generation_from_an_image(service, settings):
    result = service.generate("What is the rhythm?", Image.new("RGB", (1000, 500), "white"), None,
                              parse_generation_params({"max_new_tokens": 6, "temperature": 0}, settings))
    assert result["image_tiles"] == 3 and result["image_tokens"] == 1728
    assert result["prompt_tokens"] > 1728
    assert result["generated_tokens"] == 6 and result["finish_reason"] == "length"
    assert isinstance(result["generated_text"], str)
    json.dumps(result)


def test_the_image_changes_what_the_model_computes(service, settings):
    """Different pixels → different logits: the image reaches the language model (not just a text tag)."""
    from ecg_core.pulse import prepare_inputs

    logits = []
    for colour in ("white", "black"):
        inputs = prepare_inputs(service.tokenizer, "Describe.", Image.new("RGB", (700, 700), colour))
        with torch.inference_mode():
            logits.append(service.model(**inputs, logits_to_keep=1).logits[0, -1])
    assert not torch.allclose(logits[0], logits[1])


def test_generation_from_text_only(service, settings):
    result = service.generate("Define the PR interval.", None, None,
                              parse_generation_params({"max_new_tokens": 4, "temperature": 0}, settings))
    assert result["image_tiles"] == 0 and result["image_tokens"] == 0
    assert result["generated_tokens"] == 4


def test_image_token_is_never_generated(service, settings):
    """Even when the model strongly prefers <image>, suppress_tokens keeps it out of the output."""
    params = parse_generation_params({"max_new_tokens": 5, "temperature": 0}, settings)
    hook = service.model.get_output_embeddings().register_forward_hook(
        lambda module, args, output: output.index_add(-1, torch.tensor([32000]),
                                                      torch.full((*output.shape[:-1], 1), 1e4)))
    try:
        config = service.generation_config(params, 5)
        inputs = {"input_ids": torch.tensor([[1, 15043]]), "attention_mask": torch.ones(1, 2, dtype=torch.long)}
        with torch.inference_mode():
            output = service.model.generate(**inputs, generation_config=config)[0, 2:].tolist()
            config.suppress_tokens = None
            unsuppressed = service.model.generate(**inputs, generation_config=config)[0, 2:].tolist()
    finally:
        hook.remove()
    assert 32000 not in output and unsuppressed == [32000] * 5


def test_converted_transformers_layout_loads_to_the_same_model(tiny_dir, service, tmp_path):
    service.model.save_pretrained(tmp_path / "converted")
    for name in TOKENIZER_FILES:
        shutil.copy(tiny_dir / name, tmp_path / "converted" / name)
    converted = build_service(cpu_settings(tmp_path, pulse_model=str(tmp_path / "converted")))
    original = service.model.state_dict()
    assert all(torch.equal(tensor, original[name]) for name, tensor in converted.model.state_dict().items())


def test_missing_or_foreign_weights_are_refused(tiny_dir, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(tiny_dir, broken)
    weights = load_file(broken / "model.safetensors")
    weights.pop("model.layers.1.post_attention_layernorm.weight")
    weights["model.mm_projector.4.weight"] = torch.zeros(2)
    save_file(weights, broken / "model.safetensors")
    with pytest.raises(ModelNotConfigured, match=r"1 model weights missing.*post_attention_layernorm.*"
                                                 r"1 checkpoint weights not used"):
        build_service(cpu_settings(tmp_path, pulse_model=str(broken)))


def test_unavailable_model_is_not_configured(tiny_dir, tmp_path):
    with pytest.raises(ModelNotConfigured):
        build_service(cpu_settings(tmp_path, pulse_model=str(tmp_path / "absent" / "x" / "y")))
    with pytest.raises(ModelNotConfigured, match="config.json"):
        build_service(cpu_settings(tmp_path, pulse_model=str(tmp_path)))
    with pytest.raises(ModelNotConfigured, match="bitsandbytes|CUDA"):
        build_service(cpu_settings(tmp_path, pulse_model=str(tiny_dir), pulse_quantization="4bit"))


def test_demo_checkpoint_is_deterministic_original_layout_and_serves(tmp_path):
    services = [build_service(cpu_settings(tmp_path / name, demo=True)) for name in ("a", "b")]
    demo_dirs = [tmp_path / name / "cache" / "demo" / "pulse" for name in ("a", "b")]
    for file in ("model.safetensors", "tokenizer.model", "config.json"):
        digests = {hashlib.sha256((directory / file).read_bytes()).hexdigest() for directory in demo_dirs}
        assert len(digests) == 1, file
    names = set(load_file(demo_dirs[0] / "model.safetensors"))
    assert "model.mm_projector.0.weight" in names and "model.image_newline" in names
    assert any(name.startswith("model.vision_tower.vision_tower.vision_model.") for name in names)
    assert json.loads((demo_dirs[0] / "config.json").read_text())["model_type"] == "llava_llama"
    assert services[0].describe()["demo"] is True
    assert services[0].tokenizer.convert_tokens_to_ids("<image>") == len(services[0].tokenizer) - 1
    result = services[0].generate("What is the rhythm?", Image.new("RGB", (2200, 1700), "white"), None,
                                  parse_generation_params({"max_new_tokens": 3, "seed": 1}, cpu_settings(tmp_path)))
    assert result["image_tiles"] == 5 and result["image_tokens"] == 2880
