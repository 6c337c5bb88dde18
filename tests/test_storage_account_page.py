"""The storage account page an analyst lands on: aggregates paginated and filterable, real window bounds,
links to the device, the alerts on the account and each aggregate's raw lines."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from storage_logs.models import LogAggregate
from storage_logs.views import PAGE_SIZE
from tests import factories

DAY = datetime(2026, 9, 21, tzinfo=UTC)
pytestmark = pytest.mark.django_db


def aggregates(account, n, **fields):
    rows = []
    for i in range(n):
        start = DAY + timedelta(hours=i % 24)
        values = {
            "kind": "read", "window_start": start, "window_end": start + timedelta(hours=1),
            "operation": "GetBlob", "principal_kind": "oauth", "principal_id": f"user-{i % 3}",
            "client_ip": f"10.0.0.{i % 5}", "count": 1, "first_time": start, "last_time": start, **fields,
        }  # fmt: skip
        rows.append(LogAggregate(account=account, **values))
    LogAggregate.objects.bulk_create(rows)


def rows_in(page):
    """Rows of the aggregates table (not its header)."""
    if 'id="aggregates"' not in page:
        return 0
    table = page[page.index('id="aggregates"') :]
    return table[: table.index("</table>")].count("<tr>") - 1


def account_page(client, account, **params):
    return client.get(reverse("storage_logs:account", args=[account.pk]), params).content.decode()


def test_aggregates_are_paginated_and_filtered_by_operation_principal_ip_and_time(analyst_client):
    account, _ = factories.storage_account("pages")
    aggregates(account, 3 * PAGE_SIZE)
    aggregates(account, 7, operation="DeleteBlob", kind="delete")
    first = account_page(analyst_client, account)
    assert rows_in(first) == PAGE_SIZE and "page 1 of 4" in first
    assert "page=2" in first
    assert account_page(analyst_client, account, operation="deleteblob").count("DeleteBlob</td>") == 7
    by_principal = account_page(analyst_client, account, principal="user-1", operation="GetBlob")
    assert f"{PAGE_SIZE} aggregates" in by_principal and "user-2" not in by_principal
    by_ip = account_page(analyst_client, account, ip="10.0.0.4", operation="GetBlob")
    assert "30 aggregates" in by_ip
    in_time = account_page(analyst_client, account, since="2026-09-21T05:00", until="2026-09-21T07:00")
    assert (
        rows_in(in_time)
        == LogAggregate.objects.filter(
            window_start__gte=DAY + timedelta(hours=5), window_start__lt=DAY + timedelta(hours=7)
        ).count()
    )
    assert "No aggregates match these filters" in account_page(analyst_client, account, ip="192.0.2.1")


def test_a_day_long_window_shows_its_real_bounds(analyst_client):
    account, _ = factories.storage_account("dayling")
    aggregates(account, 1, kind="write", operation="PutBlob", window_end=DAY + timedelta(days=1))
    page = account_page(analyst_client, account)
    assert "2026-09-21 00:00 – 2026-09-22 00:00" in page and "00:00–00:00" not in page


def test_the_page_links_the_device_the_alerts_on_the_account_and_each_aggregates_raw_lines(analyst_client):
    account, _ = factories.storage_account("linked")
    aggregates(account, 2)
    page = account_page(analyst_client, account)
    assert reverse("devices:detail", args=[account.device_id]) in page
    assert f"q={account.name}" in page and "0 alerts on this account" in page
    for row in LogAggregate.objects.filter(account=account):
        assert reverse("storage_logs:aggregate_lines", args=[row.pk]) in page


def test_customer_success_sees_the_aggregates_without_raw_lines_or_alerts(cs_client):
    account, _ = factories.storage_account("forcs")
    aggregates(account, 2)
    page = account_page(cs_client, account)
    assert "GetBlob" in page and "Show the raw lines" not in page and "alerts on this account" not in page


def test_the_query_count_does_not_grow_with_the_aggregates(analyst_client):
    account, _ = factories.storage_account("flat")
    aggregates(account, 5)
    with CaptureQueriesContext(connection) as few:
        account_page(analyst_client, account)
    aggregates(account, 2 * PAGE_SIZE)
    with CaptureQueriesContext(connection) as many:
        account_page(analyst_client, account)
    assert len(many) == len(few)


def test_the_htmx_partial_is_the_table_alone(analyst_client):
    account, _ = factories.storage_account("partial")
    aggregates(account, PAGE_SIZE + 1)
    url = reverse("storage_logs:account", args=[account.pk])
    part = analyst_client.get(url, {"page": 2}, headers={"HX-Request": "true"}).content.decode()
    assert part.lstrip().startswith('<div id="aggregate-table">') and rows_in(part) == 1
