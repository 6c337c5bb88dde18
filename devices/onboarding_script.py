"""What the customer's admin runs to let ascmon in: an `az` script granting exactly the roles the README's
"Pointing ascmon at a real Azure tenant" lists (Reader and Security Reader on each subscription, the storage
key role on the chosen storage accounts), and the same steps in the portal.

Ids come from people and from Azure: only well-formed ones make it into the script, each shell-quoted.
Pure: no Django.
"""

import re
import shlex
from dataclasses import dataclass, field

GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
ACCOUNT_ID = re.compile(
    r"^/subscriptions/[0-9a-fA-F-]{36}/resourceGroups/[\w.()-]{1,90}"
    r"/providers/Microsoft\.Storage/storageAccounts/[a-z0-9]{3,24}$",
    re.IGNORECASE,
)
APP_NAME = re.compile(r"^[\w .-]{1,80}$")
SUBSCRIPTION_ROLES = ("Reader", "Security Reader")
ACCOUNT_ROLE = "Storage Account Key Operator Service Role"


@dataclass
class Script:
    """The script and the portal steps for the given ids, and what was left out as malformed."""

    text: str
    portal_steps: list
    subscriptions: list
    accounts: list
    rejected: list = field(default_factory=list)


def split(text):
    return [item.strip() for item in re.split(r"[\s,;]+", text or "") if item.strip()]


def build(subscriptions, accounts=(), client_id="", app_name="ascmon"):
    """The script for these subscription ids and storage account resource ids; `client_id` reuses an app."""
    good_subs = list(dict.fromkeys(s.lower() for s in subscriptions if GUID.match(s)))
    good_accounts = list(dict.fromkeys(a for a in accounts if ACCOUNT_ID.match(a)))
    rejected = [s for s in subscriptions if not GUID.match(s)] + [
        a for a in accounts if not ACCOUNT_ID.match(a)
    ]
    app_name = app_name if APP_NAME.match(app_name or "") else "ascmon"
    client_id = client_id if GUID.match(client_id or "") else ""
    text = "\n".join(script_lines(good_subs, good_accounts, client_id, app_name))
    steps = portal_steps(client_id or app_name, bool(client_id), good_accounts)
    return Script(text, steps, good_subs, good_accounts, rejected)


def script_lines(subscriptions, accounts, client_id, app_name):
    yield "#!/usr/bin/env bash"
    yield "# Run in Azure Cloud Shell (Bash), signed in to the customer's tenant as an admin"
    yield "# who may create app registrations and assign roles."
    yield "set -euo pipefail"
    yield f"subscriptions=({' '.join(shlex.quote(s) for s in subscriptions)})"
    yield f"storage_accounts=({' '.join(shlex.quote(a) for a in accounts)})"
    if client_id:
        yield f"app_id={shlex.quote(client_id)}  # the app registration ascmon already uses"
    else:
        yield f"app_id=$(az ad app create --display-name {shlex.quote(app_name)} --query appId -o tsv)"
        yield 'az ad sp create --id "$app_id" >/dev/null'
        yield (
            'secret=$(az ad app credential reset --id "$app_id" --display-name ascmon --years 1 '
            "--query password -o tsv)"
        )
    yield 'for sub in "${subscriptions[@]}"; do'
    for role in SUBSCRIPTION_ROLES:
        scope = '"/subscriptions/$sub"'
        yield f'  az role assignment create --assignee "$app_id" --role "{role}" --scope {scope}'
    yield "done"
    yield 'for account in "${storage_accounts[@]}"; do'
    yield f'  az role assignment create --assignee "$app_id" --role "{ACCOUNT_ROLE}" --scope "$account"'
    yield "done"
    if not client_id:
        yield 'echo "Tenant id:     $(az account show --query tenantId -o tsv)"'
        yield 'echo "App client id: $app_id"'
        yield 'echo "Client secret: $secret   (enter it in ascmon, then forget it)"'


def portal_steps(app, existing, accounts):
    steps = []
    if not existing:
        steps += [
            f"Microsoft Entra ID › App registrations › New registration › name it {app} › Register.",
            "In the new app: Certificates & secrets › New client secret › copy its Value (shown once).",
        ]
    steps.append(
        "For each subscription: Subscriptions › the subscription › Access control (IAM) › Add role "
        f"assignment › Reader › Members: the app {app} › Review + assign; then the same for Security Reader."
    )
    if accounts:
        steps.append(
            "For each storage account listed: Storage accounts › the account › Access control (IAM) › "
            f"Add role assignment › {ACCOUNT_ROLE} › Members: the app {app} › Review + assign."
        )
    if not existing:
        steps.append(
            "In ascmon: Devices › Add device with the tenant id (Entra ID › Overview), the app's "
            "Application (client) id and the secret's value."
        )
    return steps
