"""The order-count limits count orders in their own windows (10 s and a minute), on the wall clock."""
from __future__ import annotations

import pytest

from sim.serve.errors import BinanceError
from sim.serve.limits import Limiter, LimitsConfig


def test_order_counts_per_10_seconds_and_per_minute():
    lim = Limiter(LimitsConfig(weight_per_minute=10_000, orders_per_10s=3, orders_per_minute=5))
    t = 1_000.0
    for i in range(3):
        h = lim.admit("ip", 0, True, now=t + i)
        assert h["X-MBX-ORDER-COUNT-10S"] == str(i + 1)
    with pytest.raises(BinanceError) as e:
        lim.admit("ip", 0, True, now=t + 3)
    assert (e.value.status, e.value.code) == (429, -1015)
    assert lim.admit("ip", 0, True, now=t + 11)["X-MBX-ORDER-COUNT-1M"] == "4"  # the first left the 10 s window
    assert lim.admit("ip", 0, True, now=t + 12)["X-MBX-ORDER-COUNT-10S"] == "2"
    with pytest.raises(BinanceError):  # five in the minute already
        lim.admit("ip", 0, True, now=t + 25)
    assert lim.admit("ip", 0, True, now=t + 61)["X-MBX-ORDER-COUNT-1M"] == "4"  # t and t+1 have left the minute
    assert lim.admit("ip", 1, False, now=t + 61)["X-MBX-USED-WEIGHT-1M"] == "1"  # weights: their own count
