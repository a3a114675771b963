"""One landing file (CSV or Parquet) read with pyarrow, typed by a datakit table, checked column by column.

    reader = FileReader(path, table)          # the header (or the Parquet file's columns) checked here
    for first, columns in reader.batches():   # column name -> Python values, one record batch at a time
        ...

The file is read once, a record batch at a time (memory holds a batch, whatever the file's size).
Each CSV field is read as text and checked per column with pyarrow's compute functions (a regular
expression of the accepted forms, lengths, NULs, nulls), then turned into the column's Python values by
Python's own C parsers (``int``, ``Decimal``, ``date.fromisoformat``, ...), the very values the
canonical record hash is computed from. What is accepted, per the column's Python type:

    int        digits with an optional sign: ``-12``; the column's range (SMALLINT, INTEGER, BIGINT)
    Decimal    digits with an optional sign and point: ``12.50``; at most the column's digits before
               the point; more digits after it than the scale are rounded half away from zero
    float      as Decimal, with an optional exponent: ``1.5e3``
    bool       true/false, t/f, 1/0, yes/no, y/n (any case)
    date       ``2024-05-01``
    datetime   ``2024-05-01``, ``2024-05-01 12:00[:00[.123456]]`` (or ``T``), with an optional zone
               ``Z``/``+02:00``; without a zone, UTC in a column with zones
    time       ``12:00[:00[.123456]]``
    bytes      hexadecimal
    JSON       JSON text
    str        any text without a NUL byte, at most the column's length in characters

Surrounding spaces are ignored but in text. An empty field is NULL. Anything else (``1_000``, Arabic-Indic
digits, ``NaN``, ``Infinity``, ``20240501``, ``2024-W18-3``) is refused: one line naming the file, the row
(and for CSV its line) and the column. Parquet columns are checked by their type; text columns as CSV.

pyarrow is the ``files`` extra (``parquet`` is the same); without it, one line naming the extra.
"""

from __future__ import annotations

import codecs
import csv
import json
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import CHAR, BigInteger, Column, Integer, Numeric, SmallInteger, Table

from ..errors import LoadError

__all__ = ["BLOCK_SIZE", "FileReader", "misfit", "require_pyarrow"]

#: bytes of CSV per record batch (about 3,700 rows of 7 columns): pyarrow reads up to 32 ahead, so this bounds memory
BLOCK_SIZE = 1 << 18
EXTRA = "pip install 'pytest-datakits[files]'"
NOTHING = "(nothing was loaded)"

_TRUE = ["true", "t", "1", "yes", "y"]
_FALSE = ["false", "f", "0", "no", "n"]
_S = r"\s*"
_INT = rf"^{_S}[+-]?[0-9]+{_S}$"
_DECIMAL = rf"^{_S}[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+){_S}$"
_FLOAT = rf"^{_S}[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?{_S}$"
_DATE = rf"^{_S}[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}{_S}$"
_CLOCK = r"[0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,6})?)?"
_ZONE = r"(?:Z|[+-][0-9]{2}(?::?[0-9]{2})?)"
_DATETIME = rf"^{_S}[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}(?:[T ]{_CLOCK}{_ZONE}?)?{_S}$"
_ZONED = rf"[T ]{_CLOCK}{_ZONE}{_S}$"
_TIME = rf"^{_S}{_CLOCK}{_S}$"
_HEX = rf"^{_S}(?:[0-9a-fA-F]{{2}})*{_S}$"
NULL_FIELD = "\\N"
_RANGES = {SmallInteger: 15, BigInteger: 63, Integer: 31}  # most specific first: both subclass Integer


