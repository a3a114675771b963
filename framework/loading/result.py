"""What loading one table did: :class:`LoadResult` (its own module, so progress and the loader share it)."""

from __future__ import annotations

from dataclasses import dataclass

from ..results import MappingResult

__all__ = ["LoadResult"]


@dataclass
class LoadResult(MappingResult):
    """What loading one table did. ``error`` is set (and nothing was written) when it failed."""

    table: str
    source: str
    batch_id: str
    rows_read: int = 0
    rows_written: int = 0
    rows_replaced: int = 0
    seconds: float = 0.0
    error: str | None = None
    _extra_keys = ("success", "rows_dropped", "rows_per_second")

    @property
    def success(self) -> bool:
        return self.error is None

    @property
    def rows_dropped(self) -> int:
        """Rows the transform dropped (returned ``None`` for)."""
        return self.rows_read - self.rows_written

    @property
    def rows_per_second(self) -> float:
        return self.rows_read / self.seconds if self.seconds > 0 else 0.0
