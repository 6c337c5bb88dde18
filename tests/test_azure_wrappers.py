"""The ascmon.azure wrappers against the simulator: credentials, errors, throttling, paging, write-back."""

import dataclasses

import pytest

from ascmon.azure import resources, security, subscriptions
from ascmon.azure.errors import BadCredentials, Forbidden, NotFound, Throttled, Transient

pytestmark = pytest.mark.peers


def subscription(peers, index=0):
    return peers.scenario.demo_tenant().subscriptions[index].subscription_id


def not_granted(peers):
    return next(s.subscription_id for s in peers.scenario.demo_tenant().subscriptions if not s.granted)


def test_the_right_credentials_are_accepted(simulated_azure):
    subscriptions.verify_credentials(simulated_azure.tenant())


def test_a_wrong_secret_is_bad_credentials_with_reason_wrong_secret(simulated_azure):
    tenant = dataclasses.replace(simulated_azure.tenant(), client_secret="not-the-secret")
    with pytest.raises(BadCredentials) as caught:
        subscriptions.verify_credentials(tenant)
    assert caught.value.reason == "wrong_secret"
    assert "not-the-secret" not in str(caught.value)


def test_a_wrong_tenant_is_bad_credentials_with_reason_wrong_tenant(simulated_azure):
    tenant = dataclasses.replace(simulated_azure.tenant(), tenant_id="0d9c4e1f-0000-4000-8000-000000000000")
    with pytest.raises(BadCredentials) as caught:
        subscriptions.list_subscriptions(tenant)
    assert caught.value.reason == "wrong_tenant"


def test_an_unknown_client_is_bad_credentials_with_reason_unknown_client(simulated_azure):
    tenant = dataclasses.replace(simulated_azure.tenant(), client_id="0d9c4e1f-1111-4000-8000-000000000000")
    with pytest.raises(BadCredentials) as caught:
        subscriptions.verify_credentials(tenant)
    assert caught.value.reason == "unknown_client"


def test_an_expired_token_is_bad_credentials_with_reason_expired_token(simulated_azure):
    simulated_azure.arm.add_faults({"kind": "expired_token", "match": "/resources", "count": 1})
    with pytest.raises(BadCredentials) as caught:
        resources.count_resources(simulated_azure.tenant(), subscription(simulated_azure))
    assert caught.value.reason == "expired_token"


def test_a_subscription_without_a_role_is_forbidden(simulated_azure):
    with pytest.raises(Forbidden) as caught:
        list(security.iter_alert_pages(simulated_azure.tenant(), not_granted(simulated_azure)))
    assert caught.value.code == "AuthorizationFailed"
    assert not caught.value.retryable


def test_throttling_is_retried_by_the_sdk_honouring_retry_after(simulated_azure):
    sub = subscription(simulated_azure)
    simulated_azure.arm.add_faults({"kind": "429", "match": "/pricings", "count": 1, "retry_after": 1})
    plans = security.list_pricings(simulated_azure.tenant(), sub)
    assert plans
    assert (
        simulated_azure.arm.state()["requests"][f"/subscriptions/{sub}/providers/Microsoft.Security/pricings"]
        == 2
    )


def test_throttling_that_outlasts_the_retries_is_throttled_with_retry_after(simulated_azure):
    simulated_azure.arm.add_faults({"kind": "429", "match": "/pricings", "count": -1, "retry_after": 1})
    with pytest.raises(Throttled) as caught:
        security.list_pricings(simulated_azure.tenant(), subscription(simulated_azure))
    assert caught.value.retry_after == 1
    assert caught.value.retryable


def test_server_errors_that_persist_are_transient(simulated_azure):
    simulated_azure.arm.add_faults({"kind": "503", "match": "/resources", "count": -1})
    with pytest.raises(Transient):
        resources.count_resources(simulated_azure.tenant(), subscription(simulated_azure))


def test_a_slow_answer_still_arrives(simulated_azure):
    simulated_azure.arm.add_faults({"kind": "slow", "match": "/resources", "count": 1, "delay": 0.3})
    assert resources.count_resources(simulated_azure.tenant(), subscription(simulated_azure))


def test_a_malformed_alert_is_rejected_alone_and_the_rest_of_its_page_kept(simulated_azure):
    simulated_azure.arm.set_page_size(100)
    pages = list(security.iter_alert_pages(simulated_azure.tenant(), subscription(simulated_azure)))
    assert len(pages) == 1
    [rejected] = pages[0].rejected
    assert rejected.raw["properties"]["alertType"] == ["VM_EICAR"]
    assert "alertType" in rejected.reason
    assert len(pages[0].alerts) == len(simulated_azure.scenario.alerts[subscription(simulated_azure)]) - 1


