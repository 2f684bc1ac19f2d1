"""Optional parts and their extras: the core import loads none of them, a part used
without its extra names the extra, and the report leaves the caller's matplotlib alone.
(tests/test_packaging.py runs the core install itself, in a venv of its own.)"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from resultsdb import extras
from resultsdb.errors import MissingExtra

OPTIONAL = sorted({m for modules in extras.EXTRAS.values() for m in modules})


def python(code: str, *args: str) -> str:
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


def test_import_resultsdb_loads_no_optional_package() -> None:
    loaded = json.loads(python(
        "import json, sys, resultsdb\n"
        "from resultsdb import connect, ResultsDB, Settings\n"
        f"print(json.dumps(sorted(m for m in {OPTIONAL!r} if m in sys.modules)))"))
    assert loaded == []


# What a pipeline stage pays for when it imports resultsdb only to pass it on, and what the
# command's --help pays for: neither needs a driver, a model library or the migrator.
HEAVY = ["psycopg", "psycopg_pool", "pydantic", "pydantic_settings", "yoyo", "fsspec", "tenacity"]


def loaded_after(code: str) -> list[str]:
    return json.loads(python(
        f"import json, sys\n{code}\n"
        f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))"))


def test_import_resultsdb_is_lazy_and_its_names_load_on_first_use() -> None:
    assert loaded_after("import resultsdb, resultsdb.errors") == []
    assert {"psycopg", "pydantic"} <= set(loaded_after("import resultsdb; resultsdb.connect"))
    names = json.loads(python(
        "import json, resultsdb\n"
        "print(json.dumps([n for n in resultsdb.__all__ if getattr(resultsdb, n, None) is None]"
        " + [n for n in resultsdb.__all__ if n not in dir(resultsdb)]))"))
    assert names == []
    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        import resultsdb

        resultsdb.nothing_here  # noqa: B018 - the attribute access is the test


def test_cli_help_loads_no_driver_and_no_model_library() -> None:
    assert loaded_after(
        "import sys\nfrom resultsdb.__main__ import main\nsys.argv = ['resultsdb', '--help']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass") == []


def test_a_part_used_without_its_extra_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(extras, "find_spec", lambda name: None if name == "pyarrow" else object())
    assert extras.missing("series") == ["pyarrow"]
    with pytest.raises(MissingExtra) as caught:
        extras.require("series", "write_equity")
    assert caught.value.extra == "series" and caught.value.missing == ["pyarrow"]
    assert str(caught.value) == ("write_equity needs the 'series' extra, which is not installed "
                                 "(no module pyarrow): pip install 'resultsdb[series]'")
    assert isinstance(caught.value, ImportError)  # `except ImportError` still catches it
    extras.require("cli", "the resultsdb command")  # present: nothing raised


def test_the_report_leaves_the_callers_matplotlib_backend_and_pyplot_alone(tmp_path: Path) -> None:
    found = json.loads(python(
        "import json, sys, matplotlib\n"
        "matplotlib.use('pdf')\n"
        "import pandas as pd\n"
        "from resultsdb import report\n"
        "ts = pd.date_range('2026-01-01', periods=50, freq='D', tz='UTC')\n"
        "curve = pd.DataFrame({'portfolio_value': range(100, 150), 'benchmark_value': range(100, 150)},"
        " index=ts, dtype=float)\n"
        "curve['drawdown'] = curve['portfolio_value'] / curve['portfolio_value'].cummax() - 1\n"
        "path = report.plot_run(curve, 'run', sys.argv[1])\n"
        "print(json.dumps([matplotlib.get_backend(), 'matplotlib.pyplot' in sys.modules,"
        " open(path, 'rb').read(8).hex()]))", str(tmp_path / "run.png")))
    backend, pyplot_loaded, magic = found
    assert backend == "pdf" and pyplot_loaded is False
    assert magic == "89504e470d0a1a0a"  # a PNG
