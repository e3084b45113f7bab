"""The bot: a generator that composes its rooms into a life of cycles.

One cycle: reconcile (`reconciling`: fetch positions, open orders, fills; look up orders the venue
no longer lists; compare; correct; record drift) -> if anything is still uncertain, stop here ->
market data -> strategy target -> act on it (`acting`: engine decision on the live position, margin
check on a fresh account, orders through `refusals`) -> protective posture (`protection`) -> sleep to
the next cycle boundary.

Rooms import downward only: `session` (every request: time, commit before acting, back-offs) <-
`execution` (one order's lifecycle) <- `reconciling` <- `desk` <- `refusals` <- `acting`; `protection`
beside them; `policies` is plain configuration. This module composes them and nothing imports it.
The generator's protocol is typed: it yields `Request`s and receives `Reply`s (see
`sim.core.messages.Reply`), so any driver (SimPy, asyncio, a test loop) runs it unchanged.
"""
from __future__ import annotations

from decimal import Decimal

from sim.bot.acting import pending_target, pursue
from sim.bot.algo import is_algo
from sim.bot.desk import Desk
from sim.bot.execution import cancel
from sim.bot.policies import BotConfig
from sim.bot.protection import Posture, ensure_protection
from sim.bot.reconcile import ReconcileResult
from sim.bot.reconciling import Reconciler
from sim.bot.record import PlatformRecord
from sim.bot.refusals import send
from sim.bot.session import Io, Session
from sim.bot.state import OrderState
from sim.bot.strategy.base import Strategy, Target, target_problem
from sim.core.errors import ExchangeError, StrategyError
from sim.core.messages import CandlesReport, FetchCandles
from sim.core.types import OrderRole, OrderStatus, Side

ZERO = Decimal(0)


