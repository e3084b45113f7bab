"""Pure helpers of the venue: the bands its first-passage search watches, and candles from the path."""
from __future__ import annotations

import math
from collections.abc import Callable

from sim.core.errors import Rejected
from sim.core.messages import Candle, CandlesReport, FetchCandles
from sim.core.types import RejectReason
from sim.world.market import PricePath
from sim.world.venue_orders import VenueOrder


def threshold_bands(resting: list[VenueOrder], limit_band: Callable[[VenueOrder], tuple[float, float]],
                    liquidation: float | None, long: bool, limit_series: str = "mark") -> dict[str, list[float]]:
    """Per price series ("mark", "last", "mid"), the [lo, hi] band whose first exit is the next venue
    event (a resting limit's band is its queue model's, ``limit_band``, on ``limit_series``)."""
    bands = {"mark": [-math.inf, math.inf], "last": [-math.inf, math.inf], "mid": [-math.inf, math.inf]}
    for o in resting:
        if o.is_trigger:
            band, trig = bands[o.trigger_by], float(o.trigger_price)  # type: ignore[arg-type]
            if o.fires_on_rise:
                band[1] = min(band[1], trig)
            else:
                band[0] = max(band[0], trig)
        else:
            band, (lo, hi) = bands[limit_series], limit_band(o)
            band[0], band[1] = max(band[0], lo), min(band[1], hi)
    if liquidation is not None:
        band = bands["mark"]
        if long:
            band[0] = max(band[0], liquidation)
        else:
            band[1] = min(band[1], liquidation)
    return bands


def candles_report(path: PricePath, req: FetchCandles, now: int) -> CandlesReport:
    """Closed candles of the request's interval whose open is at or after ``since_ms`` (newest ``limit``)."""
    iv = req.interval_ms
    if iv <= 0 or iv % path.tick_ms:
        raise Rejected(RejectReason.INVALID, f"interval {iv} ms is not a multiple of the tick", now)
    first = max(-(-req.since_ms // iv), -(-path.t0_ms // iv)) * iv
    last_open = min(now, path.end_ms + path.tick_ms) // iv * iv - iv  # last closed candle
    count = min((last_open - first) // iv + 1, req.limit) if last_open >= first else 0
    if count <= 0:
        return CandlesReport(now, ())
    first = last_open - (count - 1) * iv  # the newest `limit` candles
    rows = path.ohlc_rows(first, iv, count)
    if len(rows) == 1:  # the usual case, a new candle a cycle: no generator machinery
        return CandlesReport(now, (Candle(first, *rows[0]),))
    return CandlesReport(now, tuple(Candle(first + k * iv, o, h, lo, c) for k, (o, h, lo, c) in enumerate(rows)))
