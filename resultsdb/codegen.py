"""Write ``resultsdb/queries.py``: one typed method per named query, from the ``.sql`` headers.

``python -m resultsdb.codegen`` (``make queries``) rewrites the file; ``--check`` exits 1
when it is stale. The headers are the single source: a query's record or scalar type
becomes the method's return type, its ``:params`` keyword arguments, an identifier's
allowlist a ``Literal[...]`` type, so mypy checks every call site against the SQL.
"""

from __future__ import annotations

import keyword
import re
import sys
import textwrap
from pathlib import Path

from resultsdb.errors import QueryRegistryError
from resultsdb.registry import Registry
from resultsdb.sqlfiles import Query, Returns

TARGET = Path(__file__).resolve().parent / "queries.py"
_WIDTH = 100

_SCALAR_PY = {"bool": "bool", "int": "int", "float": "float", "str": "str", "uuid": "UUID",
              "datetime": "datetime", "bytes": "bytes"}

_HEAD = '''\
"""Typed handles of the named queries in ``sql/queries/``: GENERATED, do not edit.

Run ``make queries`` (``python -m resultsdb.codegen``) after changing a query's header or
parameters; ``default_registry()`` refuses to load while this file is stale, and a test
compares it with a fresh generation.
"""

from __future__ import annotations

{imports}
from resultsdb import records as r
from resultsdb.registry import BoundQueries

SIGNATURE = "{signature}"


class Queries(BoundQueries):
    """Every named query as a method bound to one connection (``conn.q``)."""

    __slots__ = ()
'''


def _words(values: frozenset[str]) -> str:
    words = [f'"{v}"' for v in sorted(values)]
    flat = "Literal[" + ", ".join(words) + "]"
    if len(flat) <= _WIDTH - 40:
        return flat
    return "Literal[\n" + _pack(words, 12) + "\n        ]"


def _method(q: Query) -> str:
    args: list[str] = []
    for p in q.params:
        if keyword.iskeyword(p):
            raise QueryRegistryError(f"{q.source}: parameter :{p} is a Python keyword")
        args.append(f"{p}: Any")
    for name, allowed in q.identifiers.items():
        args.append(f"{name}: {_words(allowed) if allowed else 'str'}")
    for name, words in q.literals.items():
        args.append(f"{name}: {_words(words) + ' | None' if words else 'int'}")
    params = "{" + ", ".join(f'"{p}": {p}' for p in q.params) + "}"
    extra = ""
    if q.identifiers:
        extra += ", identifiers={" + ", ".join(f'"{k}": {k}' for k in q.identifiers) + "}"
    if q.literals:
        extra += ", literals={" + ", ".join(f'"{k}": {k}' for k in q.literals) + "}"
    record = f"r.{q.record.__name__}" if q.record else ""
    kind = q.returns
    if kind is Returns.ONE:
        returns, body = record, f'self._one("{q.name}", {record}, {params}{extra})'
    elif kind is Returns.ONE_OR_NONE:
        returns, body = f"{record} | None", f'self._one_or_none("{q.name}", {record}, {params}{extra})'
    elif kind is Returns.MANY:
        returns, body = f"list[{record}]", f'self._many("{q.name}", {record}, {params}{extra})'
    elif kind is Returns.SCALAR and q.scalar_type == "json":
        returns, body = "Any", f'self._json("{q.name}", {params}{extra})'
    elif kind is Returns.SCALAR:
        py = _SCALAR_PY[q.scalar_type or ""]
        fn = "_scalar_or_none" if q.nullable else "_scalar"
        returns = f"{py} | None" if q.nullable else py
        body = f'self.{fn}("{q.name}", {py}, {params}{extra})'
    elif kind is Returns.ROWCOUNT:
        returns, body = "int", f'self._rowcount("{q.name}", {params}{extra})'
    elif kind is Returns.NONE:
        returns, body = "None", f'self._execute("{q.name}", {params}{extra})'
    else:
        if q.literals:
            raise QueryRegistryError(f"{q.source}: a copy query takes no literals")
        returns = "AbstractContextManager[psycopg.Copy]"
        body = f'self._copy("{q.name}", {params}{extra})'
    items = ["self", *(["*", *args] if args else [])]
    head = f"    def {q.name}({', '.join(items)}) -> {returns}:"
    if len(head) > _WIDTH:
        head = f"    def {q.name}(\n{_pack(items, 8)}\n    ) -> {returns}:"
    text = (f"{q.doc} ({q.source})" if q.doc else f"({q.source})").replace("\\", "\\\\")
    doc = textwrap.wrap(text, _WIDTH - 8)
    docstring = '        """' + "\n        ".join(doc) + ('"""' if len(doc) == 1 else '\n        """')
    call = f"        return {body}"
    if len(call) > _WIDTH:
        fn, _, rest = body.partition("(")
        lines = []
        for part in _split_args(rest[:-1]):
            if 12 + len(part) + 1 > _WIDTH and part.startswith("{"):
                lines.append("            {\n" + _pack(_split_args(part[1:-1]), 16) + "\n            },")
            else:
                lines.append(_pack([part], 12))
        call = f"        return {fn}(\n" + _join_packed(lines) + "\n        )"
    return f"{head}\n{docstring}\n{call}\n"


