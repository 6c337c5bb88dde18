"""Open findings grouped by kind: one card per kind listing every affected subscription, plan or account,
with one `az` loop that fixes them all (the per-finding commands are in devices/fixes.py).

Values from Azure (subscription ids, plan and account names) are shell-quoted: a name is attacker text.
Pure: findings in, plain values out.
"""

import shlex
from dataclasses import dataclass, field

from devices.choices import SEVERITY_COLOURS, SEVERITY_ORDER, FindingKind

# What a group of several findings of one kind means (one finding shows its own explanation).
EXPLANATIONS = {
    FindingKind.SUBSCRIPTION_MISSING: "The customer expects these subscriptions to be watched, but the app "
    "registration has no role on them: their alerts and logs reach nobody.",
    FindingKind.SUBSCRIPTION_DISABLED: "Azure reports these subscriptions as not Enabled: resources stop "
    "and Defender stops reporting on them.",
    FindingKind.ALERTS_FORBIDDEN: "Azure answered 403 when ascmon read the Defender alerts of these "
    "subscriptions: the app registration lacks Security Reader there.",
    FindingKind.DEFENDER_OFF: "Every Defender plan of these subscriptions is Free: Defender raises no threat "
    "alert for them at all.",
    FindingKind.PLAN_OFF: "These plans are on the Free tier although the subscription has resources they "
    "protect: attacks on those resources raise no alert.",
    FindingKind.READ_LOGGING_OFF: "These storage accounts record no read requests: after an exfiltration "
    "alert the SOC cannot see what was read, by whom, or how much.",
    FindingKind.RETENTION_TOO_SHORT: "These storage accounts delete their logs before the baseline ascmon "
    "needs to tell usual access from unusual access.",
    FindingKind.LOG_HOURS_LOST: "Hours of these accounts' storage logs were gone before ascmon could read "
    "them.",
}


@dataclass
class FindingGroup:
    """Every open finding of one kind on a device, and the one command that fixes them all."""

    kind: str
    label: str
    severity: str
    findings: list = field(default_factory=list)
    command: str = ""

    @property
    def colour(self):
        return SEVERITY_COLOURS[self.severity]

    @property
    def first(self):
        return self.findings[0]

    @property
    def explanation(self):
        if len(self.findings) == 1:
            return self.first.explanation
        return EXPLANATIONS.get(self.kind, self.first.explanation)


def group(findings, client_id, baseline_days):
    """Groups of open findings, worst severity first, then by kind's label."""
    groups = {}
    for finding in findings:
        entry = groups.get(finding.kind)
        if entry is None:
            entry = groups[finding.kind] = FindingGroup(
                finding.kind, finding.get_kind_display(), finding.severity
            )
        entry.findings.append(finding)
    for entry in groups.values():
        entry.findings.sort(key=lambda f: f.title)
        entry.command = command_for(entry, client_id, baseline_days)
    return sorted(groups.values(), key=lambda g: (SEVERITY_ORDER.get(g.severity, 9), g.label))


def account_name(finding):
    """Storage findings have the account's resource id (or, for lost hours, its name) as subject."""
    return finding.subject.rstrip("/").rsplit("/", 1)[-1]


def words(values):
    return " ".join(shlex.quote(v) for v in dict.fromkeys(values))


def subscriptions_loop(entry, body):
    return f"for sub in {words(f.subscription_id for f in entry.findings)}; do\n  {body}\ndone"


def accounts_loop(entry, body):
    return f"for account in {words(account_name(f) for f in entry.findings)}; do\n  {body}\ndone"


def grant_roles(entry, client_id, roles):
    assignee = shlex.quote(client_id)
    body = "\n  ".join(
        f'az role assignment create --assignee {assignee} --role "{role}" --scope "/subscriptions/$sub"'
        for role in roles
    )
    return subscriptions_loop(entry, body)


def plans_loop(entry):
    rows = "\n".join(
        f"{shlex.quote(f.subscription_id)} {shlex.quote(f.subject.rsplit('/', 1)[-1])}"
        for f in entry.findings
    )
    return (
        "while read -r sub plan; do\n"
        '  extra=""; [ "$plan" = StorageAccounts ] && extra="--subplan DefenderForStorageV2"\n'
        '  az security pricing create --subscription "$sub" -n "$plan" --tier standard $extra\n'
        f"done <<'PLANS'\n{rows}\nPLANS"
    )


def logging_loop(entry, days):
    return accounts_loop(
        entry,
        f'az storage logging update --account-name "$account" --services b --log rwd --retention {days} '
        "--version 2.0",
    )


def command_for(entry, client_id, baseline_days):
    kind = entry.kind
    if kind == FindingKind.SUBSCRIPTION_MISSING:
        return grant_roles(entry, client_id, ("Reader", "Security Reader"))
    if kind == FindingKind.ALERTS_FORBIDDEN:
        return grant_roles(entry, client_id, ("Security Reader",))
    if kind == FindingKind.SUBSCRIPTION_DISABLED:
        return subscriptions_loop(entry, 'az account subscription enable --subscription-id "$sub"')
    if kind == FindingKind.DEFENDER_OFF:
        return subscriptions_loop(
            entry,
            'az security pricing create --subscription "$sub" -n StorageAccounts --tier standard '
            '--subplan DefenderForStorageV2\n  az security pricing create --subscription "$sub" '
            "-n VirtualMachines --tier standard",
        )
    if kind == FindingKind.PLAN_OFF:
        return plans_loop(entry)
    if kind in (FindingKind.READ_LOGGING_OFF, FindingKind.RETENTION_TOO_SHORT, FindingKind.LOG_HOURS_LOST):
        return logging_loop(entry, baseline_days)
    return entry.first.cli_command  # one per device (credentials, staleness): its own command
