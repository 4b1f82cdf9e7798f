"""Ingestion registry: one row per ingested UAI- or commune-keyed resource.

The data tables themselves live in the schema `ckanext.ecarto.ingest_schema` (default
`ecarto_data`), created by the loader; this migration only creates the registry.

Revision ID: 0002_ingest
Revises: 0001_search_index
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

# revision identifiers, used by Alembic.
revision = "0002_ingest"
down_revision = "0001_search_index"
branch_labels = None
depends_on = None

TABLE = "ecarto_ingested_resource"


def upgrade():
    if sa.inspect(op.get_bind()).has_table(TABLE):
        return
    op.create_table(
        TABLE,
        sa.Column("resource_id", sa.UnicodeText, primary_key=True),
        sa.Column("package_id", sa.UnicodeText, nullable=False),
        sa.Column("table_name", sa.UnicodeText),
        sa.Column("key_kind", sa.UnicodeText),
        sa.Column("key_column", sa.UnicodeText),
        sa.Column("millesime", sa.UnicodeText),
        sa.Column("columns", JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")),
        sa.Column("n_rows", sa.Integer, nullable=False, server_default="0"),
        sa.Column("n_rejected", sa.Integer, nullable=False, server_default="0"),
        sa.Column("rejects", JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")),
        sa.Column("encoding", sa.UnicodeText),
        sa.Column("separator", sa.UnicodeText),
        sa.Column("header_line", sa.Integer),
        sa.Column("sha256", sa.UnicodeText),
        sa.Column("status", sa.UnicodeText, nullable=False),
        sa.Column("message", sa.UnicodeText),
        sa.Column("loaded_at", sa.DateTime),
        sa.Column("file_format", sa.UnicodeText),
        sa.Column("options_hash", sa.UnicodeText),
        sa.CheckConstraint("status IN ('ok', 'error')", name="ecarto_ingested_resource_status"),
        sa.CheckConstraint("key_kind IS NULL OR key_kind IN ('uai', 'commune')",
                           name="ecarto_ingested_resource_key_kind"),
    )
    op.create_index("ecarto_ingested_resource_package", TABLE, ["package_id"])
    op.create_index("ecarto_ingested_resource_kind", TABLE, ["key_kind", "status"])


def downgrade():
    op.drop_table(TABLE)
