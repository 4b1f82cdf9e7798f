"""The harvesters' clock (UTC, naive like ckanext-harvest's columns). Tests replace ``now`` to
walk through the grace period of a dataset that disappeared at the source."""
from __future__ import annotations

import datetime as dt


def now() -> dt.datetime:
    return dt.datetime.utcnow()
