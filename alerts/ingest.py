"""Upsert raw alerts: normalize, compare with what is stored, dedup, suppress, record changes.

The one path for polls and imports. A page is one transaction; a malformed alert is stored raw as a
RejectedAlert and the rest of the page goes in. Unchanged alerts (same content hash) cost one UPDATE of
last_seen_at per page. Two polls racing on the same new alert: the loser's page retries and finds it.
"""

import json
from collections import Counter
from functools import partial

from django.db import IntegrityError, connections, models, router, transaction
from django.utils import timezone

from alerts import dedup
from alerts.choices import AZURE_TO_TRIAGE, ChangeSource, TriageStatus
from alerts.models import (
    DETAIL_FIELDS,
    Alert,
    AlertChange,
    AlertDetails,
    AlertEntity,
    AlertType,
    RejectedAlert,
    SuppressionRule,
)
from alerts.normalize import STORED_FIELDS, MalformedAlert, normalize
from alerts.suppression import suppressing_rule

TRACKED = ("status", "severity", "end_time")


ALERT_FIELDS = tuple(name for name in STORED_FIELDS if name not in DETAIL_FIELDS)


def alert_fields(item):
    return {name: getattr(item, name) for name in ALERT_FIELDS}


def detail_fields(item):
    return {name: getattr(item, name) for name in DETAIL_FIELDS}


def tracked_changes(alert, item):
    """(field, stored, new) for each timeline field `item` reports differently."""
    return [
        (name, getattr(alert, name), getattr(item, name))
        for name in TRACKED
        if getattr(alert, name) != getattr(item, name)
    ]


def entity_set(entities):
    return sorted(f"{e['kind']}:{e['value']}" for e in entities)


def entity_text(entities):
    return "\n".join(sorted({e["value"].lower() for e in entities if e["value"]}))


def search_text(alert):
    return "\n".join(
        [alert.display_name, alert.alert_type, alert.compromised_entity, alert.entity_text]
    ).lower()


