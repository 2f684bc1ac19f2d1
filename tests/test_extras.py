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
