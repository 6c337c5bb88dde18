"""Collect what a tenant looks like (through the Azure wrappers) and store it as the device's current state.

`collect` reads; `store` writes the current tables and returns the snapshot kept on the InventoryRun.
Every Azure call goes through `Calls`, which counts it and records failures (secret scrubbed out).
"""

import importlib

from ascmon.azure.errors import AzureError, BadCredentials, Forbidden, Throttled
from devices.checks import AccountSeen, Observation, SubscriptionSeen
from devices.models import DefenderPlan, ResourceCount, StorageAccount, Subscription


class Wrappers:
    """The ascmon.azure modules, imported on first use (tests without the simulator swap in a fake)."""

    def __getattr__(self, name):
        return importlib.import_module(f"ascmon.azure.{name}")


wrappers = Wrappers()


class Calls:
    """Counts the Azure calls of one run and records what failed, never with the secret in it."""

    def __init__(self, secret=""):
        self.count = 0
        self.throttled = 0
        self.errors = []
        self.unsure = set()
        self._secret = secret

    def __call__(self, fn, *args):
        self.count += 1
        try:
            return fn(*args)
        except Throttled:
            self.throttled += 1
            raise

    def tolerate(self, subject, fn, *args):
        """Call; on an Azure error other than rejected credentials, note it and return None."""
        try:
            return self(fn, *args)
        except BadCredentials:
            raise
        except AzureError as exc:
            self.record(subject, fn, exc)
            self.unsure.add(subject)
            return None

    def record(self, subject, fn, exc):
        self.errors.append(
            {
                "call": getattr(fn, "__name__", "call"),
                "subject": subject,
                "error": type(exc).__name__,
                "status": getattr(exc, "status", None),
                "message": self.scrub(str(exc))[:500],
            }
        )

    def scrub(self, text):
        return text.replace(self._secret, "[secret]") if self._secret else text


def collect(device, tenant, calls):
    """Everything the health checks need. Raises BadCredentials, or AzureError when nothing is visible."""
    calls(wrappers.subscriptions.verify_credentials, tenant)
    listed = calls(wrappers.subscriptions.list_subscriptions, tenant)
    seen = Observation(expected=list(device.expected_subscriptions))
    for item in listed:
        sub = SubscriptionSeen(
            item["subscription_id"], item.get("display_name") or "", item.get("state") or ""
        )
        seen.subscriptions.append(sub)
        collect_subscription(tenant, sub, seen, calls)
    seen.unsure = set(calls.unsure)
    return seen


def collect_subscription(tenant, sub, seen, calls):
    sub_id = sub.subscription_id
    sub.resources = calls.tolerate(sub_id, wrappers.resources.count_resources, tenant, sub_id)
    sub.alerts_forbidden = alerts_forbidden(tenant, sub_id, calls)
    sub.activity_forbidden = forbidden(tenant, sub_id, calls, wrappers.activity.can_read)
    sub.pricings = calls.tolerate(sub_id, wrappers.security.list_pricings, tenant, sub_id)
    for account in calls.tolerate(sub_id, wrappers.storage.list_storage_accounts, tenant, sub_id) or ():
        seen.accounts.append(collect_account(tenant, sub_id, account, calls))


def alerts_forbidden(tenant, sub_id, calls):
    """True on 403 for the first page of alerts, False when it reads, None when unknown."""
    return forbidden(tenant, sub_id, calls, wrappers.security.iter_alert_pages, read=_first_page)


def _first_page(pages):
    next(iter(pages), None)
    getattr(pages, "close", lambda: None)()


def forbidden(tenant, sub_id, calls, probe, read=None):
    """True when `probe(tenant, sub_id)` (and `read` of what it returns) meets 403, False when it reads,
    None when unknown."""
    try:
        result = calls(probe, tenant, sub_id)
        if read:
            read(result)
        return False
    except Forbidden:
        return True
    except BadCredentials:
        raise
    except AzureError as exc:
        calls.throttled += isinstance(exc, Throttled)
        calls.record(sub_id, probe, exc)
        calls.unsure.add(sub_id)
        return None


def collect_account(tenant, sub_id, account, calls):
    seen = AccountSeen(account["id"], account["name"], sub_id)
    seen.raw = account
    blob_service = f"{account['id']}/blobServices/default"
    seen.diagnostic_settings = calls.tolerate(
        account["id"], wrappers.monitor.list_diagnostic_settings, tenant, blob_service
    )
    archives = [
        s.get("storage_account_id") for s in seen.diagnostic_settings or () if s.get("storage_account_id")
    ]
    if archives:  # a failure here leaves the account's other findings alone (a subject of its own)
        target = archives[0]
        seen.lifecycle_days = calls.tolerate(
            f"{target}/managementPolicies", wrappers.storage.get_log_lifecycle_days, tenant, target
        )
    key = calls.tolerate(account["id"], wrappers.storage.get_account_key, tenant, account["id"])
    if key:
        access = wrappers.blobs.BlobAccess(
            blob_endpoint=account.get("blob_endpoint") or "", account_name=account["name"], account_key=key
        )
        seen.logging = calls.tolerate(account["id"], wrappers.blobs.get_logging_properties, access)
    return seen


