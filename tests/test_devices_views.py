"""The fleet page, the device page and the notification centre, as each role sees them."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from devices import inventory, tasks
from devices.models import DefenderPlan, Device, Finding, Notification, Subscription
from tests import factories
from tests.devices_fake import CLIENT, DEV, GONE, PROD, SECRET, TENANT, FakeAzure


def make_device(name, findings=0):
    device = factories.device(
        name,
        tenant_id=TENANT,
        client_id=CLIENT,
        secret=SECRET,
        expected_subscriptions=[PROD],
        last_successful_sync_at=timezone.now(),
    )
    sub = Subscription.objects.create(device=device, subscription_id=PROD, visible=True, resource_total=5)
    DefenderPlan.objects.create(subscription=sub, name="StorageAccounts", pricing_tier="Free")
    DefenderPlan.objects.create(subscription=sub, name="VirtualMachines", pricing_tier="Standard")
    for n in range(findings):
        Finding.objects.create(
            device=device,
            kind="plan_off",
            severity="medium",
            subject=f"s{n}",
            title=f"<b>{name}</b> {n}",
            explanation="x",
            portal_steps="x",
            cli_command="az x",
        )
    return device


@pytest.fixture
def synced(monkeypatch, db):
    fake = FakeAzure()
    monkeypatch.setattr(inventory, "wrappers", fake)
    monkeypatch.setattr(tasks, "FOLLOW_UPS", ())
    device = factories.device(
        "Contoso",
        tenant_id=TENANT,
        client_id=CLIENT,
        secret=SECRET,
        expected_subscriptions=[PROD, DEV, GONE],
        contacts="soc@contoso.example",
    )
    tasks.run_inventory(device.id)
    return device


def fleet_queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_fleet_page_query_count_does_not_grow_with_devices(analyst_client, django_assert_max_num_queries):
    url = reverse("devices:list")
    make_device("one", findings=1)
    few = fleet_queries(analyst_client, url)
    for n in range(8):
        make_device(f"more-{n}", findings=n)
    assert fleet_queries(analyst_client, url) == few
    with django_assert_max_num_queries(few):
        analyst_client.get(url + "?sort=-findings&status=attention", headers={"HX-Request": "true"})


def test_the_fleet_table_shows_coverage_findings_and_missing_subscriptions(analyst_client, synced):
    html = analyst_client.get(reverse("devices:list")).content.decode()
    assert "<h1>Devices</h1>" in html
    assert "StorageAccounts 0/2" in html  # Free in both visible subscriptions
    assert "1 missing" in html
    assert "2 / 3 expected" in html


def test_htmx_sorting_and_filtering_return_only_the_table(analyst_client, db):
    make_device("alpha", findings=2)
    make_device("bravo")
    url = reverse("devices:list")
    partial = analyst_client.get(url + "?sort=-name", headers={"HX-Request": "true"}).content.decode()
    assert partial.lstrip().startswith('<div id="fleet-table"')
    assert "<html" not in partial
    assert partial.index("bravo") < partial.index("alpha")
    healthy = analyst_client.get(url + "?status=healthy").content.decode()
    assert "bravo" in healthy and ">alpha<" not in healthy
    sorted_by_findings = analyst_client.get(url + "?sort=-findings").content.decode()
    assert sorted_by_findings.index(">alpha<") < sorted_by_findings.index(">bravo<")


def test_azure_text_is_escaped(analyst_client, db):
    device = make_device("<script>x</script>", findings=1)
    html = analyst_client.get(reverse("devices:detail", args=[device.pk])).content.decode()
    assert "<script>x</script>" not in html
    assert "&lt;script&gt;" in html


def test_the_device_page_shows_subscriptions_plans_accounts_findings_with_steps_and_sync_history(
    analyst_client, synced
):
    html = analyst_client.get(reverse("devices:detail", args=[synced.pk])).content.decode()
    open_findings = synced.findings.open()
    assert html.count('class="card finding-group"') == len({f.kind for f in open_findings})
    for finding in open_findings:
        assert f'<li id="finding-{finding.pk}">' in html
    for text in (
        "Defender plan StorageAccounts is off",
        "az security pricing create",
        "prodlogs",
        "Sync history",
        "missing",
        "DefenderForStorageV2",
        "Succeeded",
    ):
        assert text in html, text


@pytest.mark.parametrize(
    ("who", "list_", "detail", "add"),
    [("analyst_client", 200, 200, 403), ("cs_client", 200, 200, 200), ("admin_client_", 200, 200, 200)],
)
def test_customer_success_and_admins_manage_devices_and_analysts_only_view(
    request, db, who, list_, detail, add
):
    client = request.getfixturevalue(who)
    device = make_device("x")
    assert client.get(reverse("devices:list")).status_code == list_
    assert client.get(reverse("devices:detail", args=[device.pk])).status_code == detail
    assert client.get(reverse("devices:add")).status_code == add
    assert client.get(reverse("devices:edit", args=[device.pk])).status_code == add
    can_manage = add == 200
    assert ("Onboard a device" in client.get(reverse("devices:list")).content.decode()) is can_manage


def test_users_without_a_role_see_no_devices(client, outsider):
    client.force_login(outsider)
    assert client.get(reverse("devices:list")).status_code == 403
    assert client.get(reverse("devices:notifications")).status_code == 403


def test_the_badge_counts_unread_notifications_and_htmx_mark_read_updates_it(analyst_client, synced):
    unread = Notification.objects.count()
    html = analyst_client.get(reverse("devices:notifications")).content.decode()
    assert f'id="notification-badge">{unread}<' in html
    first = Notification.objects.first()
    url = reverse("devices:notification_read", args=[first.pk])
    partial = analyst_client.post(url, headers={"HX-Request": "true"}).content.decode()
    assert partial.lstrip().startswith(f'<tr id="notification-{first.pk}"')
    assert f'hx-swap-oob="true">{unread - 1}<' in partial
    html = analyst_client.get(reverse("devices:notifications")).content.decode()
    assert f'id="notification-badge">{unread - 1}<' in html


def test_marking_read_works_without_javascript_and_is_per_user(client, analyst, customer_success, synced):
    client.force_login(analyst)
    response = client.post(reverse("devices:notifications_read_all"))
    assert response.status_code == 302
    assert 'id="notification-badge"' not in client.get(reverse("devices:notifications")).content.decode()
    client.force_login(customer_success)
    assert 'id="notification-badge"' in client.get(reverse("devices:notifications")).content.decode()


def test_the_fleet_shows_how_far_behind_log_ingestion_is(analyst_client, db):
    device = make_device("lagging")
    Device.objects.filter(pk=device.pk).update(
        logs_ingested_until=timezone.now() - timezone.timedelta(hours=2)
    )
    make_device("no-logs")
    html = analyst_client.get(reverse("devices:list") + "?sort=lag").content.decode()
    assert "2\xa0hours" in html
    assert html.index("lagging") < html.index("no-logs")


def test_reading_one_notification_updates_the_mark_all_count_and_links_the_finding(analyst_client, synced):
    unread = Notification.objects.count()
    first = Notification.objects.select_related("finding").first()
    html = analyst_client.get(reverse("devices:notifications")).content.decode()
    assert f"Mark all {unread} as read" in html
    assert f'href="/devices/{first.device_id}/#finding-{first.finding_id}"' in html
    url = reverse("devices:notification_read", args=[first.pk])
    partial = analyst_client.post(url, headers={"HX-Request": "true"}).content.decode()
    assert '<div id="mark-all" hx-swap-oob="true">' in partial and f"Mark all {unread - 1} as read" in partial
    device_page = analyst_client.get(reverse("devices:detail", args=[first.device_id])).content.decode()
    assert f'id="finding-{first.finding_id}"' in device_page


def test_notifications_filter_by_unread_event_and_finding(analyst_client, synced):
    first = Notification.objects.select_related("finding").first()
    analyst_client.post(reverse("devices:notification_read", args=[first.pk]))
    html = analyst_client.get(reverse("devices:notifications"), {"unread": "on"}).content.decode()
    assert f'id="notification-{first.pk}"' not in html
    kind = first.finding.kind
    response = analyst_client.get(
        reverse("devices:notifications"), {"kind": kind}, headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="notification-table">')
    assert html.count('<tr id="notification-') == Notification.objects.filter(finding__kind=kind).count()


def test_the_device_page_links_to_its_alerts_for_analysts(client, analyst, customer_success, synced):
    device = Device.objects.first()
    client.force_login(analyst)
    html = client.get(reverse("devices:detail", args=[device.pk])).content.decode()
    assert f'href="/alerts/?device={device.pk}"' in html
    client.force_login(customer_success)
    assert "/alerts/?device=" not in client.get(reverse("devices:detail", args=[device.pk])).content.decode()
