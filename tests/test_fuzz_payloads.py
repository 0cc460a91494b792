"""Property test: whatever JSON a client sends, the handler answers results or an InputError, never
another exception (which the server would turn into a 500)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings, strategies as st

from ecg_core.errors import InputError

SCALARS = st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=False, allow_infinity=False) \
    | st.text(max_size=20)
JSON = st.recursive(SCALARS, lambda children: st.lists(children, max_size=6)
                    | st.dictionaries(st.text(max_size=10), children, max_size=5), max_leaves=30)
KEYS = st.sampled_from(["signal", "fs", "lead_names", "units", "task", "query", "image", "image_url", "history",
                        "model_id", "X", "features", "recording_duration"])
ITEMS = st.dictionaries(KEYS, JSON, max_size=4)
PARAMETERS = st.dictionaries(st.sampled_from(["return_features", "thresholds", "temperature", "max_new_tokens",
                                              "stop", "deepseek_timeout", "enable_turkish_commentary", "seed"]),
                             JSON, max_size=3)
PAYLOADS = st.fixed_dictionaries({"inputs": ITEMS | st.lists(ITEMS, max_size=3) | JSON}, optional={"parameters": PARAMETERS})


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(payload=PAYLOADS)
def test_any_payload_gets_results_or_an_input_error(demo_handler, payload):
    try:
        results = demo_handler(payload)
    except InputError as error:
        assert str(error)
    else:
        assert isinstance(results, list) and all(isinstance(result, dict) for result in results)


LEAD_NAMES = ["I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6"]


@st.composite
def near_valid_signal_requests(draw):
    """Well-formed signals of odd content (noise, spikes, constants) for every signal task and route."""
    n_leads = draw(st.integers(1, 3))
    fs = draw(st.sampled_from([100, 250, 360, 500, 1000]))
    n_samples = draw(st.integers(int(2.5 * fs), int(7 * fs)))
    kind = draw(st.sampled_from(["noise", "constant", "spikes", "huge"]))
    seed = draw(st.integers(0, 2**16))
    import numpy as np

    rng = np.random.default_rng(seed)
    signal = {"noise": lambda: rng.normal(0, 0.5, (n_leads, n_samples)),
              "constant": lambda: np.full((n_leads, n_samples), 1.5),
              "spikes": lambda: (rng.random((n_leads, n_samples)) > 0.99) * 3.0,
              "huge": lambda: rng.normal(0, 1e6, (n_leads, n_samples))}[kind]()
    item = {"signal": signal.round(4).tolist(), "fs": fs,
            "lead_names": draw(st.permutations(LEAD_NAMES))[:n_leads],
            "task": draw(st.sampled_from(["analyze", "features", "quality", "measure", "render", "predict"]))}
    if item["task"] == "predict":
        item["model_id"] = "demo"
    parameters = {"pad_short": draw(st.booleans()), "return_segments": draw(st.booleans())}
    return {"inputs": item, "parameters": parameters}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(payload=near_valid_signal_requests())
def test_odd_signals_get_results_or_an_input_error(demo_handler, payload):
    try:
        results = demo_handler(payload)
    except InputError as error:
        assert str(error)
    else:
        assert len(results) == 1 and results[0]["task"] == payload["inputs"]["task"]
