import hashlib

from django.db import migrations, models

IDENTITY = (
    "operation", "status_class", "auth_type", "principal_kind", "principal_id", "upn", "app_id",
    "client_ip", "user_agent", "container", "object_key",
)  # fmt: skip


def fill_group_keys(apps, schema_editor):
    """Rows stored before merging get their group key; older split rows of one group stay apart (keyed by
    id) rather than being summed here, so the constraint can be added without touching their counts."""
    LogAggregate = apps.get_model("storage_logs", "LogAggregate")
    taken = set()
    for row in LogAggregate.objects.order_by("pk").iterator(chunk_size=2000):
        text = "\x1f".join(str(getattr(row, name)) for name in IDENTITY)
        key = hashlib.blake2b(text.encode(), digest_size=16).hexdigest()
        slot = (row.account_id, row.kind, row.window_start, key)
        if slot in taken:
            key = hashlib.blake2b(f"{key}/{row.pk}".encode(), digest_size=16).hexdigest()
        taken.add(slot)
        LogAggregate.objects.filter(pk=row.pk).update(group_key=key)


class Migration(migrations.Migration):
    dependencies = [
        ("devices", "0004_inventory_run_summary"),
        ("storage_logs", "0002_default_policies_and_schedule"),
    ]

    operations = [
        migrations.AddField(
            model_name="logaggregate",
            name="group_key",
            field=models.CharField(default="", editable=False, max_length=32),
        ),
        migrations.RunPython(fill_group_keys, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="logaggregate",
            constraint=models.UniqueConstraint(
                fields=("account", "group_key", "window_start", "kind"),
                name="uniq_log_aggregate_group",
                condition=~models.Q(group_key=""),
            ),
        ),
    ]
