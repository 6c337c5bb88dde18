"""The only place in ascmon that imports `azure.*`.

One small module per Azure service. Each builds its SDK client from a `Tenant` (credentials.py), returns
plain data (dicts, lists, dataclasses) and turns SDK exceptions into the errors in errors.py, which say
whether a retry can help (translate.py, one mapping for every service). Against the simulator only the
endpoints (settings.AZURE_MANAGEMENT_URL, AZURE_AUTHORITY_HOST, AZURE_CA_BUNDLE, STORAGE_HOST_SUFFIXES)
differ; the code path is the one that runs against Azure.

Modules and their functions (the contract the apps code against):

subscriptions.py
    verify_credentials(tenant) -> None                    raises BadCredentials(reason=...)
    list_subscriptions(tenant) -> list[dict]               {subscription_id, display_name, state, tenant_id}
resources.py
    count_resources(tenant, subscription_id) -> dict[str, int]        {resource type: count}
security.py
    iter_alert_pages(tenant, subscription_id, continuation=None) -> Iterator[AlertPage]
        AlertPage(alerts: list[dict] raw REST JSON as on the wire (camelCase, properties.*),
                  rejected: list[RejectedItem(raw: str|dict, reason: str)], next_link: str | None)
        Resume a failed poll by passing the last page's next_link as `continuation`.
        A page link that points away from the management endpoint is not followed (Transient).
    get_alert(tenant, alert_id) -> dict                    raw JSON of one alert (per-location get)
    set_alert_status(tenant, alert_id, status) -> None    status in Active, InProgress, Resolved, Dismissed
    list_alerts_via_sdk(tenant, subscription_id) -> list[dict]   the SDK's own paging and models, for checks
    list_pricings(tenant, subscription_id) -> list[dict]
        {name, pricing_tier, sub_plan, deprecated, replaced_by, enablement_time (ISO text or ""),
         free_trial_remaining (seconds or None), extensions: [{name, is_enabled (bool)}]}
storage.py (management plane)
    list_storage_accounts(tenant, subscription_id) -> list[dict]
        {id, name, resource_group, location, kind, sku, blob_endpoint}
    get_account_key(tenant, account_id) -> str             (listKeys; needs Storage Account Key Operator)
monitor.py
    list_diagnostic_settings(tenant, resource_uri) -> list[dict]
        {name, storage_account_id, workspace_id, logs: [{category, category_group, enabled, retention_days}]}
activity.py
    list_events(tenant, subscription_id, start, end, caller="", resource_id="") -> list[dict]
        {time, operation, operation_label, status, sub_status, caller, resource_id, resource_group,
         category, level, client_ip, correlation_id, event_id, action, properties}, newest first
    can_read(tenant, subscription_id) -> True              raises Forbidden without Reader
blobs.py (data plane)
    BlobAccess(blob_endpoint, account_name, account_key)   one per storage account; an endpoint outside
        settings.STORAGE_HOST_SUFFIXES (endpoints.py) raises UntrustedEndpoint before anything is sent
    get_logging_properties(access) -> dict                 {version, read, write, delete, retention_days}
    list_blobs(access, container, prefix) -> list[BlobInfo(name, etag, size, last_modified, metadata)]
    read_blob(access, container, name, offset=0) -> Iterator[bytes]   streamed chunks from offset
    (plus upload helpers used by the simulator only)
"""
