"""Throw-away PostgreSQL clusters on this machine: a primary and its hot standby kept by
streaming replication (`pg_basebackup -R`), for the replication tests (issue 19).

    primary = Cluster.primary(5451)          # initdb + start, trust auth on loopback
    standby = primary.standby(5452)          # pg_basebackup -R from the primary + start
    primary.psql("CREATE DATABASE x")
    standby.url("x")                         # postgresql://postgres@127.0.0.1:5452/x
    standby.stats("x")                       # pg_stat_database counters of x on the standby
    standby.log_since(mark)                  # statements the server logged (log_statement=all)
    standby.stop(); standby.start()          # stop("immediate"): as a crash
    primary.destroy()                        # stops both, removes their directories

Needs root (the servers run as the `postgres` system user) and PostgreSQL's server binaries
(`/usr/lib/postgresql/<version>/bin`); `skip_reason()` says why not when they are missing.
Every statement is logged with its client's application name (`log_line_prefix = '%a|'`), so a
test sees which server ran which query.
"""
from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any, Optional

SYSTEM_USER = "postgres"
SETTINGS = """
listen_addresses = '127.0.0.1'
port = {port}
unix_socket_directories = '{sockets}'
max_connections = 60
shared_buffers = 32MB
fsync = off
full_page_writes = off
wal_level = replica
max_wal_senders = 5
wal_keep_size = 64MB
hot_standby = on
hot_standby_feedback = on
log_statement = 'all'
log_line_prefix = '%a|'
logging_collector = off
"""
HBA = """local all all trust
host all all 127.0.0.1/32 trust
host replication all 127.0.0.1/32 trust
"""


