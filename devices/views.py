from django.conf import settings
from django.contrib import messages
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST
from django_q.tasks import async_task

from ascmon.roles import ADMIN, ANALYST, CUSTOMER_SUCCESS, has_role, role_required
from ascmon.sorting import ASCENDING, DESCENDING, sort_links
from devices import finding_groups, onboarding, onboarding_script, sample_alerts
from devices.choices import PERMISSION_KINDS
from devices.fleet import DEFAULT_SORT, SORTS, FleetFilter, fleet_page
from devices.forms import DeviceForm
from devices.models import DefenderPlan, Device, Notification
from devices.notifications import NotificationFilter, unread_count
from devices.sample_alerts import ARRIVAL_MINUTES
from devices.summary import summary
from storage_logs import cost_report

VIEWERS = (CUSTOMER_SUCCESS, ANALYST)
NOTIFICATION_LIMIT = 200


@role_required(*VIEWERS)
def device_list(request):
    form = FleetFilter(request.GET)
    page = fleet_page(form, request.GET.get("page"))
    natural = {key: DESCENDING if key == DEFAULT_SORT else ASCENDING for key in SORTS}
    context = {
        "form": form,
        "page": page,
        "devices": page.object_list,
        "sort_links": sort_links(request.GET.get("sort") or DEFAULT_SORT, natural),
        "can_manage": has_role(request.user, CUSTOMER_SUCCESS),
    }
    template = "devices/list.html#fleet-table" if request.htmx else "devices/list.html"
    return render(request, template, context)


@sensitive_post_parameters("client_secret")
@role_required(CUSTOMER_SUCCESS)
def device_add(request):
    script = new_tenant_script(request.GET)
    if request.htmx and request.method == "GET":
        return render(request, "devices/_onboarding_script.html", {"script": script})
    form = DeviceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = onboarding.onboard(form)
        messages.success(request, f"{device.name} is onboarded; its first inventory is on its way.")
        return redirect("devices:detail", device.pk)
    return render(request, "devices/form.html", {"form": form, "device": None, "script": script})


def new_tenant_script(params):
    subscriptions = onboarding_script.split(params.get("script_subscriptions"))
    accounts = onboarding_script.split(params.get("script_accounts"))
    return onboarding_script.build(subscriptions, accounts, app_name=params.get("script_app") or "ascmon")


@role_required(*VIEWERS)
def device_permissions(request, pk):
    """The script and portal steps that grant this device's app the roles it lacks."""
    device = get_object_or_404(Device, pk=pk)
    subscriptions = [
        *device.expected_subscriptions,
        *device.subscriptions.values_list("subscription_id", flat=True),
    ]
    accounts = device.storage_accounts.values_list("resource_id", flat=True)
    script = onboarding_script.build(subscriptions, list(accounts), client_id=device.client_id)
    open_findings = device.findings.open().filter(kind__in=PERMISSION_KINDS).by_severity()
    context = {"device": device, "script": script, "open_findings": open_findings}
    return render(request, "devices/permissions.html", context)


@sensitive_post_parameters("client_secret")
@role_required(CUSTOMER_SUCCESS)
def device_edit(request, pk):
    device = get_object_or_404(Device, pk=pk)
    form = DeviceForm(request.POST or None, instance=device)
    if request.method == "POST" and form.is_valid():
        onboarding.onboard(form)
        messages.success(request, f"{device.name} is saved; a new inventory is on its way.")
        return redirect("devices:detail", device.pk)
    return render(request, "devices/form.html", {"form": form, "device": device})


@role_required(CUSTOMER_SUCCESS)
@require_POST
def device_sync(request, pk):
    device = get_object_or_404(Device, pk=pk)
    async_task("devices.tasks.run_inventory", device.pk)
    messages.info(request, f"An inventory of {device.name} is queued.")
    return redirect("devices:detail", device.pk)


