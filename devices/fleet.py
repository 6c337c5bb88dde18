"""The fleet table: one page of devices, worst health first by default, in a fixed number of queries
however many devices there are (every figure is a subquery; coverage is read for the page's rows only)."""

from collections import defaultdict
from datetime import timedelta

from django import forms
from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import Count, Exists, F, IntegerField, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from devices.checks import PLAN_RESOURCE_TYPES
from devices.choices import FindingKind, Severity
from devices.ingestion import logs_read_until
from devices.models import DefenderPlan, Device, Finding, Subscription

PAGE_SIZE = 50
# Each sort: (expression, natural direction is descending). Ties fall back to the name.
SORTS = {
    "health": [("high_findings", True), ("medium_findings", True), ("open_findings", True)],
    "name": [],
    "subscriptions": [("subs_visible", False)],
    "resources": [("resources", False)],
    "findings": [("open_findings", False)],
    "sync": [("last_successful_sync_at", False)],
    "lag": [("logs_until", True)],  # smallest lag first; no logs = endless lag
}
DEFAULT_SORT = "health"
STATUS_CHOICES = [
    ("", "All devices"),
    ("attention", "With open findings"),
    ("healthy", "Without findings"),
    ("stale", "Stale"),
]
COVERAGE_CHOICES = [
    ("", "Any coverage"),
    ("gaps", "Off in some subscription"),
    ("full", "On in every subscription"),
]


class FleetFilter(forms.Form):
    """Filter and sort the fleet table from the query string."""

    q = forms.CharField(label="Device", required=False, widget=forms.TextInput(attrs={"type": "search"}))
    status = forms.ChoiceField(label="Status", choices=STATUS_CHOICES, required=False)
    kind = forms.ChoiceField(
        label="Open finding", choices=[("", "Any finding"), *FindingKind.choices], required=False
    )
    plan = forms.ChoiceField(
        label="Defender plan",
        choices=[("", "Any plan"), *((name, name) for name in sorted(PLAN_RESOURCE_TYPES))],
        required=False,
    )
    coverage = forms.ChoiceField(label="Plan coverage", choices=COVERAGE_CHOICES, required=False)
    sort = forms.CharField(required=False, widget=forms.HiddenInput)

    def params(self):
        return self.cleaned_data if self.is_valid() else {}

    def is_filtered(self):
        params = self.params()
        return any(params.get(name) for name in ("q", "status", "kind", "plan", "coverage"))


def counted(queryset):
    """A subquery counting `queryset`'s rows per device (0 when none)."""
    rows = queryset.order_by().values("device").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(rows[:1], output_field=IntegerField()), Value(0))


def annotated():
    subs = Subscription.objects.filter(device=OuterRef("pk"))
    resources = subs.filter(visible=True).order_by().values("device").annotate(n=Sum("resource_total"))
    findings = Finding.objects.open().filter(device=OuterRef("pk"))
    return Device.objects.annotate(
        subs_visible=counted(subs.filter(visible=True)),
        subs_expected=counted(subs.filter(expected=True)),
        subs_missing=counted(subs.filter(expected=True, visible=False)),
        resources=Coalesce(Subquery(resources.values("n")[:1], output_field=IntegerField()), Value(0)),
        open_findings=counted(findings),
        high_findings=counted(findings.filter(severity=Severity.HIGH)),
        medium_findings=counted(findings.filter(severity=Severity.MEDIUM)),
        logs_until=logs_read_until(),
    )


def ordering(sort):
    key = sort.lstrip("-") if sort.lstrip("-") in SORTS else DEFAULT_SORT
    flip = sort.startswith("-")
    columns = []
    for name, descending in SORTS[key]:
        descending = descending != flip
        columns.append(F(name).desc(nulls_last=True) if descending else F(name).asc(nulls_first=True))
    return [*columns, F("name").desc() if flip and key == "name" else F("name").asc(), "pk"]


def fleet_page(form, page_number=1):
    """The page of devices the form asks for, each with its Defender coverage attached."""
    params = form.params()
    devices = filtered(annotated(), params).order_by(*ordering(params.get("sort") or DEFAULT_SORT))
    page = Paginator(devices, PAGE_SIZE).get_page(page_number)
    page.object_list = list(page.object_list)
    attach_coverage(page.object_list)
    return page


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
    if params.get("kind"):
        devices = devices.filter(
            Exists(Finding.objects.open().filter(device=OuterRef("pk"), kind=params["kind"]))
        )
    return by_coverage(devices, params.get("plan"), params.get("coverage"))


def by_coverage(devices, plan, coverage):
    plans = DefenderPlan.objects.filter(
        subscription__device=OuterRef("pk"), subscription__visible=True, deprecated=False
    )
    if plan:
        plans = plans.filter(name=plan)
    off = plans.exclude(pricing_tier__iexact="standard")
    if coverage == "gaps":
        return devices.filter(Exists(off))
    if coverage == "full":
        return devices.filter(Exists(plans)).exclude(Exists(off))
    if plan:
        return devices.filter(Exists(plans))
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
        device.coverage_gaps = [plan for plan in device.coverage if plan["on"] < plan["total"]]
        device.lag = now - device.logs_until if device.logs_until else None
        device.stale = device.is_stale(now)
        device.low_findings = device.open_findings - device.high_findings - device.medium_findings
