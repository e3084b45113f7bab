"""The composition root: one scenario and one seed -> a world ready to run.

The only place that knows every part; no `if ideal:` branch lives anywhere else. The ideal twin
(test mode) is the same world with fills at the mid, no fees, no latency and no interventions.
"""
from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import simpy

from sim.bot.cycle import Bot
from sim.bot.policies import BotConfig, ConditionalRoute, ExecutionPolicy, FlipMode, PartialFillPolicy, ProtectivePolicy
from sim.bot.record import PlatformRecord
from sim.bot.sizing import SizingMode, SizingPolicy
from sim.bot.strategy.base import resolve_strategy
from sim.core.instrument import Instrument
from sim.core.types import RejectReason, TriggerBy
from sim.data.errors import MarketDataError
from sim.data.markprice import load_mark_stream
from sim.data.paths import bars_to_ticks, trades_to_ticks
from sim.data.replay import load_replay
from sim.market.mark import BinanceMark, MarkModel
from sim.market.msm import on_tick_grid
from sim.market.scenario import funding_mode, index_params, synthetic_mid
from sim.scenario.loader import replay_spec, strategy_kwargs
from sim.scenario.schema import (
    BotCrash,
    DropUpdates,
    Event,
    LatencySpike,
    Outage,
    PriceGap,
    RejectOrders,
    Scenario,
    ThinLiquidity,
    ms,
)
from sim.world.book_dynamics import DepthParams, DynamicBook, ImpactParams
from sim.world.book_replay import recorded_mid, recorded_parts
from sim.world.driver import BotDriver, Crash, VenueClock
from sim.world.exchange import SimExchange, VenueRules
from sim.world.faults import draw_fault_events
from sim.world.interventions import schedule_interventions
from sim.world.liquidity import IDEAL, Book, DepthProfile, LiquiditySchedule, ThinWindow
from sim.world.margin import MarginTier
from sim.world.market import BidAskBounce, GbmParams, PricePath, TickLast, apply_gaps, gbm_path
from sim.world.queue_setup import queue_model
from sim.world.rng import RunStreams
from sim.world.runlog import RunLog
from sim.world.transport import Faults, Gateway, LatencyModel, RateLimit, Transport, Window
from sim.world.truth import GroundTruth
from sim.world.updates import UpdateModel, UpdateStream


@dataclass
class World:
    scenario: Scenario
    seed: int
    ideal: bool
    env: simpy.Environment
    venue: SimExchange
    truth: GroundTruth
    log: RunLog
    driver: BotDriver
    clock: VenueClock
    bot: Bot
    record: PlatformRecord
    start_ms: int
    end_ms: int
    updates: UpdateStream
    scheduled: list[Event]
    cycles_before: int = 0  # cycles of bot processes that crashed
    market_facts: dict = field(default_factory=dict)  # what was replayed, and how

    @property
    def cycles(self) -> int:
        return self.cycles_before + self.bot.cycles

    @property
    def events(self) -> int:
        """SimPy events the run processed (driver waits, venue wake-ups, pushed updates)."""
        return self.driver.events + self.clock.events + self.updates.events


def instrument_of(sc: Scenario) -> Instrument:
    m = sc.market
    return Instrument(m.symbol, m.tick_size, m.lot_size, m.min_qty, m.min_notional, m.max_qty, m.market_max_qty)


def replay_trades(sc: Scenario):
    """The replayed trades of a trades replay inside the run's window (None for candles or synthetic markets)."""
    if sc.market.model != "replay":
        return None
    data = load_replay(replay_spec(sc), (sc.scenario.start_ms, sc.scenario.start_ms + sc.duration_ms))
    return None if data.interval_ms is not None else data.table


