import json
import re

from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Count
from django.db.models.functions import TruncWeek
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.views.decorators.http import require_POST

from alerts import related
from alerts import triage as triage_writes
from alerts.bulk import BulkForm
from alerts.choices import Severity
from alerts.forms import SORT_DIRECTIONS, AlertFilterForm, CommentForm, TriageForm
from alerts.ip_search import DottedRows, dotted_matches
from alerts.models import Alert, DeviceAlertSettings, PollRun, PortalPivot, RejectedAlert
from alerts.normalize import SEVERITIES
from ascmon.roles import ANALYST, role_required
from ascmon.sorting import sort_links
from storage_logs.context import context_for
from storage_logs.families import evidence_for

PAGE_SIZE = 50
# Counts on the list stop here: on a fleet of a million alerts an exact count scans every visible row (the
# list's whole cost), while "10,000+" tells the analyst the same. Below the cap every count is exact.
COUNT_CAP = 10_000
# Under a search every counted row is read from the table to check its text (EXPLAIN ANALYZE at a million
# alerts, bench/fleet_pages.py: 10,000 rows ~105 ms, 1,000 rows ~11 ms), so the cap is lower there.
SEARCH_COUNT_CAP = 1_000
MITRE_ID = re.compile(r"^T\d{4}(\.\d{3})?$")
# What one triage save changes on the page besides the triage form: swapped out of band.
TRIAGE_OOB = ("alert-badges", "timeline", "audit")


def filtered(params):
    """(form, alerts it matches, ordering) for a list query string; filters that do not validate fall
    back to the default list."""
    form = AlertFilterForm(params)
    if not form.is_valid():
        form = AlertFilterForm({})
        form.is_valid()
    return form, form.filter(Alert.objects.all()), form.ordering()


@role_required(ANALYST)
def alert_list(request):
    return render(request, list_template(request), list_context(request, request.GET))


def list_template(request):
    return "alerts/list.html#alert-table" if request.htmx else "alerts/list.html"


def list_context(request, params, **extra):
    form, alerts, ordering = filtered(params)
    mode = form.cleaned_data.get("suppressed") or ""
    hidden_alerts = form.filter(Alert.objects.all(), suppressed="only") if not mode else None
    searched = bool(form.cleaned_data.get("q"))
    cap = SEARCH_COUNT_CAP if searched else COUNT_CAP
    rows = alerts.for_list().order_by(*ordering)
    dotted = dotted_matches(form, ordering)
    if dotted is not None:  # the same alerts, read through the dotted index (alerts/ip_search.py)
        alerts, rows = dotted, DottedRows(dotted, ordering, rows)
    counts, hidden = capped_counts(alerts, hidden_alerts, cap, split=not searched)
    page = list_page(rows, counts["total"], params.get("page"))
    query = params.copy()
    query.pop("page", None)
    return {
        "form": form,
        "params": params,
        "page": page,
        "counts": counts,
        "severity_counts": [(value, label, counts[value]) for value, label in reversed(Severity.choices)],
        "suppressed_mode": mode,
        "hidden": hidden,
        "pivots": form.pivots(),
        "filter_query": query.urlencode(),
        "sort_links": sort_links(form.cleaned_data.get("sort") or "-time", SORT_DIRECTIONS),
        "current_sort": form.cleaned_data.get("sort") or "",
        "bulk_form": extra.pop("bulk_form", None) or BulkForm(initial={"filter": query.urlencode()}),
        **extra,
    }


class Tally:
    """A count that stopped at the cap: shown as "10,000+" then, else exactly as the number."""

    def __init__(self, value, capped=False):
        self.value, self.capped = value, capped

    def __str__(self):
        return f"{self.value:,}+" if self.capped else str(self.value)

    def __int__(self):
        return self.value

    def __float__(self):  # |pluralize
        return float(self.value)

    def __bool__(self):
        return self.value > 0

    def __eq__(self, other):
        return isinstance(other, int | Tally) and self.value == int(other)

    __hash__ = None


