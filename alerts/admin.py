from django.contrib import admin
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from alerts import tuning
from alerts.forms_admin import SuppressTypesForm
from alerts.models import (
    Alert,
    AlertType,
    AuditEvent,
    DeviceAlertSettings,
    PollRun,
    PortalPivot,
    RejectedAlert,
    SuppressionRule,
)
from ascmon.admin_site import RoleAdmin

SHOWN_MATCHES = 20


@admin.register(SuppressionRule)
class SuppressionRuleAdmin(RoleAdmin):
    list_display = (
        "__str__",
        "criteria",
        "owner",
        "is_active",
        "expires",
        "hits_last_7_days",
        "hits_last_30_days",
        "last_hit",
        "suppressed_alerts",
    )
    list_filter = ("is_active", "preview_only", "severity")
    fields = (
        "reason",
        "alert_type",
        "product_name",
        "preview_only",
        "severity",
        "entity_pattern",
        "owner",
        "is_active",
        "expires_at",
        "recent_matches",
    )
    readonly_fields = ("recent_matches",)
    change_form_template = "admin/alerts/suppressionrule/change_form.html"

    def get_queryset(self, request):
        return tuning.with_hits(super().get_queryset(request).select_related("owner"))

    @admin.display(description="matches")
    def criteria(self, rule):
        parts = [
            ("type", rule.alert_type),
            ("product", rule.product_name),
            ("severity", rule.get_severity_display() if rule.severity else ""),
            ("entity", rule.entity_pattern),
            ("", "preview alerts only" if rule.preview_only else ""),
        ]
        return format_html_join(
            "", "<div>{}{}</div>", ((f"{label}: " if label else "", v) for label, v in parts if v)
        )

    @admin.display(description="expires", ordering="expires_at")
    def expires(self, rule):
        if rule.expires_at is None:
            return "never"
        when = f"{rule.expires_at:%Y-%m-%d %H:%M}"
        if tuning.expiring_soon(rule):
            return format_html('<strong class="expiring">{} (soon: extend or let go)</strong>', when)
        return when

    @admin.display(description="hits 7 d", ordering="hits_7")
    def hits_last_7_days(self, rule):
        return rule.hits_7

    @admin.display(description="hits 30 d", ordering="hits_30")
    def hits_last_30_days(self, rule):
        return rule.hits_30

    @admin.display(description="last hit", ordering="last_hit")
    def last_hit(self, rule):
        return f"{rule.last_hit:%Y-%m-%d %H:%M}" if rule.last_hit else "never"

    @admin.display(description="alerts suppressed", ordering="suppressed")
    def suppressed_alerts(self, rule):
        return rule.suppressed

    @admin.display(description="matched in the last 30 days")
    def recent_matches(self, rule):
        if rule.pk is None:
            return "Use “Preview matches” to see them before saving."
        return matches_html(rule.recent_matches())

    def get_changeform_initial_data(self, request):
        return {**super().get_changeform_initial_data(request), "owner": request.user.pk}

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        rule = SuppressionRule.objects.filter(pk=obj.pk)
        applied = obj.apply_to_recent() if rule.active().exists() else 0
        shown = rule.release() if rule.lapsed().exists() else 0
        AuditEvent.objects.create(
            user=request.user,
            action="changed suppression rule" if change else "added suppression rule",
            detail={
                "rule": obj.pk,
                "fields": form.changed_data,
                "suppressed_now": applied,
                "shown_again": shown,
            },
        )

    def delete_model(self, request, obj):
        self.delete_queryset(request, SuppressionRule.objects.filter(pk=obj.pk))

    def delete_queryset(self, request, queryset):
        """The rules' alerts go to another active rule covering them, or back into the list."""
        rules = {rule.pk: str(rule) for rule in queryset}
        shown = SuppressionRule.objects.filter(pk__in=rules).release()
        super().delete_queryset(request, SuppressionRule.objects.filter(pk__in=rules))
        AuditEvent.objects.create(
            user=request.user,
            action="deleted suppression rule",
            detail={"rules": rules, "shown_again": shown},
        )

    def get_urls(self):
        preview = self.admin_site.admin_view(self.preview_view)
        return [path("preview/", preview, name="alerts_suppressionrule_preview"), *super().get_urls()]

    def preview_view(self, request):
        """What the rule in the form would match, without saving it."""
        form = self.get_form(request, fields=[f for f in self.fields if f not in self.readonly_fields])(
            request.POST or None
        )
        matches = None
        if request.method == "POST" and form.is_valid():
            matches = form.save(commit=False).recent_matches()
        context = {
            **self.admin_site.each_context(request),
            "form": form,
            "matches": matches,
            "shown": (matches or [])[:SHOWN_MATCHES],
            "title": "Suppression rule preview",
            "opts": self.opts,
        }
        return TemplateResponse(request, "admin/alerts/suppressionrule/preview.html", context)