def replay_path(sc: Scenario, streams: RunStreams) -> tuple[PricePath, dict]:
    """The price path of a replay: candles through the intrabar model, or trades on a grid.

    The path has one tick per ``resolution`` from the start to the end of the run, all of them from
    the data: the first candle is the one containing the start (the run may begin mid-candle), and
    data shorter than the run is refused, never padded. The one tick a candle path may lack is at
    the run's end when that is also the end of the last candle; it is that candle's close.
    """
    m = sc.market
    res = ms(m.resolution)
    start, end = sc.scenario.start_ms, sc.scenario.start_ms + sc.duration_ms
    data = load_replay(replay_spec(sc), (start, end))
    n_ticks = sc.duration_ms // res + 1
    if data.interval_ms is not None:
        mid = bars_to_ticks(data.table, data.interval_ms, res, streams.stream("intrabar"), m.intrabar)
        first_bar = int(data.table["time_ms"].iloc[0])
        last_end = int(data.table["time_ms"].iloc[-1]) + data.interval_ms
        offset = (start - first_bar) // res
        if offset < 0:
            raise MarketDataError(f"the first candle ({_iso(first_bar)}) begins after the run's start ({_iso(start)})")
        mid = mid[offset:offset + n_ticks]
        if len(mid) == n_ticks - 1 and end == last_end:
            mid = np.append(mid, data.table["close"].iloc[-1])  # the price at the end of the last candle
        facts = dict(data.facts, model="replay", kind="ohlcv", intrabar=m.intrabar, resolution_ms=res)
        last = None
    else:
        mid = trades_to_ticks(data.table, start, n_ticks, res)
        facts = dict(data.facts, model="replay", kind="trades", intrabar="last trade on a grid", resolution_ms=res)
        last = mid
    if len(mid) < n_ticks:
        covered = start + (len(mid) - 1) * res
        raise MarketDataError(f"the data gives prices from {_iso(start)} to {_iso(covered)} only; the run needs them "
                              f"to {_iso(end)} (a shorter scenario.duration, or more data)")
    if m.book_file:  # the recorded book's mid; the last price stays the trades'
        mid, book_facts = recorded_mid(sc, start, n_ticks, res)
        facts.update(book_facts)
    mid = np.ascontiguousarray(mid)
    half_spread = 0.5 * spread_bps(sc, float(mid[0])) * 1e-4
    last = last if last is not None else BidAskBounce(mid, half_spread, streams.stream("last"))
    if not m.mark_file:
        return PricePath(start, res, mid, last=last), facts
    stream = load_mark_stream(m.mark_file)
    mark, before = stream.on_grid(stream.mark, start, n_ticks, res)
    index, _ = stream.on_grid(stream.index, start, n_ticks, res)
    mark[:before], index[:before] = mid[:before], mid[:before]  # before the stream's first row: the trade price
    path = PricePath(start, res, mid, last=last, mark=mark)
    path.index_slice = lambda a, b: index[a:b]
    path.funding_rate = stream.rate_for
    facts.update(mark="recorded", mark_file=Path(m.mark_file).name, mark_ticks_before_stream=before)
    return path, facts


GBM_SPREAD_BPS = 1.0


def spread_bps(sc: Scenario, first_price: float) -> float:
    """The quoted spread: ``liquidity.spread_bps``, or one tick at the path's first price (BTCUSDT's); on a
    GBM path, whose mid is continuous and not on the tick grid, 1 bps as before the realistic defaults."""
    liq = sc.liquidity
    if liq.spread_bps is not None:
        return liq.spread_bps
    return GBM_SPREAD_BPS if sc.market.model == "gbm" else float(sc.market.tick_size) / first_price * 1e4


def depth_profile(sc: Scenario, first_price: float) -> DepthProfile:
    """The book of ``[liquidity]`` (its spread resolved against the path's first price)."""
    liq = sc.liquidity
    return DepthProfile(spread_bps(sc, first_price), liq.level_step_bps, liq.level0_qty, liq.levels,
                        liq.depth_exponent)


def annualised_vol(path: PricePath) -> float:
    """The annualised volatility of a path's mid over its whole length (0 for a flat or one-tick path)."""
    r = np.diff(np.log(path.mid))
    return float(np.sqrt(np.dot(r, r) / max(len(r), 1) * 365 * 86_400_000 / path.tick_ms))


def book_of(sc: Scenario, schedule: LiquiditySchedule, path: PricePath, streams: RunStreams) -> Book:
    """The venue's book: the ladder schedule, with the dynamics ``[liquidity]`` switches on (none on the
    ideal book)."""
    liq = sc.liquidity
    if liq.ideal or (liq.impact == "none" and liq.depth_model == "static"):
        return schedule
    impact = ImpactParams(liq.impact_bps, ms(liq.impact_halflife)) if liq.impact == "transient" else None
    depth = None
    if liq.depth_model == "volatility":
        ref = liq.vol_reference
        if ref is None:  # the market's own volatility: the model's sigma, or what the replayed data shows
            ref = sc.market.sigma if sc.market.model != "replay" else annualised_vol(path)
        depth = DepthParams(ms(liq.vol_window), ref, liq.depth_vol_elasticity, liq.spread_vol_threshold,
                            liq.side_depth_sd, ms(liq.side_depth_period),
                            int(streams.stream("book").integers(2**63 - 1)))
    return DynamicBook(schedule, path, impact, depth)


def _iso(t_ms: int) -> str:
    return datetime.fromtimestamp(t_ms / 1000, tz=UTC).isoformat()


