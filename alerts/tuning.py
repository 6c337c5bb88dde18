"""Evidence for tuning suppression: how often each rule hid alerts lately, how many alerts each type
produced and how many of them were suppressed. Each figure is a subquery reading one index, so a list of
rules or types costs the same few queries however many alerts there are (bench/fleet_pages.py)."""

from datetime import timedelta

from django.db.models import Count, DateTimeField, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from alerts.models import Alert, SuppressionRule

EXPIRING_DAYS = 7


def count_of(alerts, group_by):
    """Rows per `group_by`, counting that indexed column rather than the id, so the count is an index-only
    scan (alert_suppressed_hits, alert_type_list)."""
    rows = alerts.order_by().values(group_by).annotate(n=Count(group_by)).values("n")
    return Coalesce(Subquery(rows[:1], output_field=IntegerField()), Value(0))


def with_hits(rules, now=None):
    """Rules annotated with alerts hidden in all (suppressed), in the last 7 and 30 days, and the last hit."""
    now = now or timezone.now()
    hidden = Alert.objects.filter(suppressed_by=OuterRef("pk"))
    last = hidden.order_by("-time_generated").values("time_generated")[:1]
    return rules.annotate(
        suppressed=count_of(hidden, "suppressed_by"),
        hits_7=count_of(hidden.filter(time_generated__gte=now - timedelta(days=7)), "suppressed_by"),
        hits_30=count_of(hidden.filter(time_generated__gte=now - timedelta(days=30)), "suppressed_by"),
        last_hit=Subquery(last, output_field=DateTimeField()),
    )


def expiring_soon(rule, now=None):
    """An active rule that lapses within EXPIRING_DAYS: someone should decide whether to extend it."""
    now = now or timezone.now()
    return bool(
        rule.is_active and rule.expires_at and now < rule.expires_at <= now + timedelta(days=EXPIRING_DAYS)
    )


def with_volume(types, now=None):
    """Alert types annotated with their alerts in the last 7 and 30 days and the 30 days' suppressed ones."""
    now = now or timezone.now()
    of_type = Alert.objects.filter(alert_type=OuterRef("name"), duplicate_of__isnull=True)
    month = of_type.filter(time_generated__gte=now - timedelta(days=30))
    return types.annotate(
        alerts_7=count_of(of_type.filter(time_generated__gte=now - timedelta(days=7)), "alert_type"),
        alerts_30=count_of(month, "alert_type"),
        suppressed_30=count_of(month.filter(suppressed_by__isnull=False), "alert_type"),
    )


def share(part, whole):
    return f"{100 * part / whole:.0f}%" if whole else "—"


def draft_rules(type_names, reason, expires_at=None):
    """Unsaved rules, one per type, each with what it would hide in the last 30 days."""
    drafts = []
    for name in type_names:
        rule = SuppressionRule(alert_type=name, reason=reason, expires_at=expires_at)
        matches = rule.recent_matches()
        hidden_now = sum(1 for alert in matches if alert.suppressed_by_id is None)
        drafts.append((rule, matches, hidden_now))
    return drafts
