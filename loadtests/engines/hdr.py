"""Latency histograms: one HDR layout for every process, merged exactly.

Kept apart from the locustfile so the harness can merge without importing
Locust (which monkey-patches the standard library with gevent on import).
"""
from __future__ import annotations

from hdrh.histogram import HdrHistogram

LOWEST_US, HIGHEST_US, DIGITS = 1, 60_000_000, 3  # 1 us .. 60 s, 3 significant digits


def new() -> HdrHistogram:
    return HdrHistogram(LOWEST_US, HIGHEST_US, DIGITS)


def clamp_us(value: float) -> int:
    return max(LOWEST_US, min(HIGHEST_US, int(value)))


def merge(encoded: list[str]) -> HdrHistogram:
    """Add up histograms encoded with HdrHistogram.encode(); exact, no resampling."""
    total = new()
    for item in encoded:
        total.add(HdrHistogram.decode(item))
    return total
