"""Search latency: a data version of the search index, so that the counts of an unfiltered
search (the whole catalogue's hits and facets, the same for every anonymous visitor) are
computed once per change of the index instead of on every search.

`ecarto_search_version` holds one row whose `version` is the id of the last transaction that
wrote the index (a statement trigger, whatever writes it: batches, deletes, `clean_db`). It
becomes visible with the data it describes, at commit, and a transaction id is never reused in
the cluster: a version names one state of the index.

Revision ID: 0007_search_latency
Revises: 0006_search_scale
"""
from alembic import op

revision = "0007_search_latency"
down_revision = "0006_search_scale"
branch_labels = None
depends_on = None

TABLE = "ecarto_search_index"
VERSION_TABLE = "ecarto_search_version"


def upgrade():
    op.execute(f"CREATE TABLE IF NOT EXISTS {VERSION_TABLE} (id int PRIMARY KEY CHECK (id = 1), version bigint NOT NULL)")
    op.execute(f"""
        CREATE OR REPLACE FUNCTION ecarto_search_version_bump() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO {VERSION_TABLE} (id, version)
                VALUES (1, CAST(CAST(pg_current_xact_id() AS text) AS bigint))
                ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version
                WHERE {VERSION_TABLE}.version IS DISTINCT FROM EXCLUDED.version;
            RETURN NULL;
        END $$""")
    op.execute(f"DROP TRIGGER IF EXISTS {TABLE}_version ON {TABLE}")
    op.execute(f"CREATE TRIGGER {TABLE}_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {TABLE} "
               f"FOR EACH STATEMENT EXECUTE FUNCTION ecarto_search_version_bump()")
    op.execute(f"INSERT INTO {VERSION_TABLE} (id, version) VALUES (1, CAST(CAST(pg_current_xact_id() AS text) AS bigint)) "
               f"ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version")


def downgrade():
    op.execute(f"DROP TRIGGER IF EXISTS {TABLE}_version ON {TABLE}")
    op.execute("DROP FUNCTION IF EXISTS ecarto_search_version_bump()")
    op.execute(f"DROP TABLE IF EXISTS {VERSION_TABLE}")
