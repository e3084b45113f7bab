"""A bad scenario gives one clear paragraph naming the file and key, and exit status 2: never a deep
traceback, never a silent default. Every case goes through the command line, as a user meets it."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pandas as pd
import pytest

import sim
from sim.cli import main
from sim.scenario import ScenarioError

ROOT = Path(__file__).resolve().parent.parent
BASE = '[scenario]\nname = "x"\ndescription = "y"\nduration = "1h"\n'
REPLAY = BASE + '[market]\nmodel = "replay"\nfile = "c.csv"\nformat = "ccxt_csv"\n'
EVENT = '[[events]]\nat = "10m"\nkind = "{kind}"\n'

# name: (scenario text, other files in its folder, the key the message starts with, what else it must say)
CASES: dict[str, tuple[str | bytes, dict[str, str | bytes], str | None, tuple[str, ...]]] = {
    "invalid TOML": ('[scenario]\nname = "x\n', {}, None, ("not valid TOML", "line 2", "column 10")),
    "not UTF-8": ((BASE + "# caf\xe9\n").encode("latin-1"), {}, None, ("not UTF-8",)),
    "unknown key": (BASE + "[market]\nsigam = 0.5\n", {}, "market.sigam", ("unknown key", "did you mean 'sigma'")),
    "unknown table": (BASE + "[exchagne]\ntaker_fee = 0.1\n", {}, "exchagne", ("did you mean 'exchange'",)),
    "unknown event key": (BASE + EVENT.format(kind="outage") + 'duraton = "1m"\n', {},
                          "events[1].duraton (the 1st [[events]] entry, outage)", ("did you mean 'duration'",)),
    "unknown event kind": (BASE + EVENT.format(kind="outgae"), {}, "events[1].kind (the 1st [[events]] entry)",
                           ("unknown event kind 'outgae'", "did you mean 'outage'")),
    "unknown value": (BASE + '[market]\nintrabar = "bridge"\n', {}, "market.intrabar",
                      ("expected one of brownian_bridge, linear", "'bridge'")),
    "unknown fault kind in rates": (BASE + "[faults]\nrates = { outgae = 2 }\n", {}, "faults.rates.outgae",
                                    ("unknown key", "did you mean 'outage'")),
    "wrong type": (BASE + '[account]\nleverage = "high"\n', {}, "account.leverage", ("valid integer", "'high'")),
    "duration without a unit": (BASE.replace('"1h"', '"60"'), {}, "scenario.duration", ("unit", "'60'")),
    "duration as a number": (BASE + "[market]\ntick = 1\n", {}, "market.tick", ("duration string", "got 1")),
    "zero duration": (BASE.replace('"1h"', '"0s"'), {}, "scenario.duration", ("longer than zero", "'0s'")),
    "negative size in strategy params": (BASE + "[bot]\nparams = { qty = -1 }\n", {}, "bot.params",
                                         ("'ma_crossover' does not accept", "qty")),
    "negative size in an event": (BASE + EVENT.format(kind="external_add") + "qty = -1\n", {},
                                  "events[1].qty (the 1st [[events]] entry, external_add)", ("greater than 0",)),
    "leverage above the venue maximum": (BASE + "[account]\nleverage = 50\n[exchange]\nmax_leverage = 20\n", {},
                                         "account.leverage", ("50 exceeds", "exchange.max_leverage 20")),
    "event after the end of the run": (BASE + EVENT.format(kind="external_close")
                                       + EVENT.format(kind="external_close").replace("10m", "2h"), {},
                                       "events[2].at (the 2nd [[events]] entry, external_close)",
                                       ("2h is after the end of the run", "scenario.duration = 1h")),
    "set_leverage above the venue maximum": (BASE + EVENT.format(kind="set_leverage") + "leverage = 200\n", {},
                                             "events[1].leverage (the 1st [[events]] entry, set_leverage)",
                                             ("exchange.max_leverage = 125", "expect_refused = true")),
    "expectation bound that is not a number": (BASE + '[expect]\n"drift.detect_s_max" = { le = "sixty" }\n', {},
                                               "expect.drift.detect_s_max", ("needs a number", "'sixty'")),
    "expectation on a figure that does not exist": (BASE + '[expect]\n"drift.detect_max" = 3\n', {},
                                                    "expect.drift.detect_max",
                                                    ("no such summary figure", "'drift.detect_s_max'")),
    "missing required table": ("[market]\nsigma = 0.5\n", {}, "scenario",
                               ("required table [scenario] is missing", "name, description, duration")),
    "strategy module that cannot be imported": (BASE + '[bot]\nstrategy = "nowhere.module:Thing"\n', {},
                                                "bot.strategy", ("cannot import module 'nowhere.module'",)),
    "strategy module with a syntax error": (BASE + '[bot]\nstrategy = "bi_syntax:Broken"\n',
                                            {"bi_syntax.py": "import math\nclass Broken\n    pass\n"}, "bot.strategy",
                                            ("bi_syntax.py line 2", "SyntaxError")),
    "strategy module raising on import": (BASE + '[bot]\nstrategy = "bi_raising:Thing"\n',
                                          {"bi_raising.py": "\n\nraise RuntimeError('no config file')\n"},
                                          "bot.strategy", ("bi_raising.py line 3", "RuntimeError: no config file")),
    "strategy class without the protocol": (BASE + '[bot]\nstrategy = "bi_noproto:NoProto"\n',
                                            {"bi_noproto.py": "class NoProto:\n"
                                                              "    def __init__(self, start_ms=0):\n"
                                                              "        pass\n"
                                                              "    def target(self, now_ms):\n"
                                                              "        return None\n"},
                                            "bot.strategy", ("'bi_noproto:NoProto' is not a strategy",
                                                             "no candle_interval_ms attribute", "no on_candle()")),
    "strategy parameter the class does not take": (BASE + "[bot]\nparams = { fats = 3 }\n", {}, "bot.params",
                                                   ("unknown parameter 'fats'", "did you mean 'fast'")),
    "strategy __init__ refusing its parameters": (BASE + "[bot]\nparams = { fast = 30, slow = 10 }\n", {},
                                                  "bot.params", ("fast < slow",)),
    "strategy __init__ raising something else on a parameter": (
        BASE + '[bot]\nstrategy = "tests.user_strategy:EveryOtherCandle"\nparams = { qty = "lots" }\n', {},
        "bot.params", ("InvalidOperation", "user_strategy.py line")),
    "strategy __init__ without start_ms": (BASE + '[bot]\nstrategy = "bi_nostart:NoStart"\n',
                                           {"bi_nostart.py": "class NoStart:\n    def __init__(self, every=1):\n"
                                                             "        pass\n"},
                                           "bot.strategy", ("must take start_ms",)),
    "missing market-data file": (REPLAY, {}, "market.file (c.csv)", ("file not found", "scenario file's folder")),
    "corrupt market-data file": (REPLAY, {"c.csv": b"\x00\x01garbage\xff"}, "market.file (c.csv)",
                                 ("cannot read c.csv",)),
    "market-data file the reader library chokes on": (REPLAY.replace("c.csv", "c.json").replace("ccxt_csv",
                                                                                               "freqtrade_json"),
                                                      {"c.json": "[[1, 2]]"}, "market.file (c.json)",
                                                      ("cannot be read as market.format = 'freqtrade_json'",)),
    # numbers that are not finite, or far past anything a market or a venue does (issue 15)
    "NaN drift": (BASE + "[market]\ndrift = nan\n", {}, "market.drift", ("finite number",)),
    "infinite s0": (BASE + "[market]\ns0 = inf\n", {}, "market.s0", ("finite number",)),
    "infinite latency": (BASE + "[exchange.latency]\nmedian_ms = inf\n", {}, "exchange.latency.median_ms",
                         ("finite number",)),
    "infinite spike factor": (BASE + EVENT.format(kind="latency_spike") + 'duration = "1m"\nfactor = inf\n', {},
                              "events[1].factor (the 1st [[events]] entry, latency_spike)", ("finite number",)),
    "infinite depth": (BASE + "[liquidity]\nlevel0_qty = inf\n", {}, "liquidity.level0_qty", ("finite number",)),
    "infinite spread": (BASE + "[liquidity]\nspread_bps = inf\n", {}, "liquidity.spread_bps", ("finite number",)),
    "unknown impact model": (BASE + '[liquidity]\nimpact = "linear"\n', {}, "liquidity.impact",
                             ("transient, none", "'linear'")),
    "unknown depth model": (BASE + '[liquidity]\ndepth_model = "vol"\n', {}, "liquidity.depth_model",
                            ("volatility, static", "'vol'")),
    "negative side depth spread": (BASE + "[liquidity]\nside_depth_sd = -1\n", {}, "liquidity.side_depth_sd",
                                   ("greater than or equal to 0",)),
    "impact that never refills": (BASE + '[liquidity]\nimpact_halflife = "0s"\n', {}, "liquidity.impact_halflife",
                                  ("'0s'",)),
    "infinite impact": (BASE + "[liquidity]\nimpact_bps = inf\n", {}, "liquidity.impact_bps", ("finite number",)),
    "absurd volatility": (BASE + "[market]\nsigma = 1e6\n", {}, "market.sigma", ("less than or equal to 10",)),
    "tick size below any venue's": (BASE + "[market]\ntick_size = 1e-30\n", {}, "market.tick_size",
                                    ("greater than or equal to 1E-10",)),
    "duration of ages": (BASE.replace('"1h"', '"99999999999999d"'), {}, "scenario.duration",
                         ("longer than the longest accepted duration", "36500d")),
    "start in year 9999": (BASE + "start = 9999-12-31T00:00:00Z\n", {}, "scenario.start",
                           ("between 1970-01-01 and 2100-01-01",)),
    "expectation of a word for a count": (BASE + '[expect]\nduplicates = "zero"\n', {}, "expect.duplicates",
                                          ("needs a number", "'zero'")),
    "infinite balance": (BASE + "[account]\nbalance = inf\n", {}, "account.balance", ("finite number",)),
    "funding every millisecond": (BASE + '[exchange]\nfunding_interval = "1ms"\n', {}, "exchange.funding_interval",
                                  ("at least 1m",)),
    "a cycle longer than the run": (BASE + '[bot]\ncycle = "2h"\n', {}, "bot.cycle",
                                    ("longer than the run", "scenario.duration = 1h")),
    "a name that climbs out of the output folder": (BASE.replace('"x"', '"../../../escaped/run"', 1), {},
                                                    "scenario.name", ("letters, digits",)),
    "an absolute path as a name": (BASE.replace('"x"', '"/tmp/escaped-run"', 1), {}, "scenario.name",
                                   ("letters, digits",)),
    "a price of a few ticks": (BASE + "[market]\ns0 = 0.5\ntick_size = 0.1\n", {}, "market.s0",
                               ("at least 100 ticks",)),
}


@pytest.fixture
def scenario_file(tmp_path, monkeypatch):
    """Write a case's scenario (and its other files) into a fresh folder on the import path."""
    monkeypatch.syspath_prepend(str(tmp_path))

    def write(text: str | bytes, files: dict[str, str | bytes]) -> Path:
        for name, content in files.items():
            if name.endswith(".py"):
                monkeypatch.delitem(sys.modules, name.removesuffix(".py"), raising=False)
            mode = "wb" if isinstance(content, bytes) else "w"
            with open(tmp_path / name, mode) as fh:
                fh.write(content)
        f = tmp_path / "bad-scenario.toml"
        f.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
        return f

    yield write
    for name in [m for m in sys.modules if m.startswith("bi_")]:
        del sys.modules[name]


