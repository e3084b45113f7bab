"""Shared vocabulary of aethersim: stdlib only.

Both the bot (`sim.bot`) and the simulated world (`sim.world`) speak these types; nothing here
knows about SimPy, numpy or the world, so the bot can import it and stay sans-IO.
"""
