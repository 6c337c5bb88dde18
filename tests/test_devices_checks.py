"""Health checks on plain data: what counts as a misconfiguration, and what does not."""

from devices.checks import AccountSeen, Observation, SubscriptionSeen, evaluate
from devices.choices import FindingKind

SUB = "sub-1"


def kinds(seen, baseline=14):
    return sorted((f.kind, f.subject) for f in evaluate(seen, baseline))


def sub(**kwargs):
    defaults = {"resources": {}, "pricings": [{"name": "VirtualMachines", "pricing_tier": "Standard"}]}
    return SubscriptionSeen(SUB, "Prod", **{**defaults, **kwargs})


def test_expected_subscriptions_that_are_not_listed_are_missing():
    seen = Observation(expected=["sub-1", "SUB-2"], subscriptions=[sub()])
    assert kinds(seen) == [(FindingKind.SUBSCRIPTION_MISSING, "SUB-2")]


def test_a_subscription_that_is_not_enabled_is_reported():
    assert kinds(Observation(subscriptions=[sub(state="Warned")])) == [
        (FindingKind.SUBSCRIPTION_DISABLED, SUB)
    ]


def test_defender_off_everywhere_ignores_deprecated_plans_and_hides_the_per_plan_findings():
    pricings = [
        {"name": "StorageAccounts", "pricing_tier": "Free"},
        {"name": "Dns", "pricing_tier": "Standard", "deprecated": True},
    ]
    seen = Observation(
        subscriptions=[sub(pricings=pricings, resources={"microsoft.storage/storageaccounts": 1})]
    )
    assert kinds(seen) == [(FindingKind.DEFENDER_OFF, SUB)]


def test_a_free_plan_is_reported_only_when_its_resource_type_exists():
    pricings = [
        {"name": "VirtualMachines", "pricing_tier": "Standard"},
        {"name": "StorageAccounts", "pricing_tier": "Free"},
        {"name": "SqlServers", "pricing_tier": "Free"},
    ]
    seen = Observation(
        subscriptions=[sub(pricings=pricings, resources={"Microsoft.Storage/storageAccounts": 4})]
    )
    found = evaluate(seen, 14)
    assert [(f.kind, f.subject) for f in found] == [(FindingKind.PLAN_OFF, f"{SUB}/StorageAccounts")]
    assert found[0].fact("count") == 4


def test_unknown_pricings_or_resources_raise_no_plan_finding():
    assert kinds(Observation(subscriptions=[sub(pricings=None, resources=None)])) == []


def account(logging, diagnostics=()):
    return AccountSeen("/subscriptions/sub-1/x/acct", "acct", SUB, logging, list(diagnostics))


def test_an_account_without_read_logging_is_reported():
    seen = Observation(accounts=[account({"read": False, "write": True, "retention_days": 30})])
    assert kinds(seen) == [(FindingKind.READ_LOGGING_OFF, "/subscriptions/sub-1/x/acct")]


def test_a_diagnostic_setting_with_storage_read_counts_as_read_logging():
    setting = {"storage_account_id": "/x/archive", "logs": [{"category": "StorageRead", "enabled": True}]}
    assert kinds(Observation(accounts=[account({"read": False}, [setting])])) == []


def test_retention_shorter_than_the_baseline_is_reported_and_unlimited_retention_is_fine():
    short = account({"read": True, "retention_days": 7})
    assert kinds(Observation(accounts=[short]), baseline=14) == [
        (FindingKind.RETENTION_TOO_SHORT, short.resource_id)
    ]
    assert kinds(Observation(accounts=[account({"read": True, "retention_days": None})])) == []


def test_short_retention_of_write_logs_is_reported_even_when_reads_are_off():
    appdata = account({"read": False, "write": True, "retention_days": 7})
    assert kinds(Observation(accounts=[appdata])) == [
        (FindingKind.READ_LOGGING_OFF, appdata.resource_id),
        (FindingKind.RETENTION_TOO_SHORT, appdata.resource_id),
    ]


def test_an_account_whose_logging_could_not_be_read_raises_nothing():
    assert kinds(Observation(accounts=[account(None)])) == []


def test_a_forbidden_alert_read_is_reported():
    assert kinds(Observation(subscriptions=[sub(alerts_forbidden=True)])) == [
        (FindingKind.ALERTS_FORBIDDEN, SUB)
    ]


def test_raw_lines_kept_shorter_than_the_investigation_window_are_reported_from_retention_or_lifecycle():
    def evidence(seen):
        return [(f.kind, f.fact("days")) for f in evaluate(seen, 14, evidence_days=30)]

    classic = account({"read": True, "retention_days": 20})
    assert evidence(Observation(accounts=[classic])) == [(FindingKind.EVIDENCE_TOO_SHORT, 20)]
    archive = {"storage_account_id": "/x/archive", "logs": [{"category": "StorageRead", "enabled": True}]}
    monitored = account({"read": False}, [archive])
    monitored.lifecycle_days = 21  # the lifecycle rule on insights-logs-* deletes after 21 days
    assert evidence(Observation(accounts=[monitored])) == [(FindingKind.EVIDENCE_TOO_SHORT, 21)]
    monitored.lifecycle_days = None  # no rule deletes the archive
    assert evidence(Observation(accounts=[monitored])) == []
    assert evidence(Observation(accounts=[account({"read": True, "retention_days": 30})])) == []
    # Shorter than the baseline: RETENTION_TOO_SHORT says so first, not twice.
    assert evidence(Observation(accounts=[account({"read": True, "retention_days": 7})])) == [
        (FindingKind.RETENTION_TOO_SHORT, 7)
    ]
