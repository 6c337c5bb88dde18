"""PostgreSQL only: a trigram GIN index over suppressed alerts, for the alert list's "N hidden by
suppression" under a search (alerts/views.py capped_counts). When no suppressed alert matches a search,
the capped count cannot stop early: with the table-wide trigram index it intersected ~100,000 text matches
with ~100,000 suppressed rows (EXPLAIN ANALYZE at a million alerts: 110-270 ms); this index holds the
suppressed rows only and answers in under a millisecond. Built in the migration's transaction, like 0012.
"""

from django.db import migrations

NAME = "alert_suppressed_search_trgm"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {NAME} ON alerts_alert USING gin (search_text gin_trgm_ops) "
            "WHERE suppressed_by_id IS NOT NULL"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {NAME}")


class Migration(migrations.Migration):
    dependencies = [("alerts", "0012_fleet_postgresql_search_and_sort_indexes")]

    operations = [migrations.RunPython(create, drop)]
