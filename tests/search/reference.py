"""An independent evaluator of the search filter, over runs held in Python.

It reads the filter's text with its own small tokenizer and recursive-descent parser
(not resultsdb.search), and evaluates it with SQL's three-valued logic over what the test
knows of each run: its metrics, tags, attributes, and the parameter documents of its
configurations and trial. Sorting follows the documented order: nulls last in either
direction, ties by id in the first key's direction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

MISSING = object()


@dataclass
class RunFacts:
    id: UUID
    attrs: dict[str, Any]  # canonical attribute -> value (None when null)
    metrics: dict[str, float]
    tags: dict[str, Any]
    param_docs: list[dict[str, Any]] = field(default_factory=list)


ALIASES = {
    "id": "id", "run_id": "id", "name": "name", "run_name": "name", "status": "status",
    "run_type": "run_type", "type": "run_type", "experiment": "experiment",
    "experiment_name": "experiment", "experiment_id": "experiment_id", "parent": "parent_run_id",
    "parent_run_id": "parent_run_id", "started": "start_time", "start_time": "start_time",
    "ended": "end_time", "end_time": "end_time", "created": "created_at",
    "created_at": "created_at", "updated": "updated_at", "updated_at": "updated_at",
    "error_type": "error_type", "trial_count": "trial_count",
}

_TOKEN = re.compile(r"""\s*(?:(?P<num>[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?)
                       |(?P<str>'(?:[^']|'')*'|"(?:[^"]|"")*")
                       |(?P<bq>`(?:[^`]|``)*`)
                       |(?P<op>!=|<>|<=|>=|==|=|<|>)
                       |(?P<punct>[(),.])
                       |(?P<word>[A-Za-z_][A-Za-z0-9_\-]*))""", re.VERBOSE)


def tokenize(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        rest = text[pos:].lstrip()
        if out and out[-1][0] in ("word", "bq") and rest.startswith("."):
            out.append(("punct", "."))  # a key goes on: 'layers.0' is not 'layers' '.0'
            pos = len(text) - len(rest) + 1
            continue
        m = _TOKEN.match(text, pos)
        assert m, text[pos:]
        kind = m.lastgroup
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


def _unquote(s: str) -> str:
    return s[1:-1].replace(s[0] * 2, s[0])


class Parser:
    """or_expr := and_expr ('or' and_expr)*; and_expr := not_expr ('and' not_expr)*;
    not_expr := 'not' not_expr | '(' or_expr ')' | predicate."""

    def __init__(self, text: str) -> None:
        self.t = tokenize(text)
        self.i = 0

    def peek(self, k: int = 0) -> tuple[str, str] | None:
        return self.t[self.i + k] if self.i + k < len(self.t) else None

    def word(self, w: str, k: int = 0) -> bool:
        p = self.peek(k)
        return p is not None and p[0] == "word" and p[1].lower() == w

    def take(self) -> tuple[str, str]:
        tok = self.t[self.i]
        self.i += 1
        return tok

    def parse(self) -> Any:
        node = self.or_expr()
        assert self.i == len(self.t)
        return node

    def or_expr(self) -> Any:
        items = [self.and_expr()]
        while self.word("or"):
            self.take()
            items.append(self.and_expr())
        return ("or", items) if len(items) > 1 else items[0]

    def and_expr(self) -> Any:
        items = [self.not_expr()]
        while self.word("and"):
            self.take()
            items.append(self.not_expr())
        return ("and", items) if len(items) > 1 else items[0]

    def not_expr(self) -> Any:
        if self.word("not"):
            self.take()
            return ("not", self.not_expr())
        if self.peek() == ("punct", "("):
            self.take()
            node = self.or_expr()
            assert self.take() == ("punct", ")")
            return node
        return self.predicate()

    def key(self) -> tuple[str, tuple[str, ...]]:
        parts = [self.take()]
        while self.peek() == ("punct", "."):
            self.take()
            parts.append(self.take())
        names = [_unquote(v) if k in ("str", "bq") else v for k, v in parts]
        head = names[0].lower()
        if len(names) == 1:
            return "attr", (ALIASES[head],)
        if head in ("metrics", "metric"):
            return "metric", (".".join(names[1:]),)
        if head in ("tags", "tag"):
            return "tag", (".".join(names[1:]),)
        if head in ("params", "param", "parameters"):
            return "param", tuple(names[1:])
        return "attr", (ALIASES[names[1].lower()],)

    def value(self) -> Any:
        kind, v = self.take()
        if kind == "str":
            return _unquote(v)
        if kind == "word":
            return v.lower() == "true"
        return float(v) if any(c in v for c in ".eE") else int(v)

    def predicate(self) -> Any:
        key = self.key()
        if self.word("is"):
            self.take()
            negated = self.word("not")
            if negated:
                self.take()
            assert self.take()[1].lower() == "null"
            return ("isnull", key, negated)
        negated = self.word("not")
        if negated:
            self.take()
        if self.word("in"):
            self.take()
            assert self.take() == ("punct", "(")
            values = [self.value()]
            while self.peek() == ("punct", ","):
                self.take()
                values.append(self.value())
            assert self.take() == ("punct", ")")
            return ("in", key, values, negated)
        if self.word("like") or self.word("ilike"):
            ci = self.take()[1].lower() == "ilike"
            return ("like", key, _unquote(self.take()[1]), ci, negated)
        op = self.take()[1]
        op = {"<>": "!=", "==": "="}.get(op, op)
        return ("cmp", key, op, self.value())


def _cmp(a: Any, op: str, b: Any) -> bool:
    return {"=": a == b, "!=": a != b, "<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]


def _json_eq(a: Any, b: Any) -> bool:
    """JSON equality: true is not 1, 10 is 10.0, objects and arrays compare deeply."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return float(a) == float(b)
    return type(a) is type(b) and a == b


def _get(doc: Any, path: tuple[str, ...]) -> Any:
    for part in path:
        if isinstance(doc, dict) and part in doc:
            doc = doc[part]
        elif isinstance(doc, list) and part.lstrip("-").isdigit() and -len(doc) <= int(part) < len(doc):
            doc = doc[int(part)]
        else:
            return MISSING
    return doc


def _json_text(v: Any) -> str:
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "true" if v else "false"
    return repr(v) if isinstance(v, float) else str(v)


def like(text: str, pattern: str, ci: bool) -> bool:
    rx = "".join(".*" if ch == "%" else "." if ch == "_" else re.escape(ch) for ch in pattern)
    return re.fullmatch(rx, text, re.DOTALL | (re.IGNORECASE if ci else 0)) is not None


def _doc_test(doc: dict[str, Any], node: Any) -> bool:
    kind = node[0]
    path = node[1][1]
    v = _get(doc, path)
    present = v is not MISSING and v is not None
    if kind == "isnull":
        return present
    if kind == "in":
        hit = present and any(_json_eq(v, x) for x in node[2])
        return (present and not hit) if node[3] else hit
    if kind == "like":
        hit = present and like(_json_text(v), node[2], node[3])
        return (present and not hit) if node[4] else hit
    op, want = node[2], node[3]
    if op == "=":
        return v is not MISSING and _json_eq(v, want)
    if op == "!=":
        return v is not MISSING and not _json_eq(v, want)
    if isinstance(want, str):
        return isinstance(v, str) and _cmp(v, op, want)
    return (isinstance(v, int | float) and not isinstance(v, bool)) and _cmp(float(v), op, float(want))


def evaluate(node: Any, run: RunFacts) -> bool | None:
    """SQL's three-valued result of the filter for one run."""
    kind = node[0]
    if kind == "and":
        vals = [evaluate(n, run) for n in node[1]]
        return False if False in vals else None if None in vals else True
    if kind == "or":
        vals = [evaluate(n, run) for n in node[1]]
        return True if True in vals else None if None in vals else False
    if kind == "not":
        v = evaluate(node[1], run)
        return None if v is None else not v
    key_kind, path = node[1]
    if key_kind == "metric":
        value = run.metrics.get(path[0])
        if kind == "isnull":
            return (value is not None) if node[2] else (value is None)
        if kind == "in":
            hit = value is not None and any(value == float(x) for x in node[2])
            return not hit if node[3] else hit
        return value is not None and _cmp(value, node[2], float(node[3]))
    if key_kind in ("param", "tag"):
        docs = run.param_docs if key_kind == "param" else [run.tags]
        if kind == "isnull":
            has = any(_doc_test(d, node) for d in docs)
            return has if node[2] else not has
        if key_kind == "tag":
            return _doc_test(run.tags, node)
        return any(_doc_test(d, node) for d in docs)
    value = run.attrs[path[0]]
    if kind == "isnull":
        return (value is not None) if node[2] else (value is None)
    if value is None:
        return None
    if kind == "in":
        want = [_attr_value(path[0], x) for x in node[2]]
        hit = value in want
        return not hit if node[3] else hit
    if kind == "like":
        hit = like(value, node[2], node[3])
        return not hit if node[4] else hit
    return _cmp(value, node[2], _attr_value(path[0], node[3]))


def _attr_value(name: str, v: Any) -> Any:
    if name in ("start_time", "end_time", "created_at", "updated_at"):
        stamp = datetime.fromisoformat(v)
        return stamp.replace(tzinfo=UTC) if stamp.tzinfo is None else stamp
    if name in ("id", "experiment_id", "parent_run_id"):
        return UUID(v)
    return v


def matching(where: str | None, runs: list[RunFacts]) -> list[RunFacts]:
    if where is None:
        return list(runs)
    node = Parser(where).parse()
    return [r for r in runs if evaluate(node, r) is True]


def ordered(runs: list[RunFacts], order: list[tuple[str, tuple[str, ...], bool]]) -> list[RunFacts]:
    """Sorted by the keys (kind, path, descending), nulls last either way, then id in the
    first key's direction."""
    def value(run: RunFacts, kind: str, path: tuple[str, ...]) -> Any:
        return run.metrics.get(path[0]) if kind == "metric" else run.attrs[path[0]]

    out = sorted(runs, key=lambda r: r.id.int, reverse=order[0][2])
    for kind, path, desc in reversed(order):
        present = [r for r in out if value(r, kind, path) is not None]
        absent = [r for r in out if value(r, kind, path) is None]
        present.sort(key=lambda r, k=kind, p=path: value(r, k, p), reverse=desc)
        out = present + absent
    return out
