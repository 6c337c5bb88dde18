"""A run, and the request digests of a batch, cover a span of hours (`hour` to `last_hour`): a worker reads
an account's pending hours of a day in one task. Existing rows cover one hour."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("storage_logs", "0012_evidence_proof")]

    operations = [
        migrations.AddField(
            model_name="ingestrun", name="last_hour", field=models.DateTimeField(blank=True, null=True)
        ),
        migrations.AddField(model_name="seenrequests", name="last_hour", field=models.DateTimeField(null=True)),
        migrations.RunSQL(
            [
                "UPDATE storage_logs_ingestrun SET last_hour = hour WHERE hour IS NOT NULL",
                "UPDATE storage_logs_seenrequests SET last_hour = hour",
            ],
            migrations.RunSQL.noop,
        ),
        migrations.AlterField(model_name="seenrequests", name="last_hour", field=models.DateTimeField()),
    ]
