"""Territory pages and maps (France, régions, académies, départements, communes).

- ``indicators``: the series a territory page shows (columns of ingested resources, axis
  indicators of the Table Schemas, ratios), breakdowns, legend classes, the 2018 report's figures;
- ``aggregates``: per-territory aggregates computed in PostgreSQL (schema of the ingested
  tables), refreshed after each ingestion and whenever the public data changes;
- ``record``: the territory record (page, JSON, CSV, action ``ecarto_territoire_show``);
- ``geometry``: contours of the children territories for the choropleth (overseas insets) and
  the GeoJSON export.
"""
