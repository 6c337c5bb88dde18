from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from ascmon.admin_site import RoleAdmin
from ascmon.roles import ADMIN, has_role
from devices.models import StorageAccount
from storage_logs import preview
from storage_logs.models import (
    FIELD_FLAGS,
    AggregationPolicy,
    BlobCheckpoint,
    DailyVolume,
    IngestRun,
    LogAggregate,
    Price,
    PriceList,
)

FLAGS = list(FIELD_FLAGS.values())


class PolicyForm(forms.ModelForm):
    preview_account = forms.ModelChoiceField(
        StorageAccount.objects.select_related("device"),
        required=False,
        help_text="Press “Preview” to see the reduction this policy would give on the account's last day "
        "of logs. Nothing is saved by a preview.",
    )

    class Meta:
        model = AggregationPolicy
        fields = ["kind", *FLAGS, "window_minutes"]

    def clean(self):
        cleaned = super().clean()
        if "_preview" in self.data:
            account = cleaned.get("preview_account")
            if account is None:
                raise ValidationError("Choose a storage account to preview on.")
            policy = AggregationPolicy(
                **{f.name: cleaned.get(f.name) for f in AggregationPolicy._meta.fields if f.name in cleaned}
            )
            raise ValidationError(preview.describe(preview.preview(account, policy.as_policy())))
        return cleaned


@admin.register(AggregationPolicy)
class AggregationPolicyAdmin(RoleAdmin):
    form = PolicyForm
    change_form_template = "storage_logs/admin_policy_change_form.html"
    list_display = (
        "kind",
        "window_minutes",
        "by_operation",
        "by_status_class",
        "by_principal",
        "by_client_ip",
        "by_user_agent",
        "by_container",
        "by_object",
        "updated_at",
    )


@admin.register(IngestRun)
class IngestRunAdmin(RoleAdmin):
    editable = deletable = False
    list_display = (
        "started_at",
        "task",
        "device",
        "account",
        "hour",
        "last_hour",
        "status",
        "blobs_read",
        "lines",
        "rejected",
        "duplicates",
        "records",
    )
    list_filter = ("status", "task")
    list_select_related = ("device", "account")
    readonly_fields = [f.name for f in IngestRun._meta.fields]


@admin.register(LogAggregate)
class LogAggregateAdmin(RoleAdmin):
    editable = deletable = False
    list_display = (
        "window_start",
        "account",
        "operation",
        "principal_kind",
        "principal_id",
        "client_ip",
        "count",
        "response_bytes",
    )
    list_filter = ("kind", "operation", "principal_kind")
    list_select_related = ("account",)
    search_fields = ("principal_id", "upn", "client_ip")


@admin.register(DailyVolume)
class DailyVolumeAdmin(RoleAdmin):
    editable = deletable = False
    list_display = (
        "day",
        "account",
        "raw_lines",
        "raw_bytes",
        "billable_bytes",
        "aggregate_records",
        "aggregate_bytes",
    )
    list_select_related = ("account",)


@admin.register(BlobCheckpoint)
class BlobCheckpointAdmin(RoleAdmin):
    editable = deletable = False
    list_display = ("account", "container", "name", "consumed", "lines", "updated_at")
    list_select_related = ("account",)


class AdminRoleInline(admin.TabularInline):
    """An inline that only admins (the role) see and edit, like the models around it."""

    def has_view_permission(self, request, obj=None):
        return has_role(request.user, ADMIN)

    has_add_permission = has_change_permission = has_delete_permission = has_view_permission


class PriceInline(AdminRoleInline):
    model = Price
    extra = 0
    fields = (
        "item",
        "tier_gb_per_day",
        "amount",
        "included_retention_days",
        "effective_from",
        "source",
        "note",
    )


@admin.register(PriceList)
class PriceListAdmin(RoleAdmin):
    """The price book: one list per region and currency; the cost page prices with the list in effect."""

    editable = True
    inlines = [PriceInline]
    list_display = ("name", "region", "currency", "is_default")


@admin.register(Price)
class PriceAdmin(RoleAdmin):
    editable = True
    list_display = (
        "item",
        "tier_gb_per_day",
        "amount",
        "price_list",
        "effective_from",
        "included_retention_days",
        "source",
    )
    list_filter = ("price_list", "item")
    list_select_related = ("price_list",)
    search_fields = ("source", "note")
