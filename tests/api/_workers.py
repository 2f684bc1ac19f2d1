"""Functions run in child processes (spawn: importable by module path, no fixtures)."""

from __future__ import annotations


def trial_worker(url: str, run_id: str, worker: int, count: int, start_event: object) -> list[int]:
    """Start and finish ``count`` trials of one run with a ResultsDB of this process's own."""
    from resultsdb.api import ResultsDB

    numbers = []
    with ResultsDB(url=url) as db:
        db.get_run(run_id)  # connected before the start signal, so the processes really overlap
        start_event.wait()  # type: ignore[attr-defined]  # a Barrier or Event proxy
        for i in range(count):
            trial = db.start_trial(run_id, {"worker": worker, "i": i})
            db.finish_trial(trial, objective_value=float(worker * 1000 + i), metrics={"i": i})
            numbers.append(trial.trial_number)
    return numbers


def promote_worker(url: str, version_id: str, start_event: object) -> str:
    """Promote one version to production (for the promotion race across processes)."""
    from resultsdb.api import ResultsDB

    with ResultsDB(url=url) as db:
        db.version_history(version_id)  # connected before the start signal
        start_event.wait()  # type: ignore[attr-defined]  # a Barrier or Event proxy
        return db.promote(version_id, "production", reason="race", actor=f"proc-{version_id[-4:]}").status
