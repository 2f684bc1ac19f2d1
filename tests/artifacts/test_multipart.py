"""Regrouping a reader's chunks, whatever their sizes, into S3 parts of one size."""

from __future__ import annotations

import os

import pytest

from resultsdb.artifacts._multipart import parts, upload_verified


@pytest.mark.parametrize("sizes", [
    [10, 10, 10, 3],          # chunks smaller than a part
    [25, 8],                  # a chunk spanning parts
    [7, 1, 1, 1, 1, 1, 1, 1],  # short reads, ending exactly on a part boundary
    [8, 8],
    [],
])
def test_parts_are_full_except_the_last_and_keep_every_byte(sizes: list[int]) -> None:
    data = os.urandom(sum(sizes))
    chunks, at = [], 0
    for n in sizes:
        chunks.append(memoryview(data)[at:at + n])
        at += n
    got = list(parts(iter(chunks), 8))
    assert b"".join(got) == data
    assert all(len(p) == 8 for p in got[:-1]) and all(0 < len(p) <= 8 for p in got)


def test_parts_do_not_alias_a_reused_read_buffer() -> None:
    buffer = bytearray(b"a" * 8)
    view = memoryview(buffer)

    def reads():  # type: ignore[no-untyped-def]
        yield view
        buffer[:] = b"b" * 8  # the reader refills its buffer for the next chunk
        yield view

    assert list(parts(reads(), 8)) == [b"a" * 8, b"b" * 8]


def test_an_empty_upload_is_refused_before_anything_is_sent() -> None:
    with pytest.raises(ValueError, match="at least one byte"):
        upload_verified(object(), "bucket/key", iter([]), part_size=8, expected=("0" * 64, 0))