def bin_dir() -> Optional[Path]:
    """The newest installed PostgreSQL server binaries, or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    return Path(found[-1]).parent if found else None


def skip_reason() -> Optional[str]:
    """Why clusters cannot be built here, or None."""
    if os.geteuid() != 0:
        return "les grappes PostgreSQL de test se créent en root (serveurs lancés en utilisateur postgres)"
    try:
        pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        return f"utilisateur système {SYSTEM_USER} absent"
    tools = bin_dir()
    if tools is None or not all((tools / t).exists() for t in ("initdb", "pg_ctl", "pg_basebackup", "psql")):
        return "binaires serveur PostgreSQL introuvables (/usr/lib/postgresql/*/bin)"
    return None


class Cluster:
    """One PostgreSQL server in its own directory, run as the `postgres` system user."""

    def __init__(self, root: Path, port: int, name: str):
        self.root = root
        self.port = port
        self.name = name
        self.data = root / name
        self.logfile = root / f"{name}.log"
        self.standbys: list[Cluster] = []
        self.owns_root = False

    # ----------------------------------------------------------------- building

    @classmethod
    def primary(cls, port: int, root: Optional[Path] = None) -> "Cluster":
        """A new primary (initdb, replication allowed from loopback), started."""
        tools = bin_dir()
        assert tools is not None, skip_reason()
        owns = root is None
        root = Path(root or tempfile.mkdtemp(prefix="ecarto-pg-"))
        _give_to_postgres(root)
        cluster = cls(root, port, f"primary-{port}")
        cluster.owns_root = owns
        _run([str(tools / "initdb"), "-D", str(cluster.data), "-U", "postgres", "--auth=trust",
              "-E", "UTF8", "--locale=C.UTF-8"], as_postgres=True)
        cluster._configure()
        cluster.start()
        return cluster

    def standby(self, port: int) -> "Cluster":
        """A hot standby of this primary: `pg_basebackup -R` (streaming WAL), started."""
        tools = bin_dir()
        replica = Cluster(self.root, port, f"standby-{port}")
        _run([str(tools / "pg_basebackup"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
              "-D", str(replica.data), "-R", "-X", "stream", "-c", "fast"], as_postgres=True)
        replica._configure()
        replica.start()
        self.standbys.append(replica)
        replica.wait_for_replay(self)
        return replica

    def _configure(self) -> None:
        sockets = self.root / f"sock-{self.port}"
        sockets.mkdir(exist_ok=True)
        _give_to_postgres(sockets)
        with open(self.data / "postgresql.conf", "a", encoding="utf-8") as conf:
            conf.write(SETTINGS.format(port=self.port, sockets=sockets))
        (self.data / "pg_hba.conf").write_text(HBA, encoding="utf-8")

    # ----------------------------------------------------------------- running

    def start(self) -> None:
        tools = bin_dir()
        _run([str(tools / "pg_ctl"), "-D", str(self.data), "-l", str(self.logfile), "-w", "-t", "60",
              "start"], as_postgres=True)

    def stop(self, mode: str = "fast") -> None:
        """`pg_ctl stop` (`fast`: clients disconnected, clean shutdown; `immediate`: as a crash)."""
        tools = bin_dir()
        if (self.data / "postmaster.pid").exists():
            _run([str(tools / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop"],
                 as_postgres=True, check=False)

    @property
    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def destroy(self) -> None:
        """Stop this server and its standbys; remove the directory this object created."""
        for replica in self.standbys:
            replica.stop("immediate")
        self.stop("immediate")
        if self.owns_root:
            shutil.rmtree(self.root, ignore_errors=True)

    # ----------------------------------------------------------------- using

    def url(self, db: str = "postgres", user: str = "postgres", password: str = "") -> str:
        auth = f"{user}:{password}" if password else user
        return f"postgresql://{auth}@127.0.0.1:{self.port}/{db}"

    def psql(self, sql: str, db: str = "postgres", *, stdin: Optional[str] = None) -> str:
        """Run SQL as postgres (`sql` on the command line, or a script on stdin); its output."""
        tools = bin_dir()
        args = [str(tools / "psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1",
                "-p", str(self.port), "-U", "postgres", "-d", db]
        if sql:
            args += ["-c", sql]
        return _run(args, stdin=stdin).stdout.strip()

    def stats(self, db: str) -> dict[str, int]:
        """pg_stat_database counters of `db` on this server (reads show in tup_returned/fetched)."""
        line = self.psql("SELECT xact_commit, tup_returned, tup_fetched, numbackends "
                         f"FROM pg_stat_database WHERE datname = '{db}'")
        values = [int(v) for v in line.split("|")] if line else [0, 0, 0, 0]
        return dict(zip(("xact_commit", "tup_returned", "tup_fetched", "numbackends"), values))

    def log_mark(self) -> int:
        """A position in the server's log, for `log_since`."""
        return self.logfile.stat().st_size if self.logfile.exists() else 0

    def log_since(self, mark: int) -> str:
        """What the server logged since `mark` (each statement as `application|LOG: statement: …`)."""
        with open(self.logfile, "rb") as log:
            log.seek(mark)
            return log.read().decode("utf-8", "replace")

    def wait_for_replay(self, primary: "Cluster", timeout: float = 30) -> None:
        """Until this standby has replayed everything the primary wrote so far."""
        target = primary.psql("SELECT pg_current_wal_lsn()")
        deadline = time.monotonic() + timeout
        while True:
            done = self.psql(f"SELECT pg_last_wal_replay_lsn() >= '{target}'::pg_lsn")
            if done == "t":
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"le réplica {self.port} n'a pas rejoué {target} en {timeout} s")
            time.sleep(0.2)

    def __repr__(self) -> str:
        return f"Cluster({self.name}, port={self.port}, running={self.running})"


def _give_to_postgres(path: Path) -> None:
    user = pwd.getpwnam(SYSTEM_USER)
    os.chown(path, user.pw_uid, user.pw_gid)
    path.chmod(0o700)


def _run(args: list[str], *, as_postgres: bool = False, check: bool = True,
         stdin: Optional[str] = None) -> subprocess.CompletedProcess[str]:
    kwargs: dict[str, Any] = {"user": SYSTEM_USER, "cwd": "/"} if as_postgres else {}
    result = subprocess.run(args, capture_output=True, text=True, input=stdin, timeout=120, **kwargs)
    if check and result.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} → {result.returncode}\n{result.stdout}\n{result.stderr}")
    return result
