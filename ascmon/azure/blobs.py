"""Blob data plane: classic logging settings, listing and streaming log blobs, uploads for the simulator.

One BlobServiceClient per (endpoint, account, key) per process. Requests keep to the tenant's shared
budget and wait as a 429 says (transport.py, budget.py). SDK errors become ascmon.azure.errors
(translate.py, the same mapping as the management plane).
"""

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from urllib.parse import quote, unquote, urlencode
from xml.etree import ElementTree

from azure.core import MatchConditions
from azure.core.exceptions import (
    DecodeError,
    HttpResponseError,
    ResourceExistsError,
    ResourceModifiedError,
    ResourceNotFoundError,
)
from azure.core.rest import HttpRequest
from azure.storage.blob import BlobAnalyticsLogging, BlobServiceClient, RetentionPolicy

from ascmon.azure import budget
from ascmon.azure.endpoints import check_blob_endpoint
from ascmon.azure.errors import BlobChanged
from ascmon.azure.translate import SDK_ERRORS, azure_errors, translate
from ascmon.azure.transport import BudgetTransport

# A download's requests ask for this much at a time. Above 4 MiB: Azurite (the Storage emulator the demo and
# tests run) computes an MD5 of every read of up to 4 MiB and reads it twice, asked or not
# (node_modules/azurite/dist/src/blob/handlers/BlobHandler.js), which made a bare read of 374 MB of logs take
# 1.8 s instead of 0.6 s here (bench/ingest_e2e.py); Azure itself is spared half the round trips.
CHUNK_BYTES = 8 * 1024 * 1024
READ_BLOCK_BYTES = 1024 * 1024
LIST_PAGE = 5000  # blobs per List Blobs page (the service's own most)


@dataclass(frozen=True)
class BlobAccess:
    """Where a storage account's blob service is and the key that opens it."""

    blob_endpoint: str
    account_name: str
    account_key: str = ""
    tenant_id: str = ""  # whose budget the reads count against; else the tenant listKeys gave the key to

    def __repr__(self):  # never print the key
        return f"BlobAccess({self.blob_endpoint!r}, {self.account_name!r})"


@dataclass(frozen=True)
class BlobInfo:
    name: str
    etag: str
    size: int
    last_modified: datetime | None
    metadata: dict


def _client(access):
    """The account's client, once its endpoint has passed the storage host check (endpoints.py)."""
    check_blob_endpoint(access.blob_endpoint, access.account_name)
    return _cached_client(access)


@functools.lru_cache(maxsize=256)
def _cached_client(access):
    credential = {"account_name": access.account_name, "account_key": access.account_key}
    transport = BudgetTransport(
        lambda: budget.key_of_account(access.account_key, access.tenant_id),
        retry_throttled=True,
        connection_timeout=10,
        read_timeout=60,
        # the SDK reads a download in blocks of this size (azure-core's default: 4 KiB): 1 MiB blocks read
        # a log blob with a third of the CPU and twice as fast (bench/ingest_e2e.py's bare read)
        connection_data_block_size=READ_BLOCK_BYTES,
    )
    return BlobServiceClient(
        access.blob_endpoint,
        credential=credential,
        retry_total=2,
        max_single_get_size=CHUNK_BYTES,
        max_chunk_get_size=CHUNK_BYTES,
        transport=transport,
    )


@azure_errors
def get_logging_properties(access):
    logging = _client(access).get_service_properties()["analytics_logging"]
    retention = logging.retention_policy
    return {
        "version": logging.version,
        "read": logging.read,
        "write": logging.write,
        "delete": logging.delete,
        "retention_days": retention.days if retention and retention.enabled else None,
    }


@azure_errors
def set_logging_properties(access, *, version="2.0", read=True, write=True, delete=True, retention_days=7):
    retention = RetentionPolicy(enabled=True, days=retention_days) if retention_days else RetentionPolicy()
    logging = BlobAnalyticsLogging(
        version=version, read=read, write=write, delete=delete, retention_policy=retention
    )
    _client(access).set_service_properties(analytics_logging=logging)


@azure_errors
def list_blobs(access, container, prefix):
    """Blobs under `prefix` (never the whole container unless asked), with metadata.

    The List Blobs pages go through the SDK's pipeline (signing, retries, the budget) but are read here with
    ElementTree: the SDK's generic XML deserializer took three times the CPU (0.18 s against 0.06 s for 844
    blobs in 36 listings), and a sweep lists every watched account's logs of the day."""
    client = _client(access).get_container_client(container)
    found, marker = [], ""
    while True:
        query = {"restype": "container", "comp": "list", "prefix": prefix, "include": "metadata",
                 "maxresults": LIST_PAGE, **({"marker": marker} if marker else {})}  # fmt: skip
        headers = {"x-ms-version": client.api_version, "Accept": "application/xml"}
        request = HttpRequest("GET", f"{client.url}?{urlencode(query, quote_via=quote)}", headers=headers)
        # the generated client's documented way in; streamed, so that azure-core does not parse the XML too
        response = client._client._send_request(request, stream=True)
        body = response.read()
        if response.status_code != 200:
            raise _storage_error(response, body)
        page = _xml(body)
        found.extend(_blob_info(blob) for blob in page.iterfind("Blobs/Blob"))
        marker = page.findtext("NextMarker") or ""
        if not marker:
            return found


