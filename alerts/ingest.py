"""Upsert raw alerts: normalize, compare with what is stored, dedup, suppress, record changes.

The one path for polls and imports. A page is one transaction; a malformed alert is stored raw as a
RejectedAlert and the rest of the page goes in. Unchanged alerts (same content hash) cost one UPDATE of
last_seen_at per page. Two polls racing on the same new alert: the loser's page retries and finds it.
"""

import json
from collections import Counter

from django.db import IntegrityError, connection, transaction
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
from alerts.normalize import MalformedAlert, normalize
from alerts.suppression import suppressing_rule

TRACKED = ("status", "severity", "end_time")


def alert_fields(item):
    return {name: value for name, value in item.model_fields().items() if name not in DETAIL_FIELDS}


def detail_fields(item):
    return {name: getattr(item, name) for name in DETAIL_FIELDS}


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
        self.counts = Counter()

    def ingest_page(self, raws, rejected=()):
        for attempt in range(2):
            counts = Counter()
            try:
                with transaction.atomic():
                    self._ingest(raws, rejected, counts)
            except IntegrityError:
                if attempt:
                    raise
                self.types = dict(AlertType.objects.values_list("name", "is_new"))
                continue
            self.counts.update(counts)
            return counts

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
                self.add_sighting(alert, item.resource_id, unchanged)
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

    def add_sighting(self, alert, resource_id, unchanged):
        """The same alert under another subscription or location: one record, the other id remembered."""
        if resource_id not in alert.sightings:
            alert.sightings = [*alert.sightings, resource_id]
            Alert.objects.filter(pk=alert.pk).update(sightings=alert.sightings)
        unchanged.append(alert.pk)

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
        plain = [(a, i) for a, i in pairs if not dedup.is_cross_provider(a.dedup_family)]
        Alert.objects.bulk_create([alert for alert, _ in plain], batch_size=500)
        cross = [alert for alert, _ in pairs if dedup.is_cross_provider(alert.dedup_family)]
        pool = self.dedup_pool(cross)
        for alert in cross:
            alert.save()
            self.link_duplicate(alert, pool.setdefault(alert.dedup_family, []), counts)
        insert_rows([AlertDetails(alert=alert, **detail_fields(item)) for alert, item in pairs])
        insert_rows([AlertEntity(alert=alert, **entity) for alert, item in pairs for entity in item.entities])

    def dedup_pool(self, alerts):
        """Stored primaries that `alerts` may duplicate, by family: one query per page."""
        times = [a.start_time or a.time_generated for a in alerts if a.start_time or a.time_generated]
        if not times:
            return {}
        fields = (
            "id",
            "dedup_family",
            "product_name",
            "start_time",
            "time_generated",
            "dedup_principals",
            "suppressed_by_id",
            "duplicate_count",
        )
        stored = Alert.objects.filter(
            device=self.device,
            dedup_family__in={a.dedup_family for a in alerts},
            duplicate_of__isnull=True,
            start_time__range=(min(times) - dedup.WINDOW, max(times) + dedup.WINDOW),
        ).only(*fields)
        pool = {}
        for alert in stored:
            pool.setdefault(alert.dedup_family, []).append(alert)
        return pool

    def link_duplicate(self, alert, primaries, counts):
        """Link a new cross-provider alert to the primary it duplicates; `primaries` is kept current."""
        primary = dedup.find_primary(alert, primaries)
        if primary is None:
            primaries.append(alert)
            return
        counts["duplicates"] += 1
        if dedup.primary_rank(alert) < dedup.primary_rank(primary):
            Alert.objects.filter(duplicate_of=primary).update(duplicate_of=alert)
            alert.duplicate_count = primary.duplicate_count + 1
            Alert.objects.filter(pk=primary.pk).update(duplicate_of=alert, duplicate_count=0)
            Alert.objects.filter(pk=alert.pk).update(duplicate_count=alert.duplicate_count)
            primaries[primaries.index(primary)] = alert
        else:
            primary.duplicate_count += 1
            Alert.objects.filter(pk=alert.pk).update(duplicate_of=primary)
            Alert.objects.filter(pk=primary.pk).update(duplicate_count=primary.duplicate_count)
            alert.duplicate_of_id = primary.pk

    # ---- changed alerts ------------------------------------------------------------------------------

    def update(self, alert, item, counts):
        changes = [
            (name, getattr(alert, name), getattr(item, name))
            for name in TRACKED
            if getattr(alert, name) != getattr(item, name)
        ]
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
        AlertDetails.objects.update_or_create(alert=alert, defaults=detail_fields(item))
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


def insert_rows(objs):
    """bulk_create for rows whose ids nobody reads back (details, entities), as one executemany: Django's
    multi-row INSERT builds SQL value by value, a large part of each new alert's cost. No signals, as
    with bulk_create."""
    if not objs:
        return
    opts = objs[0]._meta
    fields = [f for f in opts.concrete_fields if f is not opts.auto_field]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    table, values = connection.ops.quote_name(opts.db_table), ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {table} ({columns}) VALUES ({values})"  # noqa: S608 (names from the model only)
    rows = [[f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields] for obj in objs]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def fmt(value):
    if value is None:
        return ""
    return value.isoformat() if hasattr(value, "isoformat") else str(value)
