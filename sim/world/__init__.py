"""The simulated world: SimPy + numpy. Nothing in `sim.bot` may import from here."""
