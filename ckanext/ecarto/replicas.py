"""Read-heavy queries on PostgreSQL hot-standby replicas (issue 19).

``ckanext.ecarto.read_urls`` lists replicas (SQLAlchemy URLs, space-separated) of the CKAN
database, kept by PostgreSQL streaming replication. `read_connection()` gives the portal's
read-heavy paths — `package_search` (so `/dataset`, the DCAT catalogue), the establishment and
territory pages and their exports, `package_list`, the home page — a connection to a healthy
replica, round-robin, or else to the primary, as before.

A replica is used only when every one of these holds:

- the request is a web request (dispatched by Flask: `blueprint`, registered by plugin.py,
  marks it) with method ``GET`` or ``HEAD`` — never a form post, an action API ``POST``, a CLI
  command (even inside its test request context), a background job or a harvester: they go on
  reading from the primary;
- nothing in the request has written yet (an ``INSERT``/``UPDATE``/DDL… seen on any engine, or
  pending changes in CKAN's session): a request reads its own writes from the primary;
- the replica answered its last health check, is in recovery (a hot standby, not a promoted
  copy) and its replay lag is at most ``ckanext.ecarto.read_max_lag_seconds``. Each process
  checks each replica at most every ``ckanext.ecarto.read_check_seconds``; a replica that
  cannot be reached between two checks is marked down at once and the read goes to the primary.

Lag: a replica whose replayed WAL position has reached the primary's current position has no
lag, however old its last replayed transaction is (an idle primary writes nothing to replay);
otherwise the lag is the age of its last replayed transaction (an upper bound: the safe side).

Every change of a replica's state is logged once (warning when it is skipped, info when it is
used again), not once per request. Permissions are the queries' own: the same SQL runs on a copy
of the same data, so a replica returns what the primary would (at most the lag behind).

The DataStore has its own mechanism: ``ckan.datastore.read_url`` may point at a replica of the
DataStore database (CKAN's ``datastore_search`` and ``datastore_search_sql`` read through it).
"""
from __future__ import annotations

import itertools
import logging
import re
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Iterator, Optional

import sqlalchemy as sa
from flask import Blueprint, g, has_request_context, request
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.engine.url import make_url

import ckan.model as model
from ckan.common import config

log = logging.getLogger(__name__)

READ_METHODS = ("GET", "HEAD")
WROTE_FLAG = "ecarto_wrote"
READER_FLAG = "ecarto_may_read_replica"
CONNECT_TIMEOUT = 3          # seconds: a replica that does not answer is skipped, not waited for
# Statements that change nothing: anything else seen in a request sends its reads to the primary.
_READ_ONLY = re.compile(r"^\s*(\(\s*)*(SELECT|WITH|SHOW|SET|RESET|EXPLAIN|VALUES|TABLE)\b", re.IGNORECASE)
# ...unless it locks rows, moves a sequence or creates a table; a WITH unless a CTE modifies data
# (such a word in a string literal counts too: the safe side)
_WRITING_READ = re.compile(r"\bFOR\s+(NO\s+KEY\s+)?(UPDATE|SHARE)\b|\b(nextval|setval)\s*\(|\bINTO\b",
                           re.IGNORECASE)
_MODIFYING_CTE = re.compile(r"^\s*WITH\b.*\b(INSERT|UPDATE|DELETE|MERGE)\b", re.IGNORECASE | re.DOTALL)

HEALTH_SQL = sa.text("""
    SELECT pg_is_in_recovery() AS standby,
           pg_last_wal_replay_lsn()::text AS replayed,
           extract(epoch FROM now() - pg_last_xact_replay_timestamp()) AS replay_age""")
PRIMARY_LSN_SQL = sa.text("SELECT pg_current_wal_lsn()::text")
BEHIND_SQL = sa.text("SELECT pg_wal_lsn_diff(CAST(:primary AS pg_lsn), CAST(:replayed AS pg_lsn)) > 0")


def is_read_only(statement: str) -> bool:
    """Whether a SQL statement leaves the database as it was (a plain read)."""
    return (bool(_READ_ONLY.match(statement)) and not _WRITING_READ.search(statement)
            and not _MODIFYING_CTE.match(statement))


@sa.event.listens_for(Engine, "before_cursor_execute")
def _note_write(conn: Connection, cursor: Any, statement: str, parameters: Any, context: Any,
                executemany: bool) -> None:
    """A request that writes reads its own writes: its later reads go to the primary."""
    if has_request_context() and not is_read_only(statement):
        setattr(g, WROTE_FLAG, True)


blueprint = Blueprint("ecarto_replicas", __name__)


@blueprint.before_app_request
def _start_request() -> None:
    """A web request being dispatched: a GET/HEAD may read from a replica until it writes."""
    setattr(g, WROTE_FLAG, False)
    setattr(g, READER_FLAG, request.method in READ_METHODS)


@blueprint.teardown_app_request
def _end_request(error: Optional[BaseException] = None) -> None:
    setattr(g, READER_FLAG, False)


