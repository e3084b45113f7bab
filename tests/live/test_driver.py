"""The asyncio driver's contract, with a scripted venue (no network): answers and errors go back
into the generator in replies stamped with when they arrived, a pushed update ends a sleep early, and a stop
closes the bot at its next sleep, never between a request and its answer."""
from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from sim.core.errors import Rejected, RequestTimeout
from sim.core.messages import FetchPositions, PositionReport, PositionsReport, Reply, Sleep, Woke
from sim.core.types import RejectReason
from sim.live.adapter import VenueTime
from sim.live.driver import LiveDriver, Stopped


class ScriptedVenue:
    def __init__(self, answers: list) -> None:
        self.answers = answers
        self.time = VenueTime()
        self.asked: list = []

    async def handle(self, request: object) -> object:
        self.asked.append(request)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def run(coro: object) -> object:
    return asyncio.run(asyncio.wait_for(coro, 10))  # type: ignore[arg-type]


def test_answers_errors_and_the_clock() -> None:
    far = VenueTime().now() + 60_000
    venue = ScriptedVenue([PositionsReport(far, (PositionReport("X", Decimal(1), Decimal(2), far),)),
                           RequestTimeout("lost", 0), Rejected(RejectReason.UNKNOWN_ORDER, "", 0)])
    seen: list[Reply] = []

    def bot():
        for _ in range(3):
            seen.append((yield FetchPositions("X")))
        return "done"

    driver = LiveDriver(venue, asyncio.Event())  # type: ignore[arg-type]
    assert run(driver.run(bot())) == "done"
    assert isinstance(seen[0].answer, PositionsReport) and seen[0].received_ms >= far  # never before the answer
    assert isinstance(seen[1].answer, RequestTimeout) and isinstance(seen[2].answer, Rejected)
    assert seen[1].received_ms >= far and seen[2].received_ms >= seen[1].received_ms  # the clock never runs back
    assert driver.timeouts == 1 and driver.requests == 3


def test_a_pushed_update_ends_a_sleep_early() -> None:
    venue = ScriptedVenue([])
    woke: list[Woke] = []

    def bot():
        woke.append((yield Sleep(venue.time.now() + 5_000)).answer)

    async def go() -> float:
        driver = LiveDriver(venue, asyncio.Event())  # type: ignore[arg-type]
        loop = asyncio.get_running_loop()
        loop.call_later(0.1, driver.deliver, "an update")
        t0 = loop.time()
        await driver.run(bot())
        return loop.time() - t0

    took = run(go())
    assert took < 2.0 and woke[0].updates == ("an update",)


def test_a_sleep_runs_to_its_venue_time() -> None:
    venue = ScriptedVenue([])
    woke: list[Woke] = []
    until = venue.time.now() + 300

    def bot():
        woke.append((yield Sleep(until)).answer)

    run(LiveDriver(venue, asyncio.Event()).run(bot()))  # type: ignore[arg-type]
    assert woke[0].ts >= until and woke[0].updates == ()


def test_a_stop_closes_the_bot_at_its_next_sleep_not_mid_request() -> None:
    stop = asyncio.Event()
    closed: list[bool] = []

    class SlowVenue(ScriptedVenue):
        async def handle(self, request: object) -> object:
            stop.set()  # the stop arrives while a request is in flight
            await asyncio.sleep(0.05)
            return await super().handle(request)

    venue = SlowVenue([PositionsReport(0, ())])
    answered: list = []

    def bot():
        try:
            answered.append((yield FetchPositions("X")))
            yield Sleep(venue.time.now() + 60_000)
            answered.append("slept")
        except GeneratorExit:
            closed.append(True)
            raise

    with pytest.raises(Stopped):
        run(LiveDriver(venue, stop).run(bot()))  # type: ignore[arg-type]
    assert len(answered) == 1 and closed == [True]


def test_settle_runs_through_a_stop() -> None:
    stop = asyncio.Event()
    stop.set()
    venue = ScriptedVenue([])

    def settle():
        yield Sleep(venue.time.now() + 50)
        return "settled"

    assert run(LiveDriver(venue, stop).run(settle(), stoppable=False)) == "settled"  # type: ignore[arg-type]
