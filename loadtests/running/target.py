"""A server someone else runs (``TARGET=http://host:port``): which strategy it serves.

Asked over the network, so it lives here and not in planning: planning never calls out."""
from __future__ import annotations

import re

from loadtests.machine.client import Client
from loadtests.planning import PlanError


def target_strategy(url: str, known: list[str]) -> str:
    """The strategy a remote TARGET serves, from its /health; it must answer now."""
    match = re.match(r"^http://([^/:]+|\[[^\]]+\]):(\d+)/?$", url)
    if not match:
        raise PlanError(f"bad TARGET {url!r}: use http://host:port")
    try:
        status, doc = Client(match[1].strip("[]"), int(match[2]), timeout=5).get("/health")
    except OSError as exc:
        raise PlanError(f"TARGET {url} does not answer: {exc}") from None
    name = doc.get("strategy") if status == 200 else None
    if name not in known:
        raise PlanError(f"TARGET {url} /health answered {status} {doc}: expected a strategy "
                        f"of this version ({', '.join(known)})")
    return name
