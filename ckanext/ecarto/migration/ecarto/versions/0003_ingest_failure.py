"""Ingestion registry: the last failure of a resource's ingestion (code, technical detail, date).

The public status of a resource says the failure in general terms from its code; the technical
detail is shown to the dataset's editors only (see ckanext/ecarto/ingest/messages.py).

Revision ID: 0003_ingest_failure
Revises: 0002_ingest
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

# revision identifiers, used by Alembic.
revision = "0003_ingest_failure"
down_revision = "0002_ingest"
branch_labels = None
depends_on = None

TABLE = "ecarto_ingested_resource"


def upgrade():
    columns = {c["name"] for c in sa.inspect(op.get_bind()).get_columns(TABLE)}
    if "failure" not in columns:
        op.add_column(TABLE, sa.Column("failure", JSONB))


def downgrade():
    op.drop_column(TABLE, "failure")
