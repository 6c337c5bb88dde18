"""PostgreSQL-only indexes for the alert list at a million alerts (bench/fleet_pages.py). SQLite keeps its
own (0006-0008).

- Text search: a trigram GIN index on search_text, so `search_text LIKE '%…%'` (alerts/forms.py search)
  reads the matching rows instead of scanning the table. pg_trgm ships with PostgreSQL and is a trusted
  extension (13+): the database's owner may create it.
- Visible alerts in list order: PostgreSQL does not treat `suppressed_by_id IS NULL AND duplicate_of_id IS
  NULL` as fixing the leading columns of the visible-list indexes, so it sorted all visible alerts to show
  the first 50 by severity (about a second at a million). Partial indexes over visible alerts only, in
  each list order with the id last, give the page straight from the index (and index-only counts).

The indexes are built inside the migration's transaction (writes to alerts wait meanwhile): on a large
existing table, migrate in a quiet hour.
"""

from django.db import migrations

VISIBLE = "WHERE suppressed_by_id IS NULL AND duplicate_of_id IS NULL"
INDEXES = {
    "alert_search_trgm": "USING gin (search_text gin_trgm_ops)",
    "alert_visible_by_time_pg": f"(time_generated, severity_rank, id) {VISIBLE}",
    "alert_visible_by_severity_pg": f"(severity_rank, time_generated, id) {VISIBLE}",
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for name, definition in INDEXES.items():
            schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON alerts_alert {definition}")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name in INDEXES:
            schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("alerts", "0011_fleet_suppressed_hits_index")]

    operations = [migrations.RunPython(create, drop)]
