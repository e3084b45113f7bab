"""Conditional orders through the venue's algo service (Binance USD-M since 2025-12-09). Pure.

A TP or SL is an *algo order*: its own ids (our client id is its ``client_algo_id``), its own
statuses, list, lookup and cancel. When it triggers, the venue creates a separate market order, the
*child*, with ids of the venue's own (``actual_client_id`` / ``actual_order_id``): the child's fills
carry the child's ids, never ours. This module maps an algo order's report onto the bot's order
vocabulary, so the reconciler compares one kind of report, and names the requests for a
protective order by route (``legacy``: ordinary orders, as venues without an algo service take
them; ``algo``: the algo requests).
"""
from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

from sim.core.messages import (
    AlgoOrderReport,
    CancelAlgoOrder,
    CancelOrder,
    FetchAlgoOrder,
    FetchOrder,
    OrderReport,
    Request,
    SubmitAlgoOrder,
    SubmitOrder,
)
from sim.core.types import AlgoStatus, ClientOrderId, OrderRole, OrderStatus, VenueOrderId

ZERO = Decimal(0)
PROTECTIVE_ROLES = frozenset({OrderRole.TAKE_PROFIT, OrderRole.STOP_LOSS})


class ConditionalRoute(StrEnum):
    """How the venue takes conditional orders: as ordinary orders, or through its algo service."""

    LEGACY = "legacy"
    ALGO = "algo"


def order_status(status: AlgoStatus, actual_qty: Decimal) -> OrderStatus:
    """An algo order's status in the bot's lifecycle: open while it can still trigger or its child is
    working; FILLED once its child filled; EXPIRED when it ended with nothing (a refused child, or a
    close-position order with no position left)."""
    match status:
        case AlgoStatus.NEW | AlgoStatus.TRIGGERING:
            return OrderStatus.ACKNOWLEDGED
        case AlgoStatus.TRIGGERED:
            return OrderStatus.PARTIALLY_FILLED if actual_qty > 0 else OrderStatus.ACKNOWLEDGED
        case AlgoStatus.FINISHED:
            return OrderStatus.FILLED if actual_qty > 0 else OrderStatus.EXPIRED
        case AlgoStatus.CANCELLED:
            return OrderStatus.CANCELLED
        case _:  # REJECTED (its child was refused at trigger) and EXPIRED: ended without a fill
            return OrderStatus.EXPIRED


def as_order_report(report: AlgoOrderReport) -> OrderReport:
    """The algo order as the bot's order: our client algo id, its trigger, and what its child filled."""
    status = order_status(report.status, report.actual_qty)
    return OrderReport(report.symbol, report.client_algo_id, VenueOrderId(str(report.algo_id)), report.side,
                       report.type, report.qty if report.qty is not None else ZERO, None, report.trigger_price,
                       report.reduce_only, status, report.actual_qty, report.actual_price, report.ts,
                       report.updated_ms)


def child_aliases(reports: list[AlgoOrderReport]) -> dict[ClientOrderId, ClientOrderId]:
    """Each triggered algo order's child (the venue's client id of it) -> our client algo id: how a fill
    of the child is attributed to the TP or SL that made it."""
    return {r.actual_client_id: r.client_algo_id for r in reports if r.actual_client_id}


def is_algo(role: OrderRole, route: ConditionalRoute) -> bool:
    return route is ConditionalRoute.ALGO and role in PROTECTIVE_ROLES


def submit_request(request: SubmitOrder) -> SubmitAlgoOrder:
    """The algo request for a protective order built as an ordinary one."""
    assert request.trigger_price is not None
    return SubmitAlgoOrder(request.symbol, request.client_id, request.side, request.type, request.trigger_price,
                           request.qty, request.trigger_by, request.reduce_only)


def cancel_request(symbol: str, client_id: ClientOrderId, algo: bool) -> Request:
    return CancelAlgoOrder(symbol, client_id) if algo else CancelOrder(symbol, client_id)


def lookup_request(symbol: str, client_id: ClientOrderId, algo: bool) -> Request:
    return FetchAlgoOrder(symbol, client_id) if algo else FetchOrder(symbol, client_id)


def as_report(answer: OrderReport | AlgoOrderReport) -> OrderReport:
    """Either route's answer as the bot's order report."""
    return as_order_report(answer) if isinstance(answer, AlgoOrderReport) else answer


__all__ = ["ConditionalRoute", "as_order_report", "as_report", "cancel_request", "child_aliases", "is_algo",
           "lookup_request", "order_status", "submit_request"]