def price_path(sc: Scenario, streams: RunStreams, gaps: list[PriceGap] | None = None) -> PricePath:
    """The run's synthetic price path: the model's mid (= mark), price gaps applied, last-trade bounce built
    on first use. GBM is continuous with a bounce of the quoted spread; the realistic models (``msm``,
    ``bootstrap``) sit on the tick grid and their last trade is the one-tick bid or ask."""
    tick = ms(sc.market.tick)
    n_ticks = sc.duration_ms // tick + 1
    m = sc.market
    if m.model == "gbm":
        mid = gbm_path(GbmParams(m.s0, m.sigma, m.drift), n_ticks, tick, streams.stream("market"))
    else:
        mid = synthetic_mid(m, replay_spec(sc) if m.model == "bootstrap" else None, n_ticks, tick,
                            streams.stream("market"))
    if gaps:
        apply_gaps(mid, [(min(ms(g.at) // tick, n_ticks - 1), g.pct) for g in gaps])
    if m.model == "gbm":
        half_spread = 0.5 * spread_bps(sc, float(mid[0])) * 1e-4
        return PricePath(sc.scenario.start_ms, tick, mid, last=BidAskBounce(mid, half_spread, streams.stream("last")))
    if gaps:
        on_tick_grid(mid, float(m.tick_size))
    last = TickLast(mid, float(m.tick_size), streams.stream("last"))
    model = MarkModel(index_params(sc), sc.scenario.start_ms, tick, n_ticks, streams.stream("basis"))
    path = PricePath(sc.scenario.start_ms, tick, mid, last=last, mark=BinanceMark(model, mid, last))
    path.index_slice = lambda a, b: model.index(mid[a:b], a)
    if funding_mode(sc) == "premium":
        path.funding_rate = model.rate_for
    return path


def _funding(env: simpy.Environment, venue: SimExchange, sc: Scenario, rng: np.random.Generator, end: int,
             log: RunLog) -> Generator[simpy.Event, None, None]:
    """Funding settles at every multiple of the interval (venue time): the next rate of a recorded
    series while it lasts, then a drawn or fixed rate."""
    iv = ms(sc.exchange.funding_interval)
    ex = sc.exchange
    t = (int(env.now) // iv + 1) * iv
    series = iter(ex.funding_rates)
    while t <= end:
        yield env.timeout(t - env.now)
        rate = next(series, None)
        if rate is None and venue.path.funding_rate is not None and funding_mode(sc) != "fixed":
            rate = venue.path.funding_rate(t)
        if rate is None:
            rate = ex.funding_rate + (ex.funding_rate_sd * float(rng.standard_normal()) if ex.funding_rate_sd
                                      else 0.0)
        paid = venue.pay_funding(t, rate)
        log.event(t, "funding", "venue", qty=float(venue.book.qty), price=rate, detail=f"received {paid:.6f}")
        t += iv


def build_world(sc: Scenario, seed: int, record_path: str | Path, ideal: bool = False,
                path: PricePath | None = None) -> World:
    """Assemble venue, transport, interventions and bot for one run."""
    streams = RunStreams(seed)
    start, end = sc.scenario.start_ms, sc.scenario.start_ms + sc.duration_ms
    events = [] if ideal else [*sc.events, *draw_fault_events(sc, streams.stream("faults"))]
    market_facts: dict = {"model": sc.market.model}
    if path is None and sc.market.model == "replay":
        path, market_facts = replay_path(sc, streams)
    elif path is None:
        path = price_path(sc, streams, [e for e in events if isinstance(e, PriceGap)])
    liq = sc.liquidity
    base = IDEAL if (ideal or liq.ideal) else depth_profile(sc, float(path.mid[0]))
    schedule = LiquiditySchedule(base, [ThinWindow(start + ms(e.at), start + ms(e.at) + ms(e.duration),
                                                   e.depth_factor, e.spread_factor)
                                        for e in events if isinstance(e, ThinLiquidity)])
    liquidity = schedule if ideal else book_of(sc, schedule, path, streams)
    ex = sc.exchange
    rules = VenueRules(taker_fee=0.0 if ideal else ex.taker_fee, maker_fee=0.0 if ideal else ex.maker_fee,
                       leverage=sc.account.leverage, max_leverage=ex.max_leverage,
                       maintenance_margin_rate=ex.maintenance_margin_rate, liquidation_fee=ex.liquidation_fee,
                       price_band_pct=ex.price_band_pct, resting_fill_fraction=liq.resting_fill_fraction,
                       margin_tiers=tuple(MarginTier(t.notional_cap, t.mmr, t.max_leverage) for t in ex.margin_tiers),
                       order_response=ex.order_response, matching_delay_ms=ex.matching_delay.median_ms,
                       matching_delay_sigma=ex.matching_delay.sigma, conditional_orders=ex.conditional_orders)
    # a recorded book (market.book_file): market orders walk its levels, resting limits queue behind its size
    recorded = None if ideal or liq.ideal or not sc.market.book_file else recorded_parts(sc, events)
    if recorded is not None:
        liquidity = recorded.book

    log = RunLog()
    truth = GroundTruth(log)
    inst = instrument_of(sc)
    venue = SimExchange(inst, path, liquidity, rules, sc.account.balance, truth,
                        matching_rng=streams.stream("matching"),
                        queue=queue_model(sc, path, liquidity, inst, streams, ideal, replay_trades(sc)))
    env = simpy.Environment(initial_time=start)
    clock = VenueClock(env, venue)
    venue.scheduler = clock.schedule

    if recorded is not None:
        venue.queue = recorded.queue

    record = PlatformRecord.open(record_path, inst.symbol, sc.bot.bot_id, power_safe=False)
    strategy_cls = resolve_strategy(sc.bot.strategy)
    strategy = strategy_cls(**strategy_kwargs(sc))
    p, xc = sc.bot.protective, sc.bot.execution
    config = BotConfig(sc.bot.bot_id, inst, ms(sc.bot.cycle), start,
                       ProtectivePolicy(p.enabled, p.take_profit_pct, p.stop_loss_pct, TriggerBy(p.trigger_by),
                                        # the bot places TP/SL the way the venue takes them (the venue's key)
                                        ConditionalRoute(ex.conditional_orders)),
                       sc.bot.entry_tolerance_bps, sc.bot.max_position, sc.bot.max_leverage,
                       SizingPolicy(SizingMode(sc.bot.sizing.mode), sc.bot.sizing.value),
                       ExecutionPolicy(FlipMode(xc.flip), PartialFillPolicy(xc.partial_fill), xc.chase_limit_bps,
                                       xc.chase_attempts, ms(xc.deadline), xc.rate_limit_attempts,
                                       ms(xc.unavailable_wait)),
                       recv_window_ms=ms(sc.exchange.transport.recv_window or sc.exchange.transport.timeout))
    bot = Bot(config, record, strategy)
    truth.exchange = venue
    truth.record = record
    truth.entry_tolerance_bps = sc.bot.entry_tolerance_bps
    truth.watch.start_ms, truth.watch.cycle_ms = start, ms(sc.bot.cycle)

    lat, tr = ex.latency, ex.transport
    latency = LatencyModel(0.0, 0.0, 0) if ideal else LatencyModel(lat.median_ms, lat.sigma, lat.floor_ms,
                                                                   tuple(lat.samples_ms))
    faults = Faults() if ideal else Faults(ms(tr.timeout), tr.request_loss_prob, tr.response_loss_prob,
                                            None if tr.recv_window is None else ms(tr.recv_window))
    window = lambda e: (start + ms(e.at), start + ms(e.at) + ms(e.duration))  # noqa: E731
    transport = Transport(latency, streams.stream("latency"), faults,
                          [Window(*window(e), e.factor) for e in events if isinstance(e, LatencySpike)],
                          fault_rng=streams.stream("transport_faults"))
    venue.reject_windows = [(*window(e), RejectReason(e.reason)) for e in events if isinstance(e, RejectOrders)]
    rl = ex.rate_limit
    gateway = Gateway(None if rl is None or ideal else RateLimit(rl.requests, ms(rl.per)),
                      [Window(*window(e)) for e in events if isinstance(e, Outage)])
    driver = BotDriver(env, venue, transport, truth, gateway)
    up = ex.updates
    updates = UpdateStream(env, UpdateModel(up.enabled, 0.0 if ideal else up.median_ms, up.sigma,
                                            0.0 if ideal else up.drop_prob), streams.stream("updates"), driver.deliver)
    updates.drop_windows = [Window(*window(e)) for e in events if isinstance(e, DropUpdates)]
    updates.outage = gateway.in_outage
    truth.publish = updates.publish
    world = World(sc, seed, ideal, env, venue, truth, log, driver, clock, bot, record, start, end, updates, events,
                  market_facts=market_facts)

    def restart() -> Generator:
        """A new bot process from the platform record alone (its strategy starts afresh)."""
        world.cycles_before += world.bot.cycles
        rec = PlatformRecord.open(record_path, inst.symbol, sc.bot.bot_id, power_safe=False)
        new = Bot(config, rec, strategy_cls(**strategy_kwargs(sc)), restarted=True, now_ms=int(env.now))
        world.bot, world.record, truth.record = new, rec, rec
        return new.run(until_ms=end)

    driver.restarter = restart
    driver.on_crash = lambda: world.record.close(commit=False)  # what was not flushed dies with the process
    driver.start(bot.run(until_ms=end))
    schedule_interventions(env, events, start, venue, log)
    for e in events:
        if isinstance(e, BotCrash):
            crash = Crash(e.point, None if e.restart_after == "never" else ms(e.restart_after))
            env.timeout(start + ms(e.at) - env.now).callbacks.append(lambda _ev, c=crash: driver.crash(c))
    env.process(_funding(env, venue, sc, streams.stream("funding"), end, log))
    return world
