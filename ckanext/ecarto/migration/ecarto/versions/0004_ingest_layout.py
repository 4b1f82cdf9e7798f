"""Ingestion registry: the layout of each ingested table (its period, the reshape applied to
the file, rows per key and period), beside the column model kept in ``columns``.

Revision ID: 0004_ingest_layout
Revises: 0003_ingest_failure
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

# revision identifiers, used by Alembic.
revision = "0004_ingest_layout"
down_revision = "0003_ingest_failure"
branch_labels = None
depends_on = None

TABLE = "ecarto_ingested_resource"


def upgrade():
    columns = {c["name"] for c in sa.inspect(op.get_bind()).get_columns(TABLE)}
    if "layout" not in columns:
        op.add_column(TABLE, sa.Column("layout", JSONB))


def downgrade():
    op.drop_column(TABLE, "layout")
