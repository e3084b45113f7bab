"""Fit the ``msm`` price model to data by matching its stylised facts (simulated method of moments).

The data's facts are computed once; candidate models are simulated over the data's length (at a
coarse tick: minute facts do not depend on what happens inside ten seconds) with common random
numbers, and the candidate whose facts sit closest wins. ``sigma`` is not searched: it is the
data's volatility less what the candidate's jumps contribute. With minute data (candles of a
minute or less, or trades spanning hours) everything is fitted; with a few minutes of trades only
what they can tell is (volatility, the share of quiet seconds, the 1-second tails), and the rest
keeps the defaults, as the result says.
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field, replace

import numpy as np

from sim.market.facts import stylised_facts
from sim.market.msm import DAY_MS, MsmParams, msm_path

FIT_TICK_MS = 10_000
_M0 = (1.4, 1.5, 1.55, 1.6)
_LONGEST_DAYS = (4.0, 8.0)
_JUMPS = ((0.0, 0.0), (5.0, 3.0), (10.0, 3.0), (20.0, 2.5))  # (a day, size in 1-minute sd)
_SEEDS = (11, 12, 13, 14)
_SCALE_SEEDS = 9


@dataclass(frozen=True)
class MarketFit:
    params: MsmParams
    data_facts: dict[str, float]
    fitted: tuple[str, ...]  # the keys the data determined (the others keep their defaults)
    loss: float = math.nan
    notes: list[str] = field(default_factory=list)

    def toml(self) -> str:
        """The `[market]` table to paste into a scenario."""
        p = self.params
        lines = ["[market]", 'model = "msm"', f"sigma = {p.sigma:.4f}", f"vol_components = {p.components}",
                 f"vol_multiplier = {p.m0:g}", f'vol_shortest = "{_dur(p.vol_shortest_ms)}"',
                 f'vol_longest = "{_dur(p.vol_longest_ms)}"', f"active_share = {p.active_share:.3f}",
                 f"jump_rate = {p.jumps.rate:g}", f"jump_size = {p.jumps.size:.5f}",
                 f"jump_clustering = {p.jumps.clustering:g}", f'jump_decay = "{_dur(p.jumps.decay_ms)}"',
                 f'jump_duration = "{_dur(p.jumps.duration_ms)}"']
        if p.tail_dof is not None:
            lines.append(f"tail_dof = {p.tail_dof:g}")
        return "\n".join(lines) + "\n"


def _dur(t_ms: int) -> str:
    for unit, size in (("d", DAY_MS), ("h", 3_600_000), ("m", 60_000), ("s", 1000)):
        if t_ms % size == 0:
            return f"{t_ms // size}{unit}"
    return f"{t_ms}ms"


def _loss(sim: dict[str, float], data: dict[str, float]) -> float:
    """Distance in units of the acceptance bands: kurtosis +-30 %, |r| autocorrelation +-0.05, tail
    shares x2 (the facts that decide stops and liquidations weigh fully, the rest a quarter)."""
    def ok(*keys: str) -> bool:
        return all(math.isfinite(data[k]) and math.isfinite(sim[k]) for k in keys)

    total = 0.0
    for key, w in (("kurt_1m", 1.0), ("kurt_5m", 1.0), ("kurt_60m", 0.25)):
        if ok(key):
            total += w * (math.log(max(sim[key], 0.1) / max(data[key], 0.1)) / math.log(1.3)) ** 2
    for key, w in (("acf_abs_1m", 0.25), ("acf_abs_15m", 0.5), ("acf_abs_60m", 1.0), ("acf_abs_240m", 0.5),
                   ("acf_abs_1440m", 0.25)):
        if ok(key):
            total += w * ((sim[key] - data[key]) / 0.05) ** 2
    for key in ("tail_4sd", "tail_6sd"):
        if ok(key):
            total += (math.log((sim[key] + 1e-5) / (data[key] + 1e-5)) / math.log(2)) ** 2
    for key in ("hourly_vol_p5", "hourly_vol_p95"):  # relative to the overall volatility: sigma is scaled after
        if ok(key, "ann_vol"):
            total += 0.25 * (math.log((sim[key] / sim["ann_vol"]) / (data[key] / data["ann_vol"])) / math.log(1.5)) ** 2
    return total


def fit_msm(prices: list[np.ndarray], step_ms: int, base: MsmParams) -> MarketFit:
    """Fit ``base``'s model to the data ``prices`` (contiguous series sampled every ``step_ms``)."""
    longest = max(prices, key=len)
    data = stylised_facts(longest, step_ms)
    notes: list[str] = []
    fitted: list[str] = []
    p = base
    if math.isfinite(data["zero_share_1s"]):
        p = replace(p, active_share=float(min(max(1.0 - data["zero_share_1s"], 0.05), 1.0)))
        fitted.append("active_share")
    if not math.isfinite(data["acf_abs_60m"]):
        if step_ms > 1000:
            raise ValueError(f"the data is too short to fit ({len(longest)} prices every {step_ms} ms)")
        r = np.concatenate([np.diff(np.log(s)) for s in prices])
        sigma = float(r.std() * math.sqrt(365 * 86_400_000 / step_ms))
        p = replace(p, sigma=sigma)
        notes.append(f"the data spans {len(longest) * step_ms / 60_000:.0f} minutes at most: only volatility and "
                     "the share of quiet seconds are fitted; the volatility clustering and jumps keep their defaults")
        return MarketFit(p, data, ("sigma", *fitted), notes=notes)
    total_var = data["ann_vol"] ** 2
    sd_1m = data["ann_vol"] / math.sqrt(525_600)
    n_ticks = len(longest) * step_ms // FIT_TICK_MS
    best: tuple[float, MsmParams] | None = None
    for m0, days, (rate, size_sd) in itertools.product(_M0, _LONGEST_DAYS, _JUMPS):
        jumps = replace(base.jumps, rate=rate, size=size_sd * sd_1m)
        jump_var = rate * 365 * jumps.size**2 * math.pi / 2
        if jump_var >= 0.8 * total_var:
            continue
        # quiet ticks off while fitting: at the coarse fitting tick they would fatten the minute's tails,
        # where at 1 s (60 ticks a minute) they average out
        cand = replace(p, sigma=math.sqrt(total_var - jump_var), m0=m0, vol_longest_ms=int(days * DAY_MS),
                       jumps=jumps, tick_size=None, active_share=1.0)
        rows = [stylised_facts(msm_path(cand, n_ticks, FIT_TICK_MS, np.random.default_rng(seed)), FIT_TICK_MS)
                for seed in _SEEDS]
        loss = _loss({k: float(np.median([r[k] for r in rows])) for k in rows[0]}, data)  # medians: robust to
        # the one path whose month holds a freak jump
        if best is None or loss < best[0]:
            best = (loss, cand)
    assert best is not None
    loss, cand = best
    # a month of a long-memory model has a lower sample volatility than its long-run sigma: scale sigma
    # (and the jumps) so that paths as long as the data have the data's volatility (median over seeds)
    vols = [stylised_facts(msm_path(cand, n_ticks, FIT_TICK_MS, np.random.default_rng(100 + s)), FIT_TICK_MS)["ann_vol"]
            for s in range(_SCALE_SEEDS)]
    k = data["ann_vol"] / float(np.median(vols))
    cand = replace(cand, sigma=cand.sigma * k, jumps=replace(cand.jumps, size=cand.jumps.size * k))
    fitted += ["sigma", "vol_multiplier", "vol_longest", "jump_rate", "jump_size"]
    return MarketFit(replace(cand, tick_size=base.tick_size, active_share=p.active_share), data, tuple(fitted), loss,
                     notes)
