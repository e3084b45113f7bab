"""The composition root: one scenario and one seed -> a world ready to run.

The only place that knows every part; no `if ideal:` branch lives anywhere else. The ideal twin
(test mode) is the same world with fills at the mid, no fees, no latency and no interventions.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import simpy

from sim.bot.cycle import Bot, BotConfig
from sim.bot.execution import ProtectivePolicy
from sim.bot.record import PlatformRecord
from sim.bot.strategy.base import resolve_strategy
from sim.core.instrument import Instrument
from sim.core.types import TriggerBy
from sim.scenario.loader import strategy_kwargs
from sim.scenario.schema import Scenario, ms
from sim.world.driver import BotDriver, VenueClock
from sim.world.exchange import SimExchange, VenueRules
from sim.world.interventions import schedule_interventions
from sim.world.liquidity import IDEAL, DepthProfile
from sim.world.market import GbmParams, PricePath, gbm_path
from sim.world.rng import RunStreams
from sim.world.runlog import RunLog
from sim.world.transport import LatencyModel, Transport
from sim.world.truth import GroundTruth


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

    @property
    def events(self) -> int:
        return self.driver.events + self.clock.events


def instrument_of(sc: Scenario) -> Instrument:
    m = sc.market
    return Instrument(m.symbol, m.tick_size, m.lot_size, m.min_qty, m.min_notional)


def price_path(sc: Scenario, streams: RunStreams) -> PricePath:
    tick = ms(sc.market.tick)
    n_ticks = sc.duration_ms // tick + 1
    m = sc.market
    mid = gbm_path(GbmParams(m.s0, m.sigma, m.drift), n_ticks, tick, streams.stream("market"))
    return PricePath(sc.scenario.start_ms, tick, mid)


def build_world(sc: Scenario, seed: int, record_path: str | Path, ideal: bool = False,
                path: PricePath | None = None) -> World:
    """Assemble venue, transport, interventions and bot for one run."""
    streams = RunStreams(seed)
    path = path if path is not None else price_path(sc, streams)
    liq = sc.liquidity
    depth = IDEAL if (ideal or liq.ideal) else DepthProfile(liq.spread_bps, liq.level_step_bps, liq.level0_qty,
                                                            liq.levels)
    ex = sc.exchange
    rules = VenueRules(taker_fee=0.0 if ideal else ex.taker_fee, maker_fee=0.0 if ideal else ex.maker_fee,
                       leverage=sc.account.leverage, max_leverage=ex.max_leverage,
                       maintenance_margin_rate=ex.maintenance_margin_rate, liquidation_fee=ex.liquidation_fee)
    log = RunLog()
    truth = GroundTruth(log)
    inst = instrument_of(sc)
    venue = SimExchange(inst, path, depth, rules, sc.account.balance, truth)
    start, end = sc.scenario.start_ms, sc.scenario.start_ms + sc.duration_ms
    env = simpy.Environment(initial_time=start)
    clock = VenueClock(env, venue)
    venue.scheduler = clock.schedule

    record = PlatformRecord.open(record_path, inst.symbol, sc.bot.bot_id)
    strategy = resolve_strategy(sc.bot.strategy)(**strategy_kwargs(sc))
    p = sc.bot.protective
    config = BotConfig(sc.bot.bot_id, inst, ms(sc.bot.cycle), start,
                       ProtectivePolicy(p.enabled, p.take_profit_pct, p.stop_loss_pct, TriggerBy(p.trigger_by)),
                       sc.bot.entry_tolerance_bps, sc.bot.max_position)
    bot = Bot(config, record, strategy)
    truth.exchange = venue
    truth.record = record

    lat = sc.exchange.latency
    latency = LatencyModel(0.0, 0.0, 0) if ideal else LatencyModel(lat.median_ms, lat.sigma, lat.floor_ms)
    driver = BotDriver(env, venue, Transport(latency, streams.stream("latency")), truth, bot.clock)
    env.process(driver.run(bot.run(until_ms=end)))
    if not ideal:
        schedule_interventions(env, list(sc.events), start, venue, log)
    return World(sc, seed, ideal, env, venue, truth, log, driver, clock, bot, record, start, end)
