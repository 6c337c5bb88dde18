"""The blob data-plane wrapper against Azurite: errors in the project's own types, like the ARM wrappers."""

import pytest

from ascmon.azure import blobs
from ascmon.azure.errors import BadCredentials, NotFound

NAME = "ascmonlogs1"


def access(azurite, key=None):
    return blobs.BlobAccess(azurite.endpoint(NAME), NAME, key or azurite.accounts[NAME])


def test_a_wrong_account_key_is_bad_credentials_with_reason_wrong_secret(azurite):
    wrong = "d3Jvbmcta2V5LWZvci10ZXN0cy1vbmx5LTAwMDAwMDAwMA=="
    with pytest.raises(BadCredentials) as caught:
        blobs.list_blobs(access(azurite, wrong), "$logs", "blob/")
    assert caught.value.reason == "wrong_secret"
    assert wrong not in str(caught.value)


def test_a_missing_container_is_not_found_when_listing_and_reading(azurite):
    with pytest.raises(NotFound):
        blobs.list_blobs(access(azurite), "no-such-container", "")
    with pytest.raises(NotFound):
        list(blobs.read_blob(access(azurite), "no-such-container", "x.log"))


def test_reading_past_the_end_of_a_blob_gives_nothing(azurite):
    blobs.ensure_container(access(azurite), "ends")
    blobs.upload_blob(access(azurite), "ends", "a.log", b"one line\n")
    assert b"".join(blobs.read_blob(access(azurite), "ends", "a.log")) == b"one line\n"
    assert list(blobs.read_blob(access(azurite), "ends", "a.log", offset=9)) == []


def test_a_listing_of_many_pages_gives_every_blob_once_with_what_the_sdk_reads(azurite, monkeypatch):
    """The List Blobs pages are read without the SDK's deserializer: names (odd characters included),
    sizes, ETags, times and metadata are the SDK's own, across pages (NextMarker)."""
    where = access(azurite)
    blobs.ensure_container(where, "pages")
    names = [f"blob/2026/05/0{i % 3}/1000/{i:06d}.log" for i in range(7)] + ["blob/odd name &<é>%2F.log"]
    for i, name in enumerate(names):
        blobs.upload_blob(where, "pages", name, b"x;y\n" * (i + 1), {"LogType": "read", "StartTime": f"{i}"})
    monkeypatch.setattr(blobs, "LIST_PAGE", 2)
    listed = blobs.list_blobs(where, "pages", "blob/")
    sdk = (
        blobs._client(where)
        .get_container_client("pages")
        .list_blobs(name_starts_with="blob/", include=["metadata"])
    )
    assert [(b.name, b.etag, b.size, b.last_modified, b.metadata) for b in listed] == [
        (b.name, b.etag.strip('"'), b.size, b.last_modified, dict(b.metadata)) for b in sdk
    ]
    assert sorted(b.name for b in listed) == sorted(names)
    assert [b.name for b in blobs.list_blobs(where, "pages", "blob/2026/05/01/")] == [names[1], names[4]]
    assert blobs.list_blobs(where, "pages", "nothing/") == []


def test_a_percent_encoded_blob_name_is_decoded_and_a_truncated_page_is_an_error():
    from xml.etree import ElementTree

    from azure.core.exceptions import DecodeError

    page = ElementTree.fromstring(
        '<Blob><Name Encoded="true">blob/a%EF%BF%BFb.log</Name><Properties>'
        "<Content-Length>12</Content-Length><Etag>0x8D</Etag>"
        "<Last-Modified>Tue, 05 May 2026 10:00:00 GMT</Last-Modified></Properties></Blob>"
    )
    info = blobs._blob_info(page)
    assert (info.name, info.size, info.etag, info.last_modified.isoformat()) == (
        "blob/a\uffffb.log",
        12,
        "0x8D",
        "2026-05-05T10:00:00+00:00",
    )

    with pytest.raises(DecodeError):
        blobs._xml(b"<?xml version='1.0'?><EnumerationResults><Blobs><Blob><Name>blob/a")
    with pytest.raises(DecodeError):
        blobs._blob_info(ElementTree.fromstring("<Blob><Name>a</Name><Properties><Content-Length>-1"
                                                "</Content-Length></Properties></Blob>"))  # fmt: skip
