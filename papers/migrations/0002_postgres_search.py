"""PostgreSQL-only: GIN indexes and the trigger that keeps search_vector current.

On SQLite this migration does nothing: search there falls back to a simple
contains match.
"""

from django.db import migrations

FORWARD = [
    "CREATE INDEX IF NOT EXISTS paper_categories_gin ON papers_paper USING gin (categories jsonb_path_ops)",
    "CREATE INDEX IF NOT EXISTS paper_search_gin ON papers_paper USING gin (search_vector)",
    """
    CREATE OR REPLACE FUNCTION papers_paper_search_vector() RETURNS trigger AS $$
    BEGIN
        NEW.search_vector :=
            setweight(to_tsvector('english', coalesce(NEW.title, '')), 'A') ||
            setweight(to_tsvector('simple', coalesce(NEW.authors_text, '')), 'B') ||
            setweight(to_tsvector('english', coalesce(NEW.abstract, '')), 'C');
        RETURN NEW;
    END
    $$ LANGUAGE plpgsql
    """,
    # Only the searched columns fire it, so harvest updates of other fields are cheap.
    """
    CREATE TRIGGER papers_paper_search_vector_trg
    BEFORE INSERT OR UPDATE OF title, authors_text, abstract ON papers_paper
    FOR EACH ROW EXECUTE FUNCTION papers_paper_search_vector()
    """,
]

BACKWARD = [
    "DROP TRIGGER IF EXISTS papers_paper_search_vector_trg ON papers_paper",
    "DROP FUNCTION IF EXISTS papers_paper_search_vector()",
    "DROP INDEX IF EXISTS paper_search_gin",
    "DROP INDEX IF EXISTS paper_categories_gin",
]


def run(statements):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return apply


class Migration(migrations.Migration):
    dependencies = [("papers", "0001_initial")]

    operations = [migrations.RunPython(run(FORWARD), run(BACKWARD))]
