"""The ``resultsdb`` command's entry point (and ``python -m resultsdb``).

The command's parts (typer, rich) are the ``[cli]`` extra: without it this says so in
one line instead of a traceback.
"""

from __future__ import annotations

import sys

from resultsdb.errors import MissingExtra
from resultsdb.extras import require


def main() -> None:
    try:
        require("cli", "the resultsdb command")
    except MissingExtra as exc:
        sys.exit(f"resultsdb: {exc}")
    from resultsdb.cli import main as cli_main

    cli_main()


if __name__ == "__main__":
    main()
