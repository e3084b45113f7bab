"""One live run: the scenario's bot on a venue's API, until stopped; then the run directory.

The composition root of a live run (the sibling of `sim.world.build` + `sim.runner`): a ccxt.pro
``binanceusdm`` client pointed at the venue, the adapter, the streams, the bot from the scenario's
``[bot]`` and ``[market]`` instrument, and the asyncio driver. A stop (Ctrl-C, ``duration``) ends
the bot at its next sleep and runs its ``settle()`` pass. The platform record lives in the run
directory, so starting again with the same directory continues from it (the restart path).
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sqlite3
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sim.bot.algo import ConditionalRoute, as_order_report, is_algo
from sim.bot.cycle import Bot
from sim.bot.policies import BotConfig, ExecutionPolicy, FlipMode, PartialFillPolicy, ProtectivePolicy
from sim.bot.record import PlatformRecord
from sim.bot.sizing import SizingMode, SizingPolicy
from sim.bot.strategy.base import resolve_strategy
from sim.core.errors import ExchangeError, RequestTimeout, TransientError
from sim.core.messages import (
    FetchAccount,
    FetchAlgoOrder,
    FetchFills,
    FetchOrder,
    FetchPositions,
    FillReport,
    OrderReport,
    PositionReport,
)
from sim.core.types import ClientOrderId, OrderRole, TriggerBy
from sim.live.adapter import CcxtVenue
from sim.live.driver import LiveDriver, Stopped
from sim.live.errors import LiveConfigError, scrub
from sim.live.streams import Streams
from sim.scenario.loader import strategy_kwargs
from sim.scenario.schema import Scenario, ms
from sim.world.build import instrument_of
from sim.world.runlog import RunLog

REAL_VENUES = {"binanceusdm": "Binance USD-M futures (real money)",
               "binanceusdm-demo": "Binance USD-M demo trading (demo-fapi.binance.com)"}
SETTLE_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class LiveOptions:
    venue: str  # an aethersim serve's URL, or a name in REAL_VENUES
    api_key: str
    api_secret: str = field(repr=False)
    duration_s: float | None = None
    real_money: bool = False
    operator_token: str | None = field(default=None, repr=False)  # for an aethersim serve's truth


def is_real(venue: str) -> bool:
    """A real exchange (money at stake), as opposed to an ``aethersim serve`` URL."""
    if venue in REAL_VENUES:
        return True
    host = (urlsplit(venue).hostname or "").lower()
    return host.endswith("binance.com") or host.endswith("binancefuture.com")


def check_venue(opts: LiveOptions) -> str:
    """What the run is about to talk to, or `LiveConfigError` naming what to change."""
    v = opts.venue
    if is_real(v):
        if not opts.real_money:
            raise LiveConfigError(f"--venue {v} is a real exchange: add --real-money to trade there "
                                  "(paper trading: --venue http://127.0.0.1:PORT of an `aethersim serve`)")
        if not (opts.api_key and opts.api_secret):
            raise LiveConfigError(f"--venue {v} needs an API key and secret from the environment "
                                  "(--api-key-env NAME --api-secret-env NAME)")
        return REAL_VENUES.get(v, v)
    parts = urlsplit(v)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise LiveConfigError(f"--venue {v!r} is neither a URL (http://127.0.0.1:PORT of an `aethersim serve`) "
                              f"nor one of {sorted(REAL_VENUES)}")
    return f"an aethersim serve at {v} (paper)"


def make_exchange(opts: LiveOptions) -> Any:
    """A ccxt.pro ``binanceusdm`` client for the venue (URLs pointed at it when it is a serve)."""
    import ccxt.pro as ccxtpro

    config: dict[str, Any] = {"apiKey": opts.api_key, "secret": opts.api_secret, "enableRateLimit": True,
                              "options": {"fetchCurrencies": False, "warnOnFetchOpenOrdersWithoutSymbol": False}}
    if opts.venue not in REAL_VENUES and not is_real(opts.venue):
        base = opts.venue.rstrip("/")
        ws = "ws" + base[len("http"):] + "/ws"
        rest = {k: base + p for k, p in {
            "fapiPublic": "/fapi/v1", "fapiPublicV2": "/fapi/v2", "fapiPublicV3": "/fapi/v3",
            "fapiPrivate": "/fapi/v1", "fapiPrivateV2": "/fapi/v2", "fapiPrivateV3": "/fapi/v3",
            "fapiData": "/futures/data"}.items()}
        config["urls"] = {"api": {**rest, "ws": {"linear": ws}}}
    ex = ccxtpro.binanceusdm(config)
    if opts.venue == "binanceusdm-demo":
        ex.enable_demo_trading(True)
    return ex


def bot_config(sc: Scenario, start_ms: int, recv_window_ms: int) -> BotConfig:
    """The scenario's ``[bot]`` as the bot's configuration (as `sim.world.build` composes it), with
    Binance's facts in place of the simulated venue's keys: conditional orders go through the algo
    service, and a request can still arrive for ``recv_window_ms`` (the recvWindow ccxt signs)."""
    p, xc = sc.bot.protective, sc.bot.execution
    return BotConfig(sc.bot.bot_id, instrument_of(sc), ms(sc.bot.cycle), start_ms,
                     ProtectivePolicy(p.enabled, p.take_profit_pct, p.stop_loss_pct, TriggerBy(p.trigger_by),
                                      ConditionalRoute.ALGO),
                     sc.bot.entry_tolerance_bps, sc.bot.max_position, sc.bot.max_leverage,
                     SizingPolicy(SizingMode(sc.bot.sizing.mode), sc.bot.sizing.value),
                     ExecutionPolicy(FlipMode(xc.flip), PartialFillPolicy(xc.partial_fill), xc.chase_limit_bps,
                                     xc.chase_attempts, ms(xc.deadline), xc.rate_limit_attempts,
                                     ms(xc.unavailable_wait)),
                     recv_window_ms=recv_window_ms)


@dataclass
class LiveRun:
    """What a live run leaves behind for the run directory."""

    start_ms: int
    end_ms: int
    wall_s: float
    cycles: int
    restarted: bool
    stopped_by: str
    driver: LiveDriver
    streams: Streams
    log: RunLog
    fills: tuple[FillReport, ...]
    orders: dict[str, OrderReport]
    arrival: dict[str, tuple[int, float, float | None]]
    position: PositionReport
    equity: float
    wallet: float
    truth: dict | None
    record_position: float
    error: str | None = None


class _Market:
    """The last mid the book stream showed (the arrival price of an order answered now)."""

    def __init__(self) -> None:
        self.mid: float | None = None
        self.half_spread_bps: float | None = None


async def _watch_book(ex: Any, market: str, seen: _Market) -> None:
    while True:
        try:
            book = await ex.watch_bids_asks([market])
            for t in book.values():
                if t.get("bid") and t.get("ask"):
                    bid, ask = float(t["bid"]), float(t["ask"])
                    seen.mid = 0.5 * (bid + ask)
                    seen.half_spread_bps = 0.5 * (ask - bid) / seen.mid * 1e4
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - a market stream that drops: the next watch reconnects
            await asyncio.sleep(1.0)


def _quiet_ccxt(default: Any, log: RunLog, venue: CcxtVenue) -> Any:
    """An event-loop exception handler: ccxt.pro's background futures that failed unobserved (a
    positions snapshot refused while a stream reconnects, say) go to the run's events, not to the
    terminal as a traceback; anything else goes to the previous handler."""
    import ccxt

    def handle(loop: asyncio.AbstractEventLoop, context: dict) -> None:
        exc = context.get("exception")
        if isinstance(exc, ccxt.BaseError):
            log.event(venue.time.now(), "stream_error", "driver",
                      detail=scrub(f"{type(exc).__name__}: {exc}", venue.secrets)[:300])
        elif default is not None:
            default(loop, context)
        else:
            loop.default_exception_handler(context)

    return handle


async def _venue_orders(venue: CcxtVenue, record_path: Path, symbol: str, config: BotConfig,
                        most: int = 500) -> tuple[dict[str, OrderReport], dict[str, str]]:
    """What the venue says now of the bot's last ``most`` orders (a TP/SL from the algo service, in the
    order shape), and each triggered TP/SL's child client id -> the TP/SL's (to credit it the fills)."""
    with sqlite3.connect(record_path) as conn:
        rows = conn.execute("SELECT client_id, role FROM orders ORDER BY created_ms DESC LIMIT ?", (most,)).fetchall()
    orders: dict[str, OrderReport] = {}
    aliases: dict[str, str] = {}
    for cid, role in rows:
        with contextlib.suppress(ExchangeError):  # unknown to the venue (or no answer): no venue status
            if is_algo(OrderRole(role), config.protective.route):
                algo = await _read(venue, FetchAlgoOrder(symbol, ClientOrderId(cid)))
                orders[cid] = as_order_report(algo)
                if algo.actual_client_id:
                    aliases[algo.actual_client_id] = cid
            else:
                orders[cid] = await _read(venue, FetchOrder(symbol, ClientOrderId(cid)))
    return orders, aliases


def _aliased(fills: tuple[FillReport, ...], aliases: dict[str, str]) -> tuple[FillReport, ...]:
    return tuple(replace(f, client_id=ClientOrderId(aliases[f.client_id])) if f.client_id in aliases else f
                 for f in fills)


async def _read(venue: CcxtVenue, request: Any, attempts: int = 5) -> Any:
    """A read for the report after the bot stopped, asked again when the venue does not answer."""
    for attempt in range(attempts):
        try:
            return await venue.handle(request)
        except (RequestTimeout, TransientError):
            if attempt == attempts - 1:
                raise
            await asyncio.sleep(0.5 * (attempt + 1))
    raise AssertionError("unreachable")


async def fetch_truth(venue: str, token: str) -> dict | None:
    """The venue's truth from an aethersim serve's operator endpoint (None if it has none)."""
    import aiohttp

    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as s, \
                s.get(venue.rstrip("/") + "/operator/truth", headers={"Authorization": f"Bearer {token}"}) as r:
            if r.status != 200:
                return None
            return await r.json()
    except (aiohttp.ClientError, TimeoutError, json.JSONDecodeError):
        return None


def _origin(record_path: Path, now: int) -> int:
    """When this run directory's bot first started (kept beside its record), or ``now`` for a new one."""
    f = record_path.with_name("live.json")
    if f.is_file():
        try:
            return int(json.loads(f.read_text())["start_ms"])
        except (ValueError, KeyError, TypeError):
            pass
    f.write_text(json.dumps({"start_ms": now}) + "\n")
    return now


