"""Reports: read run directories only (never the live world) and turn them into figures and HTML."""
from sim.report.load import load_run

__all__ = ["load_run"]
