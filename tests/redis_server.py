"""A real Redis for tests: Debian's ``redis-server`` in a subprocess on 127.0.0.1.

:class:`RedisServer` starts one on a free port, with an append-only file in a directory of
its own (``--appendonly yes``, no RDB snapshots), and talks to it over a raw socket in RESP,
so neither it nor the tests need a Redis client library. The fixtures:

- ``redis_server`` (per module): a started :class:`RedisServer`, stopped after the module;
- ``redis_url`` (per test): its ``redis://127.0.0.1:PORT/0``, emptied (FLUSHALL) first.

A test module takes them with ``from tests.redis_server import redis_server, redis_url  #
noqa: F401``. Without ``redis-server`` installed the tests fail, they are not skipped: CI
installs it (``apt-get install redis-server``).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
import weakref
from collections.abc import Iterator
from pathlib import Path

import pytest

#: How many ports :meth:`RedisServer.start` tries: one taken between the moment it was found
#: free and the moment redis-server binds it costs one more.
PORT_ATTEMPTS = 5
#: Seconds a redis-server has to answer PING once started.
STARTUP_TIMEOUT = 10.0

Reply = bytes | int | str | list | None  # str: a simple string or an error ("-ERR ...")


def redis_binary() -> str:
    """The path of ``redis-server``; the test fails if there is none."""
    found = shutil.which("redis-server") or (
        "/usr/bin/redis-server" if os.access("/usr/bin/redis-server", os.X_OK) else None
    )
    if found is None:
        pytest.fail("redis-server not found: apt-get install redis-server")
    return found


def free_port() -> int:
    """A port of 127.0.0.1 that was free a moment ago (bound to port 0, then closed)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def encode_command(*args: str | bytes | int) -> bytes:
    """One command as a RESP array of bulk strings."""
    parts = [f"*{len(args)}\r\n".encode()]
    for arg in args:
        data = arg if isinstance(arg, bytes) else str(arg).encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(parts)


def _read_reply(stream) -> tuple[bytes, Reply]:
    """Read one whole RESP2 reply from a binary file: its raw bytes and its value."""
    line = stream.readline()
    if not line.endswith(b"\r\n"):
        raise ConnectionError(f"redis closed the connection mid-reply: {line!r}")
    kind, rest = line[:1], line[1:-2]
    if kind in (b"+", b"-"):
        return line, rest.decode(errors="replace") if kind == b"+" else "-" + rest.decode()
    if kind == b":":
        return line, int(rest)
    if kind == b"$":
        size = int(rest)
        if size < 0:
            return line, None
        data = stream.read(size + 2)
        if len(data) != size + 2:
            raise ConnectionError("redis closed the connection mid-reply")
        return line + data, data[:-2]
    if kind == b"*":
        count = int(rest)
        if count < 0:
            return line, None
        raw, items = [line], []
        for _ in range(count):
            item_raw, item = _read_reply(stream)
            raw.append(item_raw)
            items.append(item)
        return b"".join(raw), items
    raise ConnectionError(f"not a RESP reply: {line!r}")


def parse_reply(raw: bytes) -> Reply:
    """The value of one raw RESP reply (as :meth:`RedisServer.command` returns): bytes for a
    bulk string, int, str for a status (``"OK"``) or an error (``"-ERR ..."``), a list for an
    array, None for a nil."""
    import io

    return _read_reply(io.BytesIO(raw))[1]


def _end(processes: list[subprocess.Popen]) -> None:
    """End each process (SIGTERM, then SIGKILL after 10 s) and empty the list."""
    while processes:
        process = processes.pop()
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _cleanup(processes: list[subprocess.Popen], directory: Path) -> None:
    _end(processes)
    shutil.rmtree(directory, ignore_errors=True)