class Ingester:
    """Ingests pages of raw alerts for one device, counting what happened."""

    def __init__(self, device, source=ChangeSource.AZURE, poll=None):
        self.device, self.source, self.poll = device, source, poll
        self.rules = list(SuppressionRule.objects.active())
        self.types = dict(AlertType.objects.values_list("name", "is_new"))
        self.primaries = PrimaryPool(device)
        self.counts = Counter()

    def ingest_page(self, raws, rejected=()):
        for attempt in range(2):
            counts = Counter()
            try:
                self._ingest_atomically(raws, rejected, counts)
            except IntegrityError:
                if attempt:
                    raise
                self.types = dict(AlertType.objects.values_list("name", "is_new"))
                continue
            self.counts.update(counts)
            return counts

    def _ingest_atomically(self, raws, rejected, counts):
        try:
            with transaction.atomic():
                self._ingest(raws, rejected, counts)
        except Exception:
            self.primaries = PrimaryPool(self.device)  # it may hold primaries and links the rollback undid
            raise

    def _ingest(self, raws, rejected, counts):
        normalized = []
        for raw in raws:
            try:
                normalized.append(normalize(raw))
            except MalformedAlert as error:
                self.reject(raw, str(error), counts)
        for item in rejected:
            self.reject(item.raw, item.reason, counts)
        stored = Alert.objects.filter(device=self.device, identity__in={n.identity for n in normalized})
        by_identity = {alert.identity: alert for alert in stored}
        unchanged, pending = [], {}
        for item in normalized:
            if item.identity in pending:
                sightings = pending[item.identity][0].sightings
                if (
                    item.resource_id not in sightings
                    and item.resource_id != pending[item.identity][0].resource_id
                ):
                    sightings.append(item.resource_id)
                continue
            alert = by_identity.get(item.identity)
            if alert is None:
                pending[item.identity] = self.build(item, counts)
            elif item.resource_id != alert.resource_id:
                self.add_sighting(alert, item, unchanged, counts)
            elif alert.content_hash == item.content_hash:
                unchanged.append(alert.pk)
            else:
                self.update(alert, item, counts)
        self.create(list(pending.values()), counts)
        seen_types = {item.alert_type for item in normalized}
        AlertType.objects.filter(name__in=seen_types).update(last_seen_at=timezone.now())
        counts["unchanged"] += len(unchanged)
        Alert.objects.filter(pk__in=unchanged).update(last_seen_at=timezone.now())

    def reject(self, raw, reason, counts):
        text = raw if isinstance(raw, str) else json.dumps(raw, default=str)
        RejectedAlert.objects.create(device=self.device, poll=self.poll, reason=reason, raw=text[:200_000])
        counts["rejected"] += 1

    def add_sighting(self, alert, item, unchanged, counts):
        """The same alert under another subscription or location: one record, the other id remembered.
        A status, severity or end time it reports differently is a change like any other; the record
        keeps the first sighting's ids and details."""
        if item.resource_id not in alert.sightings:
            alert.sightings = [*alert.sightings, item.resource_id]
            Alert.objects.filter(pk=alert.pk).update(sightings=alert.sightings)
        changes = tracked_changes(alert, item)
        if not changes:
            unchanged.append(alert.pk)
            return
        for name in (*TRACKED, "severity_rank"):
            setattr(alert, name, getattr(item, name))
        self.save_changes(alert, changes, counts)

    # ---- new alerts ----------------------------------------------------------------------------------

    def alert_type_is_new(self, item, counts):
        if item.alert_type not in self.types:
            known = bool(item.extractor)
            kind, created = AlertType.objects.get_or_create(
                name=item.alert_type,
                defaults={
                    "display_name": item.display_name,
                    "product_name": item.product_name,
                    "known": known,
                    "is_new": not known,
                },
            )
            self.types[item.alert_type] = kind.is_new
            counts["new_types"] += int(created and kind.is_new)
        return self.types[item.alert_type]

    def build(self, item, counts):
        alert = Alert(device=self.device, **alert_fields(item))
        alert.entity_text = entity_text(item.entities)
        alert.search_text = search_text(alert)
        alert.dedup_family = dedup.family(item.alert_type, item.display_name)[:200]
        alert.dedup_principals = dedup.principals(item.entities)
        alert.is_new_type = self.alert_type_is_new(item, counts)
        alert.triage_status = AZURE_TO_TRIAGE.get(item.status, TriageStatus.NEW)
        alert.suppressed_by = suppressing_rule(alert, self.rules)
        counts["suppressed"] += int(alert.suppressed_by is not None)
        counts["created"] += 1
        return alert, item

    def create(self, pairs, counts):
        alerts = [alert for alert, _ in pairs]
        cross = [alert for alert in alerts if dedup.is_cross_provider(alert.dedup_family)]
        self.primaries.load(cross)  # before this page's alerts are stored: they join the pool in order
        insert_alerts(self.device, alerts)
        links = Links()
        for alert in cross:
            primaries = self.primaries.of(alert.dedup_family)
            self.link_duplicate(dedup.Primary.of(alert), primaries, links, counts)
        links.write()
        insert_rows(AlertDetails, [{"alert_id": a.pk, **detail_fields(item)} for a, item in pairs])
        insert_rows(AlertEntity, [{"alert_id": a.pk, **e} for a, item in pairs for e in item.entities])

    def link_duplicate(self, alert, primaries, links, counts):
        """Link a new cross-provider alert (a Primary) to the primary it duplicates; `primaries` (by id)
        is kept current."""
        primary = dedup.find_primary(alert, primaries.values())
        if primary is None:
            primaries[alert.pk] = alert
            return
        counts["duplicates"] += 1
        if alert.rank < primary.rank:
            links.repoint(primary.pk, alert.pk)
            links.point(primary.pk, alert.pk)
            alert.duplicate_count, primary.duplicate_count = primary.duplicate_count + 1, 0
            del primaries[primary.pk]
            primaries[alert.pk] = alert
        else:
            primary.duplicate_count += 1
            links.point(alert.pk, primary.pk)
        links.count(alert, primary)

    # ---- changed alerts ------------------------------------------------------------------------------

    def update(self, alert, item, counts):
        changes = tracked_changes(alert, item)
        old_entities = entity_set(alert.entities.values("kind", "value"))
        new_entities = entity_set(item.entities)
        if old_entities != new_entities:
            changes.append(("entities", "\n".join(old_entities), "\n".join(new_entities)))
            alert.entities.all().delete()
            AlertEntity.objects.bulk_create([AlertEntity(alert=alert, **e) for e in item.entities])
            alert.entity_text = entity_text(item.entities)
        for name, value in alert_fields(item).items():
            if name != "identity":
                setattr(alert, name, value)
        alert.search_text = search_text(alert)
        self.primaries.forget(alert.dedup_family)  # its product or times may have changed
        AlertDetails.objects.update_or_create(alert=alert, defaults=detail_fields(item))
        self.save_changes(alert, changes, counts)

    def save_changes(self, alert, changes, counts):
        alert.last_seen_at = timezone.now()
        self.reconcile_status(alert, changes)
        alert.save()
        AlertChange.objects.bulk_create(
            [
                AlertChange(alert=alert, field=f, old=fmt(o), new=fmt(n), source=self.source)
                for f, o, n in changes
            ]
        )
        counts["updated"] += 1

    def reconcile_status(self, alert, changes):
        """A write-back Azure now shows is done; a status changed in Azure moves untouched triage along."""
        if alert.requested_azure_status == alert.status:
            alert.requested_azure_status = ""
        elif not alert.requested_azure_status and alert.triage_status == TriageStatus.NEW:
            follows = AZURE_TO_TRIAGE.get(alert.status, TriageStatus.NEW)
            if follows != alert.triage_status and any(change[0] == "status" for change in changes):
                changes.append(("triage_status", alert.triage_status, follows))
                alert.triage_status = follows


