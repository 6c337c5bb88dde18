"""The cost pages: every device at a glance, then one device's or one account's billed volume per day and
what it would cost in each plan, with CSV exports. Customer success and admins only."""

from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, render
from django.urls import reverse

from ascmon.roles import CUSTOMER_SUCCESS, role_required
from devices.models import Device, StorageAccount
from storage_logs import charts, cost, cost_report, export, plans, pricebook, volumes
from storage_logs.models import DailyVolume


@role_required(CUSTOMER_SUCCESS)
def cost_overview(request):
    book, lists, retention = priced(request)
    context = {"rows": overview_rows(book, retention), "book": book, "lists": lists, "retention": retention}
    context["export_url"] = reverse("storage_logs:cost_export")
    return render(request, "storage_logs/cost.html", context)


@role_required(CUSTOMER_SUCCESS)
def cost_overview_export(request):
    book, _, retention = priced(request)
    return export.overview(overview_rows(book, retention), book)


@role_required(CUSTOMER_SUCCESS)
def device_cost(request, pk):
    device = get_object_or_404(Device, pk=pk)
    return scope_page(request, device.name, device.storage_accounts.all(), device=device)


@role_required(CUSTOMER_SUCCESS)
def device_cost_export(request, pk):
    device = get_object_or_404(Device, pk=pk)
    return scope_export(request, device.name, device.storage_accounts.all())


@role_required(CUSTOMER_SUCCESS)
def account_cost(request, pk):
    account = get_object_or_404(StorageAccount.objects.select_related("device"), pk=pk)
    accounts = StorageAccount.objects.filter(pk=account.pk)
    return scope_page(request, account.name, accounts, device=account.device, account=account)


@role_required(CUSTOMER_SUCCESS)
def account_cost_export(request, pk):
    account = get_object_or_404(StorageAccount, pk=pk)
    return scope_export(request, account.name, StorageAccount.objects.filter(pk=account.pk))


def priced(request):
    """The price book the request asks for (or the default one) and the retention it tries, if any."""
    book, lists = pricebook.load(request.GET.get("prices"))
    return book, lists, volumes.retention_override(request.GET.get("retention"))


def scope_page(request, title, accounts, device, account=None):
    book, lists, retention = priced(request)
    table = cost_report.scope_table(accounts, book, retention)
    points = volumes.day_points(volumes.scope_volumes(accounts), table["window"])
    scope = ("account", account.pk) if account else ("device", device.pk)
    table["export_url"] = reverse(f"storage_logs:{scope[0]}_cost_export", args=[scope[1]])
    context = {
        "title": title,
        "device": device,
        "account": account,
        "cost": table,
        "points": points,
        "trend": cost_report.trend(points, table["window"]),
        "figure": charts.billed_per_day(points) if points else None,
        "book": book,
        "lists": lists,
        "retention": retention,
        "query": request.GET.urlencode(),
    }
    return render(request, "storage_logs/cost_scope.html", context)


def scope_export(request, title, accounts):
    book, _, retention = priced(request)
    table = cost_report.scope_table(accounts, book, retention)
    if request.GET.get("table") == "days":
        return export.days(title, volumes.day_points(volumes.scope_volumes(accounts), table["window"]), book)
    return export.plans(title, table)


def overview_rows(book, retention):
    """One row per device: its accounts, billed MB per day, Analytics ingestion of raw logs against
    aggregates, and the cheapest way to keep what analysts need. Queries do not grow with devices."""
    win = volumes.window(DailyVolume.objects.all())
    annotated = volumes.with_volumes(StorageAccount.objects.all(), win)
    devices = Device.objects.prefetch_related(Prefetch("storage_accounts", queryset=annotated))
    rows = []
    for device in devices:
        accounts = list(device.storage_accounts.all())
        measured = [volumes.account_volume(a, win, retention) for a in accounts]
        result = cost.report(measured, book, plans.plans(book))
        raw = sum(a.raw.billed for a in measured)
        aggregated = sum(a.aggregated.billed for a in measured)
        analytics = next(row for row in result.plans if row.key == cost.ANALYTICS)
        rows.append(
            {
                "device": device,
                "accounts": accounts,
                "raw_mb": raw / book.bytes_per_mb,
                "aggregated_mb": aggregated / book.bytes_per_mb,
                "raw_year": analytics.raw.ingestion_year if analytics.raw else None,
                "aggregated_year": analytics.aggregated.ingestion_year if analytics.aggregated else None,
                "reduction": cost.reduction(raw, aggregated),
                "recommended": result.recommended if raw else None,
                "has_logs": bool(raw or aggregated),
            }
        )
    return rows
