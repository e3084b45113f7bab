"""One seeded generator per run, split into named child streams.

A stream's seed depends only on the run seed and the stream's name, so adding a new stream (a
new fault kind, say) never changes the numbers an existing stream draws: old seeds keep their
meaning across versions.
"""
from __future__ import annotations

import zlib

import numpy as np

STREAMS = ("market", "latency", "faults", "interventions", "strategy", "intrabar")


class RunStreams:
    """Named `numpy.random.Generator` streams derived from one run seed."""

    def __init__(self, seed: int) -> None:
        if seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {seed}")
        self.seed = seed
        self._cache: dict[str, np.random.Generator] = {}

    def stream(self, name: str) -> np.random.Generator:
        if name not in self._cache:
            key = zlib.crc32(name.encode("utf-8"))
            seq = np.random.SeedSequence(self.seed, spawn_key=(key,))
            self._cache[name] = np.random.Generator(np.random.PCG64(seq))
        return self._cache[name]