class PrimaryPool:
    """A device's stored primary alerts by dedup family, as dedup.Primary by id. Each family's rows in a
    time span are read once per ingester, not once per page: a busy family would be read again for every
    page. The ingester's own links keep it current; links another poll commits meanwhile are not seen,
    as they would not be within a page either."""

    def __init__(self, device):
        self.device, self.families, self.spans = device, {}, {}

    def of(self, family):
        return self.families.setdefault(family, {})

    def load(self, alerts):
        """Read what `alerts` may duplicate: their families within dedup.WINDOW of their times."""
        wanted = {}
        for alert in alerts:
            if when := alert.start_time or alert.time_generated:
                low, high = wanted.get(alert.dedup_family, (when, when))
                wanted[alert.dedup_family] = (min(low, when), max(high, when))
        for family, (low, high) in wanted.items():
            self.load_span(family, low - dedup.WINDOW, high + dedup.WINDOW)

    def load_span(self, family, low, high):
        """Read the part of [low, high] not read yet; the span read stays one interval."""
        read = self.spans.get(family)
        missing = [(low, high)] if read is None else [(low, read[0]), (read[1], high)]
        self.spans[family] = (low, high) if read is None else (min(low, read[0]), max(high, read[1]))
        primaries = self.of(family)
        for start, end in missing:
            if start >= end:
                continue
            stored = Alert.objects.filter(
                device=self.device,
                dedup_family=family,
                duplicate_of__isnull=True,
                start_time__range=(start, end),
            ).values_list(*dedup.Primary.FIELDS)
            for row in stored:
                primaries.setdefault(row[0], dedup.Primary.from_row(*row))

    def forget(self, family):
        """A stored alert of `family` changed: read the family again when next needed."""
        self.families.pop(family, None)
        self.spans.pop(family, None)


class Links:
    """The duplicate links of one page, written at its end with one UPDATE per distinct value rather
    than two or three per duplicate."""

    def __init__(self):
        self.duplicate_of, self.duplicate_count = {}, {}

    def point(self, pk, primary_pk):
        self.duplicate_of[pk] = primary_pk

    def repoint(self, old, new):
        """The duplicates of primary `old` now belong to `new`: stored ones at once, this page's here."""
        Alert.objects.filter(duplicate_of=old).update(duplicate_of=new)
        for pk, target in self.duplicate_of.items():
            if target == old:
                self.duplicate_of[pk] = new

    def count(self, *primaries):
        for primary in primaries:
            self.duplicate_count[primary.pk] = primary.duplicate_count

    def write(self):
        for field, values in (("duplicate_of", self.duplicate_of), ("duplicate_count", self.duplicate_count)):
            by_value = {}
            for pk, value in values.items():
                by_value.setdefault(value, []).append(pk)
            for value, pks in by_value.items():
                Alert.objects.filter(pk__in=pks).update(**{field: value})


def insert_alerts(device, alerts):
    """New alerts of `device` as one executemany, then their ids in one query: (device, identity) is
    unique, so no id is guessed, on SQLite as on PostgreSQL."""
    now = timezone.now()
    for alert in alerts:
        alert.updated_at = now  # what auto_now would set; every other column is in the instance's __dict__
    insert_rows(Alert, [vars(alert) for alert in alerts])
    identities = [alert.identity for alert in alerts]
    ids = dict(Alert.objects.filter(device=device, identity__in=identities).values_list("identity", "id"))
    for alert in alerts:
        alert.pk = ids[alert.identity]
        alert._state.adding, alert._state.db = False, router.db_for_write(Alert)


# Field classes whose values of these exact types Django hands to the driver unchanged, on SQLite as on
# PostgreSQL (integers are not: psycopg 3 gets them typed): skipping its per-value preparation for them
# is a large part of an insert's Python time.
AS_IS = {models.CharField: str, models.TextField: str, models.BooleanField: bool}


def preparer(field, db):
    """How a value of `field` reaches the driver: as it is when Django would not change it, else as
    Django prepares it (JSON, date-times, enum members)."""
    prepare, plain = partial(field.get_db_prep_save, connection=db), AS_IS.get(type(field))
    if plain is None:
        return prepare
    return lambda value: value if value is None or type(value) is plain else prepare(value)


def insert_fields(model):
    return [f for f in model._meta.concrete_fields if f is not model._meta.auto_field]


def insert_rows(model, rows):
    """Rows of `model` (dicts of every column but the auto id, by attname) as one executemany: Django's
    multi-row INSERT builds SQL value by value, a large part of each new alert's cost. No signals, as
    with bulk_create."""
    if not rows:
        return
    fields, db = insert_fields(model), connections[router.db_for_write(model)]
    columns = ", ".join(db.ops.quote_name(f.column) for f in fields)
    table, values = db.ops.quote_name(model._meta.db_table), ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {table} ({columns}) VALUES ({values})"  # noqa: S608 (names from the model only)
    prepare = [(f.attname, preparer(f, db)) for f in fields]
    params = [[to_db(row[name]) for name, to_db in prepare] for row in rows]
    with db.cursor() as cursor:
        cursor.executemany(sql, params)


def fmt(value):
    if value is None:
        return ""
    return value.isoformat() if hasattr(value, "isoformat") else str(value)
