from django.db import migrations

FUNC = "alerts.tasks.release_lapsed_rules"


def create_schedule(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.get_or_create(
        func=FUNC,
        defaults={
            "name": "Show alerts of expired suppression rules",
            "schedule_type": "I",
            "minutes": 5,
            "repeats": -1,
        },
    )


def remove_schedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(func=FUNC).delete()


class Migration(migrations.Migration):
    dependencies = [("alerts", "0008_search_covering_index_sqlite")]
    operations = [migrations.RunPython(create_schedule, remove_schedule)]
