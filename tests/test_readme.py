"""The README's Python example runs as written, against a fresh database."""

from __future__ import annotations

import re
from pathlib import Path

import psycopg
import pytest

README = Path(__file__).resolve().parent.parent / "README.md"


def python_example() -> str:
    """The first ```python block of the README's "Python API" section."""
    text = README.read_text()
    section = text.split("\n## Python API\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, re.DOTALL)
    assert blocks, "the Python API section has no python block"
    return blocks[0]


def test_example_is_about_twenty_lines() -> None:
    lines = [line for line in python_example().splitlines() if line.strip()]
    assert 15 <= len(lines) <= 25


def test_readme_python_example_runs(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str], conn: psycopg.Connection) -> None:
    monkeypatch.setenv("RESULTSDB_URL", db_url)
    monkeypatch.setenv("RESULTSDB_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("RESULTSDB_ARTIFACTS_URL", (tmp_path / "artifacts").as_uri())
    monkeypatch.chdir(tmp_path)  # no .env or ./.resultsdb of the checkout is used
    code = compile(python_example(), str(README), "exec")

    exec(code, {"__name__": "readme"})  # noqa: S102 - the README's own example
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "1 backtest 1.9"
    assert out[1] == "[Change(key='fast', old=10, new=20)]"
    assert out[2] == "[1, 2]"
    assert conn.execute("select status from runs order by created_at").fetchall() == [
        ("completed",), ("completed",)]
    assert conn.execute("select count(*) from hyperparameter_results where status = 'completed'"
                        ).fetchone()[0] == 3
    assert any((tmp_path / "artifacts").rglob("*")), "the model's bytes went to the artifact store"

    # As written it can run again (exist_ok; the model gains a version, promoted in turn).
    exec(code, {"__name__": "readme"})  # noqa: S102
    versions = conn.execute("select version, status from model_versions order by version").fetchall()
    assert versions == [(1, "archived"), (2, "production")]
    assert conn.execute("select count(*) from experiments").fetchone()[0] == 1
