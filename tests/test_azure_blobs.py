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
