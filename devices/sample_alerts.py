"""The onboarding check: ask Defender for Cloud for sample alerts (Alerts_Simulate) in each visible
subscription, then tell whether they came back through the alert poll within ARRIVAL_MINUTES, or what
stands in the way (a role missing, Defender plans off, the poll failing, Azure refusing the request)."""

from dataclasses import dataclass, field
from datetime import timedelta

from django.apps import apps
from django.db import transaction
from django.utils import timezone
from django_q.tasks import async_task

from ascmon import crypto
from ascmon.azure.errors import AzureError, BadCredentials, Forbidden
from devices import inventory
from devices.choices import FindingKind, SampleOutcome
from devices.models import SampleAlertRequest

ARRIVAL_MINUTES = 10  # two alert polls (every 5 minutes, alerts/migrations/0003_poll_schedule.py)
# Defender's home region of a subscription that has no alert yet to tell it (the simulator's too).
DEFAULT_ASC_LOCATION = "centralus"
CAUSES = {
    FindingKind.CREDENTIALS_REJECTED: "Azure rejects the app's credentials: nothing can be read.",
    FindingKind.ALERTS_FORBIDDEN: "The app lacks Security Reader: the poll cannot read alerts.",
    FindingKind.DEFENDER_OFF: "Defender is off: Defender sends sample alerts only for plans that are on.",
    FindingKind.PLAN_OFF: "Some Defender plans are off: Defender sends samples only for plans that are on.",
    FindingKind.SUBSCRIPTION_MISSING: "A subscription is not visible to the app (no Reader role).",
}


def request(device, user):
    """Record a request and queue it; returns the record."""
    sample = SampleAlertRequest.objects.create(device=device, requested_by=user)
    transaction.on_commit(lambda: async_task("devices.sample_alerts.send", sample.pk))
    return sample


def send(request_id):
    """Ask Azure for the samples. Safe to run twice or at once: only the run that claims the request asks,
    and it always leaves the request sent or failed."""
    if not SampleAlertRequest.objects.filter(pk=request_id, outcome=SampleOutcome.REQUESTED).update(
        outcome=SampleOutcome.SENDING
    ):
        return
    sample = SampleAlertRequest.objects.select_related("device").get(pk=request_id)
    accepted, errors = [], []
    try:
        ask_each_subscription(sample.device, accepted, errors)
    finally:
        outcome = SampleOutcome.SENT if accepted else SampleOutcome.FAILED
        SampleAlertRequest.objects.filter(pk=request_id).update(
            outcome=outcome, sent_at=timezone.now(), subscriptions=accepted, errors=errors
        )
    if accepted:
        async_task("alerts.tasks.poll_device", sample.device_id)


def ask_each_subscription(device, accepted, errors):
    subscriptions = list(device.subscriptions.filter(visible=True).values_list("subscription_id", flat=True))
    if not subscriptions:
        errors.append(
            {"subscription": "", "error": "No subscription is visible to the app yet.", "status": None}
        )
        return
    try:
        tenant = device.tenant()
    except crypto.SecretUnreadable:
        errors.append({"subscription": "", "error": "The stored secret cannot be decrypted.", "status": None})
        return
    for sub in subscriptions:
        try:
            inventory.wrappers.security.simulate_alerts(tenant, sub, asc_location(device, sub))
            accepted.append(sub)
        except AzureError as error:
            errors.append({"subscription": sub, "error": explain(error), "status": error.status})


def asc_location(device, subscription_id):
    alerts = apps.get_model("alerts", "Alert").objects.filter(device=device, subscription_id=subscription_id)
    known = alerts.exclude(asc_location="").values_list("asc_location", flat=True).first()
    return known or DEFAULT_ASC_LOCATION


def explain(error):
    if isinstance(error, BadCredentials):
        return f"Azure rejected the app's credentials ({error})."
    if isinstance(error, Forbidden):
        return (
            "The app may not raise sample alerts here (Alerts_Simulate needs Security Admin); "
            "send them from the portal instead: Defender for Cloud › Security alerts › Sample alerts."
        )
    return str(error)[:300]


@dataclass
class Result:
    """What the device page says about the latest request."""

    state: str  # waiting, arrived, late, failed
    request: SampleAlertRequest
    arrived: int = 0
    after: timedelta | None = None
    causes: list = field(default_factory=list)


def result(device, now=None):
    """The latest request's result (three queries), or None when samples were never asked for."""
    now = now or timezone.now()
    sample = device.sample_requests.first()
    if sample is None:
        return None
    alerts = apps.get_model("alerts", "Alert").objects.filter(
        device=device, is_sample=True, first_seen_at__gte=sample.requested_at
    )
    first = alerts.order_by("first_seen_at").values_list("first_seen_at", flat=True).first()
    if first is not None:
        return Result("arrived", sample, alerts.count(), first - sample.requested_at)
    if sample.outcome == SampleOutcome.FAILED:
        return Result("failed", sample, causes=[e["error"] for e in sample.errors] + finding_causes(device))
    if now - sample.requested_at < timedelta(minutes=ARRIVAL_MINUTES):
        return Result("waiting", sample)
    return Result("late", sample, causes=causes_of(device, sample))


def finding_causes(device):
    kinds = set(device.findings.open().values_list("kind", flat=True))
    return [text for kind, text in CAUSES.items() if kind in kinds]


def causes_of(device, sample):
    causes = finding_causes(device)
    polls = apps.get_model("alerts", "PollRun").objects.filter(
        device=device, started_at__gte=sample.requested_at
    )
    latest = polls.order_by("-started_at").first()
    if latest is None:
        causes.append("No alert poll has run since the request: are the background workers running?")
    elif latest.outcome != "ok":
        errors = "; ".join(str(e.get("error", e)) for e in latest.errors[:2]) if latest.errors else ""
        causes.append(f"The latest alert poll {latest.get_outcome_display().lower()}. {errors}".strip())
    if sample.outcome == SampleOutcome.SENDING:
        causes.append("The request to Azure never finished (a worker stopped): send them again.")
    return causes or ["Polls succeed and no cause is known: Azure can take longer; check again later."]
