"""python manage.py import_alerts FILE --device NAME: load an Alerts_List response like the poll does."""

import json
import time

from django.core.management.base import BaseCommand, CommandError

from alerts.choices import ChangeSource, PollOutcome
from alerts.ingest import Ingester
from alerts.models import PollRun
from alerts.tasks import finish
from devices.models import Device

CHUNK = 500
REPORTED = ("created", "updated", "duplicates", "suppressed", "new_types", "rejected")


def alerts_in(document):
    """The alerts of an Alerts_List body ({"value": [...]}), a spec example, a list, or one alert."""
    if isinstance(document, list):
        return document
    if not isinstance(document, dict):
        raise CommandError("The file holds neither a JSON object nor a list of alerts.")
    if isinstance(document.get("value"), list):
        return document["value"]
    body = (document.get("responses") or {}).get("200", {}).get("body")
    if body is not None:
        return alerts_in(body)
    if "properties" in document or "AlertType" in document:
        return [document]
    raise CommandError('No alerts found: expected an Alerts_List response with a "value" array.')


class Command(BaseCommand):
    help = "Import an Alerts_List JSON response through normalize, dedup and suppression; prints the counts."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--device", required=True, help="Name of the device the alerts belong to")

    def handle(self, *args, file, device, **options):
        target = Device.objects.filter(name=device).first()
        if target is None:
            raise CommandError(f"No device named {device!r}.")
        try:
            with open(file, encoding="utf-8-sig") as handle:
                raws = alerts_in(json.load(handle))
        except (OSError, ValueError) as error:
            raise CommandError(f"Cannot read {file}: {error}")
        run = PollRun.objects.create(device=target, source="import", outcome=PollOutcome.OK)
        ingester, started = Ingester(target, ChangeSource.IMPORT, poll=run), time.monotonic()
        for start in range(0, len(raws), CHUNK):
            ingester.ingest_page(raws[start : start + CHUNK])
            run.pages += 1
        finish(run, ingester, started)
        self.stdout.write(json.dumps({name: ingester.counts[name] for name in REPORTED}))
