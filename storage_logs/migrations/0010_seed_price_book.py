from decimal import Decimal

from django.conf import settings
from django.db import migrations

from storage_logs import price_seed


def seed(apps, schema_editor):
    price = Decimal(str(settings.LOG_ANALYTICS_PRICE_PER_GB)).quantize(Decimal("0.0001"))
    price_seed.seed(apps.get_model("storage_logs", "PriceList"), apps.get_model("storage_logs", "Price"), price)


def unseed(apps, schema_editor):
    apps.get_model("storage_logs", "PriceList").objects.filter(
        region=price_seed.LIST["region"], currency=price_seed.LIST["currency"]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("storage_logs", "0009_price_book")]
    operations = [migrations.RunPython(seed, unseed)]
