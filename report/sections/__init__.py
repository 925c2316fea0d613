"""The nine sections of the report, in order; `document(analysis)` assembles them."""
from __future__ import annotations

from ..analysis import Analysis
from ..doc import Document
from .common import drawing
from .context import claims_section, environment_section, microbench_section
from .performance import efficiency_section, latency_section, scaling_section
from .summary import summary_section
from .trust import correctness_section, validity_section

BUILDERS = (summary_section, scaling_section, latency_section, efficiency_section, correctness_section,
            validity_section, microbench_section, claims_section, environment_section)
SECTION_IDS = ("summary", "scaling", "latency", "efficiency", "correctness", "validity",
               "microbenchmarks", "claims", "environment")


def document(an: Analysis, figures: bool = True) -> Document:
    """The report's document; without ``figures``, every figure is described (title,
    caption, file name) but not drawn."""
    m = an.run.manifest
    subtitle = " · ".join(str(x) for x in (m.get("profile"), m.get("started"), m.get("status")) if x)
    with drawing(figures):
        sections = [build(an) for build in BUILDERS]
    return Document(title=f"sharebench report — {an.run.run_id}", subtitle=subtitle,
                    sections=sections)


__all__ = ["BUILDERS", "SECTION_IDS", "document"]
