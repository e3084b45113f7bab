"""`aethersim live`: the bot's unchanged generator on a real venue API, through ccxt.

Edges only: an asyncio driver (`driver`), a ccxt adapter implementing the port (`adapter`, with
Binance's JSON in `wire` and the error table in `errors`), the user-data streams (`streams`), the
composition of one run (`session`) and its run directory (`tables`, `rundir`).
"""
