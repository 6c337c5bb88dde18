"""The device page says, per storage account, until when raw log lines stay fetchable as evidence."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from devices.models import StorageAccount
from storage_logs import evidence
from tests import factories

pytestmark = pytest.mark.django_db


def retention_rows(page):
    table = page[page.index('id="raw-line-retention-table"') :]
    table = table[: table.index("</table>")]
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip() for row in table.split("<tr>")[2:]]


def test_the_device_page_shows_until_when_each_accounts_raw_lines_stay_fetchable(cs_client, settings):
    settings.EVIDENCE_DAYS = 30
    classic, _ = factories.storage_account("classicseven")
    StorageAccount.objects.filter(pk=classic.pk).update(logging_retention_days=7)
    archived, _ = factories.storage_account("archived", diagnostic_logs=True)
    StorageAccount.objects.filter(pk=archived.pk).update(
        logging_read=False, logging_write=False, logging_delete=False, lifecycle_delete_days=45
    )
    page = cs_client.get(reverse("devices:detail", args=[classic.device_id])).content.decode()
    rows = retention_rows(page)
    assert "The SOC investigates 30 days back" in page
    classic_row = next(r for r in rows if r.startswith("classicseven"))
    today = datetime.now(UTC)
    assert "classic $logs classic logging retention 7" in classic_row
    assert f"{today + timedelta(days=7):%Y-%m-%d}" in classic_row
    assert "shorter than the investigation window" in classic_row
    archive_row = next(r for r in rows if r.startswith("archived"))
    assert "Azure Monitor archive (insights-logs-*) lifecycle management rule 45" in archive_row
    assert "long enough" in archive_row


def test_kept_reads_no_retention_as_kept_until_removed():
    account = StorageAccount(name="forever", logging_read=True, logging_retention_days=None)
    (kept,) = evidence.kept(account, 30)
    assert kept.days is None and kept.oldest is None and not kept.too_short
