"""Reading a COPY TO stream at the speed libpq delivers it.

psycopg's ``for block in copy`` costs a generator round trip per row, which for a
million-row series is more than the query. :class:`CopyOut` takes libpq's ready
messages in a tight loop and lets psycopg wait (interruptibly) only when none is
ready. The server sends one row per message, so message lengths are row bounds.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import psycopg
from psycopg import errors as pgerrors

from resultsdb.connection import Connection
from resultsdb.series import copybin


class CopyOut:
    """Reads one COPY TO stream; afterwards ``rowcount`` is the server's count of rows."""

    def __init__(self, copy: psycopg.Copy, conn: Connection) -> None:
        self.copy = copy
        self.conn = conn
        self.rowcount = -1

    def messages(self) -> Iterator[memoryview | bytes | bytearray]:
        get = self.conn.pgconn.get_copy_data
        while True:
            nbytes, data = get(1)  # 1: do not block
            if nbytes > 0:
                yield data
            elif nbytes == 0:
                if not (waited := self.copy.read()):
                    self.rowcount = self.copy.cursor.rowcount
                    return
                yield waited
            else:  # -1: the stream ended here, so its closing result is ours to read
                self.rowcount = self._finish()
                return

    def collect(self) -> bytearray:
        """The whole stream in one buffer."""
        buffer = bytearray()
        for data in self.messages():
            buffer += data
        return buffer

    def collect_rows(self) -> tuple[bytearray, np.ndarray, np.ndarray]:
        """The whole stream and the bounds of its rows (one row per message)."""
        buffer, sizes = bytearray(), list[int]()
        note = sizes.append
        for data in self.messages():
            buffer += data
            note(len(data))
        starts, ends = copybin.row_bounds(np.array(sizes, np.int64), len(buffer))
        return buffer, starts, ends

    def pieces(self, target_bytes: int = 32 << 20) -> Iterator[tuple[bytearray, np.ndarray, np.ndarray]]:
        """The stream in pieces of about ``target_bytes``: (stream, row starts, row ends).

        Each piece is a binary COPY stream of its own (header and trailer added), so
        memory stays bounded by the piece size however large the table.
        """
        rows, sizes = bytearray(copybin.HEADER), []
        header = True
        for data in self.messages():
            view = memoryview(data)
            if header:  # the stream's header rides with its first row (or its trailer)
                view, header = view[len(copybin.HEADER):], False
            if view.nbytes == len(copybin.TRAILER) and view == copybin.TRAILER:
                continue  # the trailer comes as a message of its own
            if view.nbytes:
                rows += view
                sizes.append(view.nbytes)
            if len(rows) >= target_bytes:
                yield self._piece(rows, sizes)
                rows, sizes = bytearray(copybin.HEADER), []
        if sizes:
            yield self._piece(rows, sizes)

    @staticmethod
    def _piece(rows: bytearray, sizes: list[int]) -> tuple[bytearray, np.ndarray, np.ndarray]:
        lengths = np.array(sizes, np.int64)
        ends = len(copybin.HEADER) + np.cumsum(lengths)
        rows += copybin.TRAILER
        return rows, ends - lengths, ends

    def _finish(self) -> int:
        pgconn = self.conn.pgconn
        error: psycopg.Error | None = None
        rowcount = -1
        while (result := pgconn.get_result()) is not None:
            if result.status == psycopg.pq.ExecStatus.COMMAND_OK:
                rowcount = result.command_tuples or 0
            elif error is None:
                error = pgerrors.error_from_result(result, encoding=pgconn._encoding)
        if error is not None:
            raise error
        return rowcount
