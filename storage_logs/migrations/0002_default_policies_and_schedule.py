from django.db import migrations

FUNC = "storage_logs.tasks.ingest_all_devices"
COMMON = {"by_operation": True, "by_status_class": True, "by_principal": True, "by_client_ip": True}
DEFAULTS = {
    "read": {**COMMON, "by_user_agent": True, "by_container": True, "window_minutes": 60},
    "write": {**COMMON, "by_user_agent": True, "by_container": True, "by_object": True, "window_minutes": 1440},
    "delete": {**COMMON, "by_user_agent": True, "by_container": True, "by_object": True, "window_minutes": 1440},
    "other": {**COMMON, "by_user_agent": True, "by_container": True, "window_minutes": 60},
}


def create_defaults(apps, schema_editor):
    Policy = apps.get_model("storage_logs", "AggregationPolicy")
    for kind, values in DEFAULTS.items():
        Policy.objects.get_or_create(kind=kind, defaults=values)
    apps.get_model("django_q", "Schedule").objects.update_or_create(
        func=FUNC,
        defaults={"name": "Storage logs of every device", "schedule_type": "I", "minutes": 5, "repeats": -1},
    )


def remove_defaults(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(func=FUNC).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("storage_logs", "0001_initial"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]
    operations = [migrations.RunPython(create_defaults, remove_defaults)]
