"""What Log Analytics would bill for storage logs: the size of the stored record, not the file's bytes.

Log Analytics bills each row as the text of its column values (docs/log-pricing.md, "Billing rules"; the
standard columns such as _ResourceId and _TenantId are not billed, except in Auxiliary tables: see the
end). A classic Storage Analytics line becomes a StorageBlobLogs row whose columns are the line's fields
(without separators and quotes) plus the few the line does not carry (Location, Protocol, Category,
SchemaVersion, TlsVersion: about 40 bytes). For Azure Monitor JSON the documented rule applies: the stored
size is about 25 % below the incoming JSON. An aggregate is billed as the text of its exported fields
(aggregate.billed_size, computed by the engine).
No Django imports.
"""

CLASSIC_ADDED_COLUMNS = 40  # "westeurope", "HTTPS", "StorageRead", "1.0", "TLS 1.2": what each row gains
JSON_BILLED_SHARE = 0.75


def raw_billed(data, lines, is_json, count_syntax=None):
    """Billed bytes of `lines` whole log lines (bytes) as StorageBlobLogs rows. `count_syntax(data)` counts
    the separators and quotes (the engine's syntax_bytes, which ingestion passes: it runs without the GIL);
    by default bytes.count does."""
    if is_json:
        return int(len(data) * JSON_BILLED_SHARE)
    separators = count_syntax(data) if count_syntax else data.count(b";") + data.count(b'"')
    syntax = lines + separators  # newlines, separators and quotes are not stored
    return max(0, len(data) - syntax) + CLASSIC_ADDED_COLUMNS * lines


# Auxiliary tables bill more of each row: Analytics and Basic leave the standard columns _ResourceId,
# _SubscriptionId, _TenantId and Type out of the billed size, Auxiliary only _ItemId, _IsBillable and
# _BilledSize (cost-logs.md, "Excluded columns"; docs/log-pricing.md). Auxiliary takes DCR-based custom
# tables only, so raw lines would go to a table of ours, named here; its rows name the storage account.
RAW_AUXILIARY_TABLE = "StorageBlobLogs_CL"
AGGREGATE_TABLE = "AscmonStorageAggregates_CL"
GUID_CHARS = 36  # _SubscriptionId and _TenantId (the workspace id) as text
BLOB_SERVICE = "/blobServices/default"  # StorageBlobLogs rows carry the blob service's resource id


def auxiliary_row_overhead(account_resource_id, aggregated):
    """Bytes an Auxiliary row bills beyond its Analytics size: the four standard columns as text."""
    if aggregated:
        resource_id, table = account_resource_id, AGGREGATE_TABLE
    else:
        resource_id, table = account_resource_id + BLOB_SERVICE, RAW_AUXILIARY_TABLE
    return len(resource_id) + 2 * GUID_CHARS + len(table)