async def run_live(sc: Scenario, opts: LiveOptions, record_path: Path) -> LiveRun:
    """Run the scenario's bot on the venue until a stop, settle, and gather what the report needs."""
    secrets = tuple(s for s in (opts.api_key, opts.api_secret, opts.operator_token) if s)
    restarted = record_path.exists()
    ex = make_exchange(opts)
    log = RunLog()
    try:
        venue = CcxtVenue(ex, sc.market.symbol, secrets=secrets)
        await venue.connect()
        start = venue.time.now()
        origin = _origin(record_path, start)  # the first start: the strategy's and the cycles' time zero
        record = PlatformRecord.open(record_path, sc.market.symbol, sc.bot.bot_id)
        config = bot_config(sc, origin, int(ex.options.get("recvWindow", 10_000)))
        # the bot places TP/SL through the algo requests: the adapter answers those in the algo shape
        venue.conditional_as_orders = config.protective.route is ConditionalRoute.LEGACY
        if venue.conditional_as_orders:
            venue.watch_conditional([o.client_id for o in record.state.open_protective()])
        kwargs = strategy_kwargs(sc)
        kwargs["start_ms"] = origin
        bot = Bot(config, record, resolve_strategy(sc.bot.strategy)(**kwargs), restarted=restarted, now_ms=start)
        stop = asyncio.Event()
        driver = LiveDriver(venue, stop)
        assert venue.market is not None
        streams = Streams(ex, venue.market, sc.market.symbol, driver.deliver, venue.stamp,
                          venue.conditional_as_orders)
        seen = _Market()
        arrival: dict[str, tuple[int, float, float | None]] = {}
        handle = venue.handle

        async def measured(request: Any) -> Any:  # the mid when each order of ours was answered
            reply = await handle(request)
            cid = getattr(reply, "client_id", None)
            if cid and type(request).__name__ == "SubmitOrder" and seen.mid is not None:
                arrival.setdefault(cid, (reply.ts, seen.mid, seen.half_spread_bps))
            return reply

        venue.handle = measured  # type: ignore[method-assign]
        loop = asyncio.get_running_loop()
        loop.set_exception_handler(_quiet_ccxt(loop.get_exception_handler(), log, venue))
        stopped_by = ["duration" if opts.duration_s is not None else "signal"]
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):  # not the main thread: the duration stops it
                loop.add_signal_handler(sig, lambda s=sig: (stopped_by.__setitem__(0, s.name), stop.set()))
        if opts.duration_s is not None:
            loop.call_later(opts.duration_s, stop.set)
        log.event(start, "bot_restart" if restarted else "live_start", "driver",
                  detail="continues from the platform record" if restarted else "a new record")
        streams.start()
        book = asyncio.create_task(_watch_book(ex, venue.market, seen))
        t0 = time.perf_counter()
        error = None
        try:
            await driver.run(bot.run())
        except Stopped:
            pass
        except LiveConfigError:
            raise
        except Exception as exc:  # a strategy's bug, say: settle anyway, then say where it stopped
            error = scrub(f"{type(exc).__name__}: {exc}", secrets)
        log.event(bot.now, "live_stop", "driver", detail=stopped_by[0] if error is None else error)
        try:
            await asyncio.wait_for(driver.run(bot.settle(), stoppable=False), SETTLE_TIMEOUT_S)
        except TimeoutError:
            log.event(venue.time.now(), "settle_timeout", "driver", detail=f"{SETTLE_TIMEOUT_S:.0f} s")
        record.flush()
        book.cancel()
        await streams.stop()
        end = venue.time.now()
        sym = sc.market.symbol
        final = await _read(venue, FetchFills(sym, _origin(record_path, start)))
        pos = (await _read(venue, FetchPositions(sym))).positions[0]
        acct = await _read(venue, FetchAccount())
        orders, aliases = await _venue_orders(venue, record_path, sym, config)
        truth = await fetch_truth(opts.venue, opts.operator_token) if opts.operator_token else None
        rec_pos = float(record.state.position.qty)
        record.close()
        return LiveRun(start, end, time.perf_counter() - t0, bot.cycles, restarted, stopped_by[0], driver, streams,
                       log, _aliased(final.fills, aliases), orders, arrival, pos, acct.equity, acct.wallet, truth,
                       rec_pos, error)
    finally:
        await ex.close()


__all__ = ["REAL_VENUES", "LiveOptions", "LiveRun", "bot_config", "check_venue", "is_real", "make_exchange",
           "run_live"]
