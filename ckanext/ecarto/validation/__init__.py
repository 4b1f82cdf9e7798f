"""Validation of the files collectivités publish (issue 7): one report per file and axis.

- ``validate_file(path, axe, ...)``: the report (see ``report.validate_file``);
- ``tableschema``: the axes' Table Schemas through frictionless, CSV templates;
- ``staging``: files waiting between their validation and their publication.
"""
from __future__ import annotations

from ckanext.ecarto.validation.report import validate_file  # noqa: F401
from ckanext.ecarto.validation.tableschema import available_axes, csv_template  # noqa: F401

__all__ = ["available_axes", "csv_template", "validate_file"]
