from django import forms
from django.contrib import admin
from django.utils.decorators import method_decorator
from django.views.decorators.debug import sensitive_post_parameters

from ascmon.admin_site import RoleAdmin
from devices.models import Device, Finding, InventoryRun, Notification


class DeviceAdminForm(forms.ModelForm):
    """The secret is write-only here too: a field that sets it and never shows it."""

    client_secret = forms.CharField(
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="Leave blank to keep the stored secret. Never shown.",
    )

    class Meta:
        model = Device
        fields = ["name", "tenant_id", "client_id", "expected_subscriptions", "contacts", "is_active"]

    def clean_client_secret(self):
        secret = self.cleaned_data["client_secret"]
        if not secret and not self.instance.pk:
            raise forms.ValidationError("A new device needs its client secret.")
        return secret

    def save(self, commit=True):
        device = super().save(commit=False)
        if self.cleaned_data["client_secret"]:
            device.set_secret(self.cleaned_data["client_secret"])
        if commit:
            device.save()
        return device


@admin.register(Device)
class DeviceAdmin(RoleAdmin):
    form = DeviceAdminForm
    list_display = ["name", "tenant_id", "client_id", "is_active", "last_successful_sync_at"]
    search_fields = ["name", "tenant_id", "client_id"]
    readonly_fields = ["created_at", "last_sync_at", "last_successful_sync_at"]

    @method_decorator(sensitive_post_parameters("client_secret"))
    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        return super().changeform_view(request, object_id, form_url, extra_context)


@admin.register(Finding)
class FindingAdmin(RoleAdmin):
    editable = False
    list_display = ["title", "device", "kind", "severity", "first_seen_at", "last_seen_at", "resolved_at"]
    list_filter = ["kind", "severity", ("resolved_at", admin.EmptyFieldListFilter), "device"]
    search_fields = ["title", "subject"]
    list_select_related = ["device"]


@admin.register(InventoryRun)
class InventoryRunAdmin(RoleAdmin):
    editable = False
    list_display = ["device", "started_at", "outcome", "duration", "api_calls", "throttled"]
    list_filter = ["outcome", "device"]
    list_select_related = ["device"]
    readonly_fields = [
        "device",
        "started_at",
        "finished_at",
        "outcome",
        "api_calls",
        "throttled",
        "errors",
        "snapshot",
    ]


@admin.register(Notification)
class NotificationAdmin(RoleAdmin):
    editable = False
    list_display = ["finding", "device", "event", "created_at", "emailed_to"]
    list_filter = ["event", "device"]
    list_select_related = ["device", "finding"]
    exclude = ["read_by"]
