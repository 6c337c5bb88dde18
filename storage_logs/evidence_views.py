"""Raw log lines for analysts: an aggregate's (from the account page) or an alert's principal in the alert's
window (from the alert page), 100 a page with htmx, or downloaded as the original lines. Every fetch is
recorded in the audit trail (alerts.AuditEvent), the alert's when it came from an alert."""

from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_POST
from django_q.tasks import async_task

from alerts.models import Alert, AuditEvent
from ascmon.roles import ANALYST, role_required
from storage_logs import evidence, proof
from storage_logs.evidence_scope import alert_scope
from storage_logs.models import EvidenceProof, LogAggregate

VIEWED, DOWNLOADED = "viewed raw log lines", "downloaded raw log lines"


def _aggregate(pk):
    return get_object_or_404(LogAggregate.objects.select_related("account__device"), pk=pk)


def _page_number(request):
    value = request.GET.get("page", "1")
    return max(1, int(value)) if value.isdigit() and len(value) < 7 else 1


def _audit(request, action, aggregates, alert=None, **detail):
    AuditEvent.objects.create(
        user=request.user,
        action=action,
        alert=alert,
        detail={"aggregates": [a.pk for a in aggregates][:50], "account": aggregates[0].account_id, **detail}
        if aggregates
        else detail,
    )


def _page(request, lines, number, **context):
    """The page's lines, or why they cannot be fetched; the htmx partial for a following page."""
    try:
        shown, more = evidence.page_of(lines, number, evidence.PAGE_LINES)
        problem = None
    except evidence.Unfetchable as error:
        shown, more, problem = [], False, error
    whole = number == 1 and not more and problem is None  # every line is on this page: tally it here
    context.update(
        tally=_tally(shown, context["aggregates"]) if whole else None,
        rows=[line.row() for line in shown],
        more=more,
        page_number=number,
        next_page=number + 1,
        first=(number - 1) * evidence.PAGE_LINES,
        problem=problem,
    )
    template = "storage_logs/aggregate_lines.html"
    return render(request, f"{template}#lines-page" if request.htmx and number > 1 else template, context)


def _tally(lines, aggregates):
    found = evidence.tally(lines)
    expected = [
        sum(getattr(a, name) for a in aggregates) for name in ("count", "request_bytes", "response_bytes")
    ]
    return {
        "lines": found.lines,
        "request_bytes": found.request_bytes,
        "response_bytes": found.response_bytes,
        "adds_up": [found.lines, found.request_bytes, found.response_bytes] == expected,
        "expected": expected,
    }


@role_required(ANALYST)
def aggregate_lines(request, pk):
    aggregate = _aggregate(pk)
    number = _page_number(request)
    _audit(request, VIEWED, [aggregate], page=number)
    context = {
        "aggregate": aggregate,
        "account": aggregate.account,
        "aggregates": [aggregate],
        "page_url": reverse("storage_logs:aggregate_lines", args=[pk]),
        "download_url": reverse("storage_logs:aggregate_lines_download", args=[pk]),
        "proof": proof.latest(aggregate),
        "fetchable_until": evidence.fetchable_until(aggregate.account, aggregate.window_start),
    }
    return _page(request, evidence.lines_of(aggregate), number, **context)


@role_required(ANALYST)
def alert_lines(request, pk):
    alert = get_object_or_404(Alert.objects.select_related("device"), pk=pk)
    scope = alert_scope(alert)
    number = _page_number(request)
    _audit(request, VIEWED, scope.aggregates, alert=alert, page=number)
    context = {
        "alert": alert,
        "scope": scope,
        "account": scope.account,
        "aggregates": scope.aggregates,
        "scope_count": sum(a.count for a in scope.aggregates),
        "page_url": reverse("storage_logs:alert_lines", args=[pk]),
        "download_url": reverse("storage_logs:alert_lines_download", args=[pk]),
    }
    return _page(request, evidence.lines_of_many(scope.aggregates), number, **context)


def _download(lines, filename):
    """The original lines, streamed; the first is read before answering so a problem is told plainly."""
    try:
        first = next(lines, None)
    except evidence.Unfetchable as error:
        return StreamingHttpResponse(
            [error.reason.encode(), b"\n"], status=410, content_type="text/plain; charset=utf-8"
        )

    def body():
        if first is not None:
            yield first.raw + b"\n"
        for line in lines:
            yield line.raw + b"\n"

    response = StreamingHttpResponse(body(), content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@role_required(ANALYST)
def aggregate_lines_download(request, pk):
    aggregate = _aggregate(pk)
    _audit(request, DOWNLOADED, [aggregate])
    return _download(evidence.lines_of(aggregate), f"aggregate-{aggregate.pk}.log")


@role_required(ANALYST)
def alert_lines_download(request, pk):
    alert = get_object_or_404(Alert.objects.select_related("device"), pk=pk)
    scope = alert_scope(alert)
    _audit(request, DOWNLOADED, scope.aggregates, alert=alert)
    return _download(evidence.lines_of_many(scope.aggregates), f"alert-{alert.pk}.log")


@role_required(ANALYST)
@require_POST
def prove_aggregate(request, pk):
    """Queue a check that the aggregate's lines add up to it (large aggregates: a worker reads them)."""
    aggregate = _aggregate(pk)
    run = proof.queue(aggregate, request.user)
    if run.status == EvidenceProof.QUEUED:
        async_task("storage_logs.proof.prove", run.pk)
    return render(
        request, "storage_logs/_proof.html", {"aggregate": aggregate, "proof": proof.latest(aggregate)}
    )


@role_required(ANALYST)
def aggregate_proof(request, pk):
    aggregate = _aggregate(pk)
    return render(
        request, "storage_logs/_proof.html", {"aggregate": aggregate, "proof": proof.latest(aggregate)}
    )
