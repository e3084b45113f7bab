"""Read and validate a scenario file; every problem becomes a `ScenarioError` naming file and key."""
from __future__ import annotations

import difflib
import inspect
import tomllib
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from sim.bot.strategy.base import StrategyLoadError, check_protocol, resolve_strategy
from sim.core.units import parse_duration_ms
from sim.data.errors import MarketDataError
from sim.data.replay import ReplaySpec, load_replay
from sim.scenario.describe import describe_errors
from sim.scenario.errors import ScenarioError
from sim.scenario.expect import check_key_problems
from sim.scenario.schema import Scenario


def parse_scenario(data: dict[str, Any], file: str = "<memory>") -> Scenario:
    """Validate a scenario given as a dict (as parsed from TOML)."""
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(file, describe_errors(exc.errors())) from None
    problems: list[str] = []
    for key, value in scenario.expect.items():
        problems += check_key_problems(key, value)
    try:
        check_strategy(scenario)
    except StrategyLoadError as exc:
        problems.append(f"bot.strategy: {exc}")
    except StrategyParamsError as exc:
        problems.append(f"bot.params: strategy {scenario.bot.strategy!r} does not accept these parameters: {exc}")
    if problems:
        raise ScenarioError(file, problems)
    if scenario.market.mark_file:
        scenario = _with_mark_file(scenario, file)
    if scenario.market.model == "replay":
        scenario = _with_replay_data(scenario, file)
    if scenario.market.book_file or scenario.market.book_snapshot_file:
        scenario = _with_book_files(scenario, file)
    elif scenario.market.model == "bootstrap":
        scenario = _with_replay_data(scenario, file, window=False)
    scenario._source = file
    return scenario


def replay_spec(scenario: Scenario) -> ReplaySpec:
    m = scenario.market
    kind = m.kind or ("trades" if m.format in ("aggtrades_csv", "freqtrade_trades_json") else "ohlcv")
    return ReplaySpec(str(m.file), kind, str(m.format), tuple(sorted(m.columns.items())), m.time_unit, m.gaps,
                      parse_duration_ms(m.max_gap), tuple(m.exclude_trade_types))


def _with_mark_file(scenario: Scenario, file: str) -> Scenario:
    """Resolve and read the recorded mark-price stream (relative to the scenario file)."""
    from sim.data.markprice import load_mark_stream

    m = scenario.market
    base = Path(file).parent if file != "<memory>" else Path.cwd()
    path = (base / str(m.mark_file)).resolve()
    if m.model != "replay":
        raise ScenarioError(file, ['market.mark_file: a recorded mark-price stream goes with market.model = '
                                   f'"replay" (this market is "{m.model}")'])
    if not path.is_file():
        raise ScenarioError(file, [f"market.mark_file ({m.mark_file}): file not found: {path}"])
    try:
        load_mark_stream(path)
    except MarketDataError as exc:
        raise ScenarioError(file, [f"market.mark_file ({m.mark_file}): {exc}"]) from None
    return scenario.model_copy(update={"market": m.model_copy(update={"mark_file": str(path)})})


def _with_book_files(scenario: Scenario, file: str) -> Scenario:
    """Resolve and check the recorded book (relative to the scenario file) over the run's window."""
    from sim.data.depth import depth_window

    m = scenario.market
    if m.model != "replay" or replay_spec(scenario).kind != "trades":
        raise ScenarioError(file, ["market.book_file: a recorded book is replayed with its trades: market.model = "
                                   f'"replay" and market.kind = "trades" (this market is "{m.model}"'
                                   + (f', kind "{replay_spec(scenario).kind}")' if m.model == "replay" else ")")])
    if not (m.book_file and m.book_snapshot_file):
        have, need = ("book_file", "book_snapshot_file") if m.book_file else ("book_snapshot_file", "book_file")
        raise ScenarioError(file, [f"market.{need}: market.{have} needs it too (the diffs and the REST snapshot "
                                   "they follow)"])
    base = Path(file).parent if file != "<memory>" else Path.cwd()
    paths = {k: (base / str(getattr(m, k))).resolve() for k in ("book_file", "book_snapshot_file")}
    for k, path in paths.items():
        if not path.is_file():
            raise ScenarioError(file, [f"market.{k} ({getattr(m, k)}): file not found: {path}"])
    start = scenario.scenario.start_ms
    try:
        depth_window(paths["book_file"], paths["book_snapshot_file"], float(m.tick_size), start,
                     start + scenario.duration_ms)
    except MarketDataError as exc:
        raise ScenarioError(file, [f"market.book_file ({m.book_file}): {exc}"]) from None
    sides = load_replay(replay_spec(scenario)).table["side"]
    if not sides.isin(["buy", "sell"]).all():
        raise ScenarioError(file, ["market.book_file: the replayed trades need the aggressor's side (buy or sell) "
                                   "on every row, to queue resting orders: map it with market.columns = "
                                   "{ side = \"...\" }"])
    return scenario.model_copy(update={"market": m.model_copy(update={k: str(p) for k, p in paths.items()})})


