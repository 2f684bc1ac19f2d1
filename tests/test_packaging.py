"""The built wheel works on its own: SQL files and migrations ship inside the package."""

from __future__ import annotations

import hashlib
import json
import os
import site
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from resultsdb import _paths
from resultsdb.registry import Registry

ROOT = Path(__file__).resolve().parent.parent

# Run by the wheel's interpreter, isolated (-I: no cwd, no PYTHON* variables on sys.path).
_PROBE = """
import hashlib, json, sys
import resultsdb
from resultsdb import _paths, migrate
from resultsdb.db import Database
from resultsdb.registry import default_registry
from resultsdb.repositories import catalog

queries = sorted(default_registry().queries)
with Database(url=sys.argv[1]) as db:
    applied = migrate.migrate(db)
    with db.connection() as conn:
        migrated = catalog.series_tables_exist(conn)
print(json.dumps({
    "package": resultsdb.__file__,
    "data_root": str(_paths.data_root()),
    "migrations_dir": str(_paths.migrations_dir()),
    "migrations": {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
                   for p in _paths.migrations_dir().iterdir()},
    "queries": queries,
    "applied": applied,
    "migrated": migrated,
    "sys_path": sys.path,
}))
"""


def run(args: list[str], cwd: Path | None = None,
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(args, capture_output=True, text=True, timeout=300, cwd=cwd, env=env)
    assert done.returncode == 0, f"{args}\n{done.stdout}\n{done.stderr}"
    return done


@pytest.mark.slow
def test_wheel_carries_sql_and_migrations_and_migrates(empty_db_url: str, tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    # sdist first, then the wheel from the sdist: both must carry sql/ and migrations/.
    run([sys.executable, "-m", "build", "--outdir", str(dist), str(ROOT)])
    [wheel] = dist.glob("resultsdb-*.whl")

    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    python = venv / "bin" / "python"
    run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet",
         "--no-deps", "--no-index", str(wheel)])
    purelib = Path(run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"])
                   .stdout.strip())
    # The dependencies come from this environment's site-packages, added as a plain path:
    # its .pth files (the editable install's pointer to the checkout) are not read.
    parent_sites = {sysconfig.get_path("purelib"), *site.getsitepackages()}
    (purelib / "zz_parent_env.pth").write_text("\n".join(sorted(parent_sites)) + "\n")

    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    probe = run([str(python), "-I", "-c", _PROBE, empty_db_url], cwd=tmp_path, env=env)
    found = json.loads(probe.stdout.strip().splitlines()[-1])

    package = Path(found["package"])
    assert package == purelib / "resultsdb" / "__init__.py", found["package"]
    assert str(ROOT) not in found["sys_path"] and "" not in found["sys_path"]
    assert Path(found["data_root"]) == purelib / "resultsdb" / "_data"
    assert Path(found["migrations_dir"]).is_relative_to(purelib)

    shipped = {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
               for p in _paths.migrations_dir().iterdir()}
    assert "0001_initial.sql" in found["migrations"]
    assert found["migrations"] == shipped
    assert found["queries"] == sorted(Registry.load().queries)

    steps = sorted(name.removesuffix(".sql") for name in shipped if not name.endswith(".rollback.sql"))
    assert found["applied"] == steps
    assert found["migrated"] is True
