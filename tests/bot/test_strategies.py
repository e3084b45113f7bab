"""Built-in strategies state targets only when their signal changes; user strategies plug in by name."""
from __future__ import annotations

from decimal import Decimal

import pytest

from sim.bot.strategy.base import StrategyLoadError, resolve_strategy
from sim.bot.strategy.breakout import ChannelBreakout
from sim.bot.strategy.ma_crossover import MovingAverageCrossover
from sim.core.messages import Candle
from sim.core.types import PositionSide


def candles(closes, spread=0.5):
    return [Candle(i * 60_000, c, c + spread, c - spread, c) for i, c in enumerate(closes)]


def targets(strategy, closes):
    out = []
    for c in candles(closes):
        strategy.on_candle(c)
        t = strategy.target(c.open_ms)
        if t is not None:
            out.append(t.side)
    return out


def test_ma_crossover_goes_long_on_an_upward_cross_and_short_on_a_downward_one():
    s = MovingAverageCrossover(fast=2, slow=4, qty="0.1")
    closes = [10, 9, 8, 7, 6, 7, 9, 12, 15, 13, 9, 5, 3]
    assert targets(s, closes) == [PositionSide.LONG, PositionSide.SHORT]


def test_ma_crossover_is_silent_between_crosses():
    s = MovingAverageCrossover(fast=2, slow=4, qty="0.1")
    assert targets(s, [10 + i for i in range(30)]) == []


def test_breakout_follows_a_close_out_of_the_channel():
    s = ChannelBreakout(lookback=5, qty="0.1")
    closes = [100, 101, 100, 99, 100, 100, 104, 105, 106, 100, 97, 94]
    assert targets(s, closes) == [PositionSide.LONG, PositionSide.SHORT]


def test_breakout_exit_on_midline_goes_flat():
    s = ChannelBreakout(lookback=3, qty="0.1", exit_on_midline=True)
    assert targets(s, [100, 100, 100, 103, 104, 100.2]) == [PositionSide.LONG, PositionSide.FLAT]


def test_breakout_channel_matches_a_brute_force_window():
    import random

    rng = random.Random(3)
    closes = [100 + rng.gauss(0, 1) for _ in range(300)]
    s = ChannelBreakout(lookback=7, qty="0.1")
    for i, c in enumerate(candles(closes)):
        if i >= 7:
            window = candles(closes)[i - 7:i]
            assert s._channel() == (max(w.high for w in window), min(w.low for w in window))
        s.on_candle(c)


def test_strategies_refuse_impossible_parameters():
    with pytest.raises(ValueError):
        MovingAverageCrossover(fast=30, slow=10)
    with pytest.raises(ValueError):
        ChannelBreakout(lookback=1)
    with pytest.raises(ValueError):
        ChannelBreakout(qty="-1")


def test_a_user_strategy_is_named_by_module_and_class():
    cls = resolve_strategy("tests.user_strategy:EveryOtherCandle")
    s = cls(every=2, qty="0.05")
    assert targets(s, [1, 2, 3, 4]) == [PositionSide.LONG, PositionSide.SHORT]
    assert s.qty == Decimal("0.05")


@pytest.mark.parametrize("name", ["no_such_builtin", "nowhere.module:Cls", "tests.user_strategy:Missing"])
def test_unloadable_strategy_names_are_clear_errors(name):
    with pytest.raises(StrategyLoadError):
        resolve_strategy(name)
