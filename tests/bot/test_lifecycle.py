"""The order lifecycle state machine allows exactly the documented transitions."""
from __future__ import annotations

import pytest

from sim.bot.orders import ALLOWED, IllegalTransition, check_transition
from sim.core.types import OrderStatus as S


@pytest.mark.parametrize(("before", "after"), [
    (S.NEW, S.SENT), (S.SENT, S.ACKNOWLEDGED), (S.ACKNOWLEDGED, S.PARTIALLY_FILLED),
    (S.PARTIALLY_FILLED, S.FILLED), (S.ACKNOWLEDGED, S.CANCELLED), (S.SENT, S.REJECTED), (S.SENT, S.EXPIRED),
    (S.SENT, S.UNKNOWN), (S.UNKNOWN, S.FILLED), (S.UNKNOWN, S.REJECTED),
])
def test_lifecycle_transitions_are_allowed(before, after):
    check_transition("x", before, after)


@pytest.mark.parametrize(("before", "after"), [
    (S.FILLED, S.CANCELLED), (S.CANCELLED, S.FILLED), (S.REJECTED, S.ACKNOWLEDGED), (S.NEW, S.FILLED),
    (S.ACKNOWLEDGED, S.SENT), (S.EXPIRED, S.PARTIALLY_FILLED),
])
def test_illegal_transitions_are_refused(before, after):
    with pytest.raises(IllegalTransition):
        check_transition("x", before, after)


def test_final_states_never_change():
    for state in (S.FILLED, S.CANCELLED, S.REJECTED, S.EXPIRED):
        assert ALLOWED[state] == frozenset({state})
