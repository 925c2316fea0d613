"""Servers: one module per sharing strategy; shared machinery in servers.core.

Every plain module in this folder that registers a strategy with
``@strategy(...)`` is picked up by ``sharebench list``, ``serve``, the tests
and the benchmark. This package never imports the load tests or the report.
"""
from .core.registry import Strategy, broken, discover, get, strategy

__all__ = ["Strategy", "broken", "discover", "get", "strategy"]
