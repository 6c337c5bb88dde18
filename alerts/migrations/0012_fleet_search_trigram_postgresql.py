"""Text search on PostgreSQL: a trigram GIN index on search_text, so `search_text LIKE '%…%'` (alerts/forms.py
search) reads the matching rows instead of scanning the table. SQLite keeps its covering index (0008).

pg_trgm ships with PostgreSQL and is a trusted extension (13+): the database's owner may create it. The
index is built inside the migration's transaction (it locks writes to alerts while it builds): on a large
existing table, migrate in a quiet hour.
"""

from django.db import migrations

NAME = "alert_search_trgm"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {NAME} ON alerts_alert USING gin (search_text gin_trgm_ops)"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {NAME}")


class Migration(migrations.Migration):
    dependencies = [("alerts", "0011_fleet_suppressed_hits_index")]

    operations = [migrations.RunPython(create, drop)]
