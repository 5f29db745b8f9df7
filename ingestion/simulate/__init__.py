"""Deterministic simulator of SYNTHETIC member and NGO exports (issue: realistic demo data).

    from ingestion.simulate import simulate
    summary = simulate(Path("drops"), start="2012-01", end="2021-12", scale=0.01, seed=42)
    print(summary.as_text())

Modules: model (the numbers, testable at scale 1 without writing files), rows (one typed
canonical frame per file), defects (deliberately invalid files), writers (each
organisation's own file format), run (planning, arrival times, the summary).
"""

from ingestion.simulate.model import (
    keyword_panel,
    monitoring_expected,
    n_keywords,
    takedown_counts,
    takedown_expected,
)
from ingestion.simulate.run import SimulatedFile, SimulationSummary, simulate

__all__ = [
    "SimulatedFile",
    "SimulationSummary",
    "keyword_panel",
    "monitoring_expected",
    "n_keywords",
    "simulate",
    "takedown_counts",
    "takedown_expected",
]
