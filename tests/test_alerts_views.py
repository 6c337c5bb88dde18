"""The alert list and detail pages: filters, htmx partials, counts, sorting, inert attacker text."""

import pytest
from django.urls import reverse

from alerts.choices import ChangeSource
from alerts.ingest import Ingester
from alerts.models import Alert, PortalPivot
from tests.factories import raw_alert

SCRIPT = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def ingest(contoso, *raws):
    return Ingester(contoso, ChangeSource.IMPORT).ingest_page(list(raws))


def test_list_shows_alerts_with_counts(contoso, analyst_client):
    ingest(
        contoso,
        raw_alert(severity="High", display_name="Bad one"),
        raw_alert(severity="Low", display_name="Meh, a low one"),
    )
    html = analyst_client.get(reverse("alerts:list")).content.decode()
    assert "<h1>Alerts</h1>" in html
    assert "Bad one" in html and "Meh, a low one" in html
    assert "<strong>2</strong> alerts" in html and "High: 1" in html and "Low: 1" in html


def test_filters_work_without_javascript_as_a_plain_get_form(contoso, analyst_client):
    ingest(
        contoso,
        raw_alert(severity="High", display_name="Bad one"),
        raw_alert(severity="Low", display_name="Meh, a low one"),
    )
    html = analyst_client.get(reverse("alerts:list"), {"severity": "high"}).content.decode()
    assert "Bad one" in html and "Meh, a low one" not in html and "<strong>1</strong> alert" in html
    assert "<html" in html