def _xml(body):
    try:
        return ElementTree.fromstring(body)
    except ElementTree.ParseError as error:
        raise DecodeError(f"the blob list is not XML: {error}") from error


def _blob_info(blob):
    """A <Blob> of a List Blobs page. A name with characters XML cannot carry comes percent-encoded, marked
    Encoded="true" (as the SDK reads it)."""
    name, properties = blob.find("Name"), blob.find("Properties")
    if name is None or properties is None:
        raise DecodeError("a listed blob has no name or no properties")
    text = name.text or ""
    size, metadata = properties.findtext("Content-Length") or "0", blob.find("Metadata")
    if not size.isdigit():
        raise DecodeError(f"a listed blob's Content-Length is not a number: {size[:40]!r}")
    return BlobInfo(
        unquote(text) if name.get("Encoded") == "true" else text,
        (properties.findtext("Etag") or "").strip('"'),
        int(size),
        _http_date(properties.findtext("Last-Modified")),
        {item.tag: item.text or "" for item in metadata} if metadata is not None else {},
    )


def _http_date(text):
    if not text:
        return None
    try:
        return parsedate_to_datetime(text)
    except (TypeError, ValueError) as error:
        raise DecodeError(f"a listed blob's Last-Modified is not a date: {text[:40]!r}") from error


def _storage_error(response, body):
    """The azure-core error the SDK raises for a refused storage request, with its error code."""
    code = response.headers.get("x-ms-error-code")
    try:
        answer = ElementTree.fromstring(body)
        code = code or answer.findtext("Code")
        message = (answer.findtext("Message") or "").strip()
    except ElementTree.ParseError:
        message = ""
    kind = ResourceNotFoundError if response.status_code == 404 else HttpResponseError
    error = kind(message=f"{code or response.status_code}: {message or response.reason}", response=response)
    error.error_code = code
    return error


def read_blob(access, container, name, offset=0) -> Iterator[bytes]:
    """The blob's bytes from `offset` on, in chunks (nothing when the blob has no bytes past `offset`)."""
    blob = _client(access).get_blob_client(container, name)
    try:
        downloader = blob.download_blob(offset=offset) if offset else blob.download_blob()
        yield from downloader.chunks()
    except HttpResponseError as error:
        if getattr(error, "status_code", None) == 416:
            return
        raise translate(error) from error
    except SDK_ERRORS as error:
        raise translate(error) from error


@azure_errors
def read_range(access, container, name, offset, length):
    """`length` bytes of the blob from `offset` (fewer at its end; b"" past it)."""
    blob = _client(access).get_blob_client(container, name)
    try:
        return blob.download_blob(offset=offset, length=length).readall()
    except HttpResponseError as error:
        if getattr(error, "status_code", None) == 416:
            return b""
        raise


@azure_errors
def blob_exists(access, container, name):
    return _client(access).get_blob_client(container, name).exists()


def read_range_if_unchanged(access, container, name, start, end, etag) -> Iterator[bytes]:
    """Bytes `start` to `end` of the blob in chunks, only while its ETag is still `etag` (If-Match):
    raises BlobChanged when the blob was rewritten or appended to since."""
    blob = _client(access).get_blob_client(container, name)
    try:
        downloader = blob.download_blob(
            offset=start,
            length=end - start,
            etag=f'"{etag.strip(chr(34))}"',
            match_condition=MatchConditions.IfNotModified,
        )
        yield from downloader.chunks()
    except ResourceModifiedError as error:
        raise BlobChanged(f"{container}/{name} changed since it was read", status=412) from error
    except HttpResponseError as error:
        if getattr(error, "status_code", None) == 412:
            raise BlobChanged(f"{container}/{name} changed since it was read", status=412) from error
        raise translate(error) from error
    except SDK_ERRORS as error:
        raise translate(error) from error


@azure_errors
def ensure_container(access, container):
    try:
        _client(access).create_container(container)
    except ResourceExistsError:
        pass


@azure_errors
def upload_blob(access, container, name, data, metadata=None):
    """Write (or replace) a blob; used by the simulator to load Azurite."""
    _client(access).get_blob_client(container, name).upload_blob(
        data, overwrite=True, metadata=metadata or {}
    )
