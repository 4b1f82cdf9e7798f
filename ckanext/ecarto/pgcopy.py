"""PostgreSQL COPY, the one bulk path of the portal's own tables (ingested tables, the
establishment directory, the territory aggregates): rows are written as CSV and sent in one
``COPY … FROM STDIN`` on the connection's psycopg2 cursor, inside the caller's transaction."""
from __future__ import annotations

import csv
import io
from typing import Any, Iterable

from sqlalchemy.engine import Connection


def copy_buffer(conn: Connection, table: str, columns: Iterable[str], buffer: io.StringIO) -> None:
    """COPY a CSV buffer (no header; empty unquoted field = NULL) into ``table`` (already quoted)."""
    buffer.seek(0)
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        cursor.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv)", buffer)
    finally:
        cursor.close()


def copy_rows(conn: Connection, table: str, columns: Iterable[str], rows: Iterable[Iterable[Any]]) -> int:
    """COPY Python rows (None = NULL) into ``table``; returns the number of rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    n = 0
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
        n += 1
    if n:
        copy_buffer(conn, table, list(columns), buffer)
    return n
