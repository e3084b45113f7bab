"""`ServeThread`: a `ServeServer` on its own event loop in a background thread.

For a caller whose own code blocks (a synchronous bot, a test harness driving another process):
the venue keeps its clock and answers while the caller's thread is busy::

    with ServeThread(scenario, port=0, out="reports/serve/mine") as server:   # returns once it listens
        run_my_bot(server.base_url, server.api_key.key, server.api_key.secret)
    print(server.run_dir)                                                      # written on exit
"""
from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

from sim.scenario.schema import Scenario
from sim.serve.app import ServeServer


class ServeThread:
    def __init__(self, scenario: Scenario, start_timeout_s: float = 30.0, **kwargs: Any) -> None:
        self.server = ServeServer(scenario, **kwargs)
        self.start_timeout_s = start_timeout_s
        self.run_dir: Path | None = None
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="aethersim-serve", daemon=True)
        self._ready = threading.Event()
        self._error: BaseException | None = None

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self.server.start())
        except BaseException as exc:  # handed to the caller of start()
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        self._loop.run_until_complete(self.server.wait())
        self.run_dir = self._loop.run_until_complete(self.server.stop())
        self._loop.close()

    def start(self) -> ServeServer:
        """Start serving; returns the running server once it accepts connections."""
        self._thread.start()
        if not self._ready.wait(self.start_timeout_s):
            raise TimeoutError(f"aethersim serve did not start within {self.start_timeout_s} s")
        if self._error is not None:
            raise self._error
        return self.server

    def stop(self, timeout_s: float = 30.0) -> Path | None:
        """Stop serving and wait for the run directory (None without ``out``)."""
        if self._thread.is_alive():
            self.server.stop_reason = self.server.stop_reason or "stopped by the caller"
            self._loop.call_soon_threadsafe(self.server.stopped.set)
            self._thread.join(timeout_s)
        return self.run_dir

    def __enter__(self) -> ServeServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
