from django.db import migrations

REASON = "Preview detections are noisy and change without notice; they stay listable under Suppressed."


def create_rule(apps, schema_editor):
    apps.get_model("alerts", "SuppressionRule").objects.get_or_create(preview_only=True, alert_type="", defaults={"reason": REASON})


def remove_rule(apps, schema_editor):
    apps.get_model("alerts", "SuppressionRule").objects.filter(preview_only=True, reason=REASON).delete()


class Migration(migrations.Migration):
    dependencies = [("alerts", "0001_initial")]
    operations = [migrations.RunPython(create_rule, remove_rule)]
