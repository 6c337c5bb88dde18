"""Suppression rules: kept, listable, never deleted; edited by admins, previewed before saving."""

from datetime import timedelta

from django.utils import timezone
from django_q.models import Schedule

from alerts import tasks
from alerts.choices import ChangeSource
from alerts.ingest import Ingester
from alerts.models import Alert, SuppressionRule
from tests.factories import raw_alert


def ingest(contoso, *raws):
    return Ingester(contoso, ChangeSource.IMPORT).ingest_page(list(raws))


def test_preview_alerts_are_suppressed_by_default(contoso):
    counts = ingest(
        contoso,
        raw_alert(display_name="PREVIEW - Access from a suspicious application"),
        raw_alert(display_name="Unusual amount of data extracted from a sensitive blob container (Preview)"),
        raw_alert(display_name="Access from a suspicious IP address"),
    )
    assert counts["suppressed"] == 2
    assert list(Alert.objects.visible().values_list("display_name", flat=True)) == [
        "Access from a suspicious IP address"
    ]
    assert Alert.objects.suppressed().count() == 2


def test_suppressed_alerts_stay_listable(contoso, analyst_client):
    ingest(contoso, raw_alert(display_name="PREVIEW - Access from a suspicious application"))
    assert "suspicious application" not in analyst_client.get("/alerts/").content.decode()
    html = analyst_client.get("/alerts/?suppressed=only").content.decode()
    assert "PREVIEW - Access from a suspicious application" in html and "suppressed" in html


def test_rules_match_type_prefix_product_severity_and_entity_glob(contoso, admin_user):
    SuppressionRule.objects.create(
        alert_type="Storage.Blob_*",
        severity="low",
        entity_pattern="10.0.*",
        reason="Backup job from the office network",
        owner=admin_user,
    )
    office = [{"type": "ip", "address": "10.0.4.2"}]
    ingest(
        contoso,
        raw_alert("Storage.Blob_GeoAnomaly", "Office backup", severity="Low", entities=office),
        raw_alert("Storage.Blob_GeoAnomaly", "Office but high", severity="High", entities=office),
        raw_alert("Storage.Blob_GeoAnomaly", "Outside", severity="Low"),
        raw_alert("VM_EICAR", "Test", severity="Low", entities=office),
    )
    assert list(Alert.objects.suppressed().values_list("display_name", flat=True)) == ["Office backup"]


def test_expired_and_inactive_rules_suppress_nothing(contoso):
    SuppressionRule.objects.all().delete()
    SuppressionRule.objects.create(
        alert_type="VM_EICAR", reason="old", expires_at=timezone.now() - timedelta(days=1)
    )
    SuppressionRule.objects.create(alert_type="VM_EICAR", reason="off", is_active=False)
    ingest(contoso, raw_alert("VM_EICAR", "Test alert"))
    assert Alert.objects.suppressed().count() == 0


def test_suppressed_alerts_cannot_be_deleted_in_the_admin(contoso, admin_client_):
    ingest(contoso, raw_alert(display_name="PREVIEW - Something"))
    alert = Alert.objects.get()
    assert admin_client_.get(f"/admin/alerts/alert/{alert.pk}/delete/").status_code == 403


