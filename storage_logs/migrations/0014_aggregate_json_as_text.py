"""The aggregates' JSON columns become plain text (storage_logs.models.JSONText): they are only ever read
whole, and on PostgreSQL jsonb made the server parse and rebuild every value the engine copies in. One
ALTER TABLE rewrites the table once (four AlterFields would rewrite it four times). SQLite already keeps JSON
as text; its tables keep their JSON_VALID checks, which every value written passes."""

from django.db import migrations

import storage_logs.models

COLUMNS = ("batches", "sample_objects", "sample_request_ids", "status_counts")


def to_text(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        changes = ", ".join(f'ALTER COLUMN "{c}" TYPE text USING "{c}"::text' for c in COLUMNS)
        schema_editor.execute(f"ALTER TABLE storage_logs_logaggregate {changes}")


def to_jsonb(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        changes = ", ".join(f'ALTER COLUMN "{c}" TYPE jsonb USING "{c}"::jsonb' for c in COLUMNS)
        schema_editor.execute(f"ALTER TABLE storage_logs_logaggregate {changes}")


class Migration(migrations.Migration):
    dependencies = [("storage_logs", "0013_hour_spans")]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(to_text, to_jsonb)],
            state_operations=[
                migrations.AlterField(
                    model_name="logaggregate",
                    name="batches",
                    field=storage_logs.models.JSONText(default=list, editable=False),
                ),
                migrations.AlterField(
                    model_name="logaggregate",
                    name="sample_objects",
                    field=storage_logs.models.JSONText(default=list),
                ),
                migrations.AlterField(
                    model_name="logaggregate",
                    name="sample_request_ids",
                    field=storage_logs.models.JSONText(default=list),
                ),
                migrations.AlterField(
                    model_name="logaggregate",
                    name="status_counts",
                    field=storage_logs.models.JSONText(default=dict),
                ),
            ],
        )
    ]