class RedisServer:
    """``redis-server`` on 127.0.0.1 and a free port until :meth:`stop` (or the ``with``
    block's end). Its data and log live in a temporary directory of its own, removed by
    :meth:`stop` (so a stopped server is not started again; :meth:`restart` keeps it)."""

    def __init__(self, startup_timeout: float = STARTUP_TIMEOUT) -> None:
        self.startup_timeout = startup_timeout
        self.binary = redis_binary()
        self.dir = Path(tempfile.mkdtemp(prefix="reviewarc-redis-"))
        self.logfile = self.dir / "redis.log"
        self._live: list[subprocess.Popen] = []  # the process while it runs
        self.port = 0
        # A server a test forgot to stop ends with this object, or with the interpreter.
        self._finalizer = weakref.finalize(self, _cleanup, self._live, self.dir)
        self.attempts = 0  # ports tried by the last start()

    # -- life ----------------------------------------------------------------------------------

    @property
    def process(self) -> subprocess.Popen | None:
        """The redis-server process, while it runs."""
        return self._live[-1] if self._live else None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> RedisServer:
        """Start it and return once it answers PING as the process started here; a port taken
        meanwhile by another process costs a retry on another one, up to PORT_ATTEMPTS."""
        self.attempts = 0
        try:
            for _ in range(PORT_ATTEMPTS):
                self.attempts += 1
                if self._start_on(free_port()):
                    return self
            pytest.fail(f"redis-server: no free port in {PORT_ATTEMPTS} tries\n{self.log_tail()}")
        except BaseException:
            self.stop()  # no process nor directory left behind by a start that failed
            raise

    def restart(self) -> RedisServer:
        """Stop the process (as SIGTERM does: it writes its append-only file out) and start a
        new one on the same directory, so on its data; on the same port if it is still free."""
        port = self.port
        self._terminate()
        try:
            if self._start_on(port):
                return self
        except BaseException:
            self.stop()
            raise
        return self.start()

    def _start_on(self, port: int) -> bool:
        """Start on ``port``: True once it answers, False if the port was taken; the test fails
        on any other trouble."""
        command = [
            self.binary,
            "--port", str(port),
            "--bind", "127.0.0.1",
            "--protected-mode", "no",
            "--daemonize", "no",
            "--appendonly", "yes",
            "--save", "",
            "--dir", str(self.dir),
            "--logfile", str(self.logfile),
        ]  # fmt: skip
        with (self.dir / "stdout.log").open("ab") as out:
            process = subprocess.Popen(
                command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
        self._live.append(process)
        self.port = port
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                if "Address already in use" in self.log_tail():
                    self._live.remove(process)
                    return False
                pytest.fail(f"redis-server exited ({process.returncode})\n{self.log_tail()}")
            if self._answers_as(process.pid, timeout=max(0.05, deadline - time.monotonic())):
                return True
            time.sleep(0.02)
        self._terminate()
        pytest.fail(f"redis-server: no PONG within {self.startup_timeout} s\n{self.log_tail()}")

    def _answers_as(self, pid: int, timeout: float) -> bool:
        """Whether the server on self.port answers PING and is process ``pid`` (not another
        program that took the port), each reply within ``timeout`` (at most 0.5 s: a port
        taken by a program that accepts and never answers costs that long a try)."""
        timeout = min(timeout, 0.5)
        try:
            if self.command("PING", timeout=timeout) != b"+PONG\r\n":
                return False
            info = parse_reply(self.command("INFO", "server", timeout=timeout))
        except OSError:
            return False
        return isinstance(info, bytes) and f"process_id:{pid}\r\n".encode() in info

    def _terminate(self) -> None:
        _end(self._live)

    def stop(self) -> None:
        """End the process (SIGTERM, SIGKILL after 10 s) and remove its directory."""
        self._finalizer()

    def log_tail(self, size: int = 3000) -> str:
        """The end of what it logged and printed (for failure messages)."""
        text = ""
        for name in ("stdout.log", "redis.log"):
            path = self.dir / name
            if path.exists():
                text += path.read_text(errors="replace")
        return text[-size:]

    # -- talking to it -------------------------------------------------------------------------

    def command(self, *args: str | bytes | int, timeout: float = 10.0) -> bytes:
        """Send one command on a new connection and return its raw RESP reply, e.g.
        ``command("DBSIZE") == b":0\\r\\n"``. :func:`parse_reply` reads it."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=timeout) as sock:
            sock.sendall(encode_command(*args))
            with sock.makefile("rb") as stream:
                return _read_reply(stream)[0]

    def call(self, *args: str | bytes | int) -> Reply:
        """The parsed reply of one command (see :func:`parse_reply`)."""
        return parse_reply(self.command(*args))

    def keys(self, pattern: str = "*") -> list[str]:
        """Every key (matching ``pattern``), sorted."""
        reply = self.call("KEYS", pattern)
        assert isinstance(reply, list), reply
        return sorted(key.decode(errors="replace") for key in reply)

    def flushall(self) -> None:
        reply = self.call("FLUSHALL")
        assert reply == "OK", reply


@pytest.fixture(scope="module")
def redis_server() -> Iterator[RedisServer]:
    """A redis-server for the whole test module."""
    with RedisServer() as server:
        yield server


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """The module's redis-server, emptied for this test: its URL."""
    redis_server.flushall()
    return redis_server.url
