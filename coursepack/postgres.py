"""A private PostgreSQL server for the tests and benchmarks that put a gradebook on PostgreSQL.

Debian's server binaries (`postgresql-15`, installed by `make setup` as root), a data folder and
a port of its own, listening on 127.0.0.1 only, password login; stopped and removed after:

    with PostgresServer() as server:
        db_url = server.create_database("lab21")   # for c.CourseDirectory.db_url

As root, the server runs as Debian's `postgres` user (PostgreSQL refuses to run as root).
Durability is traded for speed (no fsync): the data is thrown away afterwards.
"""

import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

SERVER_ROOT = Path("/usr/lib/postgresql")
ROLE = "lab21"
DRIVER = "postgresql+psycopg"  # SQLAlchemy's dialect for psycopg 3


def server_binaries():
    """The newest installed PostgreSQL's bin/ folder, or None when there is none."""
    found = [path.parent for path in SERVER_ROOT.glob("*/bin/initdb")]
    return max(found, key=lambda path: int(path.parent.name)) if found else None


def missing_reason():
    """Why a private server cannot be had here, or "" when it can."""
    if server_binaries() is None:
        return "PostgreSQL's server is not installed (`make setup` as root installs postgresql-15)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "there is no `postgres` user to run the server as"
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "psycopg is not installed (`make setup`)"
    return ""


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PostgresServer:
    def __init__(self, port=None):
        self.port = port or free_port()
        self.password = secrets.token_hex(16)
        self.folder = None
        self.binaries = server_binaries()
        self.owner = pwd.getpwnam("postgres") if os.geteuid() == 0 else None

    def _run(self, *command):
        """Run a server program as the server's user; raise with its output if it fails."""
        options = {}
        if self.owner is not None:
            options = {"user": self.owner.pw_uid, "group": self.owner.pw_gid, "extra_groups": []}
        done = subprocess.run(
            [str(self.binaries / command[0]), *command[1:]],
            cwd=self.folder,
            capture_output=True,
            text=True,
            env={"PATH": os.environ.get("PATH", ""), "LC_ALL": "C.UTF-8"},
            **options,
        )
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed:\n{done.stdout}{done.stderr}")
        return done

    def start(self):
        reason = missing_reason()
        if reason:
            raise RuntimeError(reason)
        # Outside any folder of the caller's: the server's user must be able to reach it.
        self.folder = Path(tempfile.mkdtemp(prefix="lab21-postgres-"))
        password_file = self.folder / "password"
        password_file.write_text(self.password + "\n")
        password_file.chmod(0o600)
        if self.owner is not None:
            for path in (self.folder, password_file):
                os.chown(path, self.owner.pw_uid, self.owner.pw_gid)
        self._run(
            "initdb", "--pgdata", "data", "--username", ROLE, "--pwfile", str(password_file),
            "--auth", "scram-sha-256", "--encoding", "UTF8", "--no-instructions", "--no-sync",
        )  # fmt: skip
        password_file.unlink()
        settings = " ".join([
            f"-p {self.port}",
            "-c listen_addresses=127.0.0.1",
            f"-c unix_socket_directories={self.folder}",
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off",
        ])  # fmt: skip
        self._run("pg_ctl", "--pgdata", "data", "--log", "server.log", "--wait",
                  "--options", settings, "start")
        return self

    def url(self, database):
        """An SQLAlchemy URL for `database` on this server (what nbgrader's db_url takes)."""
        return f"{DRIVER}://{ROLE}:{self.password}@127.0.0.1:{self.port}/{database}"

    def _admin(self):
        import psycopg

        return psycopg.connect(
            host="127.0.0.1", port=self.port, user=ROLE, password=self.password,
            dbname="postgres", autocommit=True,
        )  # fmt: skip

    def create_database(self, name, template=None):
        """Create a database (a copy of `template`, if given); return its URL."""
        from psycopg import sql

        statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template:
            statement += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
        with self._admin() as connection:
            connection.execute(statement)
        return self.url(name)

    def stop(self):
        if self.folder is None:
            return
        try:
            if (self.folder / "data" / "postmaster.pid").exists():
                self._run("pg_ctl", "--pgdata", "data", "--mode", "fast", "--wait", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()
