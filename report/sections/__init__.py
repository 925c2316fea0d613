"""The sections of the report, in order; `document(analysis, claims)` assembles them.

The first (the answers) is the first screen; everything after it is the detail behind
it, with long lists and tables folded (report/sections/fold.py)."""
from __future__ import annotations

from ..analysis import Analysis
from ..claims import Claim, claims
from ..doc import Document
from .answers import answers
from .common import drawing
from .context import claims_section, environment_section, microbench_section
from .fold import fold_detail
from .identity import identity
from .performance import efficiency_section, latency_section, scaling_section
from .summary import rankings
from .trust import correctness_section, validity_section

SECTION_IDS = ("answers", "claims", "rankings", "scaling", "latency", "efficiency", "correctness",
               "validity", "microbenchmarks", "environment")


def document(an: Analysis, found: list[Claim] | None = None, figures: bool = True) -> Document:
    """The report's document: the answers first, every later section's detail folded.
    ``found``: the claims, when the caller has judged them already; without ``figures``,
    every figure is described (title, caption, file name) but not drawn."""
    found = claims(an) if found is None else found
    with drawing(figures):
        sections = [answers(an, found), claims_section(an, found), rankings(an), scaling_section(an),
                    latency_section(an), efficiency_section(an), correctness_section(an, found),
                    validity_section(an), microbench_section(an), environment_section(an)]
    for section in sections[1:]:
        fold_detail(section)
    return Document(title=f"sharebench report — {an.run.run_id}", subtitle=identity(an),
                    sections=sections)


__all__ = ["SECTION_IDS", "document"]