def store(device, seen, now):
    """Write the current state of the device's tenant; return the snapshot dict kept for history."""
    subs = store_subscriptions(device, seen, now)
    for sub in seen.subscriptions:
        row = subs[sub.subscription_id]
        if sub.resources is not None:
            replace(
                row,
                ResourceCount,
                [ResourceCount(subscription=row, resource_type=t, count=n) for t, n in sub.resources.items()],
            )
        if sub.pricings is not None:
            replace(row, DefenderPlan, [plan_row(row, plan) for plan in sub.pricings])
    for account in seen.accounts:
        store_account(device, subs[account.subscription_id], account, now)
    return snapshot(seen)


def store_subscriptions(device, seen, now):
    expected = {sub_id.lower() for sub_id in seen.expected}
    rows = {}
    for sub in seen.subscriptions:
        defaults = {
            "display_name": sub.display_name,
            "state": sub.state,
            "visible": True,
            "last_seen_at": now,
            "expected": sub.subscription_id.lower() in expected,
        }
        if sub.resources is not None:
            defaults["resource_total"] = sum(sub.resources.values())
        if sub.activity_forbidden is not None:
            defaults["activity_log_readable"] = not sub.activity_forbidden
        rows[sub.subscription_id], _ = Subscription.objects.update_or_create(
            device=device, subscription_id=sub.subscription_id, defaults=defaults
        )
    gone = device.subscriptions.exclude(subscription_id__in=list(rows))
    gone.update(visible=False)
    for sub_id in seen.expected:
        if sub_id not in rows:
            Subscription.objects.update_or_create(
                device=device, subscription_id=sub_id, defaults={"expected": True, "visible": False}
            )
    device.subscriptions.exclude(subscription_id__in=list(seen.expected)).update(expected=False)
    return rows


def replace(subscription, model, rows):
    model.objects.filter(subscription=subscription).delete()
    model.objects.bulk_create(rows, ignore_conflicts=True)


def plan_row(subscription, plan):
    return DefenderPlan(
        subscription=subscription,
        name=plan["name"],
        pricing_tier=plan.get("pricing_tier") or "",
        sub_plan=plan.get("sub_plan") or "",
        deprecated=bool(plan.get("deprecated")),
        replaced_by=list(plan.get("replaced_by") or []),
        enablement_time=str(plan.get("enablement_time") or ""),
    )


def store_account(device, subscription, account, now):
    raw = account.raw
    defaults = {
        "subscription": subscription,
        "name": account.name,
        "last_seen_at": now,
        "resource_group": raw.get("resource_group") or "",
        "location": raw.get("location") or "",
        "blob_endpoint": raw.get("blob_endpoint") or "",
        "logging_error": "" if account.logging is not None else "Classic logging could not be read",
    }
    if account.logging is not None:
        logging = account.logging
        defaults.update(
            logging_version=str(logging.get("version") or ""),
            logging_read=bool(logging.get("read")),
            logging_write=bool(logging.get("write")),
            logging_delete=bool(logging.get("delete")),
            logging_retention_days=logging.get("retention_days") or None,
        )
    if account.diagnostic_settings is not None:
        targets = [
            s.get("storage_account_id") for s in account.diagnostic_settings if s.get("storage_account_id")
        ]
        defaults.update(
            diagnostic_settings=account.diagnostic_settings,
            diagnostic_logs=any(
                log.get("enabled") for s in account.diagnostic_settings for log in s.get("logs") or ()
            ),
            diagnostic_target_account_id=targets[0] if targets else "",
            lifecycle_delete_days=account.lifecycle_days if targets else None,
        )
    StorageAccount.objects.update_or_create(device=device, resource_id=account.resource_id, defaults=defaults)


def snapshot(seen):
    return {
        "expected": list(seen.expected),
        "subscriptions": [
            {
                "id": sub.subscription_id,
                "name": sub.display_name,
                "state": sub.state,
                "resources": sub.resources,
                "alerts_forbidden": sub.alerts_forbidden,
                "activity_forbidden": sub.activity_forbidden,
                "plans": None
                if sub.pricings is None
                else {
                    p["name"]: {
                        "tier": p.get("pricing_tier"),
                        "sub_plan": p.get("sub_plan"),
                        "deprecated": bool(p.get("deprecated")),
                    }
                    for p in sub.pricings
                },
            }
            for sub in seen.subscriptions
        ],
        "accounts": [
            {
                "id": a.resource_id,
                "name": a.name,
                "subscription": a.subscription_id,
                "logging": a.logging,
                "diagnostic_settings": a.diagnostic_settings,
                "lifecycle_days": a.lifecycle_days,
            }
            for a in seen.accounts
        ],
    }


def summary(seen, found):
    """Headline numbers of one run; the sync history lists them so a change over time stands out."""
    plans = [plan for sub in seen.subscriptions for plan in sub.pricings or () if not plan.get("deprecated")]
    return {
        "subscriptions": len(seen.subscriptions),
        "missing": len(
            {s.lower() for s in seen.expected} - {s.subscription_id.lower() for s in seen.subscriptions}
        ),
        "resources": sum(sum((sub.resources or {}).values()) for sub in seen.subscriptions),
        "plans_on": sum(1 for plan in plans if (plan.get("pricing_tier") or "").lower() == "standard"),
        "plans": len(plans),
        "accounts": len(seen.accounts),
        "accounts_logging_reads": sum(1 for a in seen.accounts if a.logging and a.logging.get("read")),
        "findings": len(found),
    }