def assert_one_paragraph_naming(err: str, file: Path, key: str | None, says: tuple[str, ...]) -> None:
    assert "Traceback" not in err, err
    assert err.strip() and "\n\n" not in err.strip(), err
    assert err.startswith(f"{file}: invalid scenario"), err
    if key is not None:
        assert f"\n  - {key}: " in err, err  # the problem is filed under its own key, first on its line
    for fragment in says:
        assert fragment in err, (fragment, err)


@pytest.mark.parametrize("command", ["validate", "run"])
@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_exits_2_with_one_paragraph_naming_file_and_key(case, command, scenario_file, tmp_path, capsys):
    text, files, key, says = CASES[case]
    f = scenario_file(text, files)
    extra = ["--out", str(tmp_path / "run"), "--no-ideal-twin"] if command == "run" else []
    assert main([command, str(f), *extra]) == 2
    out, err = capsys.readouterr()
    assert_one_paragraph_naming(err, f, key, says)
    assert "ok" not in out and not (tmp_path / "run").exists()


def test_missing_scenario_file_exits_2(tmp_path, capsys):
    f = tmp_path / "absent.toml"
    assert main(["run", str(f)]) == 2
    assert_one_paragraph_naming(capsys.readouterr().err, f, None, ("file not found",))


def test_every_problem_of_a_file_is_listed_not_only_the_first(scenario_file, capsys):
    text = BASE + "[account]\nleverage = 50\n[exchange]\nmax_leverage = 20\n" + EVENT.format(kind="external_close")
    f = scenario_file(text.replace('"10m"', '"3h"'), {})
    assert main(["validate", str(f)]) == 2
    err = capsys.readouterr().err
    assert "\n  - account.leverage: " in err and "\n  - events[1].at (the 1st [[events]] entry" in err


