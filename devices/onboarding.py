"""Onboarding a tenant: validate its credentials, save the device, queue its first inventory."""

from django.db import transaction
from django_q.tasks import async_task

from devices.forms import DeviceForm
from devices.models import Device


class OnboardingRejected(Exception):
    """The demo tenant's details did not pass the form (the message lists fields, never the secret)."""


def onboard(form):
    """Save a valid DeviceForm and queue the device's first inventory."""
    with transaction.atomic():
        device = form.save()
    async_task("devices.tasks.run_inventory", device.id)
    return device


def onboard_demo_device(tenant):
    """The demo's tenant goes through the same form a customer-success user fills in; returns the Device."""
    data = {
        "name": tenant["name"],
        "tenant_id": tenant["tenant_id"],
        "client_id": tenant["client_id"],
        "client_secret": tenant["client_secret"],
        "expected_subscriptions": "\n".join(tenant.get("expected_subscriptions") or ()),
        "contacts": "\n".join(tenant.get("contacts") or ()),
    }
    form = DeviceForm(data, instance=Device.objects.filter(name=tenant["name"]).first())
    if not form.is_valid():
        problems = "; ".join(f"{field}: {' '.join(errors)}" for field, errors in form.errors.items())
        raise OnboardingRejected(f"the demo tenant could not be onboarded: {problems}")
    return onboard(form)
