from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render

from alerts.models import Alert
from ascmon.roles import ANALYST, CUSTOMER_SUCCESS, has_role, role_required
from devices.models import StorageAccount
from storage_logs.forms import AggregateFilterForm
from storage_logs.models import IngestRun, LogAggregate

PAGE_SIZE = 50


@role_required(ANALYST, CUSTOMER_SUCCESS)
def account(request, pk):
    """What an account's logs said: its aggregates, filtered and paginated, and the last ingestion runs."""
    storage_account = get_object_or_404(StorageAccount.objects.select_related("device"), pk=pk)
    form = AggregateFilterForm(request.GET)
    rows = form.filter(LogAggregate.objects.filter(account=storage_account)).order_by(
        "-window_start", "-response_bytes", "-pk"
    )
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "account": storage_account,
        "form": form,
        "page": page,
        "filter_query": query.urlencode(),
        "raw_lines": has_role(request.user, ANALYST),
        "alerts_on_account": _alerts_on(storage_account) if has_role(request.user, ANALYST) else None,
    }
    if request.htmx:
        return render(request, "storage_logs/account.html#aggregate-table", context)
    context["runs"] = IngestRun.objects.filter(account=storage_account)[:20]
    return render(request, "storage_logs/account.html", context)


def _alerts_on(storage_account):
    """How many of the device's alerts name the account (the alert list's search finds the same)."""
    return Alert.objects.filter(
        device=storage_account.device_id, search_text__contains=storage_account.name.lower()
    ).count()
