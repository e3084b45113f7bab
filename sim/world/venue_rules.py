"""What the venue is configured to be: fees, leverage, margin, order rules and answer modes."""
from __future__ import annotations

from dataclasses import dataclass

from sim.world.margin import MarginTable, MarginTier

ORDER_RESPONSES = ("result", "ack")
CONDITIONAL_ROUTES = ("legacy", "algo")


@dataclass(frozen=True, slots=True)
class VenueRules:
    """Fees (fractions of notional), leverage, margin and order rules of the venue and the account.

    ``price_band_pct`` is Binance's PERCENT_PRICE filter (multiplierUp = 1 + pct, multiplierDown =
    1 - pct against the mark). ``order_response`` is how a market/IOC/FOK order is answered:
    ``"result"`` after matching, ``"ack"`` before (it matches ``matching_delay_ms`` later, drawn per
    order: lognormal around ``matching_delay_ms`` with ``matching_delay_sigma``).
    ``conditional_orders``: ``"legacy"`` still takes STOP_MARKET / TAKE_PROFIT_MARKET as ordinary
    orders; ``"algo"`` refuses them there (-4120) and takes them only as algo orders.
    """

    taker_fee: float = 0.0004
    maker_fee: float = 0.0002
    leverage: int = 5
    max_leverage: int = 125
    maintenance_margin_rate: float = 0.004
    liquidation_fee: float = 0.0125
    price_band_pct: float = 0.05
    resting_fill_fraction: float = 0.5
    margin_tiers: tuple[MarginTier, ...] = ()
    order_response: str = "result"
    matching_delay_ms: float = 5.0
    matching_delay_sigma: float = 0.5
    conditional_orders: str = "legacy"

    def __post_init__(self) -> None:
        if not 1 <= self.leverage <= self.max_leverage:
            raise ValueError(f"leverage {self.leverage} outside 1..{self.max_leverage}")
        if self.order_response not in ORDER_RESPONSES:
            raise ValueError(f"order_response must be one of {ORDER_RESPONSES}, got {self.order_response!r}")
        if self.conditional_orders not in CONDITIONAL_ROUTES:
            raise ValueError(f"conditional_orders must be one of {CONDITIONAL_ROUTES}, got {self.conditional_orders!r}")

    @property
    def margin_table(self) -> MarginTable:
        return MarginTable(self.margin_tiers) if self.margin_tiers else \
            MarginTable.flat(self.maintenance_margin_rate, self.max_leverage)