def matches_html(matches):
    shown = format_html_join(
        "",
        '<li><a href="{}">{}</a> · {} · {}</li>',
        (
            (reverse("alerts:detail", args=[a.pk]), a.display_name, a.device.name, a.alert_type)
            for a in matches[:SHOWN_MATCHES]
        ),
    )
    return format_html("<p>{} alert(s)</p><ul>{}</ul>", len(matches), shown)


@admin.register(Alert)
class AlertAdmin(RoleAdmin):
    editable = deletable = False
    list_display = (
        "display_name",
        "alert_type",
        "severity",
        "status",
        "triage_status",
        "device",
        "product_name",
        "is_preview",
        "is_new_type",
        "suppressed_by",
        "time_generated",
    )
    list_filter = ("severity", "status", "triage_status", "is_preview", "is_new_type", "product_name")
    search_fields = ("display_name", "alert_type", "system_alert_id", "compromised_entity")
    list_select_related = ("device", "suppressed_by")
    show_full_result_count = False


@admin.register(AlertType)
class AlertTypeAdmin(RoleAdmin):
    list_display = (
        "name",
        "display_name",
        "product_name",
        "known",
        "is_new",
        "first_seen_at",
        "alerts_last_7_days",
        "alerts_last_30_days",
        "suppressed_share",
    )
    list_filter = ("is_new", "known")
    search_fields = ("name", "display_name")
    readonly_fields = ("name", "display_name", "product_name", "known", "first_seen_at", "last_seen_at")
    ordering = ("-is_new", "-first_seen_at", "name")  # new types first: they are what needs a look
    actions = ["mark_reviewed", "suppress_types"]

    def get_queryset(self, request):
        return tuning.with_volume(super().get_queryset(request))

    @admin.display(description="alerts 7 d", ordering="alerts_7")
    def alerts_last_7_days(self, kind):
        return kind.alerts_7

    @admin.display(description="alerts 30 d", ordering="alerts_30")
    def alerts_last_30_days(self, kind):
        return kind.alerts_30

    @admin.display(description="suppressed (30 d)", ordering="suppressed_30")
    def suppressed_share(self, kind):
        return tuning.share(kind.suppressed_30, kind.alerts_30)

    @admin.action(description="Suppress these types (preview first)")
    def suppress_types(self, request, queryset):
        """Show what one rule per type would hide; only the confirmation saves the rules."""
        names = list(queryset.values_list("name", flat=True))
        form = SuppressTypesForm(request.POST if "confirm" in request.POST else None)
        if form.is_bound and form.is_valid():
            return self.save_type_rules(request, names, form.cleaned_data)
        reason = form.data.get("reason") if form.is_bound else ""
        drafts = tuning.draft_rules(names, reason or "")
        context = {
            **self.admin_site.each_context(request),
            "title": "Suppress these alert types?",
            "opts": self.opts,
            "form": form,
            "drafts": [(rule, matches[:5], len(matches), hidden) for rule, matches, hidden in drafts],
            "queryset": queryset,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/alerts/alerttype/suppress_preview.html", context)

    def save_type_rules(self, request, names, data):
        made, hidden = [], 0
        for rule, _, _ in tuning.draft_rules(names, data["reason"], data["expires_at"]):
            rule.owner = request.user
            rule.save()
            hidden += rule.apply_to_recent()
            made.append(rule.pk)
        AuditEvent.objects.create(
            user=request.user,
            action="added suppression rule",
            detail={"rules": made, "types": names, "suppressed_now": hidden},
        )
        self.message_user(request, f"{len(made)} suppression rule(s) saved; {hidden} alert(s) hidden now.")
        return None

    @admin.action(description="Mark reviewed (no longer a new type)")
    def mark_reviewed(self, request, queryset):
        names = list(queryset.values_list("name", flat=True))
        queryset.update(is_new=False)
        Alert.objects.filter(alert_type__in=names).update(is_new_type=False)
        AuditEvent.objects.create(user=request.user, action="reviewed alert types", detail={"types": names})

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        Alert.objects.filter(alert_type=obj.name).update(is_new_type=obj.is_new)


@admin.register(PollRun)
class PollRunAdmin(RoleAdmin):
    editable = deletable = False
    list_display = (
        "started_at",
        "device",
        "subscription_id",
        "source",
        "outcome",
        "pages",
        "created",
        "updated",
        "unchanged",
        "duplicates",
        "suppressed",
        "new_types",
        "rejected",
        "throttled",
        "duration_seconds",
    )
    list_filter = ("outcome", "source", "device")


@admin.register(RejectedAlert)
class RejectedAlertAdmin(RoleAdmin):
    editable = deletable = False
    list_display = ("at", "device", "reason")


@admin.register(PortalPivot)
class PortalPivotAdmin(RoleAdmin):
    editable = deletable = False
    list_display = ("at", "user", "alert_type", "alert")


@admin.register(AuditEvent)
class AuditEventAdmin(RoleAdmin):
    editable = deletable = False
    list_display = ("at", "user", "action", "alert")
    list_filter = ("action",)


@admin.register(DeviceAlertSettings)
class DeviceAlertSettingsAdmin(RoleAdmin):
    list_display = ("device", "write_back_status")
