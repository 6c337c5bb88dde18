from django.conf import settings
from django.db.models import Count, Max, Sum
from django.shortcuts import get_object_or_404, render

from ascmon.roles import ANALYST, CUSTOMER_SUCCESS, role_required
from devices.models import Device, StorageAccount
from storage_logs.models import DailyVolume, IngestRun, LogAggregate, yearly_cost

VOLUME_DAYS = 30


def bytes_per_mb():
    return 1024 * 1024 if settings.LOG_ANALYTICS_MB_PER_GB == 1024 else 1_000_000


def cost_rows():
    """One row per device: its accounts, MB/day raw and aggregated, Log Analytics $/yr of each."""
    latest = DailyVolume.objects.aggregate(day=Max("day"))["day"]
    volumes = {}
    if latest:
        since = latest.toordinal() - VOLUME_DAYS + 1
        per_device = (
            DailyVolume.objects.filter(day__gte=type(latest).fromordinal(since))
            .values("account__device")
            .annotate(raw=Sum("raw_bytes"), agg=Sum("aggregate_bytes"), days=Count("day", distinct=True))
        )
        volumes = {row["account__device"]: row for row in per_device}
    rows = []
    for device in Device.objects.prefetch_related("storage_accounts"):
        volume = volumes.get(device.id, {"raw": 0, "agg": 0, "days": 0})
        days = volume["days"] or 1
        raw_mb, agg_mb = volume["raw"] / bytes_per_mb() / days, volume["agg"] / bytes_per_mb() / days
        rows.append(
            {
                "device": device,
                "accounts": list(device.storage_accounts.all()),
                "raw_mb": raw_mb,
                "agg_mb": agg_mb,
                "raw_cost": yearly_cost(raw_mb),
                "agg_cost": yearly_cost(agg_mb),
                "reduction": (1 - agg_mb / raw_mb) * 100 if raw_mb else None,
                "days": volume["days"],
            }
        )
    return rows


@role_required(CUSTOMER_SUCCESS)
def cost(request):
    context = {
        "rows": cost_rows(),
        "price": settings.LOG_ANALYTICS_PRICE_PER_GB,
        "mb_per_gb": settings.LOG_ANALYTICS_MB_PER_GB,
        "days_per_year": settings.LOG_ANALYTICS_DAYS_PER_YEAR,
        "volume_days": VOLUME_DAYS,
    }
    return render(request, "storage_logs/cost.html", context)


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
