"""The served world: the scenario's venue, transport, faults and events, with no bot inside.

The same parts `sim.world.build` assembles for a run (price path, liquidity, `SimExchange`,
latency, loss, timeouts, rate limit, outages, pushed-update model, interventions, funding), but
the bot is whoever connects. Interventions and window faults can also be applied *now* by the
operator (`apply_event`), with the scenario's event kinds and parameters.
"""
from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass, field

import numpy as np
import simpy

import sim.serve.wire_events as ev
from sim.core.types import RejectReason
from sim.scenario.schema import (
    BotCrash,
    DropUpdates,
    Event,
    LatencySpike,
    Outage,
    PriceGap,
    RejectOrders,
    Scenario,
    SetLeverage,
    ThinLiquidity,
    TransferIn,
    TransferOut,
    ms,
)
from sim.serve.tap import Tap
from sim.world.build import book_of, depth_profile, instrument_of, price_path, replay_path, replay_trades
from sim.world.driver import VenueClock
from sim.world.exchange import SimExchange, VenueRules
from sim.world.faults import draw_fault_events
from sim.world.interventions import apply_intervention
from sim.world.liquidity import IDEAL, LiquiditySchedule, ThinWindow
from sim.world.margin import MarginTier
from sim.world.queue_setup import queue_model
from sim.world.rng import RunStreams
from sim.world.runlog import RunLog
from sim.world.transport import Faults, Gateway, LatencyModel, RateLimit, Transport, Window
from sim.world.truth import GroundTruth
from sim.world.updates import UpdateModel, UpdateStream

WINDOW_KINDS = (LatencySpike, Outage, DropUpdates, ThinLiquidity, RejectOrders)


class EventRefused(ValueError):
    """An event that cannot be applied to a served world (the reason names what to do instead)."""


@dataclass
class ServeWorld:
    scenario: Scenario
    seed: int
    env: simpy.Environment
    venue: SimExchange
    truth: GroundTruth
    log: RunLog
    tap: Tap
    transport: Transport
    gateway: Gateway
    updates: UpdateStream
    start_ms: int  # the scenario's start: the price path (and candle history) begins here
    end_ms: int
    events: list[Event]
    market_facts: dict
    open_ms: int = 0  # when serving begins (the start plus the history given to clients)
    funding: list[tuple[int, float, float]] = field(default_factory=list)  # (ts, rate, mark)
    funding_rate: float = 0.0  # the rate of the next settlement, as premiumIndex shows it
    deliver: Callable[[object], None] = lambda payload: None  # set by the server: pushes to the sockets
    on_disconnect: Callable[[], None] = lambda: None  # a stream disconnect: the server closes user sockets
    intervention_hooks: list[Callable[[int, str], None]] = field(default_factory=list)

    @property
    def symbol(self) -> str:
        return self.venue.instrument.symbol

    def apply_event(self, event: Event, now: int, scheduled: bool = False) -> str:
        """Apply one event at ``now`` (windows start now unless ``scheduled``); returns what was done."""
        if isinstance(event, BotCrash):
            raise EventRefused("bot_crash: the bot is your client here; stop and restart it yourself")
        if isinstance(event, PriceGap) and not scheduled:
            raise EventRefused("price_gap changes the price path before the run; put it in the scenario's [[events]]")
        if not scheduled and isinstance(event, WINDOW_KINDS):
            self._install_window(event, now - ms(event.at))
        if isinstance(event, DropUpdates):
            self.on_disconnect()
        v = self.venue
        wallet, leverage = v.book.wallet, v.leverage
        apply_intervention(event, v, now, self.log)
        moved = v.book.wallet - wallet
        if isinstance(event, TransferIn | TransferOut) and moved:
            self.tap.book_income("TRANSFER", moved, now)
            self.tap.publish_account("DEPOSIT" if moved > 0 else "WITHDRAW", now, moved, with_position=False)
        if isinstance(event, SetLeverage) and v.leverage != leverage:
            self.tap.publish(now, ev.config_update(self.symbol, v.leverage, now, self.tap.wall))
        for hook in self.intervention_hooks:
            hook(now, event.kind)
        return str(self.log.events.cols["detail"][-1])

    def _install_window(self, e: Event, start: int) -> None:
        w0, w1 = start + ms(e.at), start + ms(e.at) + ms(e.duration)  # type: ignore[union-attr]
        match e:
            case LatencySpike():
                self.transport.add_spike(Window(w0, w1, e.factor))
            case Outage():
                self.gateway.add_outage(Window(w0, w1))
            case DropUpdates():
                self.updates.drop_windows.append(Window(w0, w1))
            case ThinLiquidity():
                self.venue.liquidity.add(ThinWindow(w0, w1, e.depth_factor, e.spread_factor))
            case RejectOrders():
                self.venue.reject_windows.append((w0, w1, RejectReason(e.reason)))


