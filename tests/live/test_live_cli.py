"""`aethersim live` refuses what it should before touching any venue (exit 2, a message naming the fix)."""
from __future__ import annotations

import pytest

from sim.cli import main


def test_a_real_venue_needs_real_money_and_keys(capsys: pytest.CaptureFixture[str],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("K", "key-from-env")
    monkeypatch.setenv("S", "secret-from-env")
    assert main(["live", "quickstart", "--venue", "binanceusdm", "--api-key-env", "K", "--api-secret-env", "S"]) == 2
    err = capsys.readouterr().err
    assert "--real-money" in err and "key-from-env" not in err and "secret-from-env" not in err
    assert main(["live", "quickstart", "--venue", "https://fapi.binance.com", "--api-key-env", "K",
                 "--api-secret-env", "S"]) == 2
    assert "--real-money" in capsys.readouterr().err


def test_missing_key_variables_and_bad_venues(capsys: pytest.CaptureFixture[str],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOPE", raising=False)
    assert main(["live", "quickstart", "--venue", "http://127.0.0.1:1", "--api-key-env", "NOPE"]) == 2
    assert "NOPE is not set" in capsys.readouterr().err
    monkeypatch.setenv("K", "k")
    monkeypatch.setenv("S", "s")
    assert main(["live", "quickstart", "--venue", "ftp://x", "--api-key-env", "K", "--api-secret-env", "S"]) == 2
    assert "neither a URL" in capsys.readouterr().err
    assert main(["live", "quickstart", "--venue", "binanceusdm", "--real-money", "--api-key-env", "K",
                 "--api-secret-env", "NOPE"]) == 2


def test_an_unreachable_venue_is_a_clear_error(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
                                               tmp_path) -> None:
    monkeypatch.setenv("K", "k")
    monkeypatch.setenv("S", "s")
    code = main(["live", "quickstart", "--venue", "http://127.0.0.1:9", "--api-key-env", "K", "--api-secret-env", "S",
                 "--out", str(tmp_path / "run"), "--duration", "5s"])
    err = capsys.readouterr().err
    assert code == 2 and "127.0.0.1:9" in err and "Traceback" not in err
