"""Shared fixtures for the redis-py compat suite.

Target: REDIS_URL, or FERROKEY_HOST / FERROKEY_PORT (default 127.0.0.1:6379).
COMPAT_SERVER_BIN: a redis-server-compatible binary for tests that need a
private server (restart, requirepass). COMPAT_TARGET=ferrokey|redis
overrides detection; COMPAT_PENDING=none|5,7 overrides ../../pending.json.
"""

import json
import os
import pathlib
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from urllib.parse import unquote, urlparse

import pytest
import redis

HERE = pathlib.Path(__file__).resolve().parent


def _address():
    url = os.environ.get("REDIS_URL")
    if url:
        u = urlparse(url)
        return u.hostname or "127.0.0.1", u.port or 6379, unquote(u.password) if u.password else None
    return (
        os.environ.get("FERROKEY_HOST", "127.0.0.1"),
        int(os.environ.get("FERROKEY_PORT", "6379")),
        os.environ.get("FERROKEY_PASSWORD") or None,
    )


HOST, PORT, PASSWORD = _address()
SERVER_BIN = os.environ.get("COMPAT_SERVER_BIN", "")


def _detect_target():
    if os.environ.get("COMPAT_TARGET"):
        return os.environ["COMPAT_TARGET"]
    c = redis.Redis(host=HOST, port=PORT, password=PASSWORD, socket_timeout=5)
    try:
        return "ferrokey" if "ferrokey_version" in c.info("server") else "redis"
    finally:
        c.close()


TARGET = _detect_target()


def _pending():
    names = json.loads((HERE.parent.parent / "pending.json").read_text())["pending"]
    env = os.environ.get("COMPAT_PENDING")
    if env is None or env == "":
        return names
    if env == "none":
        return {}
    return {i.strip(): names.get(i.strip(), "family") for i in env.split(",") if i.strip()}


PENDING = _pending() if TARGET == "ferrokey" else {}


def server_version():
    c = redis.Redis(host=HOST, port=PORT, password=PASSWORD, socket_timeout=5)
    try:
        return tuple(int(x) for x in c.info("server")["redis_version"].split(".")[:2])
    finally:
        c.close()


def pytest_report_header(config):
    return f"compat target: {TARGET} at {HOST}:{PORT}; pending issues: {', '.join(sorted(PENDING, key=int)) or 'none'}"


def pytest_collection_modifyitems(config, items):
    for item in items:
        m = item.get_closest_marker("needs")
        if not m:
            continue
        open_ = [str(i) for i in m.args if str(i) in PENDING]
        if open_:
            reason = "pending: waits for " + ", ".join(f"issue {i} ({PENDING[i]})" for i in open_)
            item.add_marker(pytest.mark.skip(reason=reason))


def new_client(protocol=2, **kw):
    opts = dict(host=HOST, port=PORT, password=PASSWORD, protocol=protocol, decode_responses=True, socket_timeout=10, socket_connect_timeout=5)
    opts.update(kw)
    return redis.Redis(**opts)


@pytest.fixture(params=[2, 3], ids=["resp2", "resp3"])
def protocol(request):
    return request.param


@pytest.fixture
def pfx():
    return f"compat:py:{uuid.uuid4().hex[:8]}:"


def _cleanup(prefix, db=0):
    c = redis.Redis(host=HOST, port=PORT, password=PASSWORD, db=db, socket_timeout=10)
    try:
        keys = list(c.scan_iter(match=prefix + "*", count=500))
        for i in range(0, len(keys), 500):
            c.delete(*keys[i : i + 500])
    finally:
        c.close()


@pytest.fixture
def r(protocol, pfx):
    c = new_client(protocol)
    yield c
    c.close()
    _cleanup(pfx)


@pytest.fixture
def clients(protocol, pfx):
    made = []

    def make(**kw):
        c = new_client(protocol, **kw)
        made.append(c)
        return c

    yield make
    for c in made:
        try:
            c.close()
        except Exception:
            pass
    for db in (0, 3):
        _cleanup(pfx, db)


def wait_for(fn, timeout=5.0, what="condition", every=0.02):
    end = time.monotonic() + timeout
    while True:
        v = fn()
        if v:
            return v
        if time.monotonic() > end:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(every)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PrivateServer:
    """A server of our own (COMPAT_SERVER_BIN) on a free 127.0.0.1 port."""

    def __init__(self, *args):
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="compat-py-srv-")
        self.args = list(args)
        self.proc = None
        self.start()

    def start(self):
        cmd = [SERVER_BIN, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", self.dir, *self.args]
        self.proc = subprocess.Popen(cmd, cwd=self.dir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        def up():
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                    s.sendall(b"PING\r\n")
                    return s.recv(64)[:1] in (b"+", b"-")
            except OSError:
                return False

        wait_for(up, 10, f"server on port {self.port}", 0.05)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)

    def restart(self):
        self.stop()
        self.start()

    def close(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def private_server():
    if not SERVER_BIN:
        pytest.skip("COMPAT_SERVER_BIN not set: cannot start a private server")
    servers = []

    def make(*args):
        s = PrivateServer(*args)
        servers.append(s)
        return s

    yield make
    for s in servers:
        s.close()
