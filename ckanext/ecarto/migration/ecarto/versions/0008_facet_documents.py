"""Facets count documents: `facet_values` holds each `field<US>value` once.

Rows indexed before held a value once per occurrence (a dataset with two CSV resources had
`res_format<US>CSV` twice), so facet counts counted it twice while the filter found it once.
New rows are written without repeats (`search.model.facet_values`); this removes the repeats
of the rows already there, keeping the first occurrence's order. The statement trigger of
migration 0007 bumps the index version: cached counts are recomputed.

Revision ID: 0008_facet_documents
Revises: 0007_search_latency
"""
from alembic import op

revision = "0008_facet_documents"
down_revision = "0007_search_latency"
branch_labels = None
depends_on = None

TABLE = "ecarto_search_index"
DEDUPLICATE_SQL = f"""
    UPDATE {TABLE} SET facet_values = ARRAY(
        SELECT u.v FROM unnest(facet_values) WITH ORDINALITY AS u(v, i) GROUP BY u.v ORDER BY min(u.i))
    WHERE cardinality(facet_values) <> (SELECT count(DISTINCT v) FROM unnest(facet_values) v)"""


def upgrade():
    op.execute(DEDUPLICATE_SQL)


def downgrade():
    """Nothing to undo: repeated values were never needed."""