def _with_replay_data(scenario: Scenario, file: str, window: bool = True) -> Scenario:
    """Resolve the data file (relative to the scenario file), check it, and take its start if none is given
    (``window=False``, a bootstrap: only resolve and check the file; the run's dates are its own)."""
    m = scenario.market
    base = Path(file).parent if file != "<memory>" else Path.cwd()
    path = (base / str(m.file)).resolve()
    scenario = scenario.model_copy(update={"market": m.model_copy(update={"file": str(path)})})
    spec = replay_spec(scenario)
    if not path.is_file():
        what = "a folder, not a file" if path.is_dir() else "file not found"
        raise ScenarioError(file, [f"market.file ({m.file}): {what}: {path} (a relative path is read from the "
                                   "scenario file's folder)"])
    try:
        data = load_replay(spec)
        if not window:
            return scenario
        start = scenario.scenario.start
        if start is None:
            start = datetime.fromtimestamp(data.first_ms / 1000, tz=UTC)
            scenario = scenario.model_copy(update={"scenario": scenario.scenario.model_copy(update={"start": start})})
        start_ms = scenario.scenario.start_ms
        load_replay(spec, (start_ms, start_ms + scenario.duration_ms))
        if data.interval_ms is not None and data.interval_ms % parse_duration_ms(m.resolution):
            raise MarketDataError(f"the candle interval ({data.interval_ms} ms) is not a multiple of "
                                  f"market.resolution ({m.resolution})")
    except MarketDataError as exc:
        raise ScenarioError(file, [f"market.file ({m.file}): {exc}"]) from None
    except Exception as exc:  # a reader library's own error on a file it cannot make sense of
        raise ScenarioError(file, [f"market.file ({m.file}): cannot be read as market.format = {m.format!r}: "
                                   f"{type(exc).__name__}: {exc}"]) from None
    return scenario


_DURATION_PARAMS = ("at", "interval")


def _convert(value: Any) -> Any:
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if k in _DURATION_PARAMS and isinstance(v, str):
                out[f"{k}_ms"] = parse_duration_ms(v)
            else:
                out[k] = _convert(v)
        return out
    if isinstance(value, list):
        return [_convert(v) for v in value]
    return value


def strategy_kwargs(scenario: Scenario) -> dict[str, Any]:
    """Keyword arguments for the scenario's strategy class.

    Parameters named ``at`` or ``interval`` are durations (``"15m"``) and reach the strategy as
    ``at_ms`` / ``interval_ms``; the run's start time is passed as ``start_ms``.
    """
    kwargs = _convert(dict(scenario.bot.params))
    kwargs["start_ms"] = scenario.scenario.start_ms
    return kwargs


class StrategyParamsError(ValueError):
    """The strategy's ``__init__`` refused the scenario's ``bot.params``."""


def _raised_at(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    return f" (raised at {frames[-1].filename} line {frames[-1].lineno})" if frames else ""


def check_strategy(scenario: Scenario) -> None:
    """Import the strategy, build it once with the scenario's parameters (cheap, no market data) and
    check that what it built has the strategy protocol.

    Raises `StrategyLoadError` (a problem of ``bot.strategy``) or `StrategyParamsError` (of ``bot.params``).
    """
    name = scenario.bot.strategy
    cls = resolve_strategy(name)
    try:
        params = inspect.signature(cls).parameters
    except (TypeError, ValueError):  # no signature to read (a builtin, say): let the call itself decide
        params = None
    if params is not None and not any(p.kind is p.VAR_KEYWORD for p in params.values()):
        if "start_ms" not in params:
            raise StrategyLoadError(f"{name!r} cannot be built: its __init__ must take start_ms (the run's start, "
                                    "ms since the epoch) as a keyword argument")
        for key in scenario.bot.params:
            target = {"at": "at_ms", "interval": "interval_ms"}.get(key, key)
            if target not in params:
                valid = [p.removesuffix("_ms") for p in params if p not in ("self", "start_ms")]
                near = difflib.get_close_matches(key, valid, n=1)
                hint = f"did you mean {near[0]!r}?" if near else f"it takes {', '.join(valid) or 'none'}"
                raise StrategyParamsError(f"unknown parameter {key!r}; {hint}")
    try:
        strategy = cls(**strategy_kwargs(scenario))
    except (TypeError, ValueError, KeyError) as exc:
        raise StrategyParamsError(str(exc)) from exc
    except Exception as exc:  # user code: whatever its __init__ raises is a problem of these parameters
        raise StrategyParamsError(f"{type(exc).__name__}: {exc}{_raised_at(exc)}") from exc
    check_protocol(strategy, name)


def load_scenario(path: str | Path) -> Scenario:
    """Read a scenario file. Raises `ScenarioError` (never a deep traceback) for any problem."""
    p = Path(path)
    file = str(path)
    if not p.is_file():
        raise ScenarioError(file, ["file not found" if not p.exists() else "not a file"])
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(file, [f"not valid TOML: {exc}"]) from None
    except UnicodeDecodeError as exc:
        raise ScenarioError(file, [f"not UTF-8 text: {exc}"]) from None
    except OSError as exc:
        raise ScenarioError(file, [f"cannot be read: {exc.strerror or exc}"]) from None
    return parse_scenario(data, file)


def validate_file(path: str | Path) -> Scenario:
    return load_scenario(path)