def capped_counts(alerts, hidden_alerts, cap, split=True):
    """({severity: Tally, "total": Tally}, hidden Tally or None). Each count reads at most cap + 1 rows
    (`COUNT(*) FROM (SELECT ... LIMIT cap + 1)`), so it costs the same at any fleet size: first one capped
    scan grouped by severity (exact when under the cap), then, past it and if `split`, a capped count per
    severity. Not per severity under a search: a severity it matches nothing of makes PostgreSQL read the
    whole table for its cap (EXPLAIN: a seq scan of 1,000,000 rows), and each one rebuilds the trigram
    bitmap; there the severities are what the first cap + 1 rows hold, lower bounds shown with "+"."""
    sql, params = alerts.order_by().values("severity_rank")[: cap + 1].query.sql_with_params()
    # Django's compiled SQL, its parameters apart.
    statement = f"SELECT severity_rank, COUNT(*) FROM ({sql}) AS capped GROUP BY severity_rank"  # noqa: S608
    if hidden_alerts is not None:
        hidden_sql, hidden_params = hidden_alerts.order_by().values("id")[: cap + 1].query.sql_with_params()
        statement += f" UNION ALL SELECT -1, COUNT(*) FROM ({hidden_sql}) AS hidden"  # noqa: S608
        params = (*params, *hidden_params)
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        found = dict(cursor.fetchall())
    hidden = None if hidden_alerts is None else Tally(min(found[-1], cap), found[-1] > cap)
    total = sum(value for rank, value in found.items() if rank >= 0)
    if total <= cap:
        tallies = {name: Tally(found.get(rank, 0)) for name, rank in SEVERITIES.items()}
        tallies["total"] = Tally(total)
    elif split:  # the total: at least the severities' capped counts together
        tallies = per_severity(alerts, cap)
        tallies["total"] = Tally(sum(t.value for t in tallies.values()), True)
    else:
        tallies = {name: Tally(min(found.get(rank, 0), cap), True) for name, rank in SEVERITIES.items()}
        tallies["total"] = Tally(cap, True)
    return tallies, hidden


def per_severity(alerts, cap):
    """A capped count per severity, in one query (each an index range of the visible-by-severity index)."""
    selects, params = [], []
    for name, rank in SEVERITIES.items():
        part = alerts.filter(severity_rank=rank).order_by().values("id")[: cap + 1]
        sql, part_params = part.query.sql_with_params()
        selects.append(f"(SELECT COUNT(*) FROM ({sql}) AS {name}_rows)")  # noqa: S608 (alias: a SEVERITIES key)
        params.extend(part_params)
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(selects), params)
        found = cursor.fetchone()
    return {name: Tally(min(value, cap), value > cap) for name, value in zip(SEVERITIES, found, strict=True)}


