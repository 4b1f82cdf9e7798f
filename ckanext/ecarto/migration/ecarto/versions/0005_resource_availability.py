"""Metadata quality: the last availability check of each resource (available or not, when, the
HTTP status), written by the background check (``ckan ecarto qualite verifier``).

Revision ID: 0005_resource_availability
Revises: 0004_ingest_layout
"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = "0005_resource_availability"
down_revision = "0004_ingest_layout"
branch_labels = None
depends_on = None

TABLE = "ecarto_resource_availability"


def upgrade():
    if sa.inspect(op.get_bind()).has_table(TABLE):
        return
    op.create_table(
        TABLE,
        sa.Column("resource_id", sa.UnicodeText, primary_key=True),
        sa.Column("package_id", sa.UnicodeText, nullable=False),
        sa.Column("url", sa.UnicodeText, nullable=False),
        sa.Column("available", sa.Boolean, nullable=False),
        sa.Column("http_status", sa.Integer),
        sa.Column("detail", sa.UnicodeText),
        sa.Column("checked_at", sa.DateTime, nullable=False),
    )
    op.create_index("ecarto_resource_availability_package", TABLE, ["package_id"])


def downgrade():
    op.drop_table(TABLE)
