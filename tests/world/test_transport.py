"""Transport (leg latency, spikes, lost messages) and Gateway (outages, rate limit)."""
from __future__ import annotations

import numpy as np
import pytest

from sim.world.transport import Faults, Gateway, LatencyModel, RateLimit, Transport, Window

DEFAULT = LatencyModel()
NO_FAULTS = Faults()


def transport(model: LatencyModel = DEFAULT, seed: int = 0, faults: Faults = NO_FAULTS,
              spikes: list[Window] | None = None) -> Transport:
    return Transport(model, np.random.default_rng(seed), faults, spikes)


def legs(tr: Transport, n: int, now: int | None = None) -> list[int]:
    return [tr.leg_ms(now) for _ in range(n)]


# ------------------------------------------------------------------------------ leg latency


def test_leg_latencies_are_identical_for_the_same_seed():
    assert legs(transport(seed=11), 5000) == legs(transport(seed=11), 5000)


def test_leg_latencies_differ_between_seeds():
    assert legs(transport(seed=1), 200) != legs(transport(seed=2), 200)


@pytest.mark.parametrize("median", [5.0, 40.0, 250.0])
def test_median_of_many_legs_is_within_ten_percent_of_median_ms(median):
    draws = legs(transport(LatencyModel(median_ms=median, sigma=0.5, floor_ms=0), seed=3), 20_000)
    assert float(np.median(draws)) == pytest.approx(median, rel=0.10)


def test_legs_are_lognormal_around_the_median():
    sigma, median = 0.5, 100.0
    draws = np.asarray(legs(transport(LatencyModel(median_ms=median, sigma=sigma, floor_ms=0), seed=4), 20_000),
                       dtype=float)
    logs = np.log(draws)
    assert float(np.mean(logs)) == pytest.approx(np.log(median), abs=0.02)
    assert float(np.std(logs)) == pytest.approx(sigma, rel=0.05)


def test_no_leg_is_ever_below_floor_ms():
    floor = 30
    draws = legs(transport(LatencyModel(median_ms=20.0, sigma=1.5, floor_ms=floor), seed=5), 10_000)
    assert min(draws) == floor  # the floor binds (many draws fall below the median of 20) ...
    assert all(d >= floor for d in draws)  # ... and nothing goes beneath it


def test_leg_is_zero_when_median_ms_is_zero():
    tr = transport(LatencyModel(median_ms=0.0, sigma=0.5, floor_ms=5), seed=6, spikes=[Window(0, 10_000, 50.0)])
    assert set(legs(tr, 100, now=500)) == {0}


def test_legs_with_zero_sigma_are_exactly_the_median():
    assert set(legs(transport(LatencyModel(median_ms=40.0, sigma=0.0, floor_ms=1)), 100)) == {40}


def test_measured_latency_samples_are_drawn_from_in_their_proportions_and_floored():
    samples = (5.0, 5.0, 5.0, 400.0)  # a heavy tail: one leg in four takes 400 ms
    tr = Transport(LatencyModel(40.0, 0.5, 10, samples), np.random.default_rng(3))
    legs = np.array([tr.leg_ms() for _ in range(20_000)])
    assert set(legs.tolist()) == {10, 400}  # 5 ms measured, floored at 10
    assert abs((legs == 400).mean() - 0.25) < 0.02


def test_measured_samples_are_used_even_with_a_zero_median():
    tr = Transport(LatencyModel(0.0, 0.0, 0, (7.0,)), np.random.default_rng(0))
    assert tr.leg_ms() == 7


def test_negative_latency_parameters_are_refused():
    for bad in (dict(median_ms=-1.0), dict(sigma=-0.1), dict(floor_ms=-1)):
        with pytest.raises(ValueError):
            LatencyModel(**bad)


# --------------------------------------------------------------------------------- spikes

FIXED = LatencyModel(median_ms=40.0, sigma=0.0, floor_ms=1)


def test_spike_multiplies_legs_only_inside_its_window():
    tr = transport(FIXED, spikes=[Window(1_000, 2_000, 10.0)])
    assert tr.leg_ms(999) == 40
    assert tr.leg_ms(1_000) == 400  # start is inside
    assert tr.leg_ms(1_500) == 400
    assert tr.leg_ms(1_999) == 400
    assert tr.leg_ms(2_000) == 40  # end is outside
    assert tr.leg_ms(5_000) == 40


def test_leg_without_a_time_ignores_spikes():
    tr = transport(FIXED, spikes=[Window(0, 10_000, 10.0)])
    assert tr.leg_ms() == 40


def test_spike_added_later_takes_effect_in_its_window():
    tr = transport(FIXED, spikes=[Window(5_000, 6_000, 3.0)])
    tr.add_spike(Window(1_000, 2_000, 10.0))
    assert [tr.leg_ms(t) for t in (500, 1_500, 3_000, 5_500, 7_000)] == [40, 400, 40, 120, 40]


def test_spikes_apply_whatever_order_they_are_given_in():
    tr = transport(FIXED, spikes=[Window(5_000, 6_000, 3.0), Window(1_000, 2_000, 10.0)])
    assert [tr.leg_ms(t) for t in (1_500, 5_500)] == [400, 120]


# ------------------------------------------------------------------------------ lost messages


