"""Every page needs login, and roles decide who sees what."""

import re

import pytest
from django.urls import reverse

PAGES = [
    "home",
    "alerts:list",
    "devices:list",
    "devices:notifications",
    "storage_logs:cost",
    "storage_logs:cost_export",
]
# Analyst-only pages added for triage: (url name, method).
TRIAGE_URLS = [("alerts:groups", "get"), ("alerts:export", "get"), ("alerts:bulk", "post")]
# Cost pages of one device or account, for customer success (and admins): (url name, of what).
COST_URLS = [
    ("storage_logs:device_cost", "device"),
    ("storage_logs:device_cost_export", "device"),
    ("storage_logs:account_cost", "account"),
    ("storage_logs:account_cost_export", "account"),
]

# Raw log lines (evidence), for analysts and admins, never customer success: (url name, method).
EVIDENCE_URLS = [
    ("storage_logs:aggregate_lines", "get"),
    ("storage_logs:aggregate_lines_download", "get"),
    ("storage_logs:aggregate_proof", "get"),
    ("storage_logs:prove_aggregate", "post"),
    ("storage_logs:alert_lines", "get"),
    ("storage_logs:alert_lines_download", "get"),
]


@pytest.mark.parametrize("name", PAGES)
def test_anonymous_visitors_are_sent_to_the_login_page(client, db, name):
    url = reverse(name)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("name", PAGES)
def test_anonymous_htmx_requests_are_sent_to_the_login_page(client, db, name):
    response = client.get(reverse(name), headers={"HX-Request": "true"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_login_page_is_public(client, db):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert b"Log in to ascmon" in response.content


def test_analyst_lands_on_alerts_after_login(client, analyst):
    from tests.conftest import PASSWORD

    response = client.post(reverse("login"), {"username": "ana", "password": PASSWORD}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("alerts:list")
    assert b"Alerts" in response.content


def test_analyst_cannot_open_the_admin(analyst_client):
    response = analyst_client.get("/admin/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
    followed = analyst_client.get(response["Location"])
    assert b"Site administration" not in followed.content


def test_admin_opens_the_admin(admin_client_):
    response = admin_client_.get("/admin/")
    assert response.status_code == 200
    assert b"Site administration" in response.content


def test_analyst_menu_has_no_cost_or_admin(analyst_client):
    html = analyst_client.get(reverse("alerts:list")).content.decode()
    assert ">Alerts<" in html
    assert ">Cost<" not in html
    assert ">Admin<" not in html


def test_customer_success_cannot_see_alert_triage(cs_client):
    assert cs_client.get(reverse("alerts:list")).status_code == 403
    assert cs_client.get(reverse("storage_logs:cost")).status_code == 200


def test_user_without_role_is_told_so(client, outsider):
    client.force_login(outsider)
    response = client.get(reverse("home"))
    assert b"No role yet" in response.content
    assert client.get(reverse("alerts:list")).status_code == 403


def test_roles_exist_after_migrations(db):
    from django.contrib.auth.models import Group

    assert set(Group.objects.values_list("name", flat=True)) >= {"analyst", "customer_success", "admin"}


def test_front_end_files_come_from_packages(analyst_client):
    html = analyst_client.get(reverse("alerts:list")).content.decode()
    assert "/static/django_htmx/htmx-2.min.js" in html
    # Every script and stylesheet is served by ascmon itself (the page's random CSRF token is no URL).
    loaded = re.findall(r'<(?:script[^>]*\ssrc|link[^>]*\shref)="([^"]*)"', html)
    assert loaded and all(url.startswith("/static/") for url in loaded), loaded
    from django.contrib.staticfiles import finders

    assert finders.find("vendor/plotly.min.js").endswith("plotly/package_data/plotly.min.js")


@pytest.mark.parametrize("name, method", TRIAGE_URLS)
def test_triage_pages_need_login_and_the_analyst_role(
    client, analyst, customer_success, outsider, name, method
):
    url = reverse(name)
    assert getattr(client, method)(url).status_code == 302
    for user, allowed in ((analyst, True), (customer_success, False), (outsider, False)):
        client.force_login(user)
        status = getattr(client, method)(url).status_code
        assert (status != 403) == allowed, (user.username, status)


@pytest.mark.parametrize("name, of", COST_URLS)
def test_cost_pages_need_login_and_the_customer_success_role(
    client, analyst, customer_success, admin_user, outsider, name, of
):
    from tests import factories

    account, _ = factories.storage_account("costaccess")
    url = reverse(name, args=[account.device.pk if of == "device" else account.pk])
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    for user, allowed in ((customer_success, True), (admin_user, True), (analyst, False), (outsider, False)):
        client.force_login(user)
        status = client.get(url).status_code
        assert status == (200 if allowed else 403), (user.username, status)


def test_the_activity_log_partial_needs_login_and_the_analyst_role(
    client, analyst, customer_success, admin_user, outsider
):
    from alerts.ingest import Ingester
    from alerts.models import Alert
    from tests import factories

    device = factories.device("activityaccess")
    Ingester(device).ingest_page([factories.raw_alert(system_alert_id="activity-access")])
    alert = Alert.objects.get(system_alert_id="activity-access")
    Alert.objects.filter(pk=alert.pk).update(subscription_id="")  # no Azure call: the partial explains
    url = reverse("alerts:activity", args=[alert.pk])
    for headers in ({}, {"HX-Request": "true"}):
        response = client.get(url, headers=headers)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    for user, allowed in ((analyst, True), (admin_user, True), (customer_success, False), (outsider, False)):
        client.force_login(user)
        response = client.get(url, headers={"HX-Request": "true"})
        assert response.status_code == (200 if allowed else 403), (user.username, response.status_code)
    client.force_login(analyst)
    assert b"names no subscription" in client.get(url, headers={"HX-Request": "true"}).content


@pytest.mark.parametrize("name, method", EVIDENCE_URLS)
def test_raw_log_lines_are_for_analysts_and_admins_only(
    client, analyst, customer_success, admin_user, outsider, name, method
):
    url = reverse(name, args=[1])
    response = getattr(client, method)(url)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    for user, allowed in ((analyst, True), (admin_user, True), (customer_success, False), (outsider, False)):
        client.force_login(user)
        status = getattr(client, method)(url).status_code
        assert (status != 403) == allowed, (user.username, status)


@pytest.mark.parametrize("name", ["devices:permissions"])
def test_device_pages_need_login_and_a_device_role(client, analyst, customer_success, outsider, name):
    from tests import factories

    url = reverse(name, args=[factories.device("access").pk])
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    for user, allowed in ((customer_success, True), (analyst, True), (outsider, False)):
        client.force_login(user)
        assert client.get(url).status_code == (200 if allowed else 403), user.username


@pytest.mark.parametrize("name", ["devices:sample_alerts"])
def test_the_sample_alert_result_needs_a_device_role(client, analyst, outsider, name):
    from tests import factories

    url = reverse(name, args=[factories.device("samples").pk])
    assert client.get(url).status_code == 302
    for user, allowed in ((analyst, True), (outsider, False)):
        client.force_login(user)
        assert client.get(url).status_code == (200 if allowed else 403), user.username


def test_only_customer_success_sends_sample_alerts(client, analyst, customer_success, outsider):
    from tests import factories

    url = reverse("devices:sample_alerts_send", args=[factories.device("samples").pk])
    assert client.post(url).status_code == 302 and client.post(url)["Location"].startswith(reverse("login"))
    for user, allowed in ((customer_success, True), (analyst, False), (outsider, False)):
        client.force_login(user)
        assert (client.post(url).status_code != 403) == allowed, user.username
