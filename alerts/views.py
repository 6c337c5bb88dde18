import json
import re

from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, Q
from django.db.models.functions import TruncWeek
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from alerts.choices import ChangeSource, Severity
from alerts.forms import SORTS, AlertFilterForm, CommentForm, TriageForm
from alerts.models import (
    Alert,
    AlertChange,
    AuditEvent,
    Comment,
    DeviceAlertSettings,
    PollRun,
    PortalPivot,
    RejectedAlert,
)
from alerts.normalize import SEVERITIES
from ascmon.roles import ANALYST, role_required

PAGE_SIZE = 50
# Decision support renders "what is usual" for Storage.* alerts from the first template that exists.
USUAL_CONTEXT_TEMPLATES = ["storage_logs/_usual_context.html", "alerts/_usual_context.html"]
MITRE_ID = re.compile(r"^T\d{4}(\.\d{3})?$")


@role_required(ANALYST)
def alert_list(request):
    form = AlertFilterForm(request.GET or None)
    if form.is_bound and form.is_valid():
        alerts, ordering = form.filter(Alert.objects.all()), form.ordering()
    else:
        form = AlertFilterForm(initial={})
        alerts, ordering = Alert.objects.visible(), ["-time_generated", "-severity_rank", "-id"]
    counts = count_by_severity(alerts)
    paginator = Paginator(alerts.for_list().order_by(*ordering), PAGE_SIZE)
    paginator.count = counts["total"]  # counted already, with the severities
    page = paginator.get_page(request.GET.get("page"))
    severity_counts = [(value, label, counts[value]) for value, label in reversed(Severity.choices)]
    context = {
        "form": form,
        "page": page,
        "counts": counts,
        "severity_counts": severity_counts,
        "sort_links": sort_links(request.GET.get("sort") or "-time"),
        "current_sort": request.GET.get("sort", ""),
    }
    template = "alerts/list.html#alert-table" if request.htmx else "alerts/list.html"
    return render(request, template, context)


def count_by_severity(alerts):
    """Per-severity counts in one query; filtered counts (no GROUP BY) let the filter pick the index."""
    counts = alerts.aggregate(
        **{name: Count("id", filter=Q(severity_rank=rank)) for name, rank in SEVERITIES.items()}
    )
    return {**counts, "total": sum(counts.values())}


def sort_links(current):
    """Each column's link sorts by it, newest/highest first; a second click reverses."""
    return {key: key if current == f"-{key}" else f"-{key}" for key in SORTS}


def detail_context(alert, request):
    return {
        "alert": alert,
        "entities": alert.entities.all(),
        "duplicates": alert.duplicates.select_related("device").order_by("start_time"),
        "changes": alert.changes.select_related("user"),
        "comments": alert.comments.select_related("author"),
        "audit": alert.audit.select_related("user")[:50],
        "details": alert.details,
        "raw_json": json.dumps(alert.details.raw, indent=2, ensure_ascii=False),
        "evidence_json": json.dumps(alert.details.supporting_evidence, indent=2, ensure_ascii=False),
        "typed_rows": typed_rows(alert.details.typed_properties),
        "mitre": [(t, mitre_url(t)) for t in alert.techniques + alert.sub_techniques],
        "triage_form": TriageForm(
            initial={"triage_status": alert.triage_status, "assignee": alert.assignee_id}
        ),
        "comment_form": CommentForm(),
        "write_back": write_back_enabled(alert.device),
        "usual_context_templates": USUAL_CONTEXT_TEMPLATES,
    }


def typed_rows(typed):
    """(label, text, url) per typed property; url only when the extractor vetted it as http(s)."""
    rows = []
    for name, value in sorted(typed.items()):
        url = ""
        if isinstance(value, dict):
            text, url = value.get("text", ""), value.get("url", "")
        elif isinstance(value, list):
            text = ", ".join(str(item) for item in value)
        else:
            text = str(value)
        rows.append((name.replace("_", " "), text, url))
    return rows


def mitre_url(technique):
    if not MITRE_ID.match(technique):
        return ""
    return "https://attack.mitre.org/techniques/" + technique.replace(".", "/") + "/"


@role_required(ANALYST)
def alert_detail(request, pk):
    alert = get_object_or_404(
        Alert.objects.select_related("device", "assignee", "suppressed_by", "duplicate_of", "details"), pk=pk
    )
    return render(request, "alerts/detail.html", detail_context(alert, request))


def write_back_enabled(device):
    return DeviceAlertSettings.objects.filter(device=device, write_back_status=True).exists()


@require_POST
@role_required(ANALYST)
def triage(request, pk):
    alert = get_object_or_404(Alert.objects.select_related("device", "details"), pk=pk)
    form = TriageForm(request.POST)
    if form.is_valid():
        save_triage(alert, request.user, form.cleaned_data)
    if request.htmx:
        return render(request, "alerts/detail.html#triage", detail_context(alert, request))
    return redirect("alerts:detail", pk=alert.pk)


def save_triage(alert, user, data):
    changes = []
    if data["triage_status"] != alert.triage_status:
        changes.append(("triage_status", alert.triage_status, data["triage_status"]))
    if data["assignee"] != alert.assignee:
        changes.append(("assignee", str(alert.assignee or ""), str(data["assignee"] or "")))
    if not changes:
        return
    with transaction.atomic():
        alert.triage_status, alert.assignee = data["triage_status"], data["assignee"]
        alert.save(update_fields=["triage_status", "assignee", "updated_at"])
        for field, old, new in changes:
            AlertChange.objects.create(
                alert=alert, field=field, old=old, new=new, source=ChangeSource.ANALYST, user=user
            )
            AuditEvent.objects.create(
                user=user, alert=alert, action=f"changed {field}", detail={"old": old, "new": new}
            )
    if changes[0][0] == "triage_status" and write_back_enabled(alert.device):
        from django_q.tasks import async_task

        async_task("alerts.tasks.write_back_status", alert.pk, user.pk)


@require_POST
@role_required(ANALYST)
def add_comment(request, pk):
    alert = get_object_or_404(Alert.objects.select_related("device", "details"), pk=pk)
    form = CommentForm(request.POST)
    if form.is_valid():
        comment = Comment.objects.create(alert=alert, author=request.user, body=form.cleaned_data["body"])
        AuditEvent.objects.create(
            user=request.user, alert=alert, action="commented", detail={"comment": comment.pk}
        )
    if request.htmx:
        return render(request, "alerts/detail.html#comments", detail_context(alert, request))
    return redirect("alerts:detail", pk=alert.pk)


@role_required(ANALYST)
def open_in_portal(request, pk):
    """Record that the analyst needed the portal, then go there (only ever to portal.azure.com)."""
    alert = get_object_or_404(Alert.objects.select_related("details"), pk=pk)
    PortalPivot.objects.create(user=request.user, alert=alert, alert_type=alert.alert_type)
    return redirect(alert.portal_url())


@role_required(ANALYST)
def pivot_metrics(request):
    rows = (
        PortalPivot.objects.annotate(week=TruncWeek("at"))
        .values("week", "alert_type")
        .annotate(pivots=Count("id"))
        .order_by("-week", "-pivots", "alert_type")
    )
    return render(request, "alerts/pivots.html", {"rows": rows[:500]})


@role_required(ANALYST)
def poll_runs(request):
    runs = PollRun.objects.select_related("device")[:100]
    rejects = RejectedAlert.objects.select_related("device", "poll")[:50]
    return render(request, "alerts/polls.html", {"runs": runs, "rejects": rejects})
