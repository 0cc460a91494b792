"""The circuit breaker's states on a controlled clock (the loopback DeepSeek test covers it end to end)."""

from ecg_core.breaker import CircuitBreaker


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_threshold_cooldown_single_probe_and_a_failed_probe_reopens():
    clock = Clock()
    breaker = CircuitBreaker("Upstream", threshold=3, cooldown_s=30, clock=clock)
    for _ in range(2):
        assert breaker.refusal() is None
        breaker.record(False, "timed out")
    assert breaker.refusal() is None
    breaker.record(True)  # a success resets the count: failures must be in a row
    for _ in range(3):
        assert breaker.refusal() is None
        breaker.record(False, "timed out")
    refusal = breaker.refusal()
    assert refusal == "Upstream is skipped after 3 failed calls in a row (last: timed out); next try in 30 s"
    clock.now += 29
    assert "next try in 1 s" in breaker.refusal()
    clock.now += 1.5
    assert breaker.refusal() is None  # the probe
    assert "a probe is in flight" in breaker.refusal()  # only one at a time
    breaker.record(False, "refused")
    assert breaker.describe()["state"] == "open"
    assert "last: refused" in breaker.refusal() and "next try in 30 s" in breaker.refusal()
    clock.now += 31
    assert breaker.refusal() is None
    breaker.record(True)
    assert breaker.describe() == {"state": "closed", "consecutive_failures": 0, "threshold": 3, "cooldown_s": 30}
