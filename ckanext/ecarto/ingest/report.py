"""`IngestReport`: what happened to one resource's load (the loader's result, the shape the
actions return, and the payload of the ingestion events, see ``events``)."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Optional


@dataclass
class IngestReport:
    """What happened to one resource (also the shape returned by the actions)."""

    resource_id: str
    package_id: str
    status: str = "ok"            # ok | error | skipped (no key column, nothing loaded)
    unchanged: bool = False       # same file and settings as the table in place: nothing done
    table_name: Optional[str] = None
    key_kind: Optional[str] = None
    key_column: Optional[str] = None
    millesime: Optional[str] = None
    n_rows: int = 0
    n_rejected: int = 0
    rejects: list[dict[str, Any]] = field(default_factory=list)
    columns: list[dict[str, Any]] = field(default_factory=list)
    layout: Optional[dict[str, Any]] = None  # period, reshape (see ingest/columns.py)
    file_format: Optional[str] = None
    encoding: Optional[str] = None
    separator: Optional[str] = None
    header_line: Optional[int] = None
    sha256: Optional[str] = None
    message: str = ""
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0
    directory_rows: Optional[int] = None
    directory_seconds: float = 0.0  # part of `seconds` spent rebuilding the establishment directory
    failure_code: Optional[str] = None  # kind of failure (see messages.PUBLIC_REASONS)
    detail: Optional[str] = None        # technical text of the failure (editors and logs only)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
