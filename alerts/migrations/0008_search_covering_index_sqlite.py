"""Text search on SQLite: a covering index holding search_text behind the visible-list columns.

The search's count scans every visible alert; from this index it reads ~30 MB instead of the whole, wide
alert table (p95 of the bench's "search IP" 168 ms -> see the commit). PostgreSQL is left out on purpose:
its btree rows are capped at ~2.7 kB and search_text has no length limit, so an index there could refuse
an alert; PostgreSQL's answer would be a pg_trgm GIN index, which needs the extension.
"""

from django.db import migrations

NAME = "alert_visible_search"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {NAME} ON alerts_alert "
            "(suppressed_by_id, duplicate_of_id, time_generated, severity_rank, search_text)"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(f"DROP INDEX IF EXISTS {NAME}")


class Migration(migrations.Migration):
    dependencies = [("alerts", "0007_primary_time_index")]

    operations = [migrations.RunPython(create, drop)]
