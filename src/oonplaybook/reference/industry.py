"""Published industry figures (denial rates, appeal and overturn rates, IDR win rates), cited.

The packaged table ``reference/data/industry_benchmarks.yaml`` holds each figure with its value,
unit, population, source, year and quote, so the executive summary can set the client's own
rates beside published ones without a number typed into a notebook.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

_REQUIRED = ("id", "measure", "compare_to", "value", "unit", "population", "source", "year")


@dataclass(frozen=True)
class IndustryFigure:
    """One published figure and where it comes from."""

    id: str
    measure: str
    compare_to: str
    value: float
    unit: str
    population: str
    source: str
    year: int
    quote: str = ""
    address: str = ""
    display: str = ""  # how the figure is printed when the value alone misleads ("under 1%")
    by_quarter: tuple[dict[str, Any], ...] = field(default_factory=tuple)

    @property
    def citation(self) -> str:
        """ "Source (year)" as printed beside the figure."""
        return f"{self.source} ({self.year} data)"


def load_industry_benchmarks(path: str | Path | None = None) -> list[IndustryFigure]:
    """The cited industry figures (the packaged table, or ``path``); a clear error on a bad entry."""
    if path is None:
        text = (
            resources.files("oonplaybook.reference")
            .joinpath("data/industry_benchmarks.yaml")
            .read_text(encoding="utf-8")
        )
        where = "reference/data/industry_benchmarks.yaml"
    else:
        text = Path(path).read_text(encoding="utf-8")
        where = str(path)
    doc = yaml.safe_load(text) or {}
    out = []
    for i, entry in enumerate(doc.get("benchmarks", []), start=1):
        missing = [k for k in _REQUIRED if entry.get(k) in (None, "")]
        if missing:
            raise ValueError(
                f"{where}: benchmark entry {i} ({entry.get('id', '?')}) lacks {', '.join(missing)}; "
                "every figure needs a value, unit, population, source and year"
            )
        value = float(entry["value"])
        if "share" in str(entry["unit"]) and not 0 <= value <= 1:
            raise ValueError(
                f"{where}: benchmark {entry['id']}: a share is a fraction (0.37 for 37%), got {value}"
            )
        out.append(
            IndustryFigure(
                id=str(entry["id"]),
                measure=str(entry["measure"]),
                compare_to=str(entry["compare_to"]),
                value=value,
                unit=str(entry["unit"]),
                population=str(entry["population"]),
                source=str(entry["source"]),
                year=int(entry["year"]),
                quote=str(entry.get("quote") or ""),
                address=str(entry.get("address") or ""),
                display=str(entry.get("display") or ""),
                by_quarter=tuple(dict(q) for q in entry.get("by_quarter") or ()),
            )
        )
    return out
