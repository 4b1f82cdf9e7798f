"""Search index at the scale of a national catalogue: a GIN index on `facet_values` (exact
`field:value` filters such as `organization:…`, `tags:…`, `axe:…` read it instead of each
document), and the title's sort key (`unaccent(lower(title_string))`) stored at index time with
its btree index, instead of being computed for every matched dataset of every title sort.

Idempotent: re-runnable on a table that already has them; rows indexed before get their sort
key here.

Revision ID: 0006_search_scale
Revises: 0005_resource_availability
"""
from alembic import op

# revision identifiers, used by Alembic.
revision = "0006_search_scale"
down_revision = "0005_resource_availability"
branch_labels = None
depends_on = None

TABLE = "ecarto_search_index"


def upgrade():
    op.execute(f"ALTER TABLE {TABLE} ADD COLUMN IF NOT EXISTS title_sort text")
    op.execute(f"UPDATE {TABLE} SET title_sort = unaccent(lower(title_string)) "
               f"WHERE title_sort IS DISTINCT FROM unaccent(lower(title_string))")
    op.execute(f"CREATE INDEX IF NOT EXISTS {TABLE}_facet_values ON {TABLE} USING gin (facet_values)")
    op.execute(f"CREATE INDEX IF NOT EXISTS {TABLE}_title_sort ON {TABLE} (title_sort)")


def downgrade():
    op.execute(f"DROP INDEX IF EXISTS {TABLE}_title_sort")
    op.execute(f"DROP INDEX IF EXISTS {TABLE}_facet_values")
    op.execute(f"ALTER TABLE {TABLE} DROP COLUMN IF EXISTS title_sort")
