from django.shortcuts import get_object_or_404, render

from ascmon.roles import ANALYST, CUSTOMER_SUCCESS, role_required
from devices.models import StorageAccount
from storage_logs.models import IngestRun, LogAggregate


@role_required(ANALYST, CUSTOMER_SUCCESS)
def account(request, pk):
    """What an account's logs said lately: top aggregates by bytes read, and the last ingestion runs."""
    storage_account = get_object_or_404(StorageAccount.objects.select_related("device"), pk=pk)
    aggregates = LogAggregate.objects.filter(account=storage_account).order_by(
        "-window_start", "-response_bytes"
    )
    runs = IngestRun.objects.filter(account=storage_account)[:20]
    context = {"account": storage_account, "aggregates": aggregates[:100], "runs": runs}
    return render(request, "storage_logs/account.html", context)