@pytest.mark.parametrize("kind", ["outage", "latency_spike", "drop_updates", "thin_liquidity"])
def test_a_zero_length_fault_window_is_refused(kind, scenario_file, capsys):
    f = scenario_file(BASE + EVENT.format(kind=kind) + 'duration = "0s"\n', {})
    assert main(["validate", str(f)]) == 2
    assert_one_paragraph_naming(capsys.readouterr().err, f, f"events[1].duration (the 1st [[events]] entry, {kind})",
                                ("longer than zero",))


def test_a_refused_set_leverage_attempt_can_be_modelled_when_the_scenario_says_so(scenario_file, capsys):
    f = scenario_file(BASE + EVENT.format(kind="set_leverage") + "leverage = 200\nexpect_refused = true\n", {})
    assert main(["validate", str(f)]) == 0


def test_the_api_raises_the_same_error_with_each_problem_keyed(scenario_file):
    f = scenario_file(BASE + "[account]\nleverage = 50\n[exchange]\nmax_leverage = 20\n", {})
    with pytest.raises(ScenarioError) as info:
        sim.load_scenario(f)
    assert info.value.file == str(f)
    assert info.value.problems == ["account.leverage: 50 exceeds the venue's exchange.max_leverage 20"]


def test_the_installed_program_exits_2_without_a_traceback(tmp_path):
    """A real process, so nothing between `main` and the exit status can hide a traceback."""
    (tmp_path / "bi_proc_syntax.py").write_text("class Broken\n    pass\n")
    f = tmp_path / "bad.toml"
    f.write_text(BASE + '[bot]\nstrategy = "bi_proc_syntax:Broken"\n')
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)])}
    done = subprocess.run([sys.executable, "-m", "sim", "validate", str(f)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, check=False)
    assert done.returncode == 2, done.stderr
    assert_one_paragraph_naming(done.stderr, f, "bot.strategy", ("bi_proc_syntax.py line 1", "SyntaxError"))


STRATEGY_RUN = (BASE + '[bot]\nstrategy = "tests.user_strategy:{cls}"\n'
                '[[events]]\nat = "1m"\nkind = "external_add"\nqty = 0.01\n')  # something in the log before


@pytest.mark.parametrize(("cls", "says"), [("ReturnsAString", "'long please' (a str), not a Target or None"),
                                           ("ReturnsNaNQuantity", "quantity nan"),
                                           ("ReturnsInfiniteQuantity", "quantity Infinity")])
def test_a_strategy_returning_garbage_stops_the_run_clearly_and_keeps_what_it_wrote(cls, says, tmp_path, capsys):
    f = tmp_path / "garbage.toml"
    f.write_text(STRATEGY_RUN.format(cls=cls))
    assert main(["run", str(f), "--out", str(tmp_path / "r"), "--no-ideal-twin"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and "run stopped 3m" in err, err
    assert f"strategy {cls} returned" in err and says in err, err
    summary = json.loads((tmp_path / "r/summary.json").read_text())
    assert f"strategy {cls} returned" in summary["stopped"]["error"]
    assert "intervention_external_add" in set(pd.read_parquet(tmp_path / "r/events.parquet")["kind"])


def _bypassing_the_schema(name: str) -> sim.Scenario:
    """A scenario whose name never went through validation (built in code, say)."""
    sc = sim.load_scenario(ROOT / "scenarios/basics/flip.toml")
    return sc.model_copy(update={"scenario": sc.scenario.model_copy(update={"name": name})})


@pytest.mark.parametrize("name", ["../../escaped", "/tmp/aethersim-escaped", "a/../../b", "a/b"])
def test_the_run_directory_code_never_writes_outside_its_folder(name, tmp_path, monkeypatch):
    (tmp_path / "work").mkdir()
    monkeypatch.chdir(tmp_path / "work")
    before = set(tmp_path.rglob("*")) | set(Path("/tmp").glob("aethersim-escaped*"))
    with pytest.raises(ValueError, match="outside"):
        sim.run(_bypassing_the_schema(name), ideal_twin=False, report=False)
    with pytest.raises(ValueError, match="outside"):
        from sim.batching import RunSpec, run_one
        run_one(RunSpec(f"{name}-s0", "f.toml", name, {}, 0, (), ""), str(tmp_path / "batch"))
    after = set(tmp_path.rglob("*")) | set(Path("/tmp").glob("aethersim-escaped*"))
    assert after == before


def test_an_unexpected_error_inside_the_world_keeps_what_the_run_wrote(tmp_path, monkeypatch, capsys):
    """Not only a strategy's error: any exception mid-run leaves events, orders and a summary saying where."""
    from sim.world.exchange import SimExchange

    def broken(self, t, rate):
        raise RuntimeError("venue bug in funding")

    monkeypatch.setattr(SimExchange, "pay_funding", broken)
    f = tmp_path / "funding-bug.toml"
    f.write_text(BASE + '[exchange]\nfunding_interval = "20m"\n'
                 '[bot]\nstrategy = "tests.user_strategy:EveryOtherCandle"\n'
                 "params = { every = 3 }\n[[events]]\nat = \"1m\"\nkind = \"external_add\"\nqty = 0.01\n")
    assert main(["run", str(f), "--out", str(tmp_path / "r")]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and "run stopped 20m00.0s into the run" in err, err
    assert "RuntimeError: venue bug in funding (raised at " in err and "test_bad_input.py line" in err, err
    assert "venue bug in funding" in (tmp_path / "r/traceback.txt").read_text()  # for whoever fixes it
    summary = json.loads((tmp_path / "r/summary.json").read_text())
    assert summary["stopped"]["at_ms"] == 1_704_067_200_000 + 20 * 60_000
    assert "venue bug in funding" in summary["stopped"]["error"]
    assert summary["orders"]["submitted"] >= 1 and summary["sim_seconds"] == 1200
    for table in ("events", "orders", "fills", "timeline"):
        assert (tmp_path / f"r/{table}.parquet").is_file(), table
    assert (tmp_path / "r/report.html").is_file()


@pytest.mark.parametrize(("argv", "says"), [
    (["run", "flip", "--seed", "-1"], "argument --seed: must be a whole number, 0 or more (got '-1')"),
    (["run", "flip", "--seed", "x"], "argument --seed: must be a whole number, 0 or more (got 'x')"),
    (["batch", "flip", "--out", "{tmp}/b", "--seeds", "0"], "argument --seeds: must be a whole number, 1 or more "
                                                            "(got '0')"),
    (["batch", "flip", "--out", "{tmp}/b", "--seeds", "-3"], "argument --seeds: must be a whole number, 1 or more"),
    (["batch", "flip", "--out", "{tmp}/b", "--seed-list", "1,x"], "argument --seed-list: 'x' is not a whole number"),
    (["batch", "flip", "--out", "{tmp}/b", "--seed-list", "1,,2"], "argument --seed-list: an empty seed"),
    (["batch", "flip", "--out", "{tmp}/b", "--seed-list", "3,-1"], "argument --seed-list: '-1' is not"),
    (["batch", "flip", "--out", "{tmp}/b", "--workers", "0"], "argument --workers: must be a whole number, 1 or more"),
    (["run", "flip", "--out", "{tmp}/a-file"], "argument --out: {tmp}/a-file is a file, not a folder"),
    (["batch", "flip", "--out", "{tmp}/a-file"], "argument --out: {tmp}/a-file is a file, not a folder"),
])
def test_bad_command_line_arguments_exit_2_naming_the_argument(argv, says, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    (tmp_path / "a-file").write_text("not a folder\n")
    with pytest.raises(SystemExit) as info:
        main([a.format(tmp=tmp_path) for a in argv])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and says.format(tmp=tmp_path) in err, err
    assert not (tmp_path / "b").exists()


ABSURD = BASE.replace('"1h"', '"4w"') + '[market]\ntick = "1ms"\n'


@pytest.mark.parametrize("command", ["validate", "run"])
def test_a_run_too_large_for_the_machine_is_refused_before_anything_is_built(command, tmp_path):
    """1 ms ticks over four weeks: 2.4 billion ticks, ~41 GB. Refused at once, in a real process (no allocation)."""
    f = tmp_path / "absurd.toml"
    f.write_text(ABSURD)
    extra = ["--out", str(tmp_path / "run"), "--no-ideal-twin"] if command == "run" else []
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("AETHERSIM_MEMORY_CHECK", None)
    done = subprocess.run([sys.executable, "-m", "sim", command, str(f), *extra], cwd=tmp_path, env=env,
                          capture_output=True, text=True, check=False, timeout=60)
    assert done.returncode == 2, done.stderr
    err = done.stderr
    assert "Traceback" not in err and err.startswith(f"{f}: too large for this machine"), err
    assert "market.tick: 2,419,200,001 ticks (scenario.duration 4w at market.tick 1ms)" in err, err
    assert "of memory; this machine has" in err and "AETHERSIM_MEMORY_CHECK=off" in err, err
    assert not (tmp_path / "run").exists()


def test_the_memory_estimate_grows_with_ticks_and_cycles_and_the_check_can_be_switched_off(monkeypatch):
    from sim.resources import TooLarge, check_memory, estimate
    from sim.scenario.loader import parse_scenario

    day = parse_scenario(tomllib.loads(BASE.replace('"1h"', '"1d"')))
    absurd = parse_scenario(tomllib.loads(ABSURD))
    assert estimate(day).ticks == 86_401 and estimate(day).cycles == 1_440
    assert estimate(absurd).bytes > 2_419_200_001 * 9
    monkeypatch.delenv("AETHERSIM_MEMORY_CHECK", raising=False)
    check_memory(day, available=2**30)
    with pytest.raises(TooLarge):
        check_memory(day, available=estimate(day).bytes - 1)
    monkeypatch.setenv("AETHERSIM_MEMORY_CHECK", "off")
    check_memory(absurd, available=2**30)


def test_no_memory_check_lets_validate_pass_a_file_it_would_refuse(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("AETHERSIM_MEMORY_CHECK", "on")  # and restored after: the flag sets it for the process
    f = tmp_path / "absurd.toml"
    f.write_text(ABSURD)
    assert main(["validate", "--no-memory-check", str(f)]) == 0


def test_a_batch_with_a_run_too_large_is_refused_before_any_run(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("AETHERSIM_MEMORY_CHECK", "on")
    f = tmp_path / "sweep.toml"
    f.write_text(BASE.replace('"1h"', '"4w"'))
    code = main(["batch", str(f), "--set", "market.tick=1s,1ms", "--out", str(tmp_path / "b")])
    assert code == 2
    err = capsys.readouterr().err
    assert "market.tick: 2,419,200,001 ticks" in err and "market.tick=1ms" in err, err
    assert not (tmp_path / "b" / "runs").exists()


def test_a_storm_of_random_faults_too_large_for_the_machine_is_refused_naming_the_rates(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("AETHERSIM_MEMORY_CHECK", "on")
    f = tmp_path / "storm.toml"
    f.write_text(BASE.replace('"1h"', '"36500d"') + '[market]\ntick = "1h"\n[bot]\ncycle = "1h"\n'
                 "params = { interval = \"1h\" }\n[faults]\nrates = { outage = 10000, latency_spike = 10000 }\n")
    assert main(["validate", str(f)]) == 2
    err = capsys.readouterr().err
    assert "faults.rates: about 730,000,000 random fault events" in err and "Use lower rates" in err, err