class OpenPage:
    """A page of a list whose end was not counted: "next" while a row exists past this page."""

    def __init__(self, rows, number, total):
        fetched = list(rows[(number - 1) * PAGE_SIZE : number * PAGE_SIZE + 1])
        self.object_list, self.number = fetched[:PAGE_SIZE], number
        self.has_next, self.has_previous = len(fetched) > PAGE_SIZE, number > 1
        self.next_page_number, self.previous_page_number = number + 1, number - 1
        pages = max(number + int(self.has_next), -(-total.value // PAGE_SIZE))
        self.paginator = type("Pages", (), {"num_pages": f"{pages:,}+" if self.has_next else str(number)})

    def __len__(self):
        return len(self.object_list)


def list_page(rows, total, number):
    """Django's page when the total is exact; past the count cap, an OpenPage that reads one row ahead."""
    if not total.capped:
        paginator = Paginator(rows, PAGE_SIZE)
        paginator.count = total.value  # counted already, with the severities
        return paginator.get_page(number)
    try:
        number = max(int(number), 1)
    except (TypeError, ValueError):
        number = 1
    page = OpenPage(rows, number, total)
    return page if page.object_list or number == 1 else OpenPage(rows, 1, total)


def work_context(alert, triage_form=None, comment_form=None):
    """The parts of the alert page one triage save or comment can change."""
    return {
        "alert": alert,
        "changes": alert.changes.select_related("user"),
        "comments": alert.comments.select_related("author"),
        "audit": alert.audit.select_related("user")[:50],
        "triage_form": triage_form
        or TriageForm(
            initial={
                "triage_status": alert.triage_status,
                "assignee": alert.assignee_id,
                "classification": alert.classification,
                "determination": alert.determination,
            }
        ),
        "comment_form": comment_form or CommentForm(),
        "write_back": write_back_enabled(alert.device),
    }


def detail_context(alert, triage_form=None, comment_form=None):
    entities = list(alert.entities.all())
    details = alert.details
    labels = related.ip_labels(entities, details.typed_properties)
    for entity in entities:
        entity.labels = labels.get(entity.value, []) if entity.kind == "ip" else []
    others, others_total, others_more = related.same_entities(alert, entities)
    return {
        **work_context(alert, triage_form, comment_form),
        "entities": entities,
        "ips": [(ip, found) for ip, found in labels.items()],
        "others": others,
        "others_total": others_total,
        "others_more": others_more,
        "correlated": correlated_count(alert),
        "duplicates": alert.duplicates.select_related("device").order_by("start_time"),
        "details": details,
        "raw_json": json.dumps(details.raw, indent=2, ensure_ascii=False),
        "evidence_json": json.dumps(details.supporting_evidence, indent=2, ensure_ascii=False),
        "typed_rows": typed_rows(details.typed_properties),
        "mitre": [(t, mitre_url(t)) for t in alert.techniques + alert.sub_techniques],
        "usual": context_for(alert, labels) if alert.is_storage_anomaly else None,
        "evidence": evidence_for(alert, labels) if alert.is_storage_anomaly else None,
    }


def correlated_count(alert):
    if not alert.correlation_key:
        return 0
    return Alert.objects.filter(correlation_key=alert.correlation_key).exclude(pk=alert.pk).count()


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


def alert_for_page(pk):
    related_rows = ("device", "assignee", "suppressed_by", "duplicate_of", "details")
    return get_object_or_404(Alert.objects.select_related(*related_rows), pk=pk)


@role_required(ANALYST)
def alert_detail(request, pk):
    return render(request, "alerts/detail.html", detail_context(alert_for_page(pk)))


def write_back_enabled(device):
    return DeviceAlertSettings.objects.filter(device=device, write_back_status=True).exists()


def partials(request, alert, main, oob, context, status=200, announce=""):
    """The partial `main` and, swapped out of band, the partials `oob` and the screen-reader announcement."""
    html = [render_to_string(f"alerts/detail.html#{main}", context, request)]
    html += [
        render_to_string(f"alerts/detail.html#{name}", {**context, "oob": True}, request) for name in oob
    ]
    html.append(render_to_string("_announce.html", {"message": announce}, request))
    return HttpResponse("".join(html), status=status)


@require_POST
@role_required(ANALYST)
def triage(request, pk):
    alert = alert_for_page(pk)
    form = TriageForm(request.POST)
    if form.is_valid():
        changed, _ = triage_writes.apply(Alert.objects.filter(pk=alert.pk), request.user, form.changes())
        if not request.htmx:
            return redirect("alerts:detail", pk=alert.pk)
        alert = alert_for_page(pk)
        announce = "Saved." if changed else "Nothing to change."
        return partials(request, alert, "triage", TRIAGE_OOB, work_context(alert), announce=announce)
    if not request.htmx:
        return render(request, "alerts/detail.html", detail_context(alert, triage_form=form), status=422)
    context = work_context(alert, triage_form=form)
    return partials(request, alert, "triage", (), context, 422, "Not saved: see the errors in the form.")


@require_POST
@role_required(ANALYST)
def add_comment(request, pk):
    alert = alert_for_page(pk)
    form = CommentForm(request.POST)
    if form.is_valid():
        triage_writes.apply(Alert.objects.filter(pk=alert.pk), request.user, {}, form.cleaned_data["body"])
        if not request.htmx:
            return redirect("alerts:detail", pk=alert.pk)
        return partials(
            request, alert, "comments", ("audit",), work_context(alert), announce="Comment added."
        )
    if not request.htmx:
        return render(request, "alerts/detail.html", detail_context(alert, comment_form=form), status=422)
    context = work_context(alert, comment_form=form)
    return partials(request, alert, "comments", (), context, 422, "Not saved: see the errors in the form.")


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
