"""The onboarding check: "Send sample alerts" asks Azure (Alerts_Simulate, served by the simulator), and the
device page says whether the samples came back through the poll, or what is wrong."""

from datetime import timedelta

import pytest
from django.urls import reverse

from alerts import tasks as alert_tasks
from alerts.models import Alert, PollRun
from devices import sample_alerts, tasks
from devices.choices import FindingKind, SampleOutcome
from devices.models import Device, SampleAlertRequest
from devices.onboarding import onboard_demo_device

pytestmark = pytest.mark.peers


@pytest.fixture
def device(simulated_azure, monkeypatch, db):
    monkeypatch.setattr(tasks, "FOLLOW_UPS", ())
    device = onboard_demo_device(simulated_azure.demo_tenant())
    tasks.run_inventory(device.pk)
    return device


def press_the_button(client, device):
    response = client.post(
        reverse("devices:sample_alerts_send", args=[device.pk]), headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    return SampleAlertRequest.objects.filter(device=device).latest("requested_at")


def test_sample_alerts_arrive_through_the_poll_and_the_device_page_says_so(cs_client, device):
    sample = press_the_button(cs_client, device)
    sample_alerts.send(sample.pk)
    sample.refresh_from_db()
    assert sample.outcome == SampleOutcome.SENT and sample.subscriptions
    alert_tasks.poll_device(device.pk)
    samples = Alert.objects.filter(device=device, is_sample=True)
    assert samples.exists()
    assert all(a.display_name.startswith("[SAMPLE ALERT] ") for a in samples)
    html = cs_client.get(reverse("devices:detail", args=[device.pk])).content.decode()
    box = html[html.index('id="sample-alerts"') :]
    assert f"{samples.count()} sample alert" in box and "arrived" in box


def test_sending_twice_asks_azure_once_per_subscription(cs_client, device, simulated_azure):
    sample = press_the_button(cs_client, device)
    sample_alerts.send(sample.pk)
    sample_alerts.send(sample.pk)
    sample.refresh_from_db()
    asked = simulated_azure.arm.state()["requests"]
    simulate_calls = sum(n for path, n in asked.items() if path.endswith("/alerts/default/simulate"))
    assert simulate_calls == len(sample.subscriptions) > 0


def test_no_sample_within_the_window_names_what_is_wrong(cs_client, device):
    sample = press_the_button(cs_client, device)
    SampleAlertRequest.objects.filter(pk=sample.pk).update(
        outcome=SampleOutcome.SENT, requested_at=sample.requested_at - timedelta(minutes=30)
    )
    PollRun.objects.create(
        device=device, outcome="failed", errors=[{"error": "AADSTS7000222 secret expired"}]
    )
    html = cs_client.get(reverse("devices:sample_alerts", args=[device.pk])).content.decode()
    assert "No sample alert arrived within 10 minutes" in html
    assert "The latest alert poll failed. AADSTS7000222 secret expired" in html
    assert device.findings.open().filter(kind=FindingKind.PLAN_OFF).exists()
    assert "Some Defender plans are off" in html


def test_azure_refusing_the_request_is_shown(cs_client, device, simulated_azure):
    Device.objects.filter(pk=device.pk).update(client_id="00000000-0000-0000-0000-00000000dead")
    sample = press_the_button(cs_client, device)
    sample_alerts.send(sample.pk)
    html = cs_client.get(reverse("devices:sample_alerts", args=[device.pk])).content.decode()
    assert "Azure refused the request" in html and "credentials" in html


def test_analysts_see_the_result_but_only_customer_success_sends(analyst_client, device):
    assert analyst_client.get(reverse("devices:sample_alerts", args=[device.pk])).status_code == 200
    assert analyst_client.post(reverse("devices:sample_alerts_send", args=[device.pk])).status_code == 403


def test_a_refusal_also_names_the_open_findings_that_explain_it(cs_client, device):
    from devices.models import Finding

    Finding.objects.create(
        device=device, kind=FindingKind.CREDENTIALS_REJECTED, severity="high", subject="tenant",
        title="Azure rejected the app registration's credentials", explanation="x", portal_steps="x",
        cli_command="x",
    )  # fmt: skip
    sample = press_the_button(cs_client, device)
    SampleAlertRequest.objects.filter(pk=sample.pk).update(
        outcome=SampleOutcome.FAILED, errors=[{"subscription": "", "error": "No subscription is visible."}]
    )
    html = cs_client.get(reverse("devices:sample_alerts", args=[device.pk])).content.decode()
    assert "No subscription is visible." in html
    assert "Azure rejects the app&#x27;s credentials" in html
