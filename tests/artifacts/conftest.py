"""Fixtures for the artifact tests: one store per backend (local, memory, S3), a real S3 peer.

S3 is moto's server mode (``ThreadedMotoServer``) in a child process on loopback,
reached through s3fs over HTTP: a real protocol peer, not a mock of boto. It runs in
its own process so that tracemalloc in the memory tests measures only our side. A
cuttable TCP proxy in front of it lets a test pull the plug mid-upload while moto
keeps its state, so the test can then look at what is (not) in the bucket.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from resultsdb.artifacts import ArtifactStore
from resultsdb.db import Database
from resultsdb.records import Model, ModelVersion, Run
from resultsdb.repositories import experiments, models, runs

BACKENDS = ["local", "memory", "s3"]
S3_CREDENTIALS = {"key": "testing", "secret": "testing"}

_MOTO = """
import sys, threading
from moto.server import ThreadedMotoServer
server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
server.start()
print(server.get_host_and_port()[1], flush=True)
sys.stdin.read()  # runs until the test session closes our stdin
server.stop()
"""


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """``http://127.0.0.1:<port>`` of a moto S3 server in a child process."""
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    child = subprocess.Popen([sys.executable, "-c", _MOTO], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    try:
        assert child.stdout is not None
        port = int(child.stdout.readline().strip())
        yield f"http://127.0.0.1:{port}"
    finally:
        assert child.stdin is not None
        child.stdin.close()
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def s3_options(endpoint: str, **overrides: Any) -> dict[str, Any]:
    options: dict[str, Any] = {
        **S3_CREDENTIALS, "endpoint_url": endpoint, "skip_instance_cache": True,
        "client_kwargs": {"region_name": "us-east-1"},
        "config_kwargs": {"connect_timeout": 2, "read_timeout": 20,
                          "retries": {"max_attempts": 2, "mode": "standard"}},
    }
    options.update(overrides)
    return options


def make_bucket(endpoint: str) -> str:
    import boto3

    name = f"rdb-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                 aws_access_key_id="testing", aws_secret_access_key="testing").create_bucket(Bucket=name)
    return name


def bucket_keys(endpoint: str, bucket: str) -> list[str]:
    """Every object key in the bucket, straight from moto (no proxy, no client cache)."""
    import boto3

    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                          aws_access_key_id="testing", aws_secret_access_key="testing")
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return [o["Key"] for page in pages for o in page.get("Contents", [])]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def store_factory(backend: str, tmp_path: Path, request: pytest.FixtureRequest
                  ) -> Callable[..., ArtifactStore]:
    """Make stores on this test's backend; every call without ``url`` shares one root."""
    if backend == "local":
        url = (tmp_path / "artifacts").as_uri()
        return lambda **kw: ArtifactStore(url, **kw)
    if backend == "memory":
        url = f"memory://rdb-test-{uuid.uuid4().hex}/artifacts"
        return lambda **kw: ArtifactStore(url, **kw)
    endpoint = request.getfixturevalue("moto_endpoint")
    bucket = make_bucket(endpoint)
    return lambda **kw: ArtifactStore(f"s3://{bucket}/artifacts", **s3_options(endpoint, **kw))


@pytest.fixture
def store(store_factory: Callable[..., ArtifactStore]) -> ArtifactStore:
    return store_factory()


# -- a proxy that can be cut ----------------------------------------------------------


class CutProxy:
    """Forwards loopback TCP connections to ``target``; :meth:`cut` drops them all at once."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.sockets: list[socket.socket] = []
        self.lock = threading.Lock()
        self.cut_done = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.cut_done.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            with self.lock:
                if self.cut_done.is_set():
                    client.close()
                    upstream.close()
                    return
                self.sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := src.recv(1 << 16):
                dst.sendall(data)
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_WR)

    def cut(self) -> None:
        """Like the server vanishing: refuse new connections, reset every open one."""
        self.cut_done.set()
        self.listener.close()
        with self.lock:
            for s in self.sockets:
                with contextlib.suppress(OSError):
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                    s.close()


@pytest.fixture
def cut_proxy(moto_endpoint: str) -> Iterator[CutProxy]:
    proxy = CutProxy(int(moto_endpoint.rsplit(":", 1)[1]))
    yield proxy
    proxy.cut()


# -- rows to hang artifacts on ---------------------------------------------------------


@pytest.fixture
def run(db: Database) -> Run:
    exp = db.write(lambda c: experiments.create(c, {"name": f"art-{uuid.uuid4().hex[:6]}"}))
    return db.write(lambda c: runs.create(c, {"experiment_id": exp.id, "name": "artifacts"}))


@pytest.fixture
def model(db: Database, run: Run) -> Model:
    return db.write(lambda c: models.create(
        c, {"run_id": run.id, "model_type": "dqn", "name": f"model-{uuid.uuid4().hex[:6]}"}))


@pytest.fixture
def new_version(db: Database, model: Model, run: Run) -> Callable[[], ModelVersion]:
    return lambda: db.write(lambda c: models.create_version(
        c, {"model_id": model.id, "run_id": run.id}))


def wait_until(predicate: Callable[[], bool], timeout: float = 10.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)