def require_pyarrow(path: Path, table: str | None = None) -> Any:
    """The ``pyarrow`` module; a :class:`LoadError` naming the ``files`` extra where it is not installed."""
    try:
        import pyarrow  # type: ignore[import-not-found,unused-ignore]
        import pyarrow.compute  # type: ignore[import-not-found,unused-ignore]
        import pyarrow.csv  # type: ignore[import-not-found,unused-ignore]
        import pyarrow.parquet  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        raise LoadError(f"{path}: reading files needs pyarrow: {EXTRA} {NOTHING}", table) from None
    return pyarrow


def misfit(path: Path, row: int, line: int | None, table: Table, column: str | None, what: str) -> LoadError:
    where = f"row {row} (line {line})" if line is not None else f"row {row}"
    at = f", column {column}" if column else ""
    return LoadError(f"{path}: {where}{at}: {what} {NOTHING}", table.fullname, key=f"row {row}", column=column)


def python_kind(column: Column[Any]) -> type | None:
    """The Python type of the column's values (a TypeDecorator's: its impl's), None when it does not say."""
    for type_ in (column.type, getattr(column.type, "impl_instance", None)):
        try:
            kind = type_.python_type if type_ is not None else None
        except NotImplementedError:
            continue
        if kind is not None and kind is not object:
            return kind
    return None


def _aware(column: Column[Any]) -> bool:
    return bool(getattr(column.type, "timezone", False)) or type(column.type).__name__ == "UTCDateTime"


def _kind_name(column: Column[Any]) -> str:
    kind = python_kind(column)
    if kind is None:
        return "str"
    for base in (bool, int, float, Decimal, datetime, date, time, bytes, dict, list, str):
        if issubclass(kind, base):
            return "json" if base in (dict, list) else base.__name__
    return "str"


@dataclass
class _Spec:
    """What a column accepts."""

    name: str
    kind: str  # bool, int, float, Decimal, datetime, date, time, bytes, json, str
    nullable: bool
    length: int | None
    bits: int | None  # an integer column's range: -(2**bits) .. 2**bits - 1
    digits: int | None  # a Decimal column's digits before the point
    scale: int | None
    aware: bool
    char: bool  # CHAR(n): trailing spaces do not count in the hash

    @classmethod
    def of(cls, column: Column[Any]) -> _Spec:
        kind = _kind_name(column)
        type_ = column.type
        bits = next((b for t, b in _RANGES.items() if isinstance(type_, t)), None) if kind == "int" else None
        precision = getattr(type_, "precision", None) if isinstance(type_, Numeric) else None
        scale = getattr(type_, "scale", None) if isinstance(type_, Numeric) else None
        digits = precision - (scale or 0) if kind == "Decimal" and precision is not None else None
        length = getattr(type_, "length", None) if kind == "str" else None
        char = isinstance(type_, CHAR)
        return cls(column.name, kind, bool(column.nullable), length, bits, digits, scale, _aware(column), char)


_WHAT = {
    "int": "is not an integer",
    "float": "is not a number",
    "Decimal": "is not a decimal number",
    "bool": "is not a boolean (true/false, t/f, 1/0)",
    "date": "is not a date (2024-05-01)",
    "datetime": "is not a timestamp (2024-05-01 12:00:00)",
    "time": "is not a time (12:00:00)",
    "bytes": "is not hexadecimal bytes",
    "json": "is not JSON",
}
_FORM = {
    "int": _INT,
    "float": _FLOAT,
    "Decimal": _DECIMAL,
    "date": _DATE,
    "datetime": _DATETIME,
    "time": _TIME,
    "bytes": _HEX,
}


class _Refused(Exception):
    """A value of a batch that does not fit: its index in the batch, its column and why."""

    def __init__(self, index: int, column: str, what: str) -> None:
        self.index, self.column, self.what = index, column, what
        super().__init__(what)


def _shown(value: Any) -> str:
    return repr(str(value)[:40])


def _first(mask: Any, pc: Any) -> int | None:
    """The index of the first true in a boolean array (nulls are false), None when there is none."""
    filled = pc.fill_null(mask, False)
    if not pc.any(filled).as_py():
        return None
    return int(pc.index(filled, True).as_py())


