"""A throwaway PostgreSQL server on loopback for tests: ``PostgresServer.start()``.

It uses the server binaries of the Debian ``postgresql`` package (``make postgres`` installs
them) or ``initdb``/``pg_ctl`` on PATH. initdb refuses to run as root, so as root the server
runs as the ``postgres`` system user, in a temporary directory it owns. Fast and unsafe
settings (no fsync) suit a database that lives for one test run.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from servers import free_port

SUPERUSER = "postgres"


def _bin_dir() -> Path:
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(Path(p).parts[-3]),
    )
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb is None:
        raise RuntimeError("PostgreSQL's initdb was not found: run `make postgres`")
    return Path(initdb).resolve().parent


@dataclass
class PostgresServer:
    directory: Path
    port: int
    password: str
    bin_dir: Path
    #: Runs a command as the server's owner (``runuser -u postgres --`` when root).
    as_owner: tuple[str, ...]
    host: str = "127.0.0.1"

    @classmethod
    def start(cls) -> PostgresServer:
        directory = Path(tempfile.mkdtemp(prefix="faasport-pg-"))
        as_owner: tuple[str, ...] = ()
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            os.chown(directory, owner.pw_uid, owner.pw_gid)
            as_owner = ("runuser", "-u", "postgres", "--")
        server = cls(directory, free_port(), os.urandom(8).hex(), _bin_dir(), as_owner)
        password_file = directory / "password"
        password_file.write_text(server.password + "\n")
        if as_owner:
            shutil.chown(password_file, "postgres")
        server._run(
            "initdb",
            "--pgdata",
            str(server.data),
            "--username",
            SUPERUSER,
            "--pwfile",
            str(password_file),
            "--auth",
            "scram-sha-256",
            "--encoding",
            "UTF8",
            "--locale",
            "C",
            "--no-sync",
            "--no-instructions",
        )
        password_file.unlink()
        server._pg_ctl("start", *server._start_options())
        return server

    @property
    def data(self) -> Path:
        return self.directory / "data"

    def url(
        self,
        user: str = SUPERUSER,
        password: str | None = None,
        database: str = "postgres",
        driver: str = "postgresql+psycopg",
    ) -> str:
        secret = self.password if password is None else password
        return f"{driver}://{user}:{secret}@{self.host}:{self.port}/{database}"

    def execute(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        """Run one statement as the superuser (autocommit); the rows it returns."""
        import psycopg

        with psycopg.connect(
            host=self.host,
            port=self.port,
            user=SUPERUSER,
            password=self.password,
            dbname="postgres",
            autocommit=True,
        ) as connection:
            cursor = connection.execute(sql, params or None)
            return cursor.fetchall() if cursor.description else []

    def restart(self) -> None:
        self._pg_ctl("restart", "--mode", "fast", *self._start_options())

    def stop(self) -> None:
        try:
            self._pg_ctl("stop", "--mode", "immediate")
        finally:
            shutil.rmtree(self.directory, ignore_errors=True)

    def _start_options(self) -> tuple[str, ...]:
        settings = (
            f"-c listen_addresses={self.host} -p {self.port} -k {self.directory} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
            "-c shared_buffers=16MB -c max_connections=40"
        )
        return ("--log", str(self.directory / "server.log"), "-o", settings)

    def _pg_ctl(self, action: str, *options: str) -> None:
        self._run(
            "pg_ctl", action, "--pgdata", str(self.data), "--wait", "--timeout", "30", *options
        )

    def _run(self, program: str, *arguments: str) -> None:
        command = [*self.as_owner, str(self.bin_dir / program), *arguments]
        result = subprocess.run(command, capture_output=True, text=True, cwd=self.directory)
        if result.returncode != 0:
            log = self.directory / "server.log"
            detail = log.read_text() if log.exists() else ""
            raise RuntimeError(
                f"{program} {arguments[0]} failed: {result.stdout}{result.stderr}{detail}"
            )