class Bot:
    """One bot instance: its record, its strategy and its configuration, and the rooms that act."""

    def __init__(self, config: BotConfig, record: PlatformRecord, strategy: Strategy, restarted: bool = False,
                 now_ms: int | None = None) -> None:
        self.config = config
        self.record = record
        self.strategy = strategy
        self.session = Session(record, config.bot_id, config.start_ms if now_ms is None else now_ms)
        self.reconciler = Reconciler(config, record, self.session, restarted)
        self.desk = Desk(config, record, self.session, self.reconciler)
        self.last_candle_open: int | None = None
        self.cycles = 0
        self.early_reconciles = 0
        self._protected_version = -1
        # after a restart the strategy's history is replayed to warm it up without acting on signals
        # from before the crash
        self.warming = restarted

    @property
    def now(self) -> int:
        """When the last reply reached the bot (its only clock)."""
        return self.session.now

    # ----------------------------------------------------------------------------- main loop
    def run(self, until_ms: int | None = None) -> Io[None]:
        """The bot's life: a startup reconcile, then one cycle per interval, until ``until_ms``.

        The record is committed by the session before every request that acts on the venue and
        before every sleep (write-ahead), so a driver has nothing to do but answer requests.
        """
        self.record.deferred = True
        cfg, session = self.config, self.session
        while until_ms is None or session.now < until_ms:
            self.cycles += 1
            yield from self.cycle()
            if session.surprised:  # noticed while backing off: look now, not at the next cycle
                yield from self.react()
            k = (session.now - cfg.start_ms) // cfg.cycle_ms + 1
            boundary = cfg.start_ms + k * cfg.cycle_ms
            woke = yield from session.sleep(boundary)
            while woke.ts < boundary:  # woken early by pushed updates
                if session.surprising(woke.updates):
                    yield from self.react()
                woke = yield from session.sleep(boundary)

    def react(self) -> Io[None]:
        """Reconcile now, between cycles, and put protection right (no new decisions)."""
        self.early_reconciles += 1
        self.session.surprised = False
        result = yield from self.reconciler.reconcile()
        if result is not None and not result.uncertain:
            yield from self.protect()

    def settle(self) -> Io[None]:
        """The last pass before the bot stops: reconcile, withdraw protection that no longer fits
        (orphaned, larger than the position, or on the side that would add to it), and reconcile again.
        It never trades."""
        result = yield from self.reconciler.reconcile()
        if result is None:
            return
        pos = self.record.state.position.qty
        exit_side = Side.SELL if pos > 0 else Side.BUY
        for order in list(self.record.state.open_protective()):
            if order.status.is_open and (pos == 0 or order.qty - order.filled_qty > abs(pos) or
                                         order.side is not exit_side):
                yield from cancel(self.record, self.config.instrument, order, "stopping: protection no longer fits",
                                  self.session, is_algo(order.role, self.config.protective.route))
        yield from self.reconciler.reconcile()

    def cycle(self) -> Io[None]:
        self.session.surprised = False
        result: ReconcileResult | None = yield from self.reconciler.reconcile()
        if result is None or result.uncertain or self.record.state.working():
            return  # never act on state known to be uncertain, or while an order of ours may still fill
        if result.drifted and self.record.state.pending is not None and not result.after_restart:
            self.record.set_pending(None)  # the position moved for reasons of its own: decide afresh
        target = yield from self.strategy_target()
        if target is None:
            target = pending_target(self.desk)
        if target is not None:
            yield from pursue(self.desk, target)
        yield from self.protect()

    def uncertain(self) -> bool:
        """May the position the record holds be stale? An order of ours is of unknown status, or an entry
        or exit is still working (acknowledged, not done filling)."""
        state = self.record.state
        return any(o.status is OrderStatus.UNKNOWN for o in state.orders.values()) or bool(state.working())

    def protect(self) -> Io[None]:
        """Put protection right, unless nothing in the record changed since it was found right.

        Protection is sized to the record's position, so it waits while the state is uncertain
        (an order of unknown status may have moved the position; the last reconcile did not
        finish): the next reconcile resolves it. Its orders go through the same refusal handling
        as entries (a rate-limited stop-loss is re-sent after the retry-after, not next cycle).
        When time passed unseen since the position was read (a timeout, a back-off), what no longer
        fits the record is withdrawn at once, and the position is read afresh before more is placed.
        """
        if self.record.version == self._protected_version or not self.reconciler.certain or self.uncertain():
            return
        cfg = self.config
        if self.session.sight_lost:  # withdrawing what no longer fits the record needs no fresh read
            yield from ensure_protection(self.record, cfg.instrument, cfg.protective, self.session, send=self.send,
                                         place=False)
        for _ in range(2):  # time passed unseen since the position was read (a timeout, a back-off): read it again
            if not self.session.sight_lost:
                break
            result = yield from self.reconciler.reconcile()
            if result is None or result.uncertain or self.uncertain():
                return
        if self.session.sight_lost:
            return  # the venue keeps going unanswered: protect on the next pass, not on a stale read
        posture = yield from ensure_protection(self.record, cfg.instrument, cfg.protective, self.session,
                                               send=self.send)
        if posture is Posture.STALE:  # an answer came late: the position may have moved meanwhile: read it again
            result = yield from self.reconciler.reconcile()
            if result is not None and not result.uncertain and not self.uncertain():
                posture = yield from ensure_protection(self.record, cfg.instrument, cfg.protective, self.session,
                                                       send=self.send)
        self._protected_version = self.record.version if posture is Posture.MATCHED else -1

    def send(self, role: OrderRole, side: Side, qty: Decimal, **kwargs: object) -> Io[OrderState]:
        """A protective order (or the market exit that replaces one), refusals handled by kind."""
        sent = yield from send(self.desk, role, side, qty, **kwargs)  # type: ignore[arg-type]
        return sent.order

    # ------------------------------------------------------------------------------ strategy
    def strategy_target(self) -> Io[Target | None]:
        strat = self.strategy
        iv = strat.candle_interval_ms
        try:
            if iv:
                since = self.config.start_ms if self.last_candle_open is None else self.last_candle_open + iv
                request = FetchCandles(self.config.instrument.symbol, iv, since)
                candles: CandlesReport = yield from self.session.call(request)
                for c in candles.candles:
                    strat.on_candle(c)
                    self.last_candle_open = c.open_ms
            target = strat.target(self.session.now)
            problem = target_problem(target)
            if problem is not None:
                raise StrategyError(f"strategy {type(strat).__name__} returned {problem} at t={self.session.now}")
            if self.warming:  # signals replayed from before a restart are history, not news
                self.warming = False
                return None
        except ExchangeError:
            return None
        except StrategyError:
            raise
        except Exception as exc:  # a user strategy's bug: stop the run, say where
            raise StrategyError(f"strategy {type(strat).__name__} raised at t={self.session.now}: {exc!r}") from exc
        return target


__all__ = ["Bot"]
