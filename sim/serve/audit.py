"""The venue's audit of a client it never saw the inside of: what its requests show it did.

Needs no access to the client's own record. It counts and logs (into the run's event log):
orders sent while an earlier order of the client was of unknown status to it (a 503 unknown it
has not yet looked up), second orders for one client id, protective orders left after the
position ended, time exposed without protection, reduce-only violations attempted, requests
refused and why, and the time from each intervention to the client's first request that shows
it noticed (a query of positions, account, orders or trades, or an order).
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sim.serve.errors import UNKNOWN_STATUS_MSG, BinanceError
from sim.world.runlog import RunLog


@dataclass
class Episode:
    began: int
    ended: int | None = None


@dataclass
class Audit:
    log: RunLog
    now: Callable[[], int]  # the venue's time now (simulated ms)
    protective: Callable[[], bool] = lambda: False  # is a protective (reduce-only trigger) order open?
    position: Callable[[], Any] = lambda: 0
    unknown: dict[str, int] = field(default_factory=dict)  # client id -> when it went unknown to the client
    seen_ids: set[str] = field(default_factory=set)
    orders_while_unknown: int = 0
    second_orders_same_id: int = 0
    reduce_only_violations: int = 0
    refused: Counter = field(default_factory=Counter)  # "status code" -> count
    interventions: list[dict] = field(default_factory=list)
    exposed: list[Episode] = field(default_factory=list)
    left_behind: list[Episode] = field(default_factory=list)
    requests: Counter = field(default_factory=Counter)
    timing: dict[str, tuple[int, int, str]] = field(default_factory=dict)  # cid -> (in, answered, answer)

    # ------------------------------------------------------------------ requests
    def order_request(self, cid: str, reduce_only: bool, params: object = None) -> None:
        now = self.now()
        if self.unknown:
            self.orders_while_unknown += 1
            self.log.event(now, "audit_order_while_unknown", "audit", cid,
                           detail=f"sent while {', '.join(sorted(self.unknown))} was of unknown status to the client")
        if cid in self.seen_ids:
            self.second_orders_same_id += 1
            self.log.event(now, "audit_second_order_same_id", "audit", cid, detail="a second order for one client id")
        self.seen_ids.add(cid)
        self.noticed("order")

    async def watch(self, cid: str, call: Awaitable[Any]) -> Any:
        """Await an order request; a 503 unknown leaves ``cid`` of unknown status to the client."""
        sent = self.now()
        try:
            result = await call
            self.timing.setdefault(cid, (sent, self.now(), "ok"))
            return result
        except BinanceError as exc:
            self.timing.setdefault(cid, (sent, self.now(), f"{exc.status} {exc.code}"))
            if exc.code is None and exc.msg == UNKNOWN_STATUS_MSG:
                self.unknown[cid] = self.now()
                self.log.event(self.now(), "audit_unknown_status", "audit", cid,
                               detail="503 unknown status answered; the order may exist")
            elif exc.code == -2022:
                self.reduce_only_violations += 1
                self.log.event(self.now(), "audit_reduce_only_violation", "audit", cid,
                               detail="reduce-only order that would increase the position")
            raise

    def looked_up(self, cid: str, how: str) -> None:
        if cid in self.unknown:
            since = self.unknown.pop(cid)
            self.log.event(self.now(), "audit_unknown_resolved", "audit", cid,
                           detail=f"looked up by {how} after {self.now() - since} ms")
        self.noticed(how)

    def looked_up_all(self, rows: list[dict], how: str) -> None:
        for r in rows:
            cid = r.get("clientOrderId") or r.get("clientAlgoId")
            if cid in self.unknown:
                self.looked_up(cid, how)
        self.noticed(how)

    def refusal(self, status: int, code: int | None, path: str) -> None:
        self.requests["refused"] += 1
        self.refused[f"{status} {'' if code is None else code}".strip()] += 1
        self.log.event(self.now(), "request_refused", "audit", detail=f"{path}: {status} {code}")

    # ------------------------------------------------------------------ interventions
    def intervention(self, ts: int, kind: str) -> None:
        self.interventions.append({"ts_ms": ts, "kind": kind, "noticed_ms": None, "noticed_by": None})

    def noticed(self, how: str) -> None:
        """A request that shows the client looked (or acted): closes every intervention still unnoticed."""
        now = self.now()
        for i in self.interventions:
            if i["noticed_ms"] is None and now >= i["ts_ms"]:
                i["noticed_ms"], i["noticed_by"] = now, how
                self.log.event(now, "audit_intervention_noticed", "audit",
                               detail=f"{i['kind']} noticed after {now - i['ts_ms']} ms ({how})")

    # ------------------------------------------------------------------ protection
    def on_venue(self, what: str, ts: int, _payload: object) -> None:
        """After any order event or position change: open or close the exposure episodes."""
        pos = self.position()
        guarded = self.protective()
        _track(self.exposed, pos != 0 and not guarded, ts)
        _track(self.left_behind, pos == 0 and guarded, ts)

    def summary(self, end_ms: int) -> dict:
        def spans(eps: list[Episode]) -> dict:
            total = sum((e.ended if e.ended is not None else end_ms) - e.began for e in eps)
            return {"episodes": len(eps), "total_s": round(total / 1000, 3)}

        noticed = [i["noticed_ms"] - i["ts_ms"] for i in self.interventions if i["noticed_ms"] is not None]
        return {
            "orders_while_unknown": self.orders_while_unknown,
            "unknown_never_resolved": len(self.unknown),
            "second_orders_same_client_id": self.second_orders_same_id,
            "reduce_only_violations_attempted": self.reduce_only_violations,
            "exposure_without_protection": spans(self.exposed),
            "protective_left_after_position": spans(self.left_behind),
            "requests_refused": dict(sorted(self.refused.items())),
            "interventions": self.interventions,
            "intervention_noticed_s_max": round(max(noticed) / 1000, 3) if noticed else None,
            "interventions_unnoticed": sum(1 for i in self.interventions if i["noticed_ms"] is None),
        }


def _track(eps: list[Episode], on: bool, ts: int) -> None:
    open_ = bool(eps) and eps[-1].ended is None
    if on and not open_:
        eps.append(Episode(ts))
    elif not on and open_:
        eps[-1].ended = ts