@role_required(CUSTOMER_SUCCESS)
@require_POST
def sample_alerts_send(request, pk):
    device = get_object_or_404(Device, pk=pk)
    sample_alerts.request(device, request.user)
    if request.htmx:
        return sample_alerts_status(request, pk)
    messages.info(request, f"Sample alerts are asked of Azure for {device.name}.")
    return redirect(reverse("devices:detail", args=[device.pk]) + "#sample-alerts")


@role_required(*VIEWERS)
def sample_alerts_status(request, pk):
    device = get_object_or_404(Device, pk=pk)
    context = {"device": device, "samples": sample_alerts.result(device), **sample_context(request)}
    return render(request, "devices/_sample_alerts.html", context)


def sample_context(request):
    return {"can_manage": has_role(request.user, CUSTOMER_SUCCESS), "arrival_minutes": ARRIVAL_MINUTES}


@role_required(*VIEWERS)
def device_detail(request, pk):
    device = get_object_or_404(Device, pk=pk)
    subscriptions = device.subscriptions.prefetch_related("resource_counts", "plans")
    findings = device.findings.all()
    open_findings = list(findings.open().by_severity())
    context = {
        "device": device,
        "summary": summary(device, open_findings),
        "groups": finding_groups.group(open_findings, device.client_id, settings.BASELINE_DAYS),
        "open_findings": open_findings,
        "permissions_missing": any(f.kind in PERMISSION_KINDS for f in open_findings),
        "subscriptions": subscriptions,
        "matrix": plan_matrix(device),
        "accounts": device.storage_accounts.select_related("subscription"),
        "resolved_findings": findings.filter(resolved_at__isnull=False).order_by("-resolved_at")[:50],
        "runs": device.inventory_runs.defer("snapshot")[:20],
        "can_manage": has_role(request.user, CUSTOMER_SUCCESS),
        "can_triage": has_role(request.user, ANALYST),
        "cost": cost_report.device_table(device) if has_role(request.user, CUSTOMER_SUCCESS) else None,
        "samples": sample_alerts.result(device),
        **sample_context(request),
    }
    return render(request, "devices/detail.html", context)


def plan_matrix(device):
    """Rows of (plan name, [plan or None per visible subscription]) and the subscriptions as columns."""
    columns = list(
        device.subscriptions.filter(visible=True).prefetch_related(
            Prefetch("plans", queryset=DefenderPlan.objects.order_by("name"))
        )
    )
    names = sorted({plan.name for sub in columns for plan in sub.plans.all()})
    rows = [
        (name, [next((p for p in sub.plans.all() if p.name == name), None) for sub in columns])
        for name in names
    ]
    return {"columns": columns, "rows": rows}


@role_required(CUSTOMER_SUCCESS, ANALYST, ADMIN)
def notification_list(request):
    form = NotificationFilter(request.GET)
    notifications = Notification.objects.select_related("device", "finding").annotate_read(request.user)
    context = {
        "form": form,
        "notifications": form.filter(notifications)[:NOTIFICATION_LIMIT],
        "unread": unread_count(request.user),
    }
    template = (
        "devices/notifications.html#notification-table" if request.htmx else "devices/notifications.html"
    )
    return render(request, template, context)


@role_required(CUSTOMER_SUCCESS, ANALYST, ADMIN)
@require_POST
def notification_read(request, pk):
    notification = get_object_or_404(Notification.objects.select_related("device", "finding"), pk=pk)
    notification.read_by.add(request.user)
    if not request.htmx:
        return redirect("devices:notifications")
    notification.is_read = True
    context = {"notification": notification, "unread": unread_count(request.user), "oob": True}
    return render(request, "devices/notifications.html#notification-row", context)


@role_required(CUSTOMER_SUCCESS, ANALYST, ADMIN)
@require_POST
def notifications_read_all(request):
    through = Notification.read_by.through
    unread = Notification.objects.unread_by(request.user).values_list("pk", flat=True)
    through.objects.bulk_create(
        [through(notification_id=pk, user_id=request.user.pk) for pk in unread], ignore_conflicts=True
    )
    return redirect("devices:notifications")
