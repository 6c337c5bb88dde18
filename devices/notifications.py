"""The notification centre (unread badge, list) and e-mail to the device's contacts."""

import logging

from django import forms
from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction

from ascmon.roles import ADMIN, ANALYST, CUSTOMER_SUCCESS, has_role
from devices.choices import FindingKind, NotificationEvent

logger = logging.getLogger(__name__)


class NotificationFilter(forms.Form):
    """The notification centre's filters, from the query string."""

    unread = forms.BooleanField(required=False, label="Unread only")
    event = forms.ChoiceField(
        choices=[("", "Opened and resolved"), *NotificationEvent.choices], required=False
    )
    kind = forms.ChoiceField(
        choices=[("", "Any finding"), *FindingKind.choices], required=False, label="Finding"
    )
    device = forms.CharField(required=False, label="Device", widget=forms.TextInput(attrs={"type": "search"}))

    def filter(self, notifications):
        data = self.cleaned_data if self.is_valid() else {}
        if data.get("unread"):
            notifications = notifications.filter(is_read=False)
        if data.get("event"):
            notifications = notifications.filter(event=data["event"])
        if data.get("kind"):
            notifications = notifications.filter(finding__kind=data["kind"])
        if data.get("device"):
            notifications = notifications.filter(device__name__icontains=data["device"])
        return notifications


def can_see(user):
    return has_role(user, ANALYST, CUSTOMER_SUCCESS, ADMIN)


def unread_count(user):
    """Unread in-app notifications for the navigation badge."""
    from devices.models import Notification

    if not can_see(user):
        return 0
    return Notification.objects.unread_by(user).count()


def notify(finding, event):
    """Record one notification for this finding and event and e-mail it; a repeat does nothing."""
    from devices.models import Notification

    try:
        with transaction.atomic():
            notification = Notification.objects.create(device=finding.device, finding=finding, event=event)
    except IntegrityError:
        return None
    recipients = finding.device.contact_list()
    if recipients and send(notification, recipients):
        notification.emailed_to = "\n".join(recipients)
        notification.save(update_fields=["emailed_to"])
    return notification


def send(notification, recipients):
    finding = notification.finding
    try:
        send_mail(subject(notification), body(notification), settings.DEFAULT_FROM_EMAIL, recipients)
    except Exception:
        logger.exception("could not e-mail notification %s of device %s", notification.pk, finding.device_id)
        return False
    return True


def subject(notification):
    prefix = "Resolved" if notification.event == NotificationEvent.RESOLVED else "Action needed"
    text = f"[ascmon] {prefix} · {notification.device.name}: {notification.finding.title}"
    return " ".join(text.split())[:200]  # Azure names are attacker-controlled: no header injection


def body(notification):
    finding = notification.finding
    if notification.event == NotificationEvent.RESOLVED:
        return (
            f"ascmon no longer sees this problem on {notification.device.name}:\n\n{finding.title}\n\n"
            f"First seen {finding.first_seen_at:%Y-%m-%d %H:%M} UTC, "
            f"resolved {finding.resolved_at:%Y-%m-%d %H:%M} UTC.\n"
        )
    return (
        f"{finding.title}\n\n{finding.explanation}\n\n"
        f"How to fix it in the Azure portal:\n  {finding.portal_steps}\n\n"
        f"Or with the Azure CLI:\n  {finding.cli_command}\n\n"
        "ascmon checks again at its next inventory and tells you when it is resolved.\n"
    )