def test_admin_previews_what_a_rule_would_match_before_saving(contoso, admin_client_):
    ingest(contoso, raw_alert("KV_SuspiciousIPAccess", "Vault from odd IP"), raw_alert("VM_EICAR", "Test"))
    response = admin_client_.post(
        "/admin/alerts/suppressionrule/preview/",
        {
            "reason": "Vault scanner",
            "alert_type": "KV_*",
            "product_name": "",
            "severity": "",
            "entity_pattern": "",
            "is_active": "on",
        },
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "<strong>1</strong> alert in the last 30 days" in html and "Vault from odd IP" in html
    assert SuppressionRule.objects.filter(reason="Vault scanner").count() == 0


def test_rule_change_form_shows_recent_matches_and_the_preview_button(contoso, admin_client_):
    ingest(contoso, raw_alert(display_name="PREVIEW - Noisy thing"))
    rule = SuppressionRule.objects.get(preview_only=True)
    html = admin_client_.get(f"/admin/alerts/suppressionrule/{rule.pk}/change/").content.decode()
    assert "PREVIEW - Noisy thing" in html and "Preview matches" in html


def test_only_admins_open_the_suppression_rules(analyst_client):
    assert analyst_client.get("/admin/alerts/suppressionrule/").status_code == 302


def test_a_rule_saved_in_the_admin_also_suppresses_matching_recent_alerts(contoso, admin_client_):
    ingest(contoso, raw_alert("KV_SuspiciousIPAccess", "Vault scanner hit"), raw_alert("VM_EICAR", "Test"))
    response = admin_client_.post(
        "/admin/alerts/suppressionrule/add/",
        {
            "reason": "Known vault scanner",
            "alert_type": "KV_SuspiciousIPAccess",
            "product_name": "",
            "severity": "",
            "entity_pattern": "",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    assert list(Alert.objects.suppressed().values_list("display_name", flat=True)) == ["Vault scanner hit"]


def rule_form(**fields):
    return {
        "reason": "Known vault scanner",
        "alert_type": "KV_SuspiciousIPAccess",
        "product_name": "",
        "severity": "",
        "entity_pattern": "",
        "is_active": "on",
        **fields,
    }


def listed(client):
    return client.get("/alerts/").content.decode()


def test_disabling_a_rule_in_the_admin_shows_its_alerts_in_the_list_again(contoso, admin_client_):
    ingest(contoso, raw_alert("KV_SuspiciousIPAccess", "Vault scanner hit"))
    admin_client_.post("/admin/alerts/suppressionrule/add/", rule_form())
    rule = SuppressionRule.objects.get(reason="Known vault scanner")
    assert "Vault scanner hit" not in listed(admin_client_)
    form = rule_form(is_active="")
    form.pop("is_active")
    response = admin_client_.post(f"/admin/alerts/suppressionrule/{rule.pk}/change/", form)
    assert response.status_code == 302
    assert "Vault scanner hit" in listed(admin_client_)
    assert Alert.objects.suppressed().count() == 0


def vault_hits_one_from_the_office(contoso):
    office = [{"type": "ip", "address": "10.0.4.2"}]
    ingest(
        contoso,
        raw_alert("KV_SuspiciousIPAccess", "Vault scanner hit"),
        raw_alert("KV_SuspiciousIPAccess", "Vault hit from the office", entities=office),
    )


def test_deleting_a_rule_shows_its_alerts_again_unless_another_active_rule_covers_them(
    contoso, admin_client_
):
    vault_hits_one_from_the_office(contoso)
    admin_client_.post("/admin/alerts/suppressionrule/add/", rule_form())
    admin_client_.post(
        "/admin/alerts/suppressionrule/add/",
        rule_form(reason="Office network", alert_type="", entity_pattern="10.0.*"),
    )
    first = SuppressionRule.objects.get(reason="Known vault scanner")
    assert Alert.objects.suppressed().filter(suppressed_by=first).count() == 2
    response = admin_client_.post(f"/admin/alerts/suppressionrule/{first.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302 and not SuppressionRule.objects.filter(pk=first.pk).exists()
    html = listed(admin_client_)
    assert "Vault scanner hit" in html and "Vault hit from the office" not in html
    assert (
        Alert.objects.get(display_name="Vault hit from the office").suppressed_by.reason == "Office network"
    )


def test_rules_deleted_together_leave_hidden_only_what_a_remaining_rule_covers(contoso, admin_client_):
    vault_hits_one_from_the_office(contoso)
    admin_client_.post("/admin/alerts/suppressionrule/add/", rule_form())
    admin_client_.post(
        "/admin/alerts/suppressionrule/add/", rule_form(reason="Same, twice", alert_type="KV_*")
    )
    admin_client_.post(
        "/admin/alerts/suppressionrule/add/",
        rule_form(reason="Office network", alert_type="", entity_pattern="10.0.*"),
    )
    ids = SuppressionRule.objects.filter(alert_type__startswith="KV").values_list("pk", flat=True)
    response = admin_client_.post(
        "/admin/alerts/suppressionrule/",
        {"action": "delete_selected", "_selected_action": list(ids), "post": "yes"},
    )
    assert response.status_code == 302
    html = listed(admin_client_)
    assert "Vault scanner hit" in html and "Vault hit from the office" not in html


def test_a_rule_that_expires_stops_hiding_its_alerts(contoso, admin_client_):
    ingest(contoso, raw_alert("KV_SuspiciousIPAccess", "Vault scanner hit"))
    soon = timezone.now() + timedelta(hours=1)
    admin_client_.post(
        "/admin/alerts/suppressionrule/add/",
        rule_form(expires_at_0=soon.strftime("%Y-%m-%d"), expires_at_1=soon.strftime("%H:%M:%S")),
    )
    assert "Vault scanner hit" not in listed(admin_client_)
    SuppressionRule.objects.filter(reason="Known vault scanner").update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )  # an hour later
    assert tasks.release_lapsed_rules() == 1
    assert "Vault scanner hit" in listed(admin_client_)


def test_a_schedule_shows_the_alerts_of_expired_rules_every_few_minutes(db):
    schedule = Schedule.objects.get(func="alerts.tasks.release_lapsed_rules")
    assert schedule.schedule_type == Schedule.MINUTES and schedule.minutes <= 10
