"""What each finding means and how to fix it: a title, a plain explanation, a portal path and an `az` command.

Values from Azure (names, states) are inserted as plain text; templates escape them.
"""

from dataclasses import dataclass

from devices.choices import FindingKind


@dataclass(frozen=True)
class Advice:
    """The words a finding shows and e-mails."""

    title: str
    explanation: str
    portal: str
    cli: str


def advice_for(found, device, baseline_days):
    writer = WRITERS[found.kind]
    return writer(found, device, baseline_days)


def _sub_label(found):
    name = found.fact("name")
    return f"{name} ({found.subscription_id})" if name else found.subscription_id


def credentials_rejected(found, device, baseline_days):
    return Advice(
        title="Azure rejected the app registration's credentials",
        explanation=(
            f"Signing in as app {device.client_id} in tenant {device.tenant_id} failed "
            f"({found.fact('reason', 'rejected')}). Nothing can be monitored until the credentials work."
        ),
        portal=(
            f"Microsoft Entra ID › App registrations › {device.client_id} › Certificates & secrets › "
            "New client secret; then enter the new secret on the device in ascmon."
        ),
        cli=f"az ad app credential reset --id {device.client_id} --append --display-name ascmon",
    )


def subscription_missing(found, device, baseline_days):
    sub = found.subscription_id
    return Advice(
        title=f"Subscription {sub} is not visible",
        explanation=(
            "The customer expects this subscription to be monitored, but the app registration has no role "
            "on it, so Azure silently leaves it out. Its alerts and logs are not being watched."
        ),
        portal=(
            f"Subscriptions › {sub} › Access control (IAM) › Add role assignment › "
            f"Reader and Security Reader › assign to the app {device.client_id}."
        ),
        cli=(
            f'az role assignment create --assignee {device.client_id} --role "Security Reader" '
            f"--scope /subscriptions/{sub} && az role assignment create --assignee {device.client_id} "
            f'--role "Reader" --scope /subscriptions/{sub}'
        ),
    )


def subscription_disabled(found, device, baseline_days):
    return Advice(
        title=f"Subscription {_sub_label(found)} is {found.fact('state')}",
        explanation=(
            f"Azure reports the subscription as {found.fact('state')}, not Enabled. Resources in a disabled "
            "subscription stop, and Defender stops reporting on them."
        ),
        portal=f"Subscriptions › {found.subscription_id} › Overview › Reactivate (or settle the bill).",
        cli=f"az account subscription enable --subscription-id {found.subscription_id}",
    )


def alerts_forbidden(found, device, baseline_days):
    sub = found.subscription_id
    return Advice(
        title=f"No read access to Defender alerts in {_sub_label(found)}",
        explanation=(
            "Azure answered 403 Forbidden when ascmon read the Defender for Cloud alerts of this "
            "subscription: the app registration lacks the Security Reader role there. "
            "No alert of it can reach the SOC."
        ),
        portal=(
            f"Subscriptions › {sub} › Access control (IAM) › Add role assignment › Security Reader "
            f"› assign to the app {device.client_id}."
        ),
        cli=(
            f'az role assignment create --assignee {device.client_id} --role "Security Reader" '
            f"--scope /subscriptions/{sub}"
        ),
    )


def activity_log_forbidden(found, device, baseline_days):
    sub = found.subscription_id
    return Advice(
        title=f"No read access to the Activity Log of {_sub_label(found)}",
        explanation=(
            "Azure answered 403 Forbidden when ascmon read the subscription's Activity Log: the app "
            "registration lacks the Reader role there. Alert pages cannot show what a principal did outside "
            "storage (keys listed, SAS made, roles assigned, logging turned off) around an alert."
        ),
        portal=(
            f"Subscriptions › {sub} › Access control (IAM) › Add role assignment › Reader "
            f"› assign to the app {device.client_id}."
        ),
        cli=(
            f'az role assignment create --assignee {device.client_id} --role "Reader" '
            f"--scope /subscriptions/{sub}"
        ),
    )


def defender_off(found, device, baseline_days):
    sub = found.subscription_id
    return Advice(
        title=f"Defender for Cloud is off in {_sub_label(found)}",
        explanation=(
            "Every Defender plan of this subscription is on the Free tier, so Defender raises no threat "
            "alerts for it at all."
        ),
        portal=f"Microsoft Defender for Cloud › Environment settings › {sub} › Defender plans › On › Save.",
        cli=(
            f"az security pricing create --subscription {sub} -n StorageAccounts --tier standard "
            f"--subplan DefenderForStorageV2 && az security pricing create --subscription {sub} "
            "-n VirtualMachines --tier standard"
        ),
    )


def plan_off(found, device, baseline_days):
    sub, plan, count = found.subscription_id, found.fact("plan"), found.fact("count")
    subplan = " --subplan DefenderForStorageV2" if plan == "StorageAccounts" else ""
    return Advice(
        title=f"Defender plan {plan} is off in {_sub_label(found)}",
        explanation=(
            f"The subscription has {count} resource(s) that the {plan} plan protects, but the plan is on the "
            "Free tier: attacks on them raise no alert."
        ),
        portal=f"Microsoft Defender for Cloud › Environment settings › {sub} › Defender plans › {plan} › On.",
        cli=f"az security pricing create --subscription {sub} -n {plan} --tier standard{subplan}",
    )


