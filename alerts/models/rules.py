"""Suppression rules: known noise, kept but hidden from the default list."""

import fnmatch
import re
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from alerts.choices import Severity
from alerts.models.alert import Alert


class SuppressionRuleQuerySet(models.QuerySet):
    def active(self, now=None):
        now = now or timezone.now()
        return self.filter(is_active=True).filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))

    def lapsed(self, now=None):
        """Disabled or expired rules."""
        return self.filter(Q(is_active=False) | Q(expires_at__lte=now or timezone.now()))

    def release(self):
        """Hand the alerts these rules suppressed to the first other active rule covering them, or show
        them again: for rules disabled, expired or about to be deleted. Returns how many are shown."""
        ids = list(self.values_list("pk", flat=True))
        leaving = Alert.objects.filter(suppressed_by__in=ids)
        for rule in SuppressionRule.objects.active().exclude(pk__in=ids):
            covered = leaving.filter(rule.db_filter())
            if rule.entity_pattern:
                fields = ("id", "alert_type", "product_name", "is_preview", "severity", "entity_text")
                covered = Alert.objects.filter(
                    pk__in=[a.pk for a in covered.only(*fields) if rule.matches(a)]
                )
            covered.update(suppressed_by=rule)
        return leaving.update(suppressed_by=None)


class SuppressionRule(models.Model):
    """Known noise: matching alerts are kept but hidden from the default list."""

    alert_type = models.CharField(
        max_length=200,
        blank=True,
        help_text="Exact type, or a prefix ending in * (Storage.Blob_*). Empty: any.",
    )
    product_name = models.CharField(max_length=200, blank=True, help_text="Exact product name. Empty: any.")
    preview_only = models.BooleanField(
        default=False, help_text='Only preview alerts ("PREVIEW - " prefix or "(Preview)" suffix)'
    )
    severity = models.CharField(max_length=20, choices=Severity.choices, blank=True, help_text="Empty: any.")
    entity_pattern = models.CharField(
        max_length=300,
        blank=True,
        help_text="Glob on entity values, e.g. 10.0.* or *svc-backup*. Empty: any.",
    )
    reason = models.TextField()
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    is_active = models.BooleanField(default=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = SuppressionRuleQuerySet.as_manager()

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return self.reason.splitlines()[0][:80] if self.reason else f"Rule {self.pk}"

    CRITERIA = ("alert_type", "product_name", "preview_only", "severity", "entity_pattern")

    def has_criteria(self):
        return any(getattr(self, name) for name in self.CRITERIA)

    def clean(self):
        """A rule without a criterion would hide every alert: it must name at least one."""
        if not self.has_criteria():
            raise ValidationError(
                "Name at least one criterion (alert type, product, preview only, severity or entity "
                "pattern): a rule without one would hide every alert."
            )

    def db_filter(self):
        """The criteria the database can check; the entity glob is checked in Python. A rule without
        criteria (saved before they were required) matches nothing."""
        if not self.has_criteria():
            return Q(pk__in=[])
        criteria = Q()
        if self.alert_type.endswith("*"):
            criteria &= Q(alert_type__istartswith=self.alert_type[:-1])
        elif self.alert_type:
            criteria &= Q(alert_type__iexact=self.alert_type)
        if self.product_name:
            criteria &= Q(product_name__iexact=self.product_name)
        if self.preview_only:
            criteria &= Q(is_preview=True)
        if self.severity:
            criteria &= Q(severity=self.severity)
        return criteria

    def entity_regex(self):
        return re.compile(fnmatch.translate(self.entity_pattern.lower())) if self.entity_pattern else None

    def matches(self, alert):
        """Does this rule cover `alert` (an Alert, saved or not)? A rule without criteria covers nothing."""
        if not self.has_criteria():
            return False
        kind = self.alert_type.lower()
        alert_type = alert.alert_type.lower()
        if kind and not (alert_type.startswith(kind[:-1]) if kind.endswith("*") else alert_type == kind):
            return False
        if self.product_name and self.product_name.lower() != (alert.product_name or "").lower():
            return False
        if (self.preview_only and not alert.is_preview) or (
            self.severity and self.severity != alert.severity
        ):
            return False
        pattern = self.entity_regex()
        return pattern is None or any(pattern.match(v) for v in alert.entity_text.splitlines())

    def recent_matches(self, days=30):
        """Alerts of the last `days` this rule covers, whether or not it suppressed them."""
        since = timezone.now() - timedelta(days=days)
        candidates = Alert.objects.filter(self.db_filter(), first_seen_at__gte=since).select_related("device")
        if not self.entity_pattern:
            return list(candidates.order_by("-first_seen_at")[:1000])
        return [alert for alert in candidates.order_by("-first_seen_at")[:5000] if self.matches(alert)]

    def apply_to_recent(self, days=30):
        """Suppress the unsuppressed alerts of the last `days` this rule covers; returns how many."""
        ids = [alert.pk for alert in self.recent_matches(days) if alert.suppressed_by_id is None]
        return Alert.objects.filter(pk__in=ids).update(suppressed_by=self)