def _convert(values: list[Any], parse: Callable[[Any], Any], nulls: bool) -> list[Any]:
    if not nulls:
        return list(map(parse, values))
    return [None if v is None else parse(v) for v in values]


def _first_failure(values: list[Any], parse: Callable[[Any], Any]) -> int:
    for i, value in enumerate(values):
        if value is None:
            continue
        try:
            parse(value)
        except ValueError:
            return i
    return 0


class Checked:
    """One column of a record batch, checked: its Python values and (where it can) its canonical fields."""

    def __init__(self, column: _Column, array: Any, values: list[Any] | None = None) -> None:
        self._column = column
        self._array = array  # the text, trimmed (numbers without '+'); or a typed array; None with ``values``
        self._values = values

    def values(self) -> list[Any]:
        """The column's Python values (what a database source gives for it)."""
        if self._values is None:
            self._values = self._column.values(self._array)
        return self._values

    def fields(self) -> Any | None:
        """The canonical fields (:mod:`~framework.engines.generic.canonical`, COPY-escaped, ``\\N`` for NULL) as
        a pyarrow string array, computed column-wise; None where only the Python values give them exactly."""
        if self._values is not None or self._array is None:
            return None
        return self._column.fields(self._array)


class _Column:
    """Checks one column's batches and turns them into Python values or canonical fields."""

    def __init__(self, spec: _Spec, pa: Any) -> None:
        self.spec = spec
        self.pa = pa
        self.pc = pa.compute

    def text(self, array: Any) -> Checked:
        """A text array (CSV fields, a Parquet text column), checked column-wise; a :class:`_Refused` at a misfit."""
        spec, pc = self.spec, self.pc
        if array.null_count and not spec.nullable:
            raise _Refused(_first(pc.is_null(array), pc) or 0, spec.name, "is empty, but the column is NOT NULL")
        kind = spec.kind
        if kind == "str":
            found = _first(pc.match_substring(array, "\x00"), pc)
            if found is not None:
                raise _Refused(found, spec.name, f"{_shown(array[found].as_py())} holds a NUL byte, which text cannot")
            if spec.length is not None:
                found = _first(pc.greater(pc.utf8_length(array), spec.length), pc)
                if found is not None:
                    value = array[found].as_py()
                    raise _Refused(found, spec.name, f"is {len(value)} characters, longer than {spec.length}")
            return Checked(self, array)
        if kind == "bool":
            lowered = pc.utf8_lower(pc.utf8_trim_whitespace(array))
            self._form(array, pc.is_in(lowered, value_set=self.pa.array(_TRUE + _FALSE)))
            return Checked(self, pc.is_in(lowered, value_set=self.pa.array(_TRUE)))
        if kind == "json":
            return Checked(self, None, self._parse(array.to_pylist(), json.loads, array.null_count > 0))
        trimmed = pc.utf8_trim_whitespace(array)
        if kind in ("int", "float", "Decimal") and pc.any(pc.starts_with(trimmed, "+")).as_py():
            trimmed = pc.if_else(pc.starts_with(trimmed, "+"), pc.utf8_slice_codeunits(trimmed, 1), trimmed)
        if kind == "int":  # pyarrow's integers are ASCII digits with an optional '-': the form itself
            return Checked(self, self._integers(array, trimmed))
        self._form(array, pc.match_substring_regex(array, _FORM[kind]))
        if kind == "Decimal":
            return self._decimals(array, trimmed)
        if kind == "datetime":
            return Checked(self, self._timestamps(trimmed))
        if kind == "date":
            try:
                self.pc.cast(trimmed, self.pa.date32())  # a day that is not (2024-02-30)
            except self.pa.ArrowInvalid:
                self._parse(trimmed.to_pylist(), date.fromisoformat, trimmed.null_count > 0)
        return Checked(self, trimmed)

    def values(self, array: Any) -> list[Any]:
        """The Python values of a checked array (see :meth:`text`)."""
        kind, nulls = self.spec.kind, array.null_count > 0
        if kind in ("int", "bool", "datetime", "str"):
            return array.to_pylist()  # type: ignore[no-any-return,unused-ignore]
        parse: Callable[[Any], Any] = {  # type: ignore[assignment]
            "float": float,
            "Decimal": Decimal,
            "date": date.fromisoformat,
            "time": time.fromisoformat,
            "bytes": bytes.fromhex,
        }[kind]
        return self._parse(array.to_pylist(), parse, nulls)

    def fields(self, array: Any) -> Any | None:
        """The canonical fields of a checked array, column-wise; None for the kinds only Python writes exactly."""
        kind, pc = self.spec.kind, self.pc
        if kind == "str":
            text = pc.utf8_rtrim(array, characters=" ") if self.spec.char else array
            for old, new in (("\\", "\\\\"), ("\t", "\\t"), ("\n", "\\n"), ("\r", "\\r")):
                if pc.any(pc.fill_null(pc.match_substring(text, old), False)).as_py():
                    text = pc.replace_substring(text, old, new)
        elif kind in ("int", "bool"):
            text = pc.cast(array, self.pa.string())
        elif kind == "date":
            text = array
        elif kind == "Decimal":
            text = array  # normalised as Decimal's canonical text is: 007.50 -> 7.5, .5 -> 0.5, -0.0 -> 0
            if self._any(pc.match_substring_regex(text, r"^-?0[0-9]")):
                text = pc.replace_substring_regex(text, r"^(-?)0+([0-9])", r"\1\2")
            if self._any(pc.match_substring_regex(text, r"^-?\.")):
                text = pc.replace_substring_regex(pc.replace_substring_regex(text, r"^\.", "0."), r"^-\.", "-0.")
            point = pc.match_substring(text, ".")
            text = pc.if_else(point, pc.utf8_rtrim(pc.utf8_rtrim(text, characters="0"), characters="."), text)
            text = pc.if_else(pc.equal(text, "-0"), "0", text)
        elif kind == "datetime":
            naive = array.cast(self.pa.timestamp("us")) if array.type.tz is not None else array
            text = pc.cast(naive, self.pa.string())  # 2024-05-01 12:00:00.000000, in UTC
            text = pc.if_else(pc.ends_with(text, ".000000"), pc.utf8_slice_codeunits(text, 0, 19), text)
            text = pc.binary_join_element_wise(text, "+00:00", "")
        else:
            return None
        return pc.fill_null(text, NULL_FIELD)

    def _any(self, mask: Any) -> bool:
        return bool(self.pc.any(self.pc.fill_null(mask, False)).as_py())

    def _form(self, array: Any, fits: Any) -> None:
        bad = self.pc.invert(self.pc.fill_null(fits, True))
        found = _first(bad, self.pc)
        if found is not None:
            raise _Refused(found, self.spec.name, f"{_shown(array[found].as_py())} {_WHAT[self.spec.kind]}")

    def _parse(self, values: list[Any], parse: Callable[[Any], Any], nulls: bool) -> list[Any]:
        try:
            return _convert(values, parse, nulls)
        except ValueError:
            index = _first_failure(values, parse)
            raise _Refused(index, self.spec.name, f"{_shown(values[index])} {_WHAT[self.spec.kind]}") from None

    def _integers(self, shown: Any, trimmed: Any) -> Any:
        pa, pc, bits = self.pa, self.pc, self.spec.bits or 63
        low, high = -(1 << bits), (1 << bits) - 1
        try:
            numbers = pc.cast(trimmed, pa.int64())
        except pa.ArrowInvalid:
            numbers = None
            self._form(shown, pc.match_substring_regex(shown, _INT))
        if numbers is not None:
            bounds = pc.min_max(numbers).as_py()
            if bounds["min"] is None or (bounds["min"] >= low and bounds["max"] <= high):
                return numbers
        values = trimmed.to_pylist()
        index = next(i for i, v in enumerate(values) if v is not None and not low <= int(v) <= high)
        raise _Refused(
            index, self.spec.name, f"{_shown(shown[index].as_py())} is out of the column's range {low}..{high}"
        )

    def _decimals(self, shown: Any, trimmed: Any) -> Checked:
        spec, pc = self.spec, self.pc
        if spec.digits is not None:
            found = _first(pc.match_substring_regex(trimmed, rf"^-?0*[0-9]{{{spec.digits + 1},}}"), pc)
            if found is not None:
                what = f"{_shown(shown[found].as_py())} has more than {spec.digits} digits before the point"
                raise _Refused(found, spec.name, what)
        if spec.scale is None:
            return Checked(self, trimmed)
        finer = pc.match_substring_regex(trimmed, rf"\.[0-9]{{{spec.scale + 1},}}")
        if not pc.any(pc.fill_null(finer, False)).as_py():
            return Checked(self, trimmed)
        # more digits after the point than the scale: the database rounds them, so the values are rounded first
        step = Decimal(1).scaleb(-spec.scale)
        values = self._parse(trimmed.to_pylist(), Decimal, trimmed.null_count > 0)
        rounded = [None if n is None else n.quantize(step, ROUND_HALF_UP) for n in values]
        if spec.digits is not None:
            limit = Decimal(10) ** spec.digits
            found = next((i for i, n in enumerate(rounded) if n is not None and abs(n) >= limit), None)
            if found is not None:
                what = f"{_shown(shown[found].as_py())} has more than {spec.digits} digits before the point"
                raise _Refused(found, spec.name, what)
        return Checked(self, None, rounded)

    def _timestamps(self, trimmed: Any) -> Any:
        """Validated timestamp text -> a UTC timestamp array (a naive column's values are UTC wall time)."""
        pa, pc = self.pa, self.pc
        text = pc.if_else(
            pc.equal(pc.utf8_length(trimmed), 10), pc.binary_join_element_wise(trimmed, " 00:00", ""), trimmed
        )
        zoned = pc.fill_null(pc.match_substring_regex(text, _ZONED), False)
        text = pc.if_else(zoned, text, pc.binary_join_element_wise(text, "Z", ""))
        try:
            stamps = pc.cast(text, pa.timestamp("us", "UTC"))
        except pa.ArrowInvalid:
            values = trimmed.to_pylist()
            index = _first_failure(values, datetime.fromisoformat)
            raise _Refused(index, self.spec.name, f"{_shown(values[index])} {_WHAT['datetime']}") from None
        return stamps if self.spec.aware else stamps.cast(pa.timestamp("us"))

    def typed(self, array: Any) -> Checked:
        """A typed Parquet array, checked by its type; its values are taken as they are."""
        spec, pa, pc = self.spec, self.pa, self.pc
        types = pa.types
        if types.is_string(array.type) or types.is_large_string(array.type):
            return self.text(array)
        if array.null_count and not spec.nullable:
            raise _Refused(_first(pc.is_null(array), pc) or 0, spec.name, "is null, but the column is NOT NULL")
        kind, type_ = spec.kind, array.type
        fits = {
            "int": types.is_integer(type_),
            "float": types.is_integer(type_) or types.is_floating(type_) or types.is_decimal(type_),
            "Decimal": types.is_integer(type_) or types.is_floating(type_) or types.is_decimal(type_),
            "bool": types.is_boolean(type_),
            "date": types.is_date(type_),
            "datetime": types.is_timestamp(type_),
            "time": types.is_time(type_),
            "bytes": types.is_binary(type_) or types.is_large_binary(type_),
            "json": types.is_struct(type_) or types.is_list(type_) or types.is_map(type_),
            "str": False,
        }[kind]
        if not fits:
            index = _first(pc.is_valid(array), pc) or 0
            value = array[index].as_py()
            held = {"json": "JSON"}.get(kind, kind)
            raise _Refused(index, spec.name, f"{_shown(value)} is {type(value).__name__}, the column holds {held}")
        if types.is_floating(type_) and kind in ("float", "Decimal"):
            found = _first(pc.invert(pc.is_finite(array)), pc)
            if found is not None:
                raise _Refused(found, spec.name, f"{_shown(array[found].as_py())} {_WHAT[kind]}")
        if kind == "int":
            return Checked(self, self._integers(array, array.cast(pa.string())))
        if kind == "Decimal" and types.is_floating(type_):
            texts = [None if v is None else format(Decimal(repr(v)), "f") for v in array.to_pylist()]
            return self._decimals(array, pa.array(texts, pa.string()))
        if kind == "Decimal":
            return self._decimals(array, pc.cast(array, pa.string()))
        if kind == "datetime":
            stamps = array.cast(pa.timestamp("us", type_.tz or "UTC"))
            return Checked(self, stamps if spec.aware else stamps.cast(pa.timestamp("us")))
        values = array.to_pylist()
        if kind == "float":
            values = _convert(values, float, array.null_count > 0)
        return Checked(self, None, values)


