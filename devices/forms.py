"""Onboarding: the device form checks the credentials against Azure before anything is saved."""

import re

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.views.decorators.debug import sensitive_variables

from ascmon import crypto
from ascmon.azure.errors import AzureError, BadCredentials
from devices.models import Device

# Azure ids are GUIDs; a tenant may also be given by its domain (contoso.onmicrosoft.com).
AZURE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.-]{0,99}$")

CREDENTIAL_MESSAGES = {
    "wrong_tenant": (
        "tenant_id",
        "Azure does not know this tenant, or the app is not registered in it. "
        "Check the tenant (directory) id.",
    ),
    "unknown_client": (
        "client_id",
        "The tenant has no app registration with this client id. Check the application (client) id.",
    ),
    "wrong_secret": (
        "client_secret",
        "The tenant rejected the client secret. "
        "Paste the secret's value (not its id) and check it has not expired.",
    ),
    "expired_token": (
        "client_secret",
        "The client secret has expired. Create a new one and paste its value.",
    ),
}
NO_SUBSCRIPTION = (
    "The credentials work, but the app sees no subscription. Give it the Reader and Security Reader roles on "
    "each subscription to monitor."
)
UNREACHABLE = "Azure could not check the credentials just now ({reason}). Nothing was saved; try again."
SECRET_UNREADABLE = (
    "The stored secret can no longer be decrypted (the encryption keys changed): enter the client secret "
    "again. It is stored encrypted and never shown."
)


def split_lines(text):
    return [item.strip() for item in re.split(r"[\s,;]+", text or "") if item.strip()]


class DeviceForm(forms.ModelForm):
    """Onboard (or re-key) a tenant. The secret is write-only: never rendered back, required to save."""

    client_secret = forms.CharField(
        label="Client secret",
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Stored encrypted; ascmon never shows it again.",
    )
    expected_subscriptions = forms.CharField(
        label="Expected subscription ids",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Optional, one per line. ascmon reports any it cannot see.",
    )

    class Meta:
        model = Device
        fields = ["name", "tenant_id", "client_id", "client_secret", "expected_subscriptions", "contacts"]
        widgets = {"contacts": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.subscriptions_seen = []
        if self.instance.pk:
            self.initial["expected_subscriptions"] = "\n".join(self.instance.expected_subscriptions)
            self.fields["client_secret"].required = False
            self.fields["client_secret"].help_text = "Leave blank to keep the stored secret. Never shown."
            if not self.stored_secret_readable():
                self.fields["client_secret"].required = True
                self.fields["client_secret"].help_text = SECRET_UNREADABLE
                self.fields["client_secret"].error_messages["required"] = SECRET_UNREADABLE

    def stored_secret_readable(self):
        try:
            crypto.decrypt(self.instance.secret_encrypted)
        except crypto.SecretUnreadable:
            return False
        return True

    def clean_tenant_id(self):
        return self._azure_id("tenant_id")

    def clean_client_id(self):
        return self._azure_id("client_id")

    def _azure_id(self, name):
        value = self.cleaned_data[name].strip()
        if not AZURE_ID.match(value):
            raise ValidationError("Enter the id as a GUID, e.g. 00000000-0000-0000-0000-000000000000.")
        return value.lower()

    def clean_expected_subscriptions(self):
        ids = split_lines(self.cleaned_data["expected_subscriptions"])
        bad = [item for item in ids if not AZURE_ID.match(item)]
        if bad:
            raise ValidationError(f"Not a subscription id: {', '.join(bad[:3])}")
        return list(dict.fromkeys(item.lower() for item in ids))

    def clean_contacts(self):
        contacts = split_lines(self.cleaned_data["contacts"])
        for address in contacts:
            validate_email(address)
        return "\n".join(contacts)

    @sensitive_variables("cleaned")
    def clean(self):
        cleaned = super().clean()
        if not self.errors:
            self.check_credentials(cleaned)
        return cleaned

    @sensitive_variables("cleaned", "tenant", "secret")
    def check_credentials(self, cleaned):
        from ascmon.azure.credentials import Tenant
        from devices.inventory import wrappers

        secret = cleaned["client_secret"] or self.instance.tenant().client_secret
        tenant = Tenant(cleaned["tenant_id"], cleaned["client_id"], secret)
        try:
            wrappers.subscriptions.verify_credentials(tenant)
            self.subscriptions_seen = wrappers.subscriptions.list_subscriptions(tenant)
        except BadCredentials as exc:
            field, message = CREDENTIAL_MESSAGES.get(
                exc.reason,
                (None, "Azure rejected these credentials. Check the tenant id, client id and secret."),
            )
            self.add_error(field, message)
            return
        except AzureError as exc:
            self.add_error(None, UNREACHABLE.format(reason=type(exc).__name__))
            return
        if not self.subscriptions_seen:
            self.add_error(None, NO_SUBSCRIPTION)

    def save(self, commit=True):
        device = super().save(commit=False)
        if self.cleaned_data["client_secret"]:
            device.set_secret(self.cleaned_data["client_secret"])
        if commit:
            device.save()
        return device
