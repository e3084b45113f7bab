"""A bad scenario gives one clear paragraph naming the file and key: never a deep traceback."""
from __future__ import annotations

import pytest

import sim
from sim.scenario import ScenarioError

BASE = '[scenario]\nname = "x"\ndescription = "y"\nduration = "1h"\n'


def problems(tmp_path, text: str) -> str:
    f = tmp_path / "s.toml"
    f.write_text(text)
    with pytest.raises(ScenarioError) as info:
        sim.load_scenario(f)
    msg = str(info.value)
    assert str(f) in msg
    return msg


def test_invalid_toml_names_line_and_column(tmp_path):
    assert "line 2" in problems(tmp_path, '[scenario]\nname = "x\n')


def test_unknown_key_suggests_the_nearest_valid_name(tmp_path):
    msg = problems(tmp_path, BASE + "[market]\nsigam = 0.5\n")
    assert "market.sigam: unknown key" in msg and "'sigma'" in msg


def test_unknown_table_is_an_error(tmp_path):
    assert "exchagne: unknown key" in problems(tmp_path, BASE + "[exchagne]\ntaker_fee = 0.1\n")


def test_wrong_type_names_the_key(tmp_path):
    assert "account.leverage" in problems(tmp_path, BASE + '[account]\nleverage = "high"\n')


def test_duration_without_a_unit_is_refused(tmp_path):
    msg = problems(tmp_path, BASE.replace('"1h"', '"60"'))
    assert "scenario.duration" in msg and "unit" in msg


def test_zero_duration_is_impossible(tmp_path):
    assert "longer than zero" in problems(tmp_path, BASE.replace('"1h"', '"0s"'))


def test_negative_size_is_impossible(tmp_path):
    msg = problems(tmp_path, BASE + '[bot]\nparams = { qty = -1 }\n')
    assert "bot.params" in msg


def test_leverage_above_the_venue_maximum_is_refused(tmp_path):
    msg = problems(tmp_path, BASE + "[account]\nleverage = 50\n[exchange]\nmax_leverage = 20\n")
    assert "exceeds" in msg and "max_leverage" in msg


def test_event_after_the_end_of_the_run_is_refused(tmp_path):
    msg = problems(tmp_path, BASE + '[[events]]\nat = "2h"\nkind = "external_close"\n')
    assert "after the end of the run" in msg


def test_strategy_that_cannot_be_imported_is_named(tmp_path):
    msg = problems(tmp_path, BASE + '[bot]\nstrategy = "nowhere.module:Thing"\n')
    assert "bot.strategy" in msg and "nowhere.module" in msg


def test_missing_required_table_is_named(tmp_path):
    assert "scenario: required key is missing" in problems(tmp_path, "[market]\nsigma = 0.5\n")


def test_expectation_on_a_figure_that_does_not_exist_is_refused(tmp_path):
    msg = problems(tmp_path, BASE + '[expect]\n"drift.detect_max" = 3\n')
    assert "no such summary figure" in msg and "drift.detect_s_max" in msg


def test_missing_file_is_a_scenario_error(tmp_path):
    with pytest.raises(ScenarioError, match="file not found"):
        sim.load_scenario(tmp_path / "absent.toml")
