"""Running one call on a thread while a test watches the server or injects a fault."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any


class Call(threading.Thread):
    """One call in a daemon thread; ``outcome`` is its result or the exception it raised."""

    def __init__(self, fn: Callable[[], Any]) -> None:
        super().__init__(daemon=True)
        self.fn = fn
        self.outcome: Any = None

    def run(self) -> None:
        try:
            self.outcome = self.fn()
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            self.outcome = exc


def in_thread(fn: Callable[[], Any]) -> tuple[threading.Thread, dict[str, Any]]:
    """``fn`` started on a thread, and a dict that gets its "value" or its "error"."""
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            outcome["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread, outcome
