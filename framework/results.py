"""Results read as attributes and as mappings: ``result.success`` and ``result["success"]``.

The original framework returned dicts; its users wrote ``assert result["success"]``. The
library's results are dataclasses that are also read-only mappings of their fields (and of the
few properties they name in ``_extra_keys``), so both spellings work and ``dict(result)`` gives a
plain, JSON-able view for a DAG task or a log line.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar


class MappingResult(Mapping[str, Any]):
    """A dataclass mix-in: the fields (plus ``_extra_keys``) as a read-only mapping."""

    _extra_keys: ClassVar[tuple[str, ...]] = ()

    def _keys(self) -> tuple[str, ...]:
        names = tuple(f.name for f in dataclasses.fields(self) if not f.name.startswith("_"))  # type: ignore[arg-type]
        return names + tuple(k for k in self._extra_keys if k not in names)

    def __getitem__(self, key: str) -> Any:
        if key not in self._keys():
            raise KeyError(key)
        return getattr(self, key)

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys())

    def __len__(self) -> int:
        return len(self._keys())


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
