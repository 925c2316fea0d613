"""Latency histograms: the one HDR layout of every histogram a run stores, merged exactly.

Every engine records into ``new()`` and the report decodes and merges with the same
layout: 1 µs to 60 s, 3 significant digits (results/README.md). Kept apart from the
locustfile so the harness can merge without importing Locust (which monkey-patches
the standard library with gevent on import).
"""
from __future__ import annotations

from hdrh.histogram import HdrHistogram

LOWEST_US, HIGHEST_US, DIGITS = 1, 60_000_000, 3  # 1 us .. 60 s, 3 significant digits


def new() -> HdrHistogram:
    return HdrHistogram(LOWEST_US, HIGHEST_US, DIGITS)


def clamp_us(value: float) -> int:
    return max(LOWEST_US, min(HIGHEST_US, int(value)))


def decode(encoded: str) -> HdrHistogram:
    return HdrHistogram.decode(encoded)


def encode(histogram: HdrHistogram) -> str:
    return histogram.encode().decode("ascii")


def merge(encoded: list[str]) -> HdrHistogram:
    """Add up histograms encoded with ``encode``; exact, no resampling."""
    total = new()
    for item in encoded:
        total.add(decode(item))
    return total
