"""From a scenario's `[market]` table to a synthetic mid path: the one place that reads the model keys."""
from __future__ import annotations

import numpy as np

from sim.core.units import parse_duration_ms as ms
from sim.market.bootstrap import bootstrap_path
from sim.market.mark import IndexParams
from sim.market.msm import JumpParams, MsmParams, RegimeParams, msm_path
from sim.market.source import data_returns, data_step_ms

SYNTHETIC = ("gbm", "msm", "bootstrap")


def msm_params(m, tick_size: float | None = None) -> MsmParams:
    """The `MsmParams` of a `[market]` table (``m``: `sim.scenario.schema.Market`)."""
    return MsmParams(m.s0, m.sigma, m.drift, m.vol_components, m.vol_multiplier, ms(m.vol_shortest),
                     ms(m.vol_longest), m.tail_dof, m.active_share,
                     JumpParams(m.jump_rate, m.jump_size, m.jump_clustering, ms(m.jump_decay), ms(m.jump_duration)),
                     RegimeParams(m.regime_vol, ms(m.regime_calm), ms(m.regime_turbulent)),
                     float(m.tick_size) if tick_size is None else tick_size)


def synthetic_mid(m, spec, n_ticks: int, tick_ms: int, rng: np.random.Generator) -> np.ndarray:
    """The mid path of an ``msm`` or ``bootstrap`` market (``spec``: the data's `ReplaySpec` for a bootstrap)."""
    if m.model == "msm":
        return msm_path(msm_params(m), n_ticks, tick_ms, rng)
    if m.model == "bootstrap":
        from sim.data.replay import load_replay

        data = load_replay(spec)
        step = data_step_ms(data, tick_ms if tick_ms <= 1000 else 1000)
        returns = data_returns(data, step, ms(m.max_gap))
        return bootstrap_path(returns, step, m.s0, n_ticks, tick_ms, ms(m.block) / step, rng, float(m.tick_size))
    raise ValueError(f"no synthetic path for market.model = {m.model!r}")


def index_params(sc) -> IndexParams:
    """The basis and funding rules of a scenario (``sc``: `sim.scenario.schema.Scenario`)."""
    m = sc.market
    return IndexParams(m.basis_mean_bps, m.basis_sd_bps, ms(m.basis_halflife),
                       interval_ms=ms(sc.exchange.funding_interval))


def funding_mode(sc) -> str:
    """"premium" (Binance's rate from the basis, or a recorded stream's) or "fixed" ([exchange] funding_rate).

    Unset, it is "premium" for the realistic models and a replay with a recorded stream, and "fixed" for GBM,
    for a replay without one, and wherever the scenario sets [exchange] funding_rate or funding_rate_sd.
    """
    m = sc.market
    if m.funding is not None:
        return m.funding
    if {"funding_rate", "funding_rate_sd"} & sc.exchange.model_fields_set:
        return "fixed"
    if m.model == "gbm" or (m.model == "replay" and not m.mark_file):
        return "fixed"
    return "premium"
