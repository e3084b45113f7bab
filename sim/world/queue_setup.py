"""The queue model a scenario asks for (`[exchange.queue]`): the one place that reads its keys.

``"position"`` on a trades replay advances queues with the replayed trades (`RecordedFlow`); on any
other market with the synthetic flow drawn from the run's ``queue`` stream (`PoissonFlow`). The
ideal twin (test mode) keeps fill on touch: ideal execution has no queue.
"""
from __future__ import annotations

import numpy as np

from sim.core.instrument import Instrument
from sim.world.liquidity import Book
from sim.world.market import PricePath
from sim.world.queue import QueueModel, TouchQueue
from sim.world.queue_position import PositionQueue
from sim.world.rng import RunStreams
from sim.world.trade_flow import FlowParams, PoissonFlow, RecordedFlow


def flow_params(q) -> FlowParams:
    """The `FlowParams` of an `[exchange.queue]` table (``q``: `sim.scenario.schema.exchange.QueueCfg`)."""
    return FlowParams(q.trade_rate, q.size_log_mean, q.size_log_sd, q.cancel_rate, q.through_log_mean,
                      q.through_log_sd, q.through_factor, q.away_factor)


def recorded_flow(table) -> RecordedFlow:
    """The replayed trades (``time_ms, price, qty, side``) as the flow at the touch; a missing size
    counts as nothing (only trade-throughs fill), a missing side as either."""
    side = table["side"].to_numpy().astype(str)
    known = np.isin(side, ("buy", "sell"))
    qty = np.nan_to_num(table["qty"].to_numpy(float), nan=0.0)
    return RecordedFlow(table["time_ms"].to_numpy(), table["price"].to_numpy(float), qty,
                        (side == "sell") if known.all() else None)


def queue_model(sc, path: PricePath, liquidity: Book, instrument: Instrument, streams: RunStreams,
                ideal: bool = False, trades=None) -> QueueModel:
    """The scenario's queue model (``sc``: `sim.scenario.schema.Scenario`; ``trades``: the replayed
    trades table of a trades replay, None otherwise)."""
    q = sc.exchange.queue
    if ideal or sc.liquidity.ideal or q.model == "touch":
        return TouchQueue(path, liquidity, instrument, sc.liquidity.resting_fill_fraction)
    params = flow_params(q)
    flow = recorded_flow(trades) if trades is not None else PoissonFlow(params, streams.stream("queue"))
    return PositionQueue(path, liquidity, instrument, flow, params.cancel_rate)
