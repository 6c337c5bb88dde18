"""Evidence per Defender for Storage alert family: what the account's logs say happened.

"What is usual" (storage_logs/context.py) compares a principal with its own past; this answers the
question each family raises: who uploaded the malicious blob and who read it since, where a SAS token was
used from, who opened a container and who then read it anonymously, who deleted what, what an unusual IP
or application did. A registry maps alert-type prefixes to a panel function (storage_logs/family_panels.py);
the alert view asks `evidence_for(alert, labels)` and hands the Evidence to its template as plain values:
text cells, formatted here, that the template prints escaped. Every number comes from stored LogAggregate
rows, with a fixed number of queries per panel whatever the volume.
"""

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Max

from storage_logs import baseline, context
from storage_logs.models import LogAggregate

FAMILIES = []
ROW_LIMIT = 50


@dataclass(frozen=True)
class Table:
    """One table of a panel: `rows` are {"cells": [text, ...], "flags": [text, ...]} (flags as pills)."""

    id: str
    title: str
    columns: tuple
    rows: list
    empty: str = "None in the logs."
    note: str = ""


@dataclass(frozen=True)
class Evidence:
    """What the alert page shows under "Evidence"; `problem` replaces it when the logs cannot answer."""

    family: str
    title: str
    question: str
    account: object = None
    window_start: datetime | None = None
    window_end: datetime | None = None
    summary: str = ""
    problem: str = ""
    fix_url: str = ""
    fix_label: str = ""
    tables: list = field(default_factory=list)


@dataclass(frozen=True)
class Family:
    """A family of storage alerts: its prefixes, the logs it needs and the panel that answers it."""

    name: str
    prefixes: tuple
    title: str
    question: str
    needs: tuple  # log kinds (read, write, delete) without which the panel cannot answer
    fn: object


def register(*prefixes, name, title, question, needs=("read",)):
    """Decorator: the panel `fn(alert, account, start, end, labels)` -> (summary, [Table]) answers alerts of
    types starting with any of `prefixes` (case-insensitive; the longest prefix wins)."""

    def decorate(fn):
        FAMILIES.append(Family(name, tuple(p.lower() for p in prefixes), title, question, needs, fn))
        FAMILIES.sort(key=lambda f: -max(len(p) for p in f.prefixes))
        return fn

    return decorate


def family_for(alert_type):
    name = alert_type.lower().removeprefix("simulated_")
    return next((family for family in FAMILIES if name.startswith(family.prefixes)), None)


def evidence_for(alert, labels=None):
    """The Evidence for an alert, or None when no family claims its type."""
    family = family_for(alert.alert_type)
    if family is None:
        return None
    account = context.account_of(alert)
    base = {"family": family.name, "title": family.title, "question": family.question}
    if account is None:
        name = alert.compromised_entity or "(not named)"
        return Evidence(**base, problem=f"The storage account {name} is not in this device's inventory.")
    start, end = context.alert_window(alert)
    problem, url, label = logs_problem(account, family.needs, start)
    if problem:
        return Evidence(**base, account=account, problem=problem, fix_url=url, fix_label=label)
    summary, tables = family.fn(alert, account, start, end, labels or {})
    return Evidence(
        **base, account=account, window_start=start, window_end=end, summary=summary, tables=tables
    )


def logs_problem(account, needs, start):
    """(problem, fix url, fix label): why this account's logs cannot answer, or ("", "", "")."""
    from devices.choices import FindingKind

    off = [kind for kind in needs if not (account.diagnostic_logs or getattr(account, f"logging_{kind}"))]
    if off:
        url, label = context.finding_link(account, FindingKind.READ_LOGGING_OFF)
        kinds = " and ".join(off)
        return f"{kinds.capitalize()} logging is off on storage account {account.name}.", url, label
    newest = LogAggregate.objects.filter(account=account).aggregate(newest=Max("window_end"))["newest"]
    if newest is None or newest < start:
        fix = context.missing_logs(account, start)
        return fix.problem, fix.url, fix.label
    return "", "", ""


# --- what the panels share ------------------------------------------------------------------------------


def in_window(account, start, end):
    return LogAggregate.objects.filter(account=account, window_start__lt=end, window_end__gt=start)


def when(moment):
    return f"{moment:%Y-%m-%d %H:%M} UTC" if moment else "—"


def count(number):
    return f"{number or 0:,}"


def size(number):
    return baseline.human_bytes(number or 0)


def who(row):
    """A principal in words, from an aggregate's values (its UPN too, when the logs name one)."""
    label = context.principal_label(
        row["principal_kind"], row["principal_id"], row.get("principal_label", "")
    )
    upn = row.get("upn") or ""
    return f"{upn} ({label})" if upn else label


def row(*cells, flags=()):
    return {"cells": [str(cell) for cell in cells], "flags": [flag for flag in flags if flag]}


def alert_ip(alert):
    typed = context.typed(alert)
    if typed.get("client_ip"):
        return str(typed["client_ip"])
    return next((e.value for e in alert.entities.all() if e.kind == "ip"), "")


def ip_flags(ip, labels, alert_address="", first=None, start=None):
    flags = list(labels.get(ip, []))
    if alert_address and ip == alert_address:
        flags.append("the alert's IP")
    if first and start and first >= start:
        flags.append("new")
    return flags


from storage_logs import family_access, family_panels  # noqa: E402, F401  (the panels register themselves)
