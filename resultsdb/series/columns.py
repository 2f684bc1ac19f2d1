"""One input column, as the caller gave it, to the array the COPY encoder takes.

A column arrives as a pandas Series, an Arrow array, a numpy array or a Python list
(from records). Each converter checks a whole chunk with array operations and
raises :class:`~resultsdb.errors.InvalidSeriesRow` naming the table, the column and
the first bad row (its index in the caller's input, counting from 0). Python-level
loops run only on the error path, to find which row it was, and for JSON objects.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import TypeAdapter, ValidationError

from resultsdb.errors import InvalidSeriesRow
from resultsdb.fields import MAX_JSON_DEPTH, JsonObject, text_problem
from resultsdb.series.copybin import Text

_UNIT_US = {"s": 1_000_000, "ms": 1_000, "us": 1, "ns": 0}  # 0: divide by 1000
_NUMBER_KINDS = frozenset({"floating", "integer", "mixed-integer-float", "decimal", "empty"})
_JSON_OBJECT: TypeAdapter[dict[str, Any]] = TypeAdapter(JsonObject)


@dataclass(frozen=True)
class Where:
    """Which table and column a chunk belongs to, and the input index of its first row."""

    table: str
    column: str
    start: int = 0

    def fail(self, index: int, problem: str) -> InvalidSeriesRow:
        row = self.start + int(index)
        return InvalidSeriesRow(f"{self.table}.{self.column}: row {row}: {problem}",
                                field=self.column, table=self.table, row=row)

    def first(self, bad: np.ndarray, problem: str) -> None:
        """Raise for the first True in ``bad``, if any."""
        if bad.any():
            raise self.fail(int(np.argmax(bad)), problem)


def _objects(raw: Any) -> np.ndarray:
    if isinstance(raw, np.ndarray) and raw.dtype == object:
        return raw
    out = np.empty(len(raw), object)
    out[:] = list(raw)
    return out


def _is_null(values: np.ndarray) -> np.ndarray:
    return np.asarray(pd.isna(values), bool) if len(values) else np.zeros(0, bool)


# -- timestamps ----------------------------------------------------------------------------


def timestamps(raw: Any, where: Where) -> np.ndarray:
    """Unix microseconds (int64) of timezone-aware instants; naive ones are refused."""
    if isinstance(raw, pa.ChunkedArray | pa.Array):
        return _arrow_timestamps(raw, where)
    if isinstance(raw, pd.Series | pd.Index):
        dtype = raw.dtype
        if isinstance(dtype, pd.DatetimeTZDtype):
            where.first(np.asarray(raw.isna()), "must not be null")
            utc = pd.DatetimeIndex(raw).tz_convert("UTC").tz_localize(None)
            return _to_us(utc.to_numpy().view(np.int64), utc.unit, where)
        if pd.api.types.is_datetime64_dtype(dtype):
            raise where.fail(0, _NAIVE + " (tz_localize the column first)")
        if isinstance(dtype, pd.ArrowDtype):
            return _arrow_timestamps(pa.array(raw), where)
        raw = raw.to_numpy(dtype=object)
    if isinstance(raw, np.ndarray) and np.issubdtype(raw.dtype, np.datetime64):
        raise where.fail(0, _NAIVE + " (numpy datetime64 has none; pass a tz-aware pandas "
                            "DatetimeIndex or an Arrow timestamp with tz)")
    return _object_timestamps(_objects(raw), where)


_NAIVE = "must be a timezone-aware timestamp; naive ones are not assumed to be UTC"


def _to_us(values: np.ndarray, unit: str, where: Where) -> np.ndarray:
    factor = _UNIT_US[unit]
    if factor:
        return values.astype(np.int64) * factor
    where.first(values % 1000 != 0, "has nanoseconds; PostgreSQL stores microseconds")
    return values // 1000


def _arrow_timestamps(array: pa.Array | pa.ChunkedArray, where: Where) -> np.ndarray:
    if not pa.types.is_timestamp(array.type):
        raise where.fail(0, f"must be timestamps, not Arrow {array.type}")
    if array.type.tz is None:
        raise where.fail(0, _NAIVE + " (Arrow timestamp without tz)")
    if array.null_count:
        where.first(np.asarray(array.is_null()), "must not be null")
    # Arrow stores instants as UTC counts whatever the tz label says.
    values = array.cast(pa.int64()).to_numpy()
    return _to_us(np.asarray(values), array.type.unit, where)


def _object_timestamps(values: np.ndarray, where: Where) -> np.ndarray:
    nulls = _is_null(values)
    where.first(nulls, "must not be null")
    try:
        # Fast path: pandas returns a zoned index only when every value is aware (in one
        # zone); a naive value, or naive mixed with aware, never comes back zoned.
        parsed = pd.DatetimeIndex(pd.to_datetime(values))
        if parsed.tz is not None:
            utc = parsed.tz_convert("UTC").tz_localize(None)
            return _to_us(utc.to_numpy().view(np.int64), utc.unit, where)
    except (TypeError, ValueError):
        pass  # mixed zones or offsets, or not datetimes: look value by value
    aware = np.fromiter((getattr(v, "tzinfo", None) is not None and v.utcoffset() is not None
                         for v in values), bool, len(values))
    if not aware.all():
        i = int(np.argmin(aware))
        if not hasattr(values[i], "utcoffset"):
            raise where.fail(i, f"must be a timezone-aware datetime, not {type(values[i]).__name__}")
        raise where.fail(i, _NAIVE)
    # Every value carries an offset, so converting to UTC assumes nothing.
    utc = pd.DatetimeIndex(pd.to_datetime(values, utc=True)).tz_localize(None)
    return _to_us(utc.to_numpy().view(np.int64), utc.unit, where)


# -- numbers -------------------------------------------------------------------------------


def floats(raw: Any, where: Where, *, nullable: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """float64 values and a NULL mask (None: no NULLs). NaN and infinities are refused."""
    values, nulls = _numbers(raw, where)
    values = values.astype(np.float64, copy=False)
    if nulls is not None and not nulls.any():
        nulls = None
    if nulls is not None and not nullable:
        where.first(nulls, "must not be null")
    bad = ~np.isfinite(values) if nulls is None else ~np.isfinite(values) & ~nulls
    if bad.any():
        hint = " (use None or pd.NA for a missing value)" if nullable else ""
        where.first(bad, "must be a finite number (not NaN or infinite)" + hint)
    return values, nulls


def integers(raw: Any, where: Where) -> np.ndarray:
    """int64 values; NULLs and non-integers are refused."""
    values, nulls = _numbers(raw, where, integral=True)
    if nulls is not None:
        where.first(nulls, "must not be null")
    return values.astype(np.int64, copy=False)


def _numbers(raw: Any, where: Where, *, integral: bool = False) -> tuple[np.ndarray, np.ndarray | None]:
    kind = "integers" if integral else "numbers"
    if isinstance(raw, pa.ChunkedArray | pa.Array):
        ok = pa.types.is_integer(raw.type) or (not integral and pa.types.is_floating(raw.type))
        if not ok:
            raise where.fail(0, f"must be {kind}, not Arrow {raw.type}")
        nulls = np.asarray(raw.is_null()) if raw.null_count else None
        filled = raw.fill_null(0) if raw.null_count else raw
        return np.asarray(filled.to_numpy()), nulls
    if isinstance(raw, pd.Series | pd.Index):
        dtype = raw.dtype
        if pd.api.types.is_bool_dtype(dtype):
            raise where.fail(0, f"must be {kind}, not booleans")
        if isinstance(dtype, np.dtype) and dtype.kind in "iuf":
            raw = raw.to_numpy()
        elif pd.api.types.is_numeric_dtype(dtype):  # nullable Float64/Int64, Arrow numbers
            nulls = np.asarray(raw.isna(), bool)
            target = np.int64 if pd.api.types.is_integer_dtype(dtype) else np.float64
            if integral and target is np.float64:
                raise where.fail(0, f"must be {kind}, not {dtype}")
            return raw.to_numpy(dtype=target, na_value=0), nulls
        else:
            raw = raw.to_numpy(dtype=object)
    if isinstance(raw, np.ndarray) and raw.dtype.kind in "iuf":
        if integral and raw.dtype.kind == "f":
            raise where.fail(0, f"must be {kind}, not {raw.dtype}")
        return raw, None
    if isinstance(raw, np.ndarray) and raw.dtype.kind not in "O":
        raise where.fail(0, f"must be {kind}, not {raw.dtype}")
    values = _objects(raw)
    # None and pd.NA are missing values; a NaN is a number, and refused as not finite.
    nulls = np.fromiter((v is None or v is pd.NA for v in values), bool, len(values))
    allowed = {"integer", "empty"} if integral else _NUMBER_KINDS
    if pd.api.types.infer_dtype(values, skipna=True) not in allowed:
        number = (int, np.integer) if integral else (int, float, Decimal, np.integer, np.floating)
        for i, v in enumerate(values):
            if not nulls[i] and (isinstance(v, bool | np.bool_) or not isinstance(v, number)):
                raise where.fail(i, f"must be {kind}, not {type(v).__name__}")
    filled = np.where(nulls, 0, values)
    try:
        return filled.astype(np.int64 if integral else np.float64), nulls
    except OverflowError:
        for i, v in enumerate(filled):
            if integral and not np.iinfo(np.int64).min <= v <= np.iinfo(np.int64).max:
                raise where.fail(i, "is out of the int64 range") from None
            if not integral and not _fits_double(v):
                raise where.fail(i, "is beyond the range of double precision (±1.8e308)") from None
        raise


def _fits_double(value: Any) -> bool:
    try:
        float(value)
    except OverflowError:
        return False
    return True


# -- text ----------------------------------------------------------------------------------


def texts(raw: Any, where: Where, *, min_chars: int, max_chars: int) -> pa.Array:
    """A non-null Arrow string array whose values have ``min_chars``..``max_chars`` characters."""
    array = _arrow_strings(raw, where)
    where.first(np.asarray(array.is_null()), "must not be null")
    chars = np.asarray(pc.utf8_length(array).to_numpy(zero_copy_only=False))
    where.first(chars < min_chars, f"must have at least {min_chars} character(s)")
    where.first(chars > max_chars, f"must have at most {max_chars} characters")
    where.first(np.asarray(pc.match_substring(array, "\x00").to_numpy(zero_copy_only=False)),
                "must not contain NUL characters")
    return array


def _arrow_strings(raw: Any, where: Where) -> pa.Array:
    try:
        if isinstance(raw, pa.ChunkedArray):
            raw = raw.combine_chunks()
        if isinstance(raw, pa.Array):
            array = raw
        elif isinstance(raw, pd.Series | pd.Index):
            array = pa.array(raw, from_pandas=True)
        else:
            array = pa.array(_objects(raw), type=pa.string(), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError, UnicodeEncodeError):
        values = _objects(raw)
        for i, v in enumerate(values):
            if v is not None and not isinstance(v, str):
                raise where.fail(i, f"must be a string, not {type(v).__name__}") from None
            problem = text_problem(v) if isinstance(v, str) else None
            if problem is not None:  # a lone surrogate: Arrow cannot encode it
                raise where.fail(i, problem) from None
        raise
    if pa.types.is_dictionary(array.type):
        array = array.cast(array.type.value_type)
    if pa.types.is_large_string(array.type) or pa.types.is_string_view(array.type):
        array = array.cast(pa.string())
    if not pa.types.is_string(array.type):
        if len(array) == array.null_count:
            return pa.nulls(len(array), pa.string())
        raise where.fail(0, f"must be strings, not {array.type}")
    return array


def allowed(array: pa.Array, values: frozenset[str], where: Where) -> None:
    """Refuse any value of ``array`` outside ``values``."""
    ok = np.asarray(pc.is_in(array, value_set=pa.array(sorted(values))).to_numpy(zero_copy_only=False))
    if not ok.all():
        i = int(np.argmin(ok))
        raise where.fail(i, f"must be one of {', '.join(sorted(values))}, not {array[i].as_py()!r}")


# -- JSON objects --------------------------------------------------------------------------


def json_objects(raw: Any, where: Where) -> tuple[Text, np.ndarray | None]:
    """Compact JSON text of each object (a mapping, or JSON text of an object) and a NULL mask.

    One Python call per value: JSON documents have no columnar form to check.
    """
    if isinstance(raw, pa.ChunkedArray | pa.Array):
        values = _objects(raw.to_pylist())
    elif isinstance(raw, pd.Series | pd.Index):
        values = raw.to_numpy(dtype=object)
    else:
        values = _objects(raw)
    nulls = _is_null(values)  # None, NaN (pandas' missing value) and pd.NA: no metadata
    out: list[str | None] = []
    for i, value in enumerate(values):
        if nulls[i]:
            out.append(None)
            continue
        document = value
        if isinstance(value, str):
            try:
                document = json.loads(value, parse_constant=_no_constant)
            except ValueError as exc:
                raise where.fail(i, f"is not valid JSON ({exc})") from None
        out.append(_json_text(document, where, i))
    text = Text.from_arrow(pa.array(out, type=pa.string()))
    return text, (nulls if nulls.any() else None)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


_LONG_NUMBER = re.compile(r"\d{309}")


def _encodes(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


# One encoder, made once: json.dumps with options builds a new one per call.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), sort_keys=True, allow_nan=False)


def _json_text(document: Any, where: Where, i: int) -> str:
    """Compact, key-sorted JSON text of one object (jsonb sorts keys anyway)."""
    if type(document) is dict:
        # The common case at C speed. The encoder refuses NaN, infinities and values JSON
        # has no form for; reading the text back equal to the document proves nothing was
        # coerced on the way (an int key would come back a string). What it writes that
        # fields.JsonObject refuses is sent there: NUL, lone surrogates, nesting possibly
        # past MAX_JSON_DEPTH (no more brackets than that, no deeper than that) and an
        # integer possibly beyond double (309 digits or more).
        try:
            text: str = _ENCODER.encode(document)
            if ("\\u0000" not in text and (text.isascii() or _encodes(text))
                    and text.count("{") + text.count("[") <= MAX_JSON_DEPTH
                    and (len(text) < 309 or not _LONG_NUMBER.search(text))
                    and json.loads(text) == document):
                return text
        except (TypeError, ValueError, RecursionError):
            pass
    # Anything else goes through the strict validator, for its precise message.
    if not isinstance(document, Mapping):
        raise where.fail(i, f"must be a JSON object (a mapping), not {type(document).__name__}")
    try:
        checked = _JSON_OBJECT.validate_python(document)
    except ValidationError as exc:
        raise where.fail(i, exc.errors(include_url=False)[0]["msg"]) from None
    return _ENCODER.encode(checked)
