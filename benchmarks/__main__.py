"""Run every benchmark, print the table, write docs/benchmarks.md."""

from __future__ import annotations

import importlib
import sys

from benchmarks._harness import Result, bench_database, write_report

MODULES = ["benchmarks.bench_api", "benchmarks.bench_lists", "benchmarks.bench_artifacts",
           "benchmarks.bench_series", "benchmarks.bench_search", "benchmarks.bench_tearsheet"]


def main(argv: list[str]) -> int:
    wanted = [m for m in MODULES if not argv or any(a in m for a in argv)]
    results: list[Result] = []
    with bench_database() as bench:
        for name in wanted:
            module = importlib.import_module(name)
            print(f"-- {name}", flush=True)
            results += module.run(bench)
    print(write_report(results, bench.server))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
