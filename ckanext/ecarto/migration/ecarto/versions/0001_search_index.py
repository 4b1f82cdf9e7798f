"""Search index of CKAN on PostgreSQL: CKAN's own index documents (jsonb) and a weighted
French tsvector (unaccent + French stemming). The two serialised dataset dicts CKAN stores in
each document (`data_dict`, `validated_data_dict`) are kept apart from `doc`, so filters and
facets never read these large strings.

Re-runnable after the test fixture `clean_db` (which drops tables, not text search
configurations or extensions).

Revision ID: 0001_search_index
Revises:
"""
from alembic import op
import sqlalchemy as sa

revision = "0001_search_index"
down_revision = None
branch_labels = None
depends_on = None

TABLE = "ecarto_search_index"


def upgrade():
    op.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
    op.execute("""
        DO $$ BEGIN
            IF NOT EXISTS (SELECT 1 FROM pg_ts_config WHERE cfgname = 'ecarto_fr') THEN
                CREATE TEXT SEARCH CONFIGURATION ecarto_fr (COPY = pg_catalog.french);
                ALTER TEXT SEARCH CONFIGURATION ecarto_fr
                    ALTER MAPPING FOR hword, hword_part, word, asciihword, asciiword, hword_asciipart
                    WITH unaccent, french_stem;
            END IF;
        END $$;""")
    if sa.inspect(op.get_bind()).has_table(TABLE):
        return
    op.execute(f"""
        CREATE TABLE {TABLE} (
            index_id text PRIMARY KEY,
            id text NOT NULL,
            name text,
            site_id text,
            entity_type text,
            dataset_type text,
            state text,
            capacity text,
            owner_org text,
            title_string text,
            metadata_created timestamptz,
            metadata_modified timestamptz,
            permission_labels text[] NOT NULL DEFAULT '{{}}',
            facet_values text[] NOT NULL DEFAULT '{{}}',
            bbox_minx double precision,
            bbox_miny double precision,
            bbox_maxx double precision,
            bbox_maxy double precision,
            doc jsonb NOT NULL,
            data_dict text,
            validated_data_dict text,
            tsv tsvector NOT NULL
        )""")
    for name, definition in [
        ("tsv", "USING gin (tsv)"),
        ("doc", "USING gin (doc jsonb_path_ops)"),
        ("labels", "USING gin (permission_labels)"),
        ("site_state", "(site_id, state)"),
        ("id", "(id)"),
        ("name", "(name)"),
        ("owner_org", "(owner_org)"),
        ("dataset_type", "(dataset_type)"),
        ("modified", "(metadata_modified)"),
        ("created", "(metadata_created)"),
        ("title", "(lower(title_string))"),
        ("bbox", "(bbox_minx, bbox_maxx, bbox_miny, bbox_maxy)"),
    ]:
        op.execute(f"CREATE INDEX IF NOT EXISTS {TABLE}_{name} ON {TABLE} {definition}")


def downgrade():
    op.execute(f"DROP TABLE IF EXISTS {TABLE}")
    op.execute("DROP TEXT SEARCH CONFIGURATION IF EXISTS ecarto_fr")