def read_logging_off(found, device, baseline_days):
    account = found.fact("account")
    return Advice(
        title=f"Storage account {account} does not log reads",
        explanation=(
            "Neither classic storage logging nor a diagnostic setting records read requests on this "
            "account's blobs. When Defender reports possible data exfiltration, the SOC cannot see what "
            "was read, by whom, or how much."
        ),
        portal=(
            f"Storage accounts › {account} › Monitoring (classic) › Diagnostic settings (classic) › "
            f"Blob properties › tick Read, Write, Delete › Delete data after {baseline_days} days › Save."
        ),
        cli=(
            f"az storage logging update --account-name {account} --services b --log rwd "
            f"--retention {baseline_days} --version 2.0"
        ),
    )


def retention_too_short(found, device, baseline_days):
    account = found.fact("account")
    return Advice(
        title=f"Storage account {account} keeps logs {found.fact('days')} days",
        explanation=(
            f"Logs are deleted after {found.fact('days')} days, shorter than the {baseline_days}-day "
            "baseline ascmon needs to tell usual access from unusual access."
        ),
        portal=(
            f"Storage accounts › {account} › Monitoring (classic) › Diagnostic settings (classic) › "
            f"Blob properties › Delete data after {baseline_days} days › Save."
        ),
        cli=(
            f"az storage logging update --account-name {account} --services b --log rwd "
            f"--retention {baseline_days} --version 2.0"
        ),
    )


def data_stale(found, device, baseline_days):
    return Advice(
        title="No successful sync recently",
        explanation=(
            f"No inventory of this tenant has succeeded since {found.fact('since', 'it was added')}. "
            "The dashboard may show an outdated picture; see the sync history for the error."
        ),
        portal=(
            f"ascmon › Devices › {device.name} › Sync history; in Azure: Microsoft Entra ID › Sign-in logs › "
            f"Service principal sign-ins › {device.client_id}."
        ),
        cli=(
            f"az login --service-principal -u {device.client_id} --tenant {device.tenant_id} -p <secret> "
            "&& az account list -o table"
        ),
    )


def log_hours_lost(found, device, baseline_days):
    account = found.subject
    return Advice(
        title=f"Storage log hours of {account} could not be read",
        explanation=(
            f"{found.fact('hours', 'Some')} hour(s) of {account}'s storage logs were not read: "
            f"{found.fact('reason') or 'they were deleted or rewritten before ascmon could read them'}. "
            "Activity in those hours is missing from the account's history; ingestion goes on with the "
            "hours after them. Keep logs long enough for ascmon to catch up after an outage."
        ),
        portal=(
            f"Storage accounts › {account} › Diagnostic settings (classic) › Logging › Delete data after "
            "(retention days); for Azure Monitor archives, Lifecycle management › rule on insights-logs-*."
        ),
        cli=(
            f"az storage logging update --account-name {account} --services b --log rwd --retention 30 "
            "--auth-mode key"
        ),
    )


def evidence_too_short(found, device, baseline_days):
    account, days, window = found.fact("account"), found.fact("days"), found.fact("window")
    return Advice(
        title=f"Raw log lines of {account} are kept {days} days",
        explanation=(
            f"The customer's blobs keep {account}'s raw log lines {days} days, shorter than the SOC's "
            f"{window}-day investigation window (ASCMON_EVIDENCE_DAYS): after that ascmon's aggregates still "
            "count what happened, but the lines cannot be shown as evidence."
        ),
        portal=(
            f"Storage accounts › {account} › Diagnostic settings (classic) › Delete data after {window} "
            f"days; for the Azure Monitor archive: Data management › Lifecycle management › the rule on "
            f"insights-logs-* › delete after more than {window} days."
        ),
        cli=(
            f"az storage logging update --account-name {account} --services b --log rwd --retention {window} "
            "--auth-mode key"
        ),
    )


WRITERS = {
    FindingKind.CREDENTIALS_REJECTED: credentials_rejected,
    FindingKind.SUBSCRIPTION_MISSING: subscription_missing,
    FindingKind.SUBSCRIPTION_DISABLED: subscription_disabled,
    FindingKind.ALERTS_FORBIDDEN: alerts_forbidden,
    FindingKind.DEFENDER_OFF: defender_off,
    FindingKind.PLAN_OFF: plan_off,
    FindingKind.READ_LOGGING_OFF: read_logging_off,
    FindingKind.RETENTION_TOO_SHORT: retention_too_short,
    FindingKind.DATA_STALE: data_stale,
    FindingKind.LOG_HOURS_LOST: log_hours_lost,
    FindingKind.ACTIVITY_LOG_FORBIDDEN: activity_log_forbidden,
    FindingKind.EVIDENCE_TOO_SHORT: evidence_too_short,
}