def test_htmx_filter_requests_get_only_the_table_partial_with_its_counts(contoso, analyst_client):
    ingest(
        contoso,
        raw_alert(severity="High", display_name="Bad one"),
        raw_alert(severity="Low", display_name="Meh, a low one"),
    )
    response = analyst_client.get(reverse("alerts:list"), {"severity": "low"}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="alert-table"')
    assert "<html" not in html and "Meh, a low one" in html and "Bad one" not in html and "Low: 1" in html


@pytest.mark.parametrize(
    "params, shown",
    [
        ({"q": "203.0.113.99"}, "Found by IP"),
        ({"alert_type": "KV_SuspiciousIPAccess"}, "Vault"),
        ({"product": "Microsoft Cloud App Security"}, "From MCAS"),
        ({"new_types": "on"}, "Brand new"),
        ({"status": "resolved"}, "Resolved in Azure"),
    ],
)
def test_each_filter_narrows_the_list(contoso, analyst_client, params, shown):
    ingest(
        contoso,
        raw_alert(display_name="Found by IP", entities=[{"type": "ip", "address": "203.0.113.99"}]),
        raw_alert("KV_SuspiciousIPAccess", "Vault"),
        raw_alert("Storage.Blob_TorAnomaly", "From MCAS", product="Microsoft Cloud App Security"),
        raw_alert("CosmosDB_Unheard", "Brand new"),
        raw_alert(display_name="Resolved in Azure", status="Resolved"),
    )
    html = analyst_client.get(reverse("alerts:list"), params).content.decode()
    assert shown in html and "<strong>1</strong> alert" in html


def test_sorting_by_severity_puts_high_first(contoso, analyst_client):
    ingest(
        contoso,
        raw_alert(severity="Low", display_name="Meh, a low one"),
        raw_alert(severity="High", display_name="Bad, a high one"),
    )
    html = analyst_client.get(reverse("alerts:list"), {"sort": "-severity"}).content.decode()
    assert html.index("Bad, a high one") < html.index("Meh, a low one")
    html = analyst_client.get(reverse("alerts:list"), {"sort": "severity"}).content.decode()
    assert html.index("Meh, a low one") < html.index("Bad, a high one")
    assert '<input type="hidden" name="sort" value="severity" form="alert-filters">' in html


def test_list_paginates(contoso, analyst_client):
    ingest(contoso, *[raw_alert(display_name=f"Alert number {i}") for i in range(55)])
    html = analyst_client.get(reverse("alerts:list"), {"page": 2}).content.decode()
    assert "Page 2 of 2" in html and html.count("Alert number") == 5


def test_list_query_count_does_not_grow_with_the_rows(contoso, analyst_client, django_assert_max_num_queries):
    ingest(contoso, *[raw_alert(display_name=f"Alert {i}") for i in range(3)])
    with django_assert_max_num_queries(12) as few:
        analyst_client.get(reverse("alerts:list"))
    ingest(contoso, *[raw_alert(display_name=f"More {i}") for i in range(60)])
    with django_assert_max_num_queries(len(few.captured_queries)):
        analyst_client.get(reverse("alerts:list"))


def test_detail_query_count_does_not_grow_with_entities_or_duplicates(
    contoso, analyst_client, django_assert_max_num_queries
):
    many = [{"type": "ip", "address": f"198.51.100.{i}"} for i in range(40)]
    ingest(contoso, raw_alert(display_name="Many entities", entities=many))
    alert = Alert.objects.get()
    with django_assert_max_num_queries(25):
        analyst_client.get(reverse("alerts:detail", args=[alert.pk]))


def test_html_and_script_in_alert_text_render_inert(contoso, analyst_client):
    ingest(
        contoso,
        raw_alert(
            "Storage.Blob_SuspiciousIp",
            SCRIPT,
            compromised=SCRIPT,
            entities=[{"type": "account", "name": SCRIPT}, {"type": "ip", "address": SCRIPT}],
            extended={
                "User agent": SCRIPT,
                SCRIPT: SCRIPT,
                "investigation steps": '{"value": "javascript:alert(1)"}',
            },
        ),
    )
    alert = Alert.objects.get()
    for url in (reverse("alerts:list"), reverse("alerts:detail", args=[alert.pk])):
        html = analyst_client.get(url).content.decode()
        assert "<script>alert" not in html and "<img src=x" not in html
        assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
        assert 'href="javascript:' not in html


def test_open_in_portal_records_a_pivot_and_goes_only_to_the_portal(contoso, analyst_client):
    raw = raw_alert("VM_EICAR", "Test")
    raw["properties"]["alertUri"] = "https://evil.example/phish"
    ingest(contoso, raw)
    alert = Alert.objects.get()
    response = analyst_client.get(reverse("alerts:portal", args=[alert.pk]))
    assert response.status_code == 302
    assert response["Location"].startswith(
        "https://portal.azure.com/#blade/Microsoft_Azure_Security/AlertBlade/"
    )
    pivot = PortalPivot.objects.get()
    assert pivot.alert_type == "VM_EICAR" and pivot.user.username == "ana"
    html = analyst_client.get(reverse("alerts:pivots")).content.decode()
    assert "VM_EICAR" in html


def test_detail_page_has_the_decision_support_spot_only_for_storage_alerts(contoso, analyst_client):
    ingest(
        contoso,
        raw_alert("Storage.Blob_DataExfiltration.AmountOfDataAnomaly", "Exfil"),
        raw_alert("VM_EICAR", "T"),
    )
    storage, vm = (
        Alert.objects.get(alert_type__startswith="Storage"),
        Alert.objects.get(alert_type="VM_EICAR"),
    )
    assert (
        'id="alert-context"'
        in analyst_client.get(reverse("alerts:detail", args=[storage.pk])).content.decode()
    )
    assert (
        'id="alert-context"'
        not in analyst_client.get(reverse("alerts:detail", args=[vm.pk])).content.decode()
    )


@pytest.mark.parametrize("name", ["alerts:list", "alerts:pivots", "alerts:polls"])
def test_customer_success_and_outsiders_cannot_see_alert_pages(cs_client, name):
    assert cs_client.get(reverse(name)).status_code == 403


def test_the_list_always_says_how_many_alerts_suppression_hides_and_links_them(contoso, analyst_client):
    from alerts.models import SuppressionRule

    SuppressionRule.objects.create(alert_type="VM_EICAR", reason="Test files")
    ingest(
        contoso,
        raw_alert("VM_EICAR", "Test file"),
        raw_alert("VM_EICAR", "Test file"),
        raw_alert(display_name="Real"),
    )
    html = analyst_client.get(reverse("alerts:list")).content.decode()
    assert "<strong>1</strong> alert" in html and ">2 hidden by suppression</a>" in html
    assert "?suppressed=only" in html
    html = analyst_client.get(reverse("alerts:list"), {"q": "test file"}).content.decode()
    assert "No alerts match. 2 more are hidden by suppression." in html


def test_a_suppression_rule_must_name_a_criterion(admin_client_):
    from alerts.models import SuppressionRule

    before = SuppressionRule.objects.count()
    response = admin_client_.post(
        reverse("admin:alerts_suppressionrule_add"), {"reason": "Everything is noise", "is_active": "on"}
    )
    assert response.status_code == 200
    assert "Name at least one criterion" in response.content.decode()
    assert SuppressionRule.objects.count() == before
    assert not SuppressionRule(reason="old rule without criteria").matches(
        Alert(alert_type="X", entity_text="")
    )


def test_pivots_filter_by_exact_entity_subscription_and_device(contoso, analyst_client):
    ingest(
        contoso,
        raw_alert(display_name="From the exit node", entities=[{"type": "ip", "address": "185.220.101.7"}]),
        raw_alert(display_name="From its neighbour", entities=[{"type": "ip", "address": "185.220.101.70"}]),
        raw_alert(display_name="Other subscription", subscription="00000000-0000-0000-0000-00000000beef"),
    )
    html = analyst_client.get(
        reverse("alerts:list"), {"entity": "185.220.101.7", "kind": "ip"}
    ).content.decode()
    assert (
        "From the exit node" in html
        and "From its neighbour" not in html
        and "<strong>1</strong> alert" in html
    )
    assert "ip entity: 185.220.101.7" in html
    sub = "00000000-0000-0000-0000-00000000beef"
    html = analyst_client.get(reverse("alerts:list"), {"subscription": sub}).content.decode()
    assert "Other subscription" in html and "<strong>1</strong> alert" in html
    html = analyst_client.get(reverse("alerts:list")).content.decode()
    assert f"?device={contoso.pk}" in html and "entity=account1" in html  # the rows link their pivots


def test_the_alert_page_links_its_entities_and_lists_other_alerts_naming_them(contoso, analyst_client):
    tor = {"type": "ip", "address": "185.220.101.7", "location": {"countryName": "Tor exit node"}}
    ingest(
        contoso,
        raw_alert(display_name="First access", entities=[tor]),
        raw_alert(display_name="Second access", entities=[tor]),
        raw_alert(
            display_name="Unrelated",
            entities=[{"type": "ip", "address": "192.0.2.1"}],
            extended={},
            compromised="b",
        ),
    )
    first = Alert.objects.get(display_name="First access")
    html = analyst_client.get(reverse("alerts:detail", args=[first.pk])).content.decode()
    others = html[html.index('id="others"') : html.index('id="entities"')]
    assert "Second access" in others and "Unrelated" not in others
    assert "?entity=185.220.101.7&amp;kind=ip" in html
    assert '185.220.101.7</a> <span class="pill tone-high">Tor exit node</span>' in html
    assert f"subscription={first.subscription_id}" in html and f"?device={contoso.pk}" in html


def test_the_detail_page_puts_summary_and_triage_first_and_folds_the_raw_data(contoso, analyst_client):
    ingest(contoso, raw_alert(display_name="Tor access"))
    html = analyst_client.get(reverse("alerts:detail", args=[Alert.objects.get().pk])).content.decode()
    assert html.index('id="summary"') < html.index('id="triage"') < html.index('id="entities"')
    assert html.index('id="triage"') < html.index('id="fields"') < html.index('id="raw"')
    assert "<details><summary>All fields as ascmon stores them" in html
    assert "<details><summary>Raw JSON as sent" in html
    assert html.count("Extended properties") == 1
    assert "plotly" not in html  # no chart on this page, so no 4.8 MB script either


def test_a_role_without_access_gets_the_sites_403_naming_the_role(cs_client):
    response = cs_client.get(reverse("alerts:list"))
    html = response.content.decode()
    assert response.status_code == 403 and "<html" in html and 'class="topbar"' in html
    assert "This page is for the role <strong>SOC analyst</strong>" in html
    assert "holds the role customer success" in html


def test_there_is_a_favicon(client, db):
    html_icon = '<link rel="icon" href="/static/ascmon/favicon.svg"'
    assert html_icon in client.get(reverse("login")).content.decode()
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"] == "/static/ascmon/favicon.svg"


def test_counts_stop_at_the_cap_and_say_so(contoso, analyst_client, monkeypatch):
    from alerts import views
    from alerts.models import SuppressionRule

    monkeypatch.setattr(views, "COUNT_CAP", 4)
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    SuppressionRule.objects.create(alert_type="VM_EICAR", reason="Test files")
    ingest(
        contoso,
        *[raw_alert(severity="High", display_name=f"High {i}") for i in range(6)],
        *[raw_alert(severity="Low", display_name=f"Low {i}") for i in range(2)],
        *[raw_alert("VM_EICAR", f"Test file {i}") for i in range(5)],
    )
    html = analyst_client.get(reverse("alerts:list")).content.decode()
    assert "<strong>6+</strong> alerts" in html and "High: 4+" in html and "Low: 2<" in html
    assert ">4+ hidden by suppression</a>" in html and "Export 6+ as CSV" in html
    assert "Page 1 of 3+" in html and "Next →" in html


def test_past_the_cap_next_pages_to_the_last_row(contoso, analyst_client, monkeypatch):
    from alerts import views

    monkeypatch.setattr(views, "COUNT_CAP", 2)
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    ingest(contoso, *[raw_alert(display_name=f"Alert number {i}") for i in range(7)])
    seen = []
    for number in (1, 2, 3, 4):
        html = analyst_client.get(reverse("alerts:list"), {"page": number}).content.decode()
        seen += [line for line in html.split(">") if line.startswith("Alert number ")]
        assert ("Next →" in html) == (number < 4)
    assert "Page 4 of 4<" in html and "← Previous" in html
    assert sorted(seen) == sorted(f"Alert number {i}</a" for i in range(7))
    html = analyst_client.get(reverse("alerts:list"), {"page": 99}).content.decode()
    assert "Page 1 of" in html and html.count("Alert number") == 2


def test_below_the_cap_counts_and_pages_stay_exact(contoso, analyst_client, monkeypatch):
    from alerts import views

    monkeypatch.setattr(views, "COUNT_CAP", 5)
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    ingest(contoso, *[raw_alert(severity="Medium", display_name=f"Alert number {i}") for i in range(5)])
    html = analyst_client.get(reverse("alerts:list"), {"page": 3}).content.decode()
    assert (
        "<strong>5</strong> alerts" in html
        and "Medium: 5<" in html
        and "+" not in html.split("alert-counts")[1][:400]
    )
    assert "Page 3 of 3" in html and html.count("Alert number") == 1


def test_a_search_counts_to_its_own_cap_with_severities_as_lower_bounds(contoso, analyst_client, monkeypatch):
    from alerts import views

    monkeypatch.setattr(views, "SEARCH_COUNT_CAP", 3)
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    ingest(contoso, *[raw_alert(severity="High", display_name=f"Needle {i}") for i in range(5)])
    ingest(contoso, raw_alert(severity="Low", display_name="Hay"))
    html = analyst_client.get(reverse("alerts:list"), {"q": "needle"}).content.decode()
    assert "<strong>3+</strong> alerts" in html and "High: 3+" in html and "Hay" not in html
    assert "Next →" in html
    html = analyst_client.get(reverse("alerts:list"), {"q": "hay"}).content.decode()
    assert "<strong>1</strong> alert" in html and "Low: 1<" in html and "High: 0<" in html
