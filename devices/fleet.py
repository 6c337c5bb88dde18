"""The fleet table: one row per device, in a fixed number of queries however many devices there are."""

from collections import defaultdict
from datetime import timedelta

from django import forms
from django.apps import apps
from django.conf import settings
from django.db.models import Count, DateTimeField, F, IntegerField, Max, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from devices.models import DefenderPlan, Device, Finding, Subscription

SORTS = {
    "name": ["name"],
    "subscriptions": ["subs_visible", "name"],
    "resources": ["resources", "name"],
    "findings": ["open_findings", "name"],
    "sync": [F("last_successful_sync_at").asc(nulls_first=True), "name"],
    "lag": [F("logs_until").desc(nulls_last=True), "name"],  # smallest lag first; no logs = endless lag
}
STATUS_CHOICES = [
    ("", "All devices"),
    ("attention", "With open findings"),
    ("healthy", "Without findings"),
    ("stale", "Stale"),
]


class FleetFilter(forms.Form):
    """Filter and sort the fleet table from the query string."""

    q = forms.CharField(label="Device", required=False, widget=forms.TextInput(attrs={"type": "search"}))
    status = forms.ChoiceField(label="Status", choices=STATUS_CHOICES, required=False)
    sort = forms.CharField(required=False, widget=forms.HiddenInput)


def counted(queryset):
    """A subquery counting `queryset`'s rows per device (0 when none)."""
    rows = queryset.order_by().values("device").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(rows[:1], output_field=IntegerField()), Value(0))


def fleet(form):
    params = form.cleaned_data if form.is_valid() else {}
    subs = Subscription.objects.filter(device=OuterRef("pk"))
    resources = subs.filter(visible=True).order_by().values("device").annotate(n=Sum("resource_total"))
    devices = Device.objects.annotate(
        subs_visible=counted(subs.filter(visible=True)),
        subs_expected=counted(subs.filter(expected=True)),
        subs_missing=counted(subs.filter(expected=True, visible=False)),
        resources=Coalesce(Subquery(resources.values("n")[:1], output_field=IntegerField()), Value(0)),
        open_findings=counted(Finding.objects.open().filter(device=OuterRef("pk"))),
        high_findings=counted(Finding.objects.open().filter(device=OuterRef("pk"), severity="high")),
        logs_until=newest_log_window(),
    )
    devices = filtered(devices, params)
    sort = params.get("sort") or "name"
    ordering = SORTS.get(sort.lstrip("-"), SORTS["name"])
    devices = list(devices.order_by(*ordering))
    if sort.startswith("-"):
        devices.reverse()
    attach_coverage(devices)
    return devices


def newest_log_window():
    """End of the newest storage-log window ingested for the device (storage_logs' aggregates, if any)."""
    try:
        aggregates = apps.get_model("storage_logs", "LogAggregate")
    except LookupError:
        return F("logs_ingested_until")
    newest = (
        aggregates.objects.filter(account__device=OuterRef("pk"))
        .order_by()
        .values("account__device")
        .annotate(until=Max("window_end"))
        .values("until")
    )
    return Coalesce(Subquery(newest[:1], output_field=DateTimeField()), F("logs_ingested_until"))


def filtered(devices, params):
    if params.get("q"):
        devices = devices.filter(name__icontains=params["q"])
    status = params.get("status")
    if status == "attention":
        devices = devices.filter(open_findings__gt=0)
    elif status == "healthy":
        devices = devices.filter(open_findings=0)
    elif status == "stale":
        cutoff = timezone.now() - timedelta(minutes=settings.STALE_AFTER_MINUTES)
        devices = devices.filter(
            Q(last_successful_sync_at__isnull=True) | Q(last_successful_sync_at__lt=cutoff)
        )
    return devices


def attach_coverage(devices):
    """Defender coverage per plan: in how many visible subscriptions each plan is on (one query)."""
    rows = (
        DefenderPlan.objects.filter(
            subscription__device__in=[d.pk for d in devices], subscription__visible=True, deprecated=False
        )
        .values("subscription__device", "name")
        .annotate(on=Count("pk", filter=Q(pricing_tier__iexact="standard")), total=Count("pk"))
        .order_by("name")
    )
    coverage = defaultdict(list)
    for row in rows:
        coverage[row["subscription__device"]].append(row)
    now = timezone.now()
    for device in devices:
        device.coverage = coverage[device.pk]
        device.logs_until = max(filter(None, (device.logs_until, device.logs_ingested_until)), default=None)
        device.lag = now - device.logs_until if device.logs_until else None
        device.stale = device.is_stale(now)