def _join_packed(lines: list[str]) -> str:
    """Short one-line arguments share a line, as _pack would put them."""
    out: list[str] = []
    for line in lines:
        if out and "\n" not in line and "\n" not in out[-1] and len(out[-1]) + len(line) - 11 <= _WIDTH:
            out[-1] = f"{out[-1]} {line.strip()}"
        else:
            out.append(line)
    return "\n".join(out)


def _split_args(text: str) -> list[str]:
    """Top-level comma-separated parts of a call's arguments (none of ours nest strings
    holding commas or brackets)."""
    parts, depth, start = [], 0, 0
    for i, c in enumerate(text):
        depth += c in "([{"
        depth -= c in ")]}"
        if c == "," and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
    parts.append(text[start:].strip())
    return parts


def _pack(items: list[str], indent: int) -> str:
    """``items`` joined by commas, as many to a line as fit."""
    lines: list[str] = []
    line = ""
    for item in items:
        candidate = f"{line} {item}," if line else f"{item},"
        if line and (indent + len(candidate) > _WIDTH or "\n" in item):
            lines.append(line)
            candidate = f"{item},"
        line = candidate
    lines.append(line)
    return "\n".join(" " * indent + text for text in lines)


def generate(registry: Registry) -> str:
    """The text of ``queries.py`` for ``registry``, grouped by file as the queries are."""
    out = [_HEAD.replace("{signature}", registry.signature())]
    current = None
    for q in registry:
        file = q.source.split(":")[0]
        if file != current:
            current = file
            out.append(f"\n    # -- {file} " + "-" * (_WIDTH - 12 - len(file)) + "\n")
        out.append("\n" + _method(q))
    text = "".join(out)
    body = text.split("class Queries", 1)[1]
    wanted = [(f"from {m} import {n}\n", n) for m, n in (
        ("contextlib", "AbstractContextManager"), ("datetime", "datetime"), ("typing", "Any"),
        ("uuid", "UUID"))]
    std = "".join(line for line, name in wanted if re.search(rf"\b{name}\b", body))
    std = std.replace("import Any\n", "import Any, Literal\n") if "Literal[" in body else std
    third = "\nimport psycopg\n" if "psycopg." in body else ""
    return text.replace("{imports}\n", std + third + "\n")


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    text = generate(Registry.load())
    current = TARGET.read_text(encoding="utf-8") if TARGET.exists() else ""
    if "--check" in args:
        if text != current:
            print(f"{TARGET.name} is stale: run `make queries`", file=sys.stderr)
            return 1
        return 0
    if text != current:
        TARGET.write_text(text, encoding="utf-8")
        print(f"wrote {TARGET}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