def _naive_utc(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is None:
        return value
    return value.astimezone(UTC).replace(tzinfo=None)


def _check_names(path: Path, names: list[str], table: Table, what: str) -> None:
    """The file names each of the table's columns once, and no other."""
    columns = [c.name for c in table.columns]
    unknown = [n for n in names if n not in columns]
    missing = [n for n in columns if n not in names]
    if unknown or missing or len(set(names)) != len(names):
        if unknown:
            problem = f"column {unknown[0]!r} is not in table {table.fullname}"
        elif missing:
            problem = f"lacks column {missing[0]!r}"
        else:
            problem = "names a column twice"
        raise LoadError(
            f"{path}: the {what} {problem}; it must name the columns {', '.join(columns)} {NOTHING}",
            table.fullname,
            column=(unknown or missing or [""])[0] or None,
        )


def _lines(path: Path) -> Iterator[str]:
    """The file's lines as text: bytes that are not UTF-8 kept as surrogates, NULs as they are."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")(errors="surrogateescape")
    with path.open("rb") as handle:
        for raw in handle:
            yield decoder.decode(raw)


def _rows(path: Path) -> Iterator[tuple[int, int, list[str]]]:
    """(row number, line number, fields) of each data row, read by Python's csv (the slow path, for messages)."""
    limit = csv.field_size_limit()
    csv.field_size_limit(sys.maxsize)
    try:
        reader = csv.reader(line.replace("\x00", " ") for line in _lines(path))
        next(reader, None)
        number = 0
        for fields in reader:
            if not fields or fields == [""]:
                continue
            number += 1
            yield number, reader.line_num, fields
    finally:
        csv.field_size_limit(limit)


class FileReader:
    """One table's file, read with pyarrow: its header checked at once, then :meth:`batches`."""

    def __init__(self, path: Path, table: Table, block_size: int = BLOCK_SIZE) -> None:
        self.path = path
        self.table = table
        self.block_size = block_size
        self.pa = require_pyarrow(path, table.fullname)
        self.csv = path.suffix != ".parquet"
        self.names = self._csv_header() if self.csv else self._parquet_columns()
        columns = {c.name: c for c in table.columns}
        self.columns = {name: _Column(_Spec.of(columns[name]), self.pa) for name in self.names}
        self.rows = 0

    def _csv_header(self) -> list[str]:
        limit = csv.field_size_limit()
        csv.field_size_limit(sys.maxsize)
        try:
            header = next(csv.reader(line.replace("\x00", " ") for line in _lines(self.path)), None)
        finally:
            csv.field_size_limit(limit)
        if header is None:
            raise LoadError(
                f"{self.path}: empty file; the first row names the columns of {self.table.fullname}",
                self.table.fullname,
            )
        names = [h.strip() for h in header]
        _check_names(self.path, names, self.table, "header")
        return names

    def _parquet_columns(self) -> list[str]:
        pa = self.pa
        try:
            self._parquet = pa.parquet.ParquetFile(self.path)
        except (OSError, pa.ArrowException) as exc:
            raise LoadError(f"{self.path}: not a Parquet file ({exc}) {NOTHING}", self.table.fullname) from None
        names = list(self._parquet.schema_arrow.names)
        _check_names(self.path, names, self.table, "file's columns")
        return names

    def _record_batches(self) -> Iterator[Any]:
        pa = self.pa
        if not self.csv:
            yield from self._parquet.iter_batches(batch_size=max(1, self.block_size // 64))
            return
        reader = pa.csv.open_csv(
            self.path,
            read_options=pa.csv.ReadOptions(skip_rows=1, column_names=self.names, block_size=self.block_size),
            parse_options=pa.csv.ParseOptions(newlines_in_values=True),
            convert_options=pa.csv.ConvertOptions(
                column_types={n: pa.string() for n in self.names},
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
                null_values=[""],
            ),
        )
        yield from reader

    def batches(self) -> Iterator[tuple[int, dict[str, Checked]]]:
        """(the number of the batch's first row, its columns as Python values), a record batch at a time;
        a :class:`LoadError` naming the file, row and column at the first value that does not fit."""
        pa = self.pa
        batches = self._record_batches()
        while True:
            try:
                batch = next(batches)
            except StopIteration:
                return
            except (pa.ArrowException, OSError) as exc:
                raise self._unreadable(exc) from None
            first = self.rows + 1
            columns: dict[str, Checked] = {}
            for name, array in zip(self.names, batch.columns, strict=True):
                column = self.columns[name]
                try:
                    columns[name] = column.text(array) if self.csv else column.typed(array)
                except _Refused as refused:
                    raise self.misfit(first + refused.index, refused.column, refused.what) from None
            self.rows += batch.num_rows
            yield first, columns

    def misfit(self, row: int, column: str | None, what: str) -> LoadError:
        """The one line for row ``row`` (1 is the first after the header) of this file."""
        return misfit(self.path, row, self.line_of(row), self.table, column, what)

    def line_of(self, row: int) -> int | None:
        """The line of CSV row ``row`` (Python's csv reads the file again: only for a message); None for Parquet."""
        if not self.csv:
            return None
        for number, line, _ in _rows(self.path):
            if number == row:
                return line
        return None

    def _unreadable(self, exc: BaseException) -> LoadError:
        """What pyarrow could not read, found again by Python's csv: a field that is not UTF-8, a row of the
        wrong width; else pyarrow's own words."""
        if self.csv:
            width = len(self.names)
            for number, line, fields in _rows(self.path):
                for name, field in zip(self.names, fields, strict=False):
                    try:
                        field.encode("utf-8")
                    except UnicodeEncodeError:
                        what = "is not UTF-8 text; save the file as UTF-8"
                        return misfit(self.path, number, line, self.table, name, what)
                if len(fields) != width:
                    what = f"has {len(fields)} fields, the header {width}"
                    return misfit(self.path, number, line, self.table, None, what)
        text = " ".join(str(exc).split())[:200]
        return LoadError(f"{self.path}: cannot be read: {text} {NOTHING}", self.table.fullname)

    def key_rows(self, names: list[str]) -> Iterator[tuple[int, tuple[Any, ...]]]:
        """(row number, the values of ``names``) of every row, read again (for a duplicate key's message)."""
        number = 0
        for _, columns in FileReader(self.path, self.table, self.block_size).batches():
            for values in zip(*(columns[n].values() for n in names), strict=True):
                number += 1
                yield number, values