def safe_url(url: str) -> str:
    """A URL fit for the logs: no password."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:        # noqa: BLE001 — a malformed URL is logged as such, never raised here
        return "<URL invalide>"


@dataclass
class Replica:
    """One replica: its engine (pooled, pinged before use) and its last known state."""

    url: str
    engine: Engine
    checked_at: float = float("-inf")
    usable: bool = False
    reason: str = "pas encore vérifié"
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def name(self) -> str:
        return safe_url(self.url)

    def set_state(self, usable: bool, reason: str) -> None:
        """Record a state; log it when it changes (once, not per request)."""
        changed = usable != self.usable or (not usable and reason.split(":")[0] != self.reason.split(":")[0])
        first = self.checked_at == float("-inf")
        self.usable, self.reason = usable, reason
        if usable and (changed or first):
            log.info("Réplica %s utilisé pour les lectures (%s)", self.name, reason)
        elif not usable and (changed or first):
            log.warning("Réplica %s écarté (%s) : lectures servies par la base principale (fallback)",
                        self.name, reason)


class ReplicaSet:
    """The replicas of one configuration, checked at most every `interval` seconds each."""

    def __init__(self, urls: list[str], max_lag: float, interval: float):
        self.max_lag = max_lag
        self.interval = interval
        self.replicas = [Replica(url, _engine(url)) for url in urls]
        self._turn = itertools.count()

    def pick(self) -> Optional[Replica]:
        """A usable replica (round-robin), or None: read from the primary."""
        usable = [r for r in self.replicas if self.refresh(r)]
        if not usable:
            return None
        return usable[next(self._turn) % len(usable)]

    def refresh(self, replica: Replica) -> bool:
        """The replica's state, checked again when the last check is older than `interval`."""
        now = time.monotonic()
        if now - replica.checked_at < self.interval:
            return replica.usable
        if not replica.lock.acquire(blocking=False):
            return replica.usable        # another thread is checking it
        try:
            usable, reason = self.check(replica)
            replica.set_state(usable, reason)
            replica.checked_at = time.monotonic()
            return usable
        finally:
            replica.lock.release()

    def check(self, replica: Replica) -> tuple[bool, str]:
        """(usable, why not) from the replica's recovery state and its lag behind the primary."""
        try:
            with replica.engine.connect() as conn:
                row = conn.execute(HEALTH_SQL).mappings().one()
                if not row["standby"]:
                    return False, "pas en réplication : pg_is_in_recovery() est faux"
                lag = self.lag(conn, row)
        except sa.exc.SQLAlchemyError as error:
            return False, f"injoignable : {first_line(error)}"
        if lag > self.max_lag:
            return False, f"retard : {lag:.1f} s > {self.max_lag:g} s"
        return True, f"retard {lag:.1f} s"

    def lag(self, conn: Connection, row: Any) -> float:
        """0 when the replica replayed everything the primary wrote, else the age of its last
        replayed transaction."""
        with model.meta.engine.connect() as primary:
            current = primary.execute(PRIMARY_LSN_SQL).scalar()
        behind = conn.execute(BEHIND_SQL, {"primary": current, "replayed": row["replayed"]}).scalar()
        if not behind:
            return 0.0
        age = row["replay_age"]
        return float("inf") if age is None else max(0.0, float(age))

    def mark_down(self, replica: Replica, error: Exception) -> None:
        """A replica that failed between two checks is skipped until its next check."""
        replica.set_state(False, f"injoignable : {first_line(error)}")
        replica.checked_at = time.monotonic()

    def dispose(self) -> None:
        for replica in self.replicas:
            replica.engine.dispose()


def first_line(error: Exception) -> str:
    text = str(getattr(error, "orig", None) or error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _engine(url: str) -> Engine:
    return sa.create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5, pool_recycle=3600,
                            connect_args={"connect_timeout": CONNECT_TIMEOUT,
                                          "application_name": "ckanext-ecarto-read"})


_sets: dict[tuple[str, float, float], ReplicaSet] = {}
_sets_lock = threading.Lock()


def configured_urls() -> list[str]:
    value = config.get("ckanext.ecarto.read_urls") or ""
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value if str(v).strip()]
    return str(value).split()


def replica_set() -> Optional[ReplicaSet]:
    """The replicas of the current configuration (built once per process and configuration)."""
    urls = configured_urls()
    if not urls:
        return None
    key = (" ".join(urls), float(config.get("ckanext.ecarto.read_max_lag_seconds") or 10),
           float(config.get("ckanext.ecarto.read_check_seconds") or 5))
    found = _sets.get(key)
    if found is None:
        with _sets_lock:
            found = _sets.get(key)
            if found is None:
                found = _sets[key] = ReplicaSet(urls, key[1], key[2])
    return found


def request_may_use_replica() -> bool:
    """A GET/HEAD web request that has not written (nor holds pending changes in CKAN's session)."""
    if not has_request_context() or not getattr(g, READER_FLAG, False) or getattr(g, WROTE_FLAG, False):
        return False
    session = model.Session()
    return not (session.new or session.dirty or session.deleted)


@contextmanager
def read_connection(primary: Optional[Engine] = None) -> Iterator[Connection]:
    """A connection for a read-heavy query: a healthy replica when the request may use one,
    else the primary — `primary.connect()` when given, else CKAN's session connection (the
    transaction of the request, as before replicas existed)."""
    conn = replica_connection() if request_may_use_replica() else None
    if conn is not None:
        with conn:
            yield conn
    elif primary is not None:
        with primary.connect() as conn:
            yield conn
    else:
        yield model.Session.connection()


def replica_connection() -> Optional[Connection]:
    """An open connection to a usable replica, or None (none configured, none usable)."""
    replicas = replica_set()
    if replicas is None:
        return None
    while True:
        replica = replicas.pick()
        if replica is None:
            return None
        try:
            return replica.engine.connect()
        except sa.exc.SQLAlchemyError as error:
            replicas.mark_down(replica, error)


def reset() -> None:
    """Forget every replica engine (tests, configuration reloads)."""
    with _sets_lock:
        for found in _sets.values():
            found.dispose()
        _sets.clear()
