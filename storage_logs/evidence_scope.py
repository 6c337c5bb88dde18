"""Which aggregates hold an alert's evidence: its principal's on the alert's storage account in the alert's
window, the principal picked as the "What is usual" panel picks it (storage_logs/context.py)."""

from dataclasses import dataclass, field
from datetime import datetime

from storage_logs import context
from storage_logs.models import LogAggregate

MAX_AGGREGATES = 200


@dataclass(frozen=True)
class Scope:
    """The alert's account, principal and window, and the aggregates in them; `problem` when none."""

    account: object = None
    who: dict = field(default_factory=dict)
    window_start: datetime | None = None
    window_end: datetime | None = None
    aggregates: list = field(default_factory=list)
    problem: str = ""


def alert_scope(alert):
    account = context.account_of(alert)
    if account is None:
        return Scope(problem="The alert's storage account is not in this device's inventory.")
    start, end = context.alert_window(alert)
    in_window = LogAggregate.objects.filter(account=account, window_start__lt=end, window_end__gt=start)
    spec = context.provider_for(alert.alert_type)
    client_ip = context.typed(alert).get("client_ip") or ""
    who = context.pick_principal(in_window, client_ip, spec.focus if spec else "read")
    if who is None:
        return Scope(account, {}, start, end, [], "No logged request of the alert's principal in its window.")
    rows = in_window.filter(principal_kind=who["kind"], principal_id=who["id"]).select_related("account")
    rows = list(rows.order_by("window_start", "pk")[:MAX_AGGREGATES])
    return Scope(account, who, start, end, rows)
