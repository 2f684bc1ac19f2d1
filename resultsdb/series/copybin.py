"""PostgreSQL's binary COPY format, written and read with numpy.

A binary COPY stream is a 19-byte header, one tuple per row and a 2-byte trailer.
A tuple is an int16 field count, then per field an int32 byte length (-1 for NULL)
followed by that many bytes. Integers are big-endian; ``timestamptz`` is int64
microseconds since 2000-01-01 UTC, ``float8`` IEEE 754, ``uuid`` its 16 bytes, ``text``
UTF-8 and ``jsonb`` a version byte (1) then the JSON text.

Building rows one Python object at a time is what makes bulk loads slow, so rows
are built column by column: when every field of a chunk has the same width in every
row (no NULL mixed with values, no text) the tuples are a numpy structured array and
the buffer is its memory; otherwise each field is scattered into place by offset.
Reading mirrors it: fixed-width rows are viewed in place, variable ones are cut
using the row lengths that came with the COPY messages.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from uuid import UUID

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)  # signature, flags, header extension length
TRAILER = b"\xff\xff"
PG_EPOCH_US = 946_684_800_000_000  # 2000-01-01 in unix microseconds

_I2 = np.dtype(">i2")
_I4 = np.dtype(">i4")


class Kind(Enum):
    UUID = "uuid"
    INT8 = "int8"
    FLOAT8 = "float8"
    TIMESTAMPTZ = "timestamptz"
    TEXT = "text"
    JSONB = "jsonb"


# Value dtype of each fixed-width kind on the wire.
_WIRE: dict[Kind, np.dtype] = {
    Kind.UUID: np.dtype("V16"),
    Kind.INT8: np.dtype(">i8"),
    Kind.FLOAT8: np.dtype(">f8"),
    Kind.TIMESTAMPTZ: np.dtype(">i8"),
}


class CopyFormatError(ValueError):
    """A COPY stream that is not what the reader expected (a bug, never the caller's data)."""


@dataclass(frozen=True)
class Text:
    """Strings as Arrow keeps them: ``data[offsets[i]:offsets[i + 1]]`` is row i's UTF-8."""

    offsets: np.ndarray  # int64, n + 1
    data: np.ndarray  # uint8

    def __len__(self) -> int:
        return len(self.offsets) - 1

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    @classmethod
    def from_arrow(cls, array: pa.Array | pa.ChunkedArray) -> Text:
        if isinstance(array, pa.ChunkedArray):
            array = array.combine_chunks() if array.num_chunks != 1 else array.chunk(0)
        if pa.types.is_string(array.type) or pa.types.is_large_string(array.type):
            width = np.int64 if pa.types.is_large_string(array.type) else np.int32
        else:
            raise TypeError(f"expected an Arrow string array, got {array.type}")
        buffers = array.buffers()
        n = len(array)
        offsets = np.frombuffer(buffers[1], width, count=n + 1, offset=array.offset * width().itemsize)
        offsets = offsets.astype(np.int64)
        data = np.frombuffer(buffers[2], np.uint8) if buffers[2] is not None else np.empty(0, np.uint8)
        start, stop = int(offsets[0]), int(offsets[-1])
        return cls(offsets - start, data[start:stop])

    def to_arrow(self, nulls: np.ndarray | None = None) -> pa.Array:
        mask = None
        if nulls is not None and nulls.any():
            mask = pa.py_buffer(np.packbits(~nulls, bitorder="little"))
        large = self.offsets[-1] > np.iinfo(np.int32).max
        offsets = self.offsets if large else self.offsets.astype(np.int32)
        return pa.Array.from_buffers(pa.large_string() if large else pa.string(), len(self),
                                     [mask, pa.py_buffer(offsets), pa.py_buffer(self.data)])


@dataclass(frozen=True)
class Field:
    """One column of a chunk, ready to encode.

    ``values`` is a 1-D array (unix microseconds for TIMESTAMPTZ), a :class:`Text`
    (TEXT, JSONB), or for a value every row shares, a scalar: ``bytes`` of a UUID or
    ``None`` for NULL. ``nulls`` marks NULL rows (None: there are none).
    """

    kind: Kind
    values: np.ndarray | Text | bytes | None
    nulls: np.ndarray | None = None

    @classmethod
    def uuid(cls, value: UUID | None) -> Field:
        return cls(Kind.UUID, None if value is None else value.bytes)

    @property
    def constant(self) -> bool:
        return self.values is None or isinstance(self.values, bytes)

    def width(self) -> int | None:
        """Bytes per row when every row has the same width (-1: NULL in every row); else None."""
        if self.values is None:
            return -1
        if isinstance(self.values, bytes):
            return len(self.values)
        if isinstance(self.values, Text):
            return None
        if self.nulls is not None and self.nulls.any():
            return -1 if self.nulls.all() else None
        return _WIRE[self.kind].itemsize


def _wire_values(field: Field) -> np.ndarray | bytes:
    if field.kind is Kind.TIMESTAMPTZ:
        assert isinstance(field.values, np.ndarray)
        return field.values - PG_EPOCH_US
    assert isinstance(field.values, np.ndarray | bytes)
    return field.values


def encode(fields: Sequence[Field], n: int) -> np.ndarray:
    """The tuples of ``n`` rows (no header or trailer) as a uint8 array."""
    widths = [f.width() for f in fields]
    if all(w is not None for w in widths):
        return _encode_fixed(fields, [w for w in widths if w is not None], n)
    sizes = [_sizes(f, n) for f in fields]
    slots = [int(size.max(initial=0)) for size in sizes]
    padded = n * (2 + 4 * len(fields) + sum(slots))
    actual = n * (2 + 4 * len(fields)) + sum(int(size.sum()) for size in sizes)
    # Padding every row to the longest value is fast while values are short (the usual
    # asset names and actions); one huge jsonb would make it quadratic, so scatter then.
    if padded <= 4 * actual + (1 << 20):
        return _encode_padded(fields, sizes, slots, n)
    return _encode_scattered(fields, sizes, n)


def _encode_fixed(fields: Sequence[Field], widths: list[int], n: int) -> np.ndarray:
    spec: list[tuple[str, np.dtype]] = [("count", _I2)]
    for i, (field, width) in enumerate(zip(fields, widths, strict=True)):
        spec.append((f"l{i}", _I4))
        if width > 0:
            spec.append((f"v{i}", _WIRE[field.kind]))
    dtype = np.dtype(spec)
    offsets = {name: dtype.fields[name][1] for name in dtype.names or ()} if dtype.fields else {}
    # The counts, lengths and shared values are the same in every row: copy one
    # template row n times, then fill in the columns that vary.
    template = np.zeros(1, dtype)
    template["count"] = len(fields)
    varying: list[tuple[int, np.ndarray]] = []
    for i, (field, width) in enumerate(zip(fields, widths, strict=True)):
        template[f"l{i}"] = width
        if width > 0:
            values = _wire_values(field)
            if isinstance(values, bytes):
                template[f"v{i}"] = np.frombuffer(values, "V16")[0]
            else:
                varying.append((offsets[f"v{i}"], _be_bytes(values, _WIRE[field.kind])))
    rows = np.empty((n, dtype.itemsize), np.uint8)
    rows[:] = template.view(np.uint8)
    for offset, matrix in varying:
        rows[:, offset: offset + matrix.shape[1]] = matrix
    return rows.reshape(-1)


def _sizes(field: Field, n: int) -> np.ndarray:
    """Byte width of the field's value in each row (0 for NULL)."""
    if isinstance(field.values, Text):
        size = field.values.lengths + (1 if field.kind is Kind.JSONB else 0)
    elif field.values is None:
        size = np.zeros(n, np.int64)
    else:
        width = len(field.values) if isinstance(field.values, bytes) else _WIRE[field.kind].itemsize
        size = np.full(n, width, np.int64)
    return size if field.nulls is None else np.where(field.nulls, 0, size)


def _lengths(field: Field, size: np.ndarray) -> np.ndarray:
    nulls = field.nulls if field.values is not None else np.ones(len(size), bool)
    return size if nulls is None else np.where(nulls, -1, size)


def _put(buf: np.ndarray, at: np.ndarray, matrix: np.ndarray) -> None:
    """Write row i of ``matrix`` (uint8, n x k) at ``buf[at[i]:at[i] + k]``."""
    if len(at):
        buf[at[:, None] + np.arange(matrix.shape[1])] = matrix


def _be_bytes(values: np.ndarray, dtype: np.dtype) -> np.ndarray:
    return np.ascontiguousarray(values, dtype=dtype).view(np.uint8).reshape(len(values), dtype.itemsize)


def _value_matrix(field: Field, size: np.ndarray, slot: int) -> np.ndarray:
    """Each row's value bytes, left-aligned in ``slot`` bytes (the rest is padding)."""
    n = len(size)
    if isinstance(field.values, Text):
        # Asset names and actions repeat: pad each distinct value once, then take rows.
        encoded = pc.dictionary_encode(field.values.to_arrow())
        distinct = Text.from_arrow(encoded.dictionary)
        skip = 1 if field.kind is Kind.JSONB else 0
        cols = np.arange(slot - skip)
        at = np.minimum(distinct.offsets[:-1, None] + cols, max(len(distinct.data) - 1, 0))
        padded = np.empty((len(distinct), slot), np.uint8)
        if skip:
            padded[:, 0] = 1  # jsonb binary format version
        padded[:, skip:] = distinct.data[at] if len(distinct.data) else 0
        rows: np.ndarray = padded[np.asarray(encoded.indices.to_numpy(zero_copy_only=False))]
        return rows
    values = _wire_values(field)
    if isinstance(values, bytes):
        return np.broadcast_to(np.frombuffer(values, np.uint8), (n, len(values)))
    return _be_bytes(values, _WIRE[field.kind])


def _encode_padded(fields: Sequence[Field], sizes: list[np.ndarray], slots: list[int],
                   n: int) -> np.ndarray:
    row_width = 2 + sum(4 + slot for slot in slots)
    rows = np.empty((n, row_width), np.uint8)
    keep = np.ones((n, row_width), bool)
    rows[:, 0:2] = _be_bytes(np.full(1, len(fields)), _I2)
    offset = 2
    for field, size, slot in zip(fields, sizes, slots, strict=True):
        rows[:, offset: offset + 4] = _be_bytes(_lengths(field, size), _I4)
        offset += 4
        if slot:
            rows[:, offset: offset + slot] = _value_matrix(field, size, slot)
            keep[:, offset: offset + slot] = np.arange(slot) < size[:, None]
            offset += slot
    return rows[keep]


def _encode_scattered(fields: Sequence[Field], sizes: list[np.ndarray], n: int) -> np.ndarray:
    row_size = 2 + 4 * len(fields) + np.sum(sizes, axis=0, dtype=np.int64)
    starts = np.zeros(n + 1, np.int64)
    np.cumsum(row_size, out=starts[1:])
    buf = np.empty(int(starts[-1]), np.uint8)
    pos = starts[:-1].copy()
    _put(buf, pos, _be_bytes(np.full(n, len(fields)), _I2))
    pos += 2
    for field, size in zip(fields, sizes, strict=True):
        _put(buf, pos, _be_bytes(_lengths(field, size), _I4))
        pos += 4
        has = size > 0
        if isinstance(field.values, Text):
            skip = 1 if field.kind is Kind.JSONB else 0
            if skip:
                buf[pos[has]] = 1  # jsonb binary format version
            text = field.values
            lens = np.maximum(size - skip, 0)
            packed = np.zeros(n, np.int64)  # where each row's bytes start among the kept bytes
            np.cumsum(lens[:-1], out=packed[1:])
            dest = np.repeat(pos + skip - packed, lens) + np.arange(int(lens.sum()))
            buf[dest] = text.data if field.nulls is None else text.data[np.repeat(size > 0, text.lengths)]
        elif field.values is not None:
            _put(buf, pos[has], _value_matrix(field, size, 0)[has])
        pos += size
    return buf


# -- reading ------------------------------------------------------------------------------


def fixed_dtype(kinds: Sequence[Kind]) -> np.dtype:
    """The tuple layout of rows whose fields are all fixed-width and never NULL."""
    spec: list[tuple[str, np.dtype]] = [("count", _I2)]
    for i, kind in enumerate(kinds):
        spec += [(f"l{i}", _I4), (f"v{i}", _WIRE[kind])]
    return np.dtype(spec)


def _body(buf: bytes | bytearray | memoryview) -> memoryview:
    view = memoryview(buf)
    if len(view) < len(HEADER) + len(TRAILER) or view[: len(HEADER)] != HEADER:
        raise CopyFormatError("not a binary COPY stream (bad header)")
    if view[-len(TRAILER):] != TRAILER:
        raise CopyFormatError("binary COPY stream without its trailer")
    return view[len(HEADER): -len(TRAILER)]


def decode_fixed(buf: bytes | bytearray | memoryview, kinds: Sequence[Kind]) -> list[np.ndarray]:
    """Columns of a stream whose rows all have the layout of :func:`fixed_dtype`.

    The arrays are views of ``buf`` in wire (big-endian) order; a NULL anywhere is an error.
    """
    dtype = fixed_dtype(kinds)
    body = _body(buf)
    n, extra = divmod(len(body), dtype.itemsize)
    if extra:
        raise CopyFormatError(f"{len(body)} bytes are not whole rows of {dtype.itemsize}")
    rows = np.frombuffer(body, dtype, count=n)
    expected = [_WIRE[k].itemsize for k in kinds]
    if n and not ((rows["count"] == len(kinds)).all()
                  and all((rows[f"l{i}"] == w).all() for i, w in enumerate(expected))):
        raise CopyFormatError("rows are not the expected fixed layout (a NULL or another type)")
    return [rows[f"v{i}"] for i in range(len(kinds))]


@dataclass(frozen=True)
class Column:
    """One decoded column: an array (fixed kinds) or a Text, and where it is NULL."""

    values: np.ndarray | Text
    nulls: np.ndarray


def row_bounds(message_lengths: np.ndarray, total: int) -> tuple[np.ndarray, np.ndarray]:
    """Start and end of each tuple in a stream received as messages of these lengths.

    The server sends one tuple per COPY message (the header rides with the first, the
    trailer comes alone), so message ends are tuple ends.
    """
    ends = np.cumsum(message_lengths, dtype=np.int64)
    starts = np.concatenate(([0], ends[:-1]))
    starts = np.maximum(starts, len(HEADER))
    ends = np.minimum(ends, total - len(TRAILER))
    keep = ends > starts
    return starts[keep], ends[keep]


def _get(buf: np.ndarray, at: np.ndarray, dtype: np.dtype) -> np.ndarray:
    if not len(at):
        return np.empty(0, dtype)
    return buf[at[:, None] + np.arange(dtype.itemsize)].view(dtype).ravel()


def decode_variable(buf: bytes | bytearray | memoryview, starts: np.ndarray, ends: np.ndarray,
                    kinds: Sequence[Kind]) -> list[Column]:
    """Columns of tuples at ``buf[starts[i]:ends[i]]`` (offsets into the whole stream)."""
    _body(buf)  # header and trailer check
    raw = np.frombuffer(buf, np.uint8)
    n = len(starts)
    if n and not (_get(raw, starts, _I2) == len(kinds)).all():
        raise CopyFormatError("a row has an unexpected number of fields")
    pos = starts + 2
    out: list[Column] = []
    for kind in kinds:
        length = _get(raw, pos, _I4).astype(np.int64)
        nulls = length < 0
        size = np.maximum(length, 0)
        at = pos + 4
        if kind in _WIRE:
            wire = _WIRE[kind]
            if (size[~nulls] != wire.itemsize).any():
                raise CopyFormatError(f"a {kind.value} field is not {wire.itemsize} bytes")
            values = _get(raw, np.where(nulls, 0, at), wire)  # NULL rows read the header: in bounds
            out.append(Column(values, nulls))
        else:
            skip = 1 if kind is Kind.JSONB else 0  # the jsonb version byte
            if kind is Kind.JSONB and n and (raw[at[~nulls]] != 1).any():
                raise CopyFormatError("unknown jsonb binary version")
            lens = np.where(nulls, 0, size - skip)
            offsets = np.zeros(n + 1, np.int64)
            np.cumsum(lens, out=offsets[1:])
            data = raw[np.repeat(at + skip - offsets[:-1], lens) + np.arange(int(offsets[-1]))]
            out.append(Column(Text(offsets, data), nulls))
        pos = at + size
    if n and (pos != ends).any():
        raise CopyFormatError("rows are longer than their fields")
    return out
