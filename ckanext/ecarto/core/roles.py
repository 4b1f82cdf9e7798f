"""The roles a column of an ingested table can play (vocabulary of the coming column model).

A table published on the portal is read through the role of each of its columns:

- ``key``: identifies the row's subject (an establishment's UAI, a commune's INSEE code);
- ``period``: when the figure holds (millésime, school year, date);
- ``dimension``: splits a figure into categories (type of access, level of school…);
- ``measure``: a number that can be summed, averaged or mapped (an indicator);
- ``flag``: a yes/no fact (has fibre, has a digital workspace…);
- ``label``: human text shown as is (name of the school, of the commune);
- ``code``: a code that is not the row's key (académie, département, sector), kept as text.

Only constants here: the modules that read tables decide how each role is used.
"""
from __future__ import annotations

KEY = "key"
PERIOD = "period"
DIMENSION = "dimension"
MEASURE = "measure"
FLAG = "flag"
LABEL = "label"
CODE = "code"

ROLES: tuple[str, ...] = (KEY, PERIOD, DIMENSION, MEASURE, FLAG, LABEL, CODE)
