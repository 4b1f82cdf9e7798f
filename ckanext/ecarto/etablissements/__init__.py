"""Establishments (écoles, collèges, lycées): the directory built from ingested resources and
the per-UAI record that joins every dataset of the portal."""
