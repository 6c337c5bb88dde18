"""Tuning with evidence: rule hits over 7 and 30 days, alerts per type, and suppressing types after a
preview of what the rules would hide."""

from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from alerts.choices import ChangeSource
from alerts.ingest import Ingester
from alerts.models import Alert, AlertType, AuditEvent, SuppressionRule
from tests.factories import raw_alert


def ingest(device, *raws):
    return Ingester(device, ChangeSource.IMPORT).ingest_page(list(raws))


def days_ago(days):
    return timezone.now() - timedelta(days=days, minutes=5)


def test_the_rule_list_shows_hits_in_7_and_30_days_the_last_hit_and_rules_near_expiry(contoso, admin_client_):
    SuppressionRule.objects.create(
        alert_type="VM_EICAR", reason="Test files", expires_at=timezone.now() + timedelta(days=2)
    )
    ingest(contoso, *(raw_alert("VM_EICAR", "EICAR", start=days_ago(d)) for d in (1, 3, 10, 20, 45)))
    html = admin_client_.get("/admin/alerts/suppressionrule/").content.decode()
    row = html[html.index("Test files") :]
    row = row[: row.index("</tr>")]
    assert 'class="field-hits_last_7_days">2<' in row
    assert 'class="field-hits_last_30_days">4<' in row
    assert f'class="field-last_hit">{days_ago(1):%Y-%m-%d}' in row
    assert 'class="field-suppressed_alerts">5<' in row
    assert "soon: extend or let go" in row
    assert "/static/ascmon/admin.css" in html


def test_the_rule_list_query_count_does_not_grow_with_rules(contoso, admin_client_):
    def queries():
        with CaptureQueriesContext(connection) as captured:
            admin_client_.get("/admin/alerts/suppressionrule/")
        return len(captured)

    SuppressionRule.objects.create(alert_type="A", reason="one")
    few = queries()
    for n in range(10):
        SuppressionRule.objects.create(alert_type=f"T{n}", reason=f"rule {n}")
    assert queries() == few


def test_the_type_list_shows_alerts_per_type_the_share_suppressed_and_new_types_first(contoso, admin_client_):
    SuppressionRule.objects.create(alert_type="VM_EICAR", reason="Test files")
    ingest(
        contoso,
        *(raw_alert("VM_EICAR", "EICAR", start=days_ago(d)) for d in (1, 10, 40)),
        *(raw_alert("KV_SuspiciousIPAccess", "Vault", start=days_ago(d)) for d in (2, 3)),
        raw_alert("Brand.New_Type", "Something new", start=days_ago(1)),
    )
    AlertType.objects.filter(name="KV_SuspiciousIPAccess").update(is_new=False)
    html = admin_client_.get("/admin/alerts/alerttype/").content.decode()
    assert html.index("Brand.New_Type") < html.index("KV_SuspiciousIPAccess")
    eicar = html[html.index(">VM_EICAR<") :]
    eicar = eicar[: eicar.index("</tr>")]
    assert 'field-alerts_last_7_days">1<' in eicar and 'field-alerts_last_30_days">2<' in eicar
    assert 'field-suppressed_share">100%<' in eicar
    vault = html[html.index(">KV_SuspiciousIPAccess<") :]
    assert 'field-suppressed_share">0%<' in vault[: vault.index("</tr>")]


def test_suppressing_types_shows_what_would_be_hidden_before_saving(contoso, admin_client_):
    ingest(
        contoso,
        *(raw_alert("KV_SuspiciousIPAccess", "Vault scan", start=days_ago(d)) for d in (1, 2, 3)),
        raw_alert("VM_EICAR", "EICAR", start=days_ago(1)),
    )
    rules_before = SuppressionRule.objects.count()
    vault = AlertType.objects.get(name="KV_SuspiciousIPAccess")
    action = {"action": "suppress_types", "_selected_action": [vault.pk]}
    preview = admin_client_.post("/admin/alerts/alerttype/", action)
    html = preview.content.decode()
    assert "What these rules would hide" in html
    assert '<tr class="draft-rule">' in html and "Vault scan" in html and "EICAR" not in html
    assert SuppressionRule.objects.count() == rules_before  # nothing saved by the preview
    response = admin_client_.post(
        "/admin/alerts/alerttype/", {**action, "confirm": "yes", "reason": "Vault scanner", "expires_at": ""}
    )
    assert response.status_code == 302
    rule = SuppressionRule.objects.get(alert_type="KV_SuspiciousIPAccess")
    assert rule.reason == "Vault scanner"
    assert Alert.objects.filter(suppressed_by=rule).count() == 3
    assert Alert.objects.visible().filter(alert_type="VM_EICAR").count() == 1
    assert AuditEvent.objects.filter(action="added suppression rule").exists()


def test_confirming_without_a_reason_saves_nothing_and_says_why(contoso, admin_client_):
    ingest(contoso, raw_alert("KV_SuspiciousIPAccess", "Vault scan", start=days_ago(1)))
    vault = AlertType.objects.get(name="KV_SuspiciousIPAccess")
    html = admin_client_.post(
        "/admin/alerts/alerttype/",
        {"action": "suppress_types", "_selected_action": [vault.pk], "confirm": "yes", "reason": ""},
    ).content.decode()
    assert "This field is required" in html
    assert not SuppressionRule.objects.filter(alert_type="KV_SuspiciousIPAccess").exists()