def loss_rate(draw, n: int = 5000) -> float:
    return sum(draw() for _ in range(n)) / n


@pytest.mark.parametrize("p", [0.05, 0.3, 0.7])
def test_request_lost_frequency_matches_its_probability(p):
    tr = transport(faults=Faults(request_loss_prob=p), seed=8)
    assert loss_rate(tr.request_lost) == pytest.approx(p, abs=0.03)


@pytest.mark.parametrize("p", [0.05, 0.3, 0.7])
def test_response_lost_frequency_matches_its_probability(p):
    tr = transport(faults=Faults(response_loss_prob=p), seed=9)
    assert loss_rate(tr.response_lost) == pytest.approx(p, abs=0.03)


def test_nothing_is_ever_lost_at_probability_zero():
    tr = transport(faults=Faults(request_loss_prob=0.0, response_loss_prob=0.0), seed=10)
    assert not any(tr.request_lost() or tr.response_lost() for _ in range(5000))


def test_everything_is_lost_at_probability_one():
    tr = transport(faults=Faults(request_loss_prob=1.0, response_loss_prob=1.0), seed=10)
    assert all(tr.request_lost() and tr.response_lost() for _ in range(1000))


def test_request_and_response_loss_are_independent_settings():
    tr = transport(faults=Faults(request_loss_prob=0.0, response_loss_prob=1.0), seed=12)
    assert not any(tr.request_lost() for _ in range(500))
    assert all(tr.response_lost() for _ in range(500))


def test_losses_come_from_the_fault_stream_and_leave_latencies_unchanged():
    faults = Faults(request_loss_prob=0.5, response_loss_prob=0.5)
    plain = Transport(LatencyModel(), np.random.default_rng(13))
    lossy = Transport(LatencyModel(), np.random.default_rng(13), faults, fault_rng=np.random.default_rng(99))
    out = []
    for _ in range(300):
        out.append(lossy.leg_ms())
        lossy.request_lost()
        lossy.response_lost()
    assert out == legs(plain, 300)


# --------------------------------------------------------------------------------- gateway


def test_gateway_without_outages_or_limit_admits_everything():
    gw = Gateway()
    assert all(gw.admit(t) is None for t in range(0, 10_000, 7))
    assert gw.refused == 0


def test_in_outage_is_true_only_inside_outage_windows():
    gw = Gateway(outages=[Window(5_000, 6_000), Window(1_000, 2_000)])
    inside = [1_000, 1_999, 5_000, 5_999]
    outside = [0, 999, 2_000, 3_000, 4_999, 6_000, 10_000]
    assert all(gw.in_outage(t) for t in inside)
    assert not any(gw.in_outage(t) for t in outside)


def test_admit_refuses_with_outage_inside_a_window_and_admits_outside():
    gw = Gateway(outages=[Window(1_000, 2_000)])
    assert gw.admit(999) is None
    assert gw.admit(1_000) == ("outage", 0)
    assert gw.admit(1_999) == ("outage", 0)
    assert gw.admit(2_000) is None
    assert gw.refused == 2


def test_outage_added_later_refuses_in_its_window():
    gw = Gateway(outages=[Window(5_000, 6_000)])
    gw.add_outage(Window(1_000, 2_000))
    assert gw.admit(1_500) == ("outage", 0)
    assert gw.admit(5_500) == ("outage", 0)
    assert gw.admit(3_000) is None


@pytest.mark.parametrize("requests, per_ms", [(1, 1_000), (5, 1_000), (3, 250)])
def test_rate_limit_admits_exactly_requests_per_window_then_refuses(requests, per_ms):
    gw = Gateway(RateLimit(requests, per_ms))
    assert all(gw.admit(10_000) is None for _ in range(requests))
    refusal = gw.admit(10_000)
    assert refusal is not None and refusal[0] == "rate_limited"
    assert gw.refused == 1


def test_rate_limit_retry_after_is_positive_and_admits_once_waited():
    gw = Gateway(RateLimit(3, 1_000))
    for t in (10_000, 10_200, 10_400):
        assert gw.admit(t) is None
    now = 10_500
    kind, retry = gw.admit(now)
    assert kind == "rate_limited"
    assert retry > 0
    assert retry == 500  # when the oldest admitted request leaves the rolling window
    assert gw.admit(now + retry - 1) is not None  # a moment too early: still refused
    assert gw.admit(now + retry) is None


def test_rate_limit_window_is_rolling_not_fixed():
    gw = Gateway(RateLimit(2, 1_000))
    assert gw.admit(900) is None
    assert gw.admit(1_100) is None
    assert gw.admit(1_500) is not None  # a fixed window starting at 1000 would admit this
    assert gw.admit(1_900) is None  # 900 has left the window
    assert gw.admit(1_950) is not None  # 1100 and 1900 are still in it


def test_refused_requests_do_not_count_against_the_rate_limit():
    gw = Gateway(RateLimit(1, 1_000))
    assert gw.admit(0) is None
    for t in range(1, 1_000, 50):
        assert gw.admit(t) is not None
    assert gw.admit(1_000) is None


def test_outage_refusals_do_not_count_against_the_rate_limit():
    gw = Gateway(RateLimit(1, 1_000), outages=[Window(0, 500)])
    assert gw.admit(100) == ("outage", 0)
    assert gw.admit(600) is None
