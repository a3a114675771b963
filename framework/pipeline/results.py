"""What the pipeline's steps return: small typed results that serialise to JSON (Airflow XComs).

``result.to_dict()`` is plain JSON; ``Type.from_dict(data)`` reads it back. None carries a password.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

__all__ = ["LAYERS", "DbtStep", "DeployStep", "PipelineSummary", "StepResult", "TableLoad", "ValidateStep"]

LAYERS = ("bronze", "silver", "gold")

R = TypeVar("R", bound="StepResult")


@dataclass
class StepResult:
    """A step's result; ``to_dict()`` is plain JSON (an Airflow XCom), ``from_dict`` reads it back."""

    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls: type[R], data: Mapping[str, Any]) -> R:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


@dataclass
class DeployStep(StepResult):
    warehouse: str
    created: list[str] = field(default_factory=list)
    existing: list[str] = field(default_factory=list)
    dbt_sources: list[str] = field(default_factory=list)  # the project's files the pipeline's dbt_sources rewrote


@dataclass
class TableLoad(StepResult):
    """One table's batch: rows read and written; ``skipped`` when bronze held the batch already."""

    table: str
    batch_id: str
    rows_read: int = 0
    rows_written: int = 0
    skipped: bool = False


@dataclass
class DbtStep(StepResult):
    """A dbt build of one layer: nodes per resource type and status (``{"model": {"success": 15}}``)."""

    layer: str
    select: str
    counts: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def nodes(self) -> int:
        return sum(sum(statuses.values()) for statuses in self.counts.values())

    def describe(self) -> str:
        """``15 models (15 success); 40 tests (40 pass)``."""
        parts = []
        for kind, statuses in sorted(self.counts.items()):
            detail = ", ".join(f"{count} {status}" for status, count in sorted(statuses.items()))
            plural = kind[:-1] + "ies" if kind.endswith("y") else kind + "s"  # saved_query: saved_queries
            parts.append(f"{sum(statuses.values())} {plural} ({detail})")
        return "; ".join(parts) or "nothing selected"


@dataclass
class ValidateStep(StepResult):
    """Tables checked per datakit; every one matched its contract (else the step raised)."""

    checked: dict[str, int] = field(default_factory=dict)


@dataclass
class PipelineSummary(StepResult):
    """Rows per layer and table (``rows[layer][table]``) and seconds per step (``steps``)."""

    rows: dict[str, dict[str, int]] = field(default_factory=dict)
    steps: dict[str, float] = field(default_factory=dict)

    def table(self) -> str:
        """Rows per table in each layer (bronze, silver, gold: a pipeline's own), then seconds per step, as text."""
        layers = tuple(self.rows) or LAYERS
        names = list(dict.fromkeys(name for layer in layers for name in self.rows.get(layer, {})))
        head = ("table", *layers)
        body = [(n, *(_count(self.rows.get(layer, {}).get(n)) for layer in layers)) for n in names]
        totals = ("total", *(f"{sum(self.rows.get(layer, {}).values()):,}" for layer in layers))
        lines = _grid(head, body, totals)
        if self.steps:
            steps = [(name, f"{seconds:.2f}") for name, seconds in self.steps.items()]
            lines += ["", *_grid(("step", "seconds"), steps, ("total", f"{sum(self.steps.values()):.2f}"))]
        return "\n".join(lines)


def _count(value: int | None) -> str:
    return "" if value is None else f"{value:,}"


def _grid(head: tuple[str, ...], body: Sequence[tuple[str, ...]], total: tuple[str, ...]) -> list[str]:
    widths = [max(len(row[i]) for row in [head, *body, total]) for i in range(len(head))]

    def fmt(row: tuple[str, ...]) -> str:
        cells = [row[0].ljust(widths[0]), *(c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True))]
        return "  ".join(cells).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return [fmt(head), rule, *(fmt(r) for r in body), rule, fmt(total)]
