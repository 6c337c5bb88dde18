"""What Log Analytics would bill for storage logs: the size of the stored record, not the file's bytes.

Log Analytics bills each row as the text of its column values (docs/log-pricing.md, "Billing rules"; the
standard columns such as _ResourceId and TenantId are not billed). A classic Storage Analytics line becomes a
StorageBlobLogs row whose columns are the line's fields (without separators and quotes) plus the few the
line does not carry (Location, Protocol, Category, SchemaVersion, TlsVersion: about 40 bytes). For Azure
Monitor JSON the documented rule applies: the stored size is about 25 % below the incoming JSON. An
aggregate is billed as the text of its exported fields (aggregate.billed_size, computed by the engine).
No Django imports.
"""

CLASSIC_ADDED_COLUMNS = 40  # "westeurope", "HTTPS", "StorageRead", "1.0", "TLS 1.2": what each row gains
JSON_BILLED_SHARE = 0.75


def raw_billed(data, lines, is_json):
    """Billed bytes of `lines` whole log lines (bytes) as StorageBlobLogs rows."""
    if is_json:
        return int(len(data) * JSON_BILLED_SHARE)
    syntax = lines + data.count(b";") + data.count(b'"')  # newlines, separators and quotes are not stored
    return max(0, len(data) - syntax) + CLASSIC_ADDED_COLUMNS * lines