class InOrder:
    """Pushed updates keep the order the venue made them in (a NEW never after its FILLED).

    The update model draws each message's delay independently; a later message drawn a shorter
    delay waits for the ones before it. A message the model drops is skipped, not waited for.
    """

    def __init__(self, updates: UpdateStream, deliver: Callable[[object], None]) -> None:
        self.updates = updates
        self.deliver = deliver
        self._seq = 0
        self._next = 1
        self._held: dict[int, object] = {}
        self._skipped: set[int] = set()

    def publish(self, ts: int, payload: object) -> None:
        self._seq += 1
        dropped = self.updates.dropped
        if not self.updates.model.enabled:
            return
        self.updates.publish(ts, (self._seq, payload))
        if self.updates.dropped != dropped:
            self._skipped.add(self._seq)
            self._release()

    def arrived(self, item: object) -> None:
        seq, payload = item  # type: ignore[misc]
        self._held[seq] = payload
        self._release()

    def _release(self) -> None:
        while True:
            if self._next in self._held:
                self.deliver(self._held.pop(self._next))
            elif self._next in self._skipped:
                self._skipped.discard(self._next)
            else:
                return
            self._next += 1


def _funding(w: ServeWorld, rng: np.random.Generator) -> Generator[simpy.Event, None, None]:
    """Funding at every multiple of the interval: pays, books FUNDING_FEE, pushes ACCOUNT_UPDATE."""
    env, v, ex = w.env, w.venue, w.scenario.exchange
    iv = ms(ex.funding_interval)
    t = (int(env.now) // iv + 1) * iv
    series = iter(ex.funding_rates)

    def draw() -> float:
        rate = next(series, None)
        if rate is None:
            rate = ex.funding_rate + (ex.funding_rate_sd * float(rng.standard_normal()) if ex.funding_rate_sd else 0.0)
        return rate

    w.funding_rate = draw()
    while t <= w.end_ms:
        yield env.timeout(t - env.now)
        rate = w.funding_rate
        paid = v.pay_funding(t, rate)
        w.funding.append((t, rate, v.path.mid_at(t)))
        w.log.event(t, "funding", "venue", qty=float(v.book.qty), price=rate, detail=f"received {paid:.6f}")
        if paid:
            w.tap.book_income("FUNDING_FEE", paid, t)
            w.tap.publish_account("FUNDING_FEE", t, paid, with_position=False)
        w.funding_rate = draw()
        t += iv


def _sample(w: ServeWorld, every_ms: int) -> Generator[simpy.Event, None, None]:
    while w.env.now < w.end_ms:
        yield w.env.timeout(every_ms)
        w.truth.sample(int(w.env.now))


def build_serve_world(sc: Scenario, seed: int | None = None, sample_ms: int = 10_000,
                      history_ms: int = 0, legacy_stops: bool = False) -> ServeWorld:
    """The scenario's world ready to be stepped by a `SimClock` (nothing runs until then).

    With ``history_ms``, serving begins that far into the scenario: the path before it is market
    history (candles a strategy warms up on), and events scheduled in it are skipped. Conditional
    orders are algo orders, as on Binance since 2025-12-09; ``legacy_stops`` also takes them on the
    order route, as before (for clients that still send them there, NautilusTrader 1.221's adapter).
    """
    seed = sc.scenario.seed if seed is None else seed
    streams = RunStreams(seed)
    start, end = sc.scenario.start_ms, sc.scenario.start_ms + sc.duration_ms
    events = [*sc.events, *draw_fault_events(sc, streams.stream("faults"))]
    facts: dict = {"model": sc.market.model}
    if sc.market.model == "replay":
        path, facts = replay_path(sc, streams)
    else:
        path = price_path(sc, streams, [e for e in events if isinstance(e, PriceGap)])
    liq = sc.liquidity
    base = IDEAL if liq.ideal else depth_profile(sc, float(path.mid[0]))  # one tick unless spread_bps is set
    ex = sc.exchange
    rules = VenueRules(taker_fee=ex.taker_fee, maker_fee=ex.maker_fee, leverage=sc.account.leverage,
                       max_leverage=ex.max_leverage, maintenance_margin_rate=ex.maintenance_margin_rate,
                       liquidation_fee=ex.liquidation_fee, price_band_pct=ex.price_band_pct,
                       resting_fill_fraction=liq.resting_fill_fraction,
                       margin_tiers=tuple(MarginTier(t.notional_cap, t.mmr, t.max_leverage) for t in ex.margin_tiers),
                       order_response=ex.order_response, matching_delay_ms=ex.matching_delay.median_ms,
                       matching_delay_sigma=ex.matching_delay.sigma,
                       conditional_orders="legacy" if legacy_stops else "algo")
    log = RunLog()
    truth = GroundTruth(log)
    if not 0 <= history_ms < sc.duration_ms:
        raise ValueError(f"the history ({history_ms} ms) must be shorter than the scenario ({sc.duration_ms} ms)")
    env = simpy.Environment(initial_time=start + history_ms)
    tap = Tap(truth, lambda t: int(t))  # the server replaces ``wall`` with its clock's mapping
    liquidity = book_of(sc, LiquiditySchedule(base), path, streams)
    venue = SimExchange(instrument_of(sc), path, liquidity, rules, sc.account.balance, tap,
                        matching_rng=streams.stream("matching"),
                        queue=queue_model(sc, path, liquidity, instrument_of(sc), streams, trades=replay_trades(sc)))
    tap.venue = venue
    truth.exchange = venue
    venue.scheduler = VenueClock(env, venue).schedule
    lat, tr = ex.latency, ex.transport
    transport = Transport(LatencyModel(lat.median_ms, lat.sigma, lat.floor_ms, tuple(lat.samples_ms)),
                          streams.stream("latency"),
                          Faults(ms(tr.timeout), tr.request_loss_prob, tr.response_loss_prob,
                                 None if tr.recv_window is None else ms(tr.recv_window)),
                          fault_rng=streams.stream("transport_faults"))
    rl = ex.rate_limit
    gateway = Gateway(None if rl is None else RateLimit(rl.requests, ms(rl.per)))
    up = ex.updates
    w: ServeWorld
    updates = UpdateStream(env, UpdateModel(up.enabled, up.median_ms, up.sigma, up.drop_prob),
                           streams.stream("updates"), lambda item: in_order.arrived(item))
    updates.outage = gateway.in_outage
    in_order = InOrder(updates, lambda payload: w.deliver(payload))
    tap.publish = in_order.publish
    w = ServeWorld(sc, seed, env, venue, truth, log, tap, transport, gateway, updates, start, end, events, facts,
                   open_ms=start + history_ms)
    for e in events:
        if isinstance(e, WINDOW_KINDS):
            w._install_window(e, start)
    for e in events:
        at = start + ms(e.at)
        if isinstance(e, PriceGap):  # already in the path
            continue
        if isinstance(e, BotCrash):
            log.event(at, "skipped_bot_crash", "serve", detail="the bot is the client: crash and restart it yourself")
            continue
        if at < w.open_ms:
            log.event(w.open_ms, f"skipped_{e.kind}", "serve", detail="scheduled in the history before serving began")
            continue
        env.timeout(at - w.open_ms).callbacks.append(lambda _ev, e=e, at=at: w.apply_event(e, at, scheduled=True))
    env.process(_funding(w, streams.stream("funding")))
    env.process(_sample(w, sample_ms))
    return w
