"""The territory referential: codes, names, parents and simplified geometries.

Named `referentiel` so that it is not confused with `territoires/`, the territory pages and
their aggregates (which are built on top of it).
"""
