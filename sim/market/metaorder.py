"""The metaorder experiment: what a large order costs split into slices, and how its impact decays.

A metaorder of ``total`` base units is sent as ``slices`` market orders ``spacing_ms`` apart to a
venue built from a scenario's ``[liquidity]`` on a flat price path (so every basis point of cost is
the book's, none the market's), then single small probes measure what is left of its impact at
given delays after its last slice. The square-root law says the whole pays about
``2/3 * impact_bps * sqrt(total)`` beyond its slices' own walks when the slices come close together,
and each slice pays its own walk when they are spread far apart.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from sim.core.messages import SubmitOrder
from sim.core.types import ClientOrderId, OrderType, Side
from sim.scenario.schema import Scenario
from sim.world.build import book_of, depth_profile, instrument_of
from sim.world.exchange import SimExchange, VenueRules
from sim.world.liquidity import LiquiditySchedule
from sim.world.market import PricePath
from sim.world.rng import RunStreams

T0 = 1_700_000_000_000
PROBE = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class Metaorder:
    """One experiment's figures (costs in bps of the mid, + = paid)."""

    total: float
    slices: int
    spacing_ms: int
    cost_bps: float  # the whole metaorder's average fill vs the mid
    sweep_bps: float  # the whole as one market order on a fresh book
    slice_bps: float  # one slice on a fresh book
    sqrt_law_bps: float  # slice_bps + 2/3 * impact_bps * sqrt(total)
    left_after: dict[int, float]  # delay after the last slice (ms) -> share of the impact at completion left


class _Quiet:
    def on_order(self, *a: object) -> None: ...
    def on_reject(self, *a: object) -> None: ...
    def on_fill(self, *a: object) -> None: ...
    def on_position(self, *a: object) -> None: ...


def _venue(sc: Scenario, seed: int, hours: int) -> SimExchange:
    mid = np.full(hours * 3600 + 1, sc.market.s0)
    path = PricePath(T0, 1000, mid)
    book = book_of(sc, LiquiditySchedule(depth_profile(sc, sc.market.s0)), path, RunStreams(seed))
    return SimExchange(instrument_of(sc), path, book, VenueRules(taker_fee=0.0, leverage=20),
                       1e12, _Quiet())


def _buy(ex: SimExchange, qty: Decimal, now: int, n: int) -> float:
    """Cost (bps) of one market buy of ``qty`` at ``now``."""
    o = ex.submit(SubmitOrder(ex.instrument.symbol, ClientOrderId(f"m{n}"), Side.BUY, OrderType.MARKET, qty), now,
                  "bot")
    return (o.notional / float(o.filled_qty) / ex.path.mid_at(now) - 1.0) * 1e4


def run_metaorder(sc: Scenario, total: float, slices: int, spacing_ms: int, delays_ms: tuple[int, ...] = (),
                  seed: int = 0) -> Metaorder:
    """Execute the metaorder on fresh venues built from ``sc`` and measure it (see the module docstring)."""
    hours = 1 + (slices * spacing_ms + max(delays_ms, default=0)) // 3_600_000 + 1
    lot = instrument_of(sc).lot_size
    piece = (Decimal(repr(float(total))) / slices / lot).to_integral_value() * lot
    ex = _venue(sc, seed, hours)
    paid = 0.0
    now = T0 + 60_000
    for i in range(slices):
        paid += _buy(ex, piece, now + i * spacing_ms, i) * float(piece)
    end = now + (slices - 1) * spacing_ms
    cost = paid / float(piece * slices)
    sweep = _buy(_venue(sc, seed, hours), piece * slices, now, 0)
    slice_fresh = _buy(_venue(sc, seed, hours), piece, now, 0)
    probe_fresh = _buy(_venue(sc, seed, hours), PROBE, now, 0)
    left = {}
    at_end = None
    for d in (0, *delays_ms):  # each probe on its own copy of the venue: a probe must not feed the next
        ex = _venue(sc, seed, hours)
        for i in range(slices):
            _buy(ex, piece, now + i * spacing_ms, i)
        extra = _buy(ex, PROBE, end + max(d, 1), slices) - probe_fresh
        if at_end is None:
            at_end = extra
        else:
            left[d] = extra / at_end if at_end > 0 else 0.0
    law = slice_fresh + 2.0 / 3.0 * sc.liquidity.impact_bps * float(piece * slices) ** 0.5
    return Metaorder(total, slices, spacing_ms, cost, sweep, slice_fresh, law, left)
