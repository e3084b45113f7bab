"""`aethersim market`: write a scenario's price path and print its stylised facts."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sim.cli.common import resolve_scenario_arg


def cmd_market(args: argparse.Namespace) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    import sim
    from sim.data.errors import MarketDataError
    from sim.market.facts import facts_table, stylised_facts
    from sim.world.market_table import market_chunks, scenario_path

    sc = sim.load_scenario(resolve_scenario_arg(args.scenario))
    seed = sc.scenario.seed if args.seed is None else args.seed
    try:
        path, facts = scenario_path(sc, seed)
    except MarketDataError as exc:
        print(f"aethersim market: {exc}", file=sys.stderr)
        return 2
    out = Path(args.out or f"reports/market/{sc.scenario.name}-seed{seed}.parquet")
    if out.is_dir():
        print(f"aethersim market: --out {out} is a folder; give a file name (e.g. {out / 'market.parquet'})",
              file=sys.stderr)
        return 2
    out.parent.mkdir(parents=True, exist_ok=True)
    writer = None
    try:
        for chunk in market_chunks(sc, path):
            table = pa.Table.from_pandas(chunk, preserve_index=False)
            writer = writer or pq.ParquetWriter(out, table.schema)
            writer.write_table(table)
    finally:
        if writer is not None:
            writer.close()
    model = facts.get("model", sc.market.model)
    hours = (len(path) - 1) * path.tick_ms / 3_600_000
    print(f"{sc.scenario.name} (seed {seed}): market model {model}, {len(path):,} ticks of {path.tick_ms} ms "
          f"({hours:,.1f} h)")
    columns = {"mid": stylised_facts(path.mid, path.tick_ms),
               "last": stylised_facts(path.series("last").prices, path.tick_ms)}
    print(facts_table(columns))
    print(f"path: {out}  (time, mid, mark, index, last, bid, ask, funding_rate)")
    if args.queue:
        return _queue_table(sc, seed)
    return 0


def _queue_table(sc, seed: int) -> int:  # noqa: ANN001
    """Back-of-queue fill shares on this market (a maker resting 0.01 orders near the touch) beside the real ones."""
    import numpy as np

    from sim.market.passive_fill import fill_table, real_shares, shares
    from sim.world.queue_sample import sample

    if sc.market.model == "replay" or sc.exchange.queue.model != "position":
        print("aethersim market: --queue needs a synthetic market and exchange.queue.model = \"position\"",
              file=sys.stderr)
        return 2
    touches = [x for x in sample(sc, seed).touches if x.arrived]
    sim_ = shares(np.array([x.displayed for x in touches]), np.array([x.volume for x in touches]),
                  np.array([x.through for x in touches])) if touches else {"arrivals": 0}
    real = real_shares()
    print(fill_table({"real (pooled)": real["all"], "this market": sim_}))
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    c = sub.add_parser("market", help="write a scenario's price path (Parquet) and print its stylised facts")
    c.add_argument("scenario", help="a scenario file, or the name of a bundled scenario")
    c.add_argument("--seed", type=int, default=None, help="the run's seed (default: the scenario's)")
    c.add_argument("--out", default=None, help="the Parquet file (default reports/market/NAME-seedN.parquet)")
    c.add_argument("--queue", action="store_true",
                   help="also print how often the market arriving at a level fills a back-of-queue order, beside "
                        "the real Binance BTCUSDT figures")
    c.set_defaults(func=cmd_market)
