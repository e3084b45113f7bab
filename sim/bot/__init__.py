"""The real bot: strategy, engine, execution, reconciler and platform record.

Sans-IO: the bot is a generator that yields requests (`sim.core.messages`) and receives
reports. It never imports SimPy or `sim.world`, never reads a clock and never draws a random
number of its own; a driver decides whether a simulated or a live venue answers.
"""
