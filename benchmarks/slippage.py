"""Slippage against order size on the simulated venue, and the fitted power-law exponent.

Sends market orders of sizes spanning three decades through the real venue (`SimExchange`),
measures each fill against the arrival mid, and fits ``impact ~ size ** beta`` in log-log.
Impact is the slippage beyond the half-spread (what the depth costs); the square-root law
(Donier & Bonart 2015, Bitcoin) predicts beta near 0.5.

    python benchmarks/slippage.py
"""
from __future__ import annotations

from decimal import Decimal

import numpy as np

from sim.core.instrument import Instrument
from sim.core.messages import SubmitOrder
from sim.core.types import ClientOrderId, OrderType, Side
from sim.world.exchange import SimExchange, VenueRules
from sim.world.liquidity import DepthProfile
from sim.world.market import PricePath


class _Quiet:
    def on_order(self, *a: object, **k: object) -> None: ...
    def on_reject(self, *a: object, **k: object) -> None: ...
    def on_fill(self, *a: object, **k: object) -> None: ...
    def on_position(self, *a: object, **k: object) -> None: ...


def measure(depth: DepthProfile, sizes: np.ndarray, mid: float = 30_000.0) -> np.ndarray:
    inst = Instrument("BTCUSDT", Decimal("0.1"), Decimal("0.001"), Decimal("0.001"), Decimal("5"))
    path = PricePath(0, 1000, np.full(10, mid))
    out = []
    for i, size in enumerate(sizes):
        ex = SimExchange(inst, path, depth, VenueRules(leverage=100), 1e12, _Quiet())
        qty = inst.qty_down(float(size))
        o = ex.submit(SubmitOrder("BTCUSDT", ClientOrderId(f"b-{i}"), Side.BUY, OrderType.MARKET, qty), 0, "bench")
        out.append((o.avg_price / o.arrival_mid - 1.0) * 1e4)
    return np.array(out)


def main() -> None:
    depth = DepthProfile(spread_bps=1.0, level_step_bps=0.5, level0_qty=0.5, levels=400)
    # 10 to 10,000 BTC: three decades, deep enough that the ladder's first few discrete levels do not dominate
    sizes = np.logspace(1.0, 4.0, 25)
    slip = measure(depth, sizes)
    impact = slip - 0.5 * depth.spread_bps
    beta, log_a = np.polyfit(np.log(sizes), np.log(impact), 1)
    beta_raw = np.polyfit(np.log(sizes), np.log(slip), 1)[0]
    print(f"{'size BTC':>10} {'slippage bps':>13} {'impact bps':>11}")
    for s, sl, im in zip(sizes[::4], slip[::4], impact[::4], strict=True):
        print(f"{s:10.3f} {sl:13.3f} {im:11.3f}")
    print(f"depth: spread {depth.spread_bps} bps, step {depth.level_step_bps} bps, level0 {depth.level0_qty} BTC")
    print(f"fit: impact = {np.exp(log_a):.3f} bps * size^{beta:.3f} (raw slippage incl. half-spread: ^{beta_raw:.3f})")
    print(f"slippage: exponent={beta:.3f} sizes={sizes[0]:g}..{sizes[-1]:g} BTC")


if __name__ == "__main__":
    main()
