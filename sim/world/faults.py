"""Random fault mode: interventions and transport faults drawn from rates, as scenario events.

Each kind arrives as a Poisson process at its rate per simulated day, drawn from the run's
``faults`` stream in a fixed kind order, so the same seed always draws the same schedule and a
failing case can be written out as a plain scenario with explicit ``[[events]]``.
"""
from __future__ import annotations

from decimal import Decimal

import numpy as np

from sim.core.units import format_duration_ms
from sim.scenario.schema import FAULT_KINDS, Event, Faults, Scenario

CHAOS_RATES = {  # per simulated day
    "external_close": 2.0, "external_reduce": 2.0, "external_add": 1.0, "cancel_protective": 2.0,
    "move_protective": 1.0, "transfer_out": 0.5, "external_order": 1.0, "latency_spike": 4.0, "outage": 2.0,
    "drop_updates": 3.0, "thin_liquidity": 2.0, "price_gap": 1.0, "bot_crash": 1.0, "set_leverage": 0.5,
    "transfer_in": 0.5, "reject_orders": 2.0,
}  # new kinds go last in FAULT_KINDS, so a seed's draws for the older kinds stay as they were


def fault_rates(faults: Faults) -> dict[str, float]:
    base = dict(CHAOS_RATES) if faults.preset == "chaos" else {}
    base.update(faults.rates)
    return base


def _event(kind: str, at_ms: int, rng: np.random.Generator, sc: Scenario) -> dict:
    at = format_duration_ms(at_ms) if at_ms else "0s"
    e: dict = {"at": at, "kind": kind}
    qty = Decimal(str(sc.bot.params.get("qty", "0.1")))
    match kind:
        case "external_reduce":
            e["fraction"] = round(float(rng.uniform(0.2, 0.8)), 3)
        case "external_add":
            e["qty"] = str(max(sc.market.lot_size, (qty * Decimal(str(round(rng.uniform(0.2, 1.0), 2))))
                               .quantize(sc.market.lot_size)))
        case "cancel_protective" | "move_protective":
            e["which"] = str(rng.choice(["tp", "sl", "both"]))
            if kind == "move_protective":
                e["by_pct"] = round(float(rng.uniform(-0.01, 0.01)), 4)
        case "transfer_out":
            e["amount"] = round(float(rng.uniform(0.05, 0.5)) * sc.account.balance, 2)
        case "external_order":
            e["side"] = str(rng.choice(["buy", "sell"]))
            e["qty"] = str(qty)
        case "set_leverage":  # within the venue's maximum: an operator's change, not a refused one
            ex = sc.exchange
            venue_max = max(t.max_leverage for t in ex.margin_tiers) if ex.margin_tiers else ex.max_leverage
            e["leverage"] = int(rng.integers(1, min(venue_max, 20) + 1))
        case "transfer_in":
            e["amount"] = round(float(rng.uniform(0.05, 0.5)) * sc.account.balance, 2)
        case "reject_orders":
            e["duration"] = f"{int(rng.integers(10, 300))}s"
            e["reason"] = str(rng.choice(["insufficient_margin", "price_out_of_band", "leverage_too_high"]))
        case "latency_spike":
            e["duration"] = f"{int(rng.integers(5, 120))}s"
            e["factor"] = round(float(rng.uniform(5, 50)), 1)
        case "outage" | "drop_updates":
            e["duration"] = f"{int(rng.integers(10, 300))}s"
        case "thin_liquidity":
            e["duration"] = f"{int(rng.integers(1, 30))}m"
            e["depth_factor"] = round(float(rng.uniform(0.05, 0.5)), 3)
            e["spread_factor"] = round(float(rng.uniform(1.5, 5)), 2)
        case "price_gap":
            e["pct"] = round(float(rng.normal(0, 0.01)), 4)
        case "bot_crash":
            e["point"] = str(rng.choice(["now", "after_submit", "after_fill"]))
            e["restart_after"] = f"{int(rng.integers(1, 120))}s"
    return e


def draw_fault_events(sc: Scenario, rng: np.random.Generator) -> list[Event]:
    """The random events of a run (empty unless ``[faults]`` sets a preset or rates)."""
    from pydantic import TypeAdapter

    rates = fault_rates(sc.faults)
    if not any(rates.values()):
        return []
    days = sc.duration_ms / 86_400_000
    raw = []
    for kind in FAULT_KINDS:
        rate = rates.get(kind, 0.0)
        n = int(rng.poisson(rate * days)) if rate > 0 else 0
        for at in sorted(rng.integers(1, sc.duration_ms, size=n).tolist()):
            raw.append(_event(kind, int(at), rng, sc))
    return TypeAdapter(list[Event]).validate_python(raw)