@pytest.mark.parametrize("kind", ["invalid", "truncated"])
def test_a_broken_page_is_transient_and_polling_resumes_from_the_last_next_link(simulated_azure, kind):
    simulated_azure.arm.set_page_size(5)
    tenant, sub = simulated_azure.tenant(), subscription(simulated_azure)
    pages = security.iter_alert_pages(tenant, sub)
    first = next(pages)
    simulated_azure.arm.add_faults({"kind": kind, "match": "/alerts", "count": 3})
    with pytest.raises(Transient):
        next(pages)
    simulated_azure.arm.clear_faults()
    rest = list(security.iter_alert_pages(tenant, sub, continuation=first.next_link))
    seen = [a["id"] for page in [first, *rest] for a in page.alerts + [r.raw for r in page.rejected]]
    assert sorted(seen) == sorted(a["id"] for a in simulated_azure.scenario.alerts[sub])


def test_a_next_link_to_another_host_is_not_followed(simulated_azure):
    evil = "https://attacker.example/subscriptions/x/providers/Microsoft.Security/alerts?$skipToken=1"
    with pytest.raises(Transient):
        next(security.iter_alert_pages(simulated_azure.tenant(), subscription(simulated_azure), evil))


@pytest.mark.parametrize("status", ["InProgress", "Resolved", "Dismissed", "Active"])
def test_a_status_written_back_shows_in_the_next_list(simulated_azure, status):
    tenant, sub = simulated_azure.tenant(), subscription(simulated_azure)
    alerts = [a for p in security.iter_alert_pages(tenant, sub) for a in p.alerts]
    rg_level = next(a for a in alerts if "/resourceGroups/" in a["id"])
    sub_level = next(a for a in alerts if "/resourceGroups/" not in a["id"])
    for alert in (rg_level, sub_level):
        security.set_alert_status(tenant, alert["id"], "Dismissed" if status == "Active" else "Active")
        security.set_alert_status(tenant, alert["id"], status)
    after = {
        a["id"]: a["properties"]["status"] for p in security.iter_alert_pages(tenant, sub) for a in p.alerts
    }
    assert after[rg_level["id"]] == after[sub_level["id"]] == status
    assert security.get_alert(tenant, rg_level["id"])["properties"]["status"] == status


def test_writing_back_to_a_subscription_without_a_role_is_forbidden(simulated_azure):
    alert_id = (
        f"/subscriptions/{not_granted(simulated_azure)}/providers/Microsoft.Security/locations/centralus"
        "/alerts/2516064326659999999_9823180C-D449-F0F4-ABFD-8CE3A5633E42"
    )
    with pytest.raises(Forbidden):
        security.set_alert_status(simulated_azure.tenant(), alert_id, "Resolved")


def test_a_malformed_tenant_id_is_bad_credentials_with_reason_wrong_tenant(simulated_azure):
    tenant = dataclasses.replace(simulated_azure.tenant(), tenant_id="not a tenant!")
    with pytest.raises(BadCredentials) as caught:
        subscriptions.list_subscriptions(tenant)
    assert caught.value.reason == "wrong_tenant"


def test_an_unreachable_token_endpoint_is_transient_not_bad_credentials(simulated_azure, settings):
    settings.AZURE_AUTHORITY_HOST = "https://127.0.0.1:9"  # nothing listens on the discard port
    with pytest.raises(Transient):
        subscriptions.verify_credentials(simulated_azure.tenant())


def test_an_unknown_subscription_is_not_found(simulated_azure):
    with pytest.raises(NotFound) as caught:
        resources.count_resources(simulated_azure.tenant(), "00000000-0000-4000-8000-00000000abcd")
    assert caught.value.code == "SubscriptionNotFound"


def test_a_token_from_another_tenant_is_bad_credentials_with_reason_wrong_tenant(settings):
    from ascmon.azure.credentials import Tenant
    from ascmon.simulator import launcher

    arm = launcher.start_arm_simulator("default")  # the default scenario has a second tenant
    try:
        settings.AZURE_MANAGEMENT_URL = settings.AZURE_AUTHORITY_HOST = arm.url
        settings.AZURE_CA_BUNDLE = arm.ca
        contoso, fabrikam = arm.scenario.tenants[:2]
        other = Tenant(fabrikam.tenant_id, fabrikam.client_id, fabrikam.client_secret)
        with pytest.raises(BadCredentials) as caught:
            resources.count_resources(other, contoso.subscriptions[0].subscription_id)
        assert caught.value.reason == "wrong_tenant"
        assert caught.value.code == "InvalidAuthenticationTokenTenant"
    finally:
        arm.stop()
