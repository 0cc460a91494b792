"""Generation parameters (defaults, types, ranges) and their effect on a served tiny PULSE model."""

from __future__ import annotations

import json

import pytest

from conftest import ROOT
from ecg_core.errors import InputError
from ecg_core.pulse import service as service_module
from ecg_core.pulse.generation import BUILTIN_DEFAULTS, cut_at_stop
from ecg_core.pulse.service import PARAMETER_NAMES, build_service, parse_generation_params


@pytest.fixture(scope="module")
def demo_service(tmp_path_factory):
    from ecg_core.settings import Settings

    cache = tmp_path_factory.mktemp("pulse_demo_cache")
    return build_service(Settings.from_env(ROOT, env={}).replace(demo=True, device="cpu", cache_dir=cache))


def test_defaults_come_from_generation_config_json(settings):
    saved = json.loads((ROOT / "generation_config.json").read_text())
    params = parse_generation_params({}, settings)
    assert (params.max_new_tokens, params.temperature, params.top_p, params.repetition_penalty) == (
        saved["max_new_tokens"], saved["temperature"], saved["top_p"], saved["repetition_penalty"])
    assert params.do_sample is (saved["temperature"] > 0)
    assert params.stop == () and params.seed is None and params.return_full_text is False


def test_builtin_defaults_match_the_shipped_file(settings, tmp_path):
    saved = json.loads((ROOT / "generation_config.json").read_text())
    assert {key: saved[key] for key in BUILTIN_DEFAULTS} == BUILTIN_DEFAULTS
    edited = {**saved, "temperature": 0.7}
    (tmp_path / "generation_config.json").write_text(json.dumps(edited))
    assert parse_generation_params({}, settings.replace(repo_dir=tmp_path)).temperature == 0.7
    no_file = settings.replace(repo_dir=tmp_path / "elsewhere")
    assert parse_generation_params({}, no_file).temperature == BUILTIN_DEFAULTS["temperature"]


def test_valid_parameters_are_taken_and_other_routes_keys_ignored(settings):
    params = parse_generation_params({"max_new_tokens": 64, "temperature": 0, "top_k": 40, "stop": ["\n\n"],
                                      "seed": 7, "return_full_text": True, "enable_turkish_commentary": True,
                                      "top_p": None}, settings)
    assert params.max_new_tokens == 64 and params.temperature == 0.0 and params.do_sample is False
    assert params.top_k == 40 and params.stop == ("\n\n",) and params.seed == 7 and params.return_full_text
    assert params.top_p == BUILTIN_DEFAULTS["top_p"]  # null means "default"
    assert "enable_turkish_commentary" not in PARAMETER_NAMES and "max_new_tokens" in PARAMETER_NAMES


@pytest.mark.parametrize("parameters, field", [
    ({"temperature": -0.1}, "temperature"), ({"temperature": 2.5}, "temperature"),
    ({"temperature": "hot"}, "temperature"), ({"temperature": True}, "temperature"),
    ({"temperature": float("nan")}, "temperature"),
    ({"top_p": 0}, "top_p"), ({"top_p": 1.01}, "top_p"),
    ({"top_k": -1}, "top_k"), ({"top_k": 2.5}, "top_k"),
    ({"max_new_tokens": 0}, "max_new_tokens"), ({"max_new_tokens": 5000}, "max_new_tokens"),
    ({"max_new_tokens": 10.0}, "max_new_tokens"), ({"max_new_tokens": "10"}, "max_new_tokens"),
    ({"repetition_penalty": 0}, "repetition_penalty"), ({"repetition_penalty": 11}, "repetition_penalty"),
    ({"do_sample": "yes"}, "do_sample"), ({"do_sample": True, "temperature": 0}, "do_sample"),
    ({"stop": "###"}, "stop"), ({"stop": [""]}, r"stop\[0\]"), ({"stop": ["a", 3]}, r"stop\[1\]"),
    ({"stop": ["x"] * 9}, "stop"), ({"return_full_text": 1}, "return_full_text"),
    ({"seed": -1}, "seed"), ({"seed": 1.5}, "seed"),
])
def test_out_of_range_or_mistyped_parameters_are_input_errors(parameters, field, settings):
    with pytest.raises(InputError, match=rf"^parameters\.{field}: "):
        parse_generation_params(parameters, settings)


def test_cut_at_stop_uses_the_earliest_stop_string():
    assert cut_at_stop("Sinus rhythm. ### Note: END", ("END", "###")) == ("Sinus rhythm. ", True)
    assert cut_at_stop("Sinus rhythm.", ("###",)) == ("Sinus rhythm.", False)


def test_seeded_sampling_is_reproducible_and_seed_matters(demo_service, settings):
    def sample(seed):
        params = parse_generation_params({"max_new_tokens": 12, "temperature": 1.0, "top_p": 1.0, "seed": seed},
                                         settings)
        return demo_service.generate("Describe the ECG.", None, None, params)["generated_text"]

    assert sample(1) == sample(1)
    assert len({sample(seed) for seed in (1, 2, 3)}) > 1


def test_demo_text_is_readable(demo_service, settings):
    """Demo weights are random, but what they write is text: no byte pieces (U+FFFD, control characters, NUL)."""
    texts = []
    for seed in range(4):
        params = parse_generation_params({"max_new_tokens": 32, "temperature": 1.0, "top_p": 1.0, "seed": seed},
                                         settings)
        texts.append(demo_service.generate("Describe the ECG.", None, None, params)["generated_text"])
    assert sum(map(len, texts)) > 4 * 16
    assert all(text.isprintable() and "\ufffd" not in text for text in texts), texts


def test_stop_strings_cut_the_output(demo_service, settings):
    greedy = parse_generation_params({"max_new_tokens": 24, "temperature": 0}, settings)
    full = demo_service.generate("Describe the ECG.", None, None, greedy)
    assert full["generated_tokens"] > 8 and len(full["generated_text"]) > 4
    stop = full["generated_text"][3:5]
    stopped = demo_service.generate(
        "Describe the ECG.", None, None, parse_generation_params({"max_new_tokens": 24, "temperature": 0,
                                                                  "stop": [stop]}, settings))
    assert stopped["finish_reason"] == "stop"
    assert stop not in stopped["generated_text"]
    assert full["generated_text"].startswith(stopped["generated_text"])
    assert stopped["generated_tokens"] < full["generated_tokens"]


def test_return_full_text_prepends_the_prompt(demo_service, settings):
    params = parse_generation_params({"max_new_tokens": 3, "temperature": 0, "return_full_text": True}, settings)
    result = demo_service.generate("Describe the ECG.", None, None, params)
    assert result["generated_text"].startswith("A chat between a curious human")
    assert "USER: Describe the ECG. ASSISTANT:" in result["generated_text"]


def test_output_is_capped_by_the_context_and_overlong_prompts_refused(demo_service, settings, monkeypatch):
    params = parse_generation_params({"max_new_tokens": 50, "temperature": 0}, settings)
    prompt_tokens = demo_service.generate("Describe the ECG.", None, None,
                                          parse_generation_params({"max_new_tokens": 1}, settings))["prompt_tokens"]
    monkeypatch.setattr(service_module, "CONTEXT_TOKENS", prompt_tokens + 4)
    result = demo_service.generate("Describe the ECG.", None, None, params)
    assert result["generated_tokens"] == 4 and result["finish_reason"] == "length"
    monkeypatch.setattr(service_module, "CONTEXT_TOKENS", prompt_tokens)
    with pytest.raises(InputError, match=r"^inputs\.query: .*context"):
        demo_service.generate("Describe the ECG.", None, None, params)
