"""A throwaway PostgreSQL server on loopback, for the serving tests and ``make bench``.

It uses the server programs of Debian's ``postgresql`` package (``.ci/run`` installs it when
missing): ``initdb`` into a new temporary folder, ``pg_ctl start`` on a free 127.0.0.1 port with
the socket in that folder, and everything removed on exit. PostgreSQL refuses to run as root, so
when this process is root the server programs run as the ``postgres`` system user that the
package creates. The superuser ``voc_admin`` has a random password; TCP logins use
scram-sha-256, so a role's password is really checked.
"""

from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

SUPERUSER = "voc_admin"
DATABASE = "voc"


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server programs here, or they cannot start for a reason outside the project."""


@dataclass(frozen=True)
class TemporaryPostgres:
    host: str
    port: int
    user: str
    password: str
    database: str
    data_dir: Path

    def url(self, user: str | None = None, password: str | None = None, database: str | None = None) -> str:
        who = user or self.user
        secret = self.password if password is None and user is None else password
        auth = f"{who}:{secret}@" if secret else f"{who}@"
        return f"postgresql://{auth}{self.host}:{self.port}/{database or self.database}"


def server_bin_dir() -> Path:
    """The folder of ``initdb``/``pg_ctl``: ``pg_config --bindir`` when it has them, else the
    newest ``/usr/lib/postgresql/*/bin``."""
    candidates = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        result = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False)
        if result.returncode == 0:
            candidates.append(Path(result.stdout.strip()))
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name) if Path(p).parent.name.isdigit() else 0)
    candidates += [Path(p) for p in reversed(versions)]
    for folder in candidates:
        if (folder / "initdb").is_file() and (folder / "pg_ctl").is_file():
            return folder
    raise PostgresUnavailable(
        "no PostgreSQL server programs (initdb, pg_ctl) found; install Debian's postgresql package "
        "(apt-get install -y postgresql, as .ci/run does)"
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _as_server_user() -> tuple[list[str], pwd.struct_passwd | None]:
    """The command prefix that runs a server program as a non-root user (none when not root)."""
    if os.geteuid() != 0:
        return [], None
    try:
        account = pwd.getpwnam("postgres")
    except KeyError:
        raise PostgresUnavailable("running as root and there is no 'postgres' user to run the server as") from None
    runuser = shutil.which("runuser") or shutil.which("setpriv")
    if not runuser:
        raise PostgresUnavailable("running as root and neither runuser nor setpriv is available")
    if runuser.endswith("runuser"):
        return [runuser, "-u", "postgres", "--"], account
    return [runuser, f"--reuid={account.pw_uid}", f"--regid={account.pw_gid}", "--init-groups"], account


@contextmanager
def temporary_postgres(startup_seconds: int = 60) -> Iterator[TemporaryPostgres]:
    """Start a new PostgreSQL server, yield how to reach it, stop and remove it afterwards.

    Raises ``PostgresUnavailable`` when the server programs are missing or the server does not
    start (its log tail is in the message)."""
    bin_dir = server_bin_dir()
    prefix, account = _as_server_user()
    root = Path(tempfile.mkdtemp(prefix="voc-pg-"))
    data_dir = root / "data"
    password = secrets.token_hex(16)
    pwfile = root / "pwfile"
    pwfile.write_text(password + "\n")
    if account is not None:
        os.chown(root, account.pw_uid, account.pw_gid)
        os.chown(pwfile, account.pw_uid, account.pw_gid)
    os.chmod(pwfile, 0o600)
    port = _free_port()
    log = root / "server.log"
    started = False
    try:
        init = subprocess.run(
            [*prefix, str(bin_dir / "initdb"), "-D", str(data_dir), "-U", SUPERUSER, f"--pwfile={pwfile}",
             "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"],
            capture_output=True, text=True, check=False,
        )
        if init.returncode != 0:
            raise PostgresUnavailable(f"initdb failed: {(init.stderr or init.stdout).strip()[-800:]}")
        options = f"-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories={root} -c fsync=off -c max_connections=60"
        start = subprocess.run(
            [*prefix, str(bin_dir / "pg_ctl"), "-D", str(data_dir), "-l", str(log), "-o", options, "-w",
             "-t", str(startup_seconds), "start"],
            capture_output=True, text=True, check=False,
        )
        if start.returncode != 0:
            tail = log.read_text(errors="replace")[-800:] if log.exists() else start.stderr
            raise PostgresUnavailable(f"pg_ctl start failed: {tail.strip()}")
        started = True
        create = subprocess.run(
            [*prefix, str(bin_dir / "createdb"), "-h", str(root), "-p", str(port), "-U", SUPERUSER, DATABASE],
            capture_output=True, text=True, check=False,
        )
        if create.returncode != 0:
            raise PostgresUnavailable(f"createdb failed: {create.stderr.strip()[-400:]}")
        yield TemporaryPostgres("127.0.0.1", port, SUPERUSER, password, DATABASE, data_dir)
    finally:
        if started:
            subprocess.run([*prefix, str(bin_dir / "pg_ctl"), "-D", str(data_dir), "-m", "immediate", "-w", "stop"],
                           capture_output=True, check=False)
        shutil.rmtree(root, ignore_errors=True)
