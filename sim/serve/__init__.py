"""`aethersim serve`: the scenario's venue over Binance USD-M's REST and WebSocket protocol."""
from sim.serve.app import ServeServer
from sim.serve.limits import LimitsConfig
from sim.serve.signing import ApiKey
from sim.serve.thread import ServeThread

__all__ = ["ApiKey", "LimitsConfig", "ServeServer", "ServeThread"]
