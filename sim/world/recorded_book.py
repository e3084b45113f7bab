"""The recorded L2 book as the venue's liquidity (``market.book_file``): a `Book` that replays it.

A market order (or a limit's marketable part, or a liquidation) walks the levels recorded at that
moment, best first, at their prices and sizes; the touch is the recorded best bid and ask. The
venue's ``mid`` argument is ignored: the recording knows better.

The book is rebuilt forward only when an order needs it (`BookState.advance` applies the diffs
between the last question and this one), so a run costs what its orders cost, not the ~19
messages a second of the recording. Our own orders do not change the recording: an order a second
later walks what was recorded then, with no memory of what we took (no own impact in a replay).
A thin-liquidity window scales the recorded sizes by its depth factor and every level's distance
from the recorded mid by its spread factor.
"""
from __future__ import annotations

from sim.data.depth import CHECKPOINT, BookState, DepthWindow
from sim.world.liquidity import BookWalk, DepthProfile, ThinWindow, window_factors


class RecordedBook:
    """A `sim.world.liquidity.Book` over one `DepthWindow` (prices absolute, quantities in base units)."""

    def __init__(self, window: DepthWindow, windows: list[ThinWindow] | None = None) -> None:
        self.window = window
        self.windows = sorted(windows or [], key=lambda w: w.start_ms)
        self._state = BookState(window)

    def add(self, window: ThinWindow) -> None:
        self.windows = sorted([*self.windows, window], key=lambda w: w.start_ms)

    def _factors(self, t_ms: int) -> tuple[float, float]:
        return window_factors(self.windows, t_ms)

    def state(self, t_ms: int) -> BookState:
        """The recorded book at ``t_ms`` (moved forward, or from the nearest saved book)."""
        k = self.window.applied(t_ms)
        if k < self._state.applied or k - self._state.applied > 2 * CHECKPOINT:
            self._state = BookState(self.window, k)  # from the saved book nearest before
        self._state.advance(k)
        return self._state

    def recorded_mid(self, t_ms: int) -> float:
        b, a = self.window.touch_at(t_ms)
        return 0.5 * (self.window.price(b) + self.window.price(a))

    def levels(self, t_ms: int, buy: bool, n: int | None = None) -> list[tuple[float, float]]:
        """The levels a buy (asks) or a sell (bids) would walk at ``t_ms``: (price, qty), best first,
        thin-window factors applied."""
        depth, spread = self._factors(t_ms)
        mid = self.recorded_mid(t_ms) if spread != 1.0 else 0.0
        w, out = self.window, []
        for ticks, q in self.state(t_ms).side_levels(bid=not buy):
            p = w.price(ticks)
            out.append((mid + (p - mid) * spread if spread != 1.0 else p, q * depth))
            if n is not None and len(out) >= n:
                break
        return out

    def touch(self, t_ms: int, mid: float) -> tuple[float, float]:
        depth, spread = self._factors(t_ms)
        b, a = self.window.touch_at(t_ms)
        bid, ask = self.window.price(b), self.window.price(a)
        if spread != 1.0:
            m = 0.5 * (bid + ask)
            bid, ask = m - (m - bid) * spread, m + (ask - m) * spread
        return bid, ask

    def reach(self, t_ms: int, buy: bool, mid: float, limit_price: float) -> float:
        total = 0.0
        for p, q in self._walkable(t_ms, buy):
            if _beyond(p, buy, limit_price):
                break
            total += q
        return total

    def _walkable(self, t_ms: int, buy: bool):
        depth, spread = self._factors(t_ms)
        if depth == 1.0 and spread == 1.0:  # the usual case: no list, stop as soon as the order is done
            w = self.window
            return ((w.price(ticks), q) for ticks, q in self.state(t_ms).side_levels(bid=not buy))
        return iter(self.levels(t_ms, buy))

    def take(self, t_ms: int, buy: bool, qty: float, mid: float, limit_price: float | None = None) -> BookWalk:
        bid, ask = self.touch(t_ms, mid)
        m = 0.5 * (bid + ask)
        half = (ask - m) / m * 1e4
        filled = notional = 0.0
        worst = ask if buy else bid
        for p, q in self._walkable(t_ms, buy):
            if filled >= qty or (limit_price is not None and _beyond(p, buy, limit_price)):
                break
            part = min(q, qty - filled)
            filled += part
            notional += part * p
            worst = p
        if filled <= 0:
            return BookWalk(0.0, m, m, half)
        return BookWalk(filled, notional / filled, worst, half)

    def at(self, t_ms: int) -> DepthProfile:
        """The recorded touch as a ladder, for the parts that still read one (a displayed depth): the
        recorded spread, one tick between levels, the recorded touch size at the first level."""
        bid, ask = self.touch(t_ms, 0.0)
        m = 0.5 * (bid + ask)
        st = self.state(t_ms)
        b, a = st.best()
        touch_qty = max(0.5 * (st.qty_at(True, b) + st.qty_at(False, a)) * self._factors(t_ms)[0], 1e-9)
        return DepthProfile(spread_bps=(ask - bid) / m * 1e4, level_step_bps=self.window.tick_size / m * 1e4,
                            level0_qty=touch_qty, levels=1000, depth_exponent=1.0)


def _beyond(price: float, buy: bool, limit: float) -> bool:
    """A level past the limit: above it for a buy, below it for a sell (a price at the limit is in reach)."""
    eps = 1e-9 * max(abs(limit), 1.0)
    return price > limit + eps if buy else price < limit - eps

