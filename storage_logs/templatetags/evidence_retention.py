"""How long an account's raw log lines stay fetchable, for the device page; computes from the account's
fields, never queries."""

from django import template
from django.conf import settings

from storage_logs import evidence

register = template.Library()


@register.filter
def raw_lines_kept(account):
    return evidence.kept(account, settings.EVIDENCE_DAYS)


@register.simple_tag
def evidence_days():
    return settings.EVIDENCE_DAYS
