"""Passive fills in real data: how often the market arriving at a price level fills a resting order.

From Binance's book ticker (best bid and ask with their sizes) and trades: each time a price
becomes the best bid (ask), an *episode* runs until the best price moves off it. For the episodes
where the market fell (rose) onto the level (``adverse`` arrivals: what a resting order sees when
the price comes to it), the queue at the start is the displayed size, and the aggressive volume
is the sells (buys) printed at the level before it moved. A back-of-queue order of size q with no
cancels ahead fills ``clip(volume - queue, 0, q)``: the shares of episodes that fill it at all and
on average, by size, and the share that ended with the level traded through are the statistic
(the audit's `passive_fill_adverse.py`, computed the same way). The same statistic is computed on
a simulated sample (`shares`) for the check against the venue's queue model.

`fit_flow` fits the synthetic trade flow (`sim.world.trade_flow.FlowParams`) to the same data,
and `post_fill_drift` measures how the mid moves against a passive fill after it.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

DATA = Path(__file__).resolve().parents[2] / "data" / "binance-btcusdt-perp"
BOOK_TICKER = DATA / "btcusdt_perp_bookticker.csv.gz"
TRADES = DATA / "btcusdt_perp_trades.csv.gz"
SIZES = (0.01, 0.25, 1.0)
HORIZONS_S = (1, 10, 60)


def window_of(source_file: str) -> str:
    """The recording window of a source file (``btcusdt_20230405.dat.gz`` -> ``2023-04``); the
    windows of the shipped data are each a night across midnight, so a month names one."""
    day = source_file.split("_")[1][:8]
    return f"{day[:4]}-{day[4:6]}"


@dataclass(frozen=True)
class RealData:
    """The book ticker and the market trades (``exec_type`` MARKET) of one window."""

    window: str
    ticker: pd.DataFrame  # trade_time_ms, bid_price, bid_qty, ask_price, ask_qty
    trades: pd.DataFrame  # trade_time_ms, price, qty, sell (the aggressor sold)


def load_real(book_ticker: str | Path = BOOK_TICKER, trades: str | Path = TRADES) -> list[RealData]:
    bt = pd.read_csv(book_ticker)
    tr = pd.read_csv(trades)
    tr = tr[tr["exec_type"] == "MARKET"]
    bt["window"] = bt["source_file"].map(window_of)
    tr["window"] = tr["source_file"].map(window_of)
    tr = tr.assign(sell=tr["aggressor_side"] == "sell")
    out = []
    for w in sorted(set(bt["window"]) & set(tr["window"])):
        out.append(RealData(w, bt[bt["window"] == w].reset_index(drop=True),
                            tr[tr["window"] == w].reset_index(drop=True)))
    return out


def episodes(data: RealData) -> pd.DataFrame:
    """One row per episode of a price at the best bid or ask: side, start and end (ms), queue at the
    start, aggressive volume at the level, whether it ended traded through, whether the market
    arrived adversely, and when a 0.01 back-of-queue order would have filled (-1: never)."""
    b = data.ticker
    ev = [(int(t), 0, bp, bq, ap, aq) for t, bp, bq, ap, aq in
          zip(b["trade_time_ms"], b["bid_price"], b["bid_qty"], b["ask_price"], b["ask_qty"], strict=True)]
    tr = data.trades
    ev += [(int(t), 1, p, q, 1.0 if s else 0.0, 0.0) for t, p, q, s in
           zip(tr["trade_time_ms"], tr["price"], tr["qty"], tr["sell"], strict=True)]
    ev.sort(key=lambda e: (e[0], e[1]))
    rows: list[tuple] = []
    cur: dict[str, list | None] = {"bid": None, "ask": None}
    for t, kind, a, b_, c, d in ev:
        if kind == 0:
            for side, px, qty in (("bid", a, b_), ("ask", c, d)):
                st = cur[side]
                if st is None or st[0] != px:
                    if st is not None:
                        through = px < st[0] if side == "bid" else px > st[0]
                        rows.append((side, st[1], t, st[2], st[3], through, st[4], st[5], st[0]))
                    adverse = st is not None and (px < st[0] if side == "bid" else px > st[0])
                    cur[side] = [px, t, qty, 0.0, adverse, -1]
        else:
            st = cur["bid" if c else "ask"]
            if st is not None and a == st[0]:
                st[3] += b_
                if st[5] < 0 and st[3] > st[2] + SIZES[0] - 1e-12:
                    st[5] = t
    return pd.DataFrame(rows, columns=["side", "start_ms", "end_ms", "queue", "volume", "through", "adverse",
                                       "fill_ms", "price"])


def shares(queue: np.ndarray, volume: np.ndarray, through: np.ndarray) -> dict:
    """The statistic of a sample of arrivals: the shares (0..1) of those that fill a back-of-queue
    order at all (volume beyond the queue), its mean fill share by size, and the share traded through."""
    queue, volume = np.asarray(queue, float), np.asarray(volume, float)
    out = {"arrivals": int(len(queue)), "any_fill": float((volume > queue).mean()),
           "through": float(np.asarray(through, bool).mean())}
    for q in SIZES:
        out[f"fill_{q:g}"] = float((np.clip(volume - queue, 0, q) / q).mean())
    return out


def real_shares(data: list[RealData] | None = None) -> dict[str, dict]:
    """The statistic per window and for all windows pooled (``"all"``), over the adverse arrivals."""
    data = load_real() if data is None else data
    eps = {d.window: episodes(d) for d in data}
    out = {}
    for w, e in [*eps.items(), ("all", pd.concat(list(eps.values())))]:
        a = e[e["adverse"]]
        out[w] = shares(a["queue"].to_numpy(), a["volume"].to_numpy(), a["through"].to_numpy())
    return out


@dataclass(frozen=True)
class FlowFit:
    """The synthetic flow fitted to real data (the fields of `sim.world.trade_flow.FlowParams`)."""

    rate: float
    size_log_mean: float
    size_log_sd: float
    cancel_rate: float
    through_log_mean: float
    through_log_sd: float
    through_factor: float
    away_factor: float


def fit_flow(data: list[RealData] | None = None) -> FlowFit:
    """Fit the flow at the touch, pooled over the windows.

    rate: trades a second on one side (all market trades over both sides and the time covered);
    sizes: mean and sd of ln(qty); cancel_rate: the size leaving the best level other than by
    trades, per unit displayed and second (the book ticker's decreases at an unchanged price, less
    the trades printed there in between); through: ln ms of the episodes that ended through.
    """
    data = load_real() if data is None else data
    n = secs = 0.0
    sizes, spans = [], []
    cancelled = exposure = 0.0
    vol = {True: 0.0, False: 0.0}
    expected = {True: 0.0, False: 0.0}  # the volume the window's one-side rate would have brought
    for d in data:
        t = d.trades["trade_time_ms"].to_numpy()
        n += len(t)
        span_s = (t.max() - t.min()) / 1000.0
        secs += span_s
        sizes.append(d.trades["qty"].to_numpy(float))
        e = episodes(d)
        a = e[e["adverse"]]
        thr = a[a["through"]]
        spans.append(np.maximum(thr["end_ms"].to_numpy() - thr["start_ms"].to_numpy(), 1))
        side_rate = float(d.trades["qty"].sum()) / span_s / 2
        for end in (True, False):
            g = a[a["through"] == end]
            vol[end] += float(g["volume"].sum())
            expected[end] += float((g["end_ms"] - g["start_ms"]).sum()) / 1000.0 * side_rate
        c, x = _cancels(d)
        cancelled += c
        exposure += x
    ln_q, ln_d = np.log(np.concatenate(sizes)), np.log(np.concatenate(spans).astype(float))
    return FlowFit(n / secs / 2, float(ln_q.mean()), float(ln_q.std()), cancelled / exposure,
                   float(ln_d.mean()), float(ln_d.std()), vol[True] / expected[True], vol[False] / expected[False])


def _cancels(d: RealData) -> tuple[float, float]:
    """Size that left the best bid and ask other than by trades, and the displayed size x seconds."""
    b, tr = d.ticker, d.trades
    t = b["trade_time_ms"].to_numpy()
    dt = np.diff(t) / 1000.0
    cancelled = exposure = 0.0
    for px_col, q_col, sell in (("bid_price", "bid_qty", True), ("ask_price", "ask_qty", False)):
        px, q = b[px_col].to_numpy(), b[q_col].to_numpy()
        side = tr[tr["sell"] == sell]
        st, sp, sq = side["trade_time_ms"].to_numpy(), side["price"].to_numpy(), side["qty"].to_numpy()
        same = px[1:] == px[:-1]
        exposure += float((q[:-1] * dt)[same].sum())
        lo, hi = np.searchsorted(st, t[:-1], side="right"), np.searchsorted(st, t[1:], side="right")
        traded = np.zeros(len(lo))
        for i in np.nonzero(same & (hi > lo))[0]:  # trades at the level between two updates at its price
            traded[i] = float(sq[lo[i]:hi[i]][sp[lo[i]:hi[i]] == px[i]].sum())
        cancelled += float(np.maximum(q[:-1] - q[1:] - traded, 0.0)[same].sum())
    return cancelled, exposure


def post_fill_drift(data: list[RealData] | None = None, horizons_s: tuple[int, ...] = HORIZONS_S) -> dict[str, float]:
    """Mean move of the mid against a back-of-queue passive fill (0.01, adverse arrivals), in bps of
    the fill price, ``h`` seconds after it (positive: adverse, the price went on through the order;
    at the fill the mid is half a tick, 0.02 bps, on the order's good side)."""
    data = load_real() if data is None else data
    moves: dict[int, list[np.ndarray]] = {h: [] for h in horizons_s}
    for d in data:
        e = episodes(d)
        f = e[e["adverse"] & (e["fill_ms"] >= 0)]
        b = d.ticker
        t = b["trade_time_ms"].to_numpy()
        mid = 0.5 * (b["bid_price"].to_numpy() + b["ask_price"].to_numpy())
        ft = f["fill_ms"].to_numpy()
        sign = np.where(f["side"].to_numpy() == "bid", -1.0, 1.0)  # a bid filled: a falling mid is adverse
        m0 = f["price"].to_numpy(float)
        for h in horizons_s:
            ok = ft + h * 1000 <= t[-1]
            m1 = mid[np.searchsorted(t, ft[ok] + h * 1000, side="right") - 1]
            moves[h].append(sign[ok] * (m1 - m0[ok]) / m0[ok] * 1e4)
    return {f"{h}s": float(np.concatenate(v).mean()) for h, v in moves.items()}


ROWS = (("arrivals", "arrivals of the market at a level"), ("any_fill", "any fill (back of the queue)"),
        *((f"fill_{q:g}", f"mean fill, {q:g}") for q in SIZES), ("through", "level traded through"))


def fill_table(columns: dict[str, dict]) -> str:
    """The statistic side by side (``columns``: name -> `shares` or `real_shares` entry), shares in %."""
    names = list(columns)
    lines = [f"{'passive fills':36}" + "".join(f"{n:>14}" for n in names)]
    for key, label in ROWS:
        cells = [columns[n].get(key) for n in names]
        fmt = (lambda v: f"{v:>14,}") if key == "arrivals" else (lambda v: f"{100 * v:>13.1f}%")
        lines.append(f"{label:36}" + "".join(fmt(v) if v is not None else f"{'-':>14}" for v in cells))
    return "\n".join(lines)
