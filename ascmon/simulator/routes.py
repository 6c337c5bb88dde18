"""The simulator's REST surface: path patterns to handlers, each returning a Response in Azure's shape."""

import json
import re

from ascmon.simulator.identity import authenticate, expired, openid_configuration, token
from ascmon.simulator.rest import Response, arm_error
from ascmon.simulator.samples import sample_alerts
from ascmon.simulator.scenario import account_key

SUB = r"/subscriptions/(?P<sub>[^/]+)"
RG = r"(?:/resourceGroups/(?P<rg>[^/]+))?"
LOC = r"/providers/Microsoft\.Security/locations/(?P<loc>[^/]+)/alerts"
ACCOUNT = SUB + r"/resourceGroups/(?P<rg>[^/]+)/providers/Microsoft\.Storage/storageAccounts/(?P<name>[^/]+)"


# ---- subscriptions ------------------------------------------------------------------------------------


def access(state, request, sub_id, action):
    """(Subscription, None) when the token's principal may read it, else (None, the error Response)."""
    sub = state.scenario.subscription(sub_id)
    tenant_id = request.claims["tid"]
    if sub is None:
        return None, arm_error(
            404, "SubscriptionNotFound", f"The subscription '{sub_id}' could not be found."
        )
    if sub.tenant_id != tenant_id:
        message = (
            f"The access token is from the wrong issuer 'https://sts.windows.net/{tenant_id}/'. It must "
            f"match the tenant 'https://sts.windows.net/{sub.tenant_id}/' associated with this subscription. "
            f"Please use the authority (URL) 'https://login.windows.net/{sub.tenant_id}' to get the token."
        )
        return None, arm_error(401, "InvalidAuthenticationTokenTenant", message)
    if not state.granted(sub):
        app = request.claims["appid"]
        message = (
            f"The client '{app}' with object id '{app}' does not have authorization to perform action "
            f"'{action}' over scope '/subscriptions/{sub_id}' or the scope is invalid. If access was "
            "recently granted, please refresh your credentials."
        )
        return None, arm_error(403, "AuthorizationFailed", message)
    return sub, None


def list_subscriptions(state, signer, request):
    tenant = next((t for t in state.scenario.tenants if t.tenant_id == request.claims["tid"]), None)
    subs = [state.subscription_rest(s) for s in (tenant.subscriptions if tenant else []) if state.granted(s)]
    return Response(200, {"count": {"type": "Total", "value": len(subs)}, "value": subs})


def get_subscription(state, signer, request, sub):
    found, error = access(state, request, sub, "Microsoft.Resources/subscriptions/read")
    return error or Response(200, state.subscription_rest(found))


def paged(request, items, page_size, path):
    """One page of `items` from $skipToken on, with a nextLink on this server's own scheme, host and port."""
    start = int(request.query.get("$skipToken") or request.query.get("$skiptoken") or 0)
    page = {"value": items[start : start + page_size]}
    if start + page_size < len(items):
        version = request.query.get("api-version", "")
        page["nextLink"] = f"{request.base_url}{path}?api-version={version}&$skipToken={start + page_size}"
    return page


def list_resources(state, signer, request, sub):
    _, error = access(state, request, sub, "Microsoft.Resources/subscriptions/resources/read")
    if error:
        return error
    items = state.scenario.resources.get(sub, [])
    return Response(200, paged(request, items, 100, request.path))


# ---- Microsoft.Security -------------------------------------------------------------------------------


def _alerts_in_scope(state, sub, rg=None, loc=None):
    out = []
    for alert in state.alerts(sub):
        alert_id = alert["id"].lower()
        if rg and f"/resourcegroups/{rg.lower()}/" not in alert_id:
            continue
        if loc and f"/locations/{loc.lower()}/" not in alert_id:
            continue
        out.append(alert)
    return out


def list_alerts(state, signer, request, sub, rg=None, loc=None):
    _, error = access(state, request, sub, "Microsoft.Security/alerts/read")
    if error:
        return error
    return Response(200, paged(request, _alerts_in_scope(state, sub, rg, loc), state.page_size, request.path))


def _find_alert(state, sub, rg, loc, name):
    wanted = f"/locations/{loc}/alerts/{name}".lower()
    for alert in _alerts_in_scope(state, sub, rg, loc):
        alert_id = alert["id"].lower()
        if alert_id.endswith(wanted) and (rg is not None) == ("/resourcegroups/" in alert_id):
            return alert
    return None


def get_alert(state, signer, request, sub, rg, loc, name):
    _, error = access(state, request, sub, "Microsoft.Security/alerts/read")
    if error:
        return error
    alert = _find_alert(state, sub, rg, loc, name)
    return Response(200, alert) if alert else arm_error(404, "NotFound", f"Alert '{name}' was not found.")


def update_alert(state, signer, request, sub, rg, loc, name, action):
    _, error = access(state, request, sub, f"Microsoft.Security/locations/alerts/{action}/action")
    if error:
        return error
    alert = _find_alert(state, sub, rg, loc, name)
    if alert is None:
        return arm_error(404, "NotFound", f"Alert '{name}' was not found.")
    state.set_status(alert["id"], action)
    return Response(204, b"")


def simulate_alerts(state, signer, request, sub, loc):
    """Alerts_Simulate: 202 Accepted; a sample alert per requested bundle whose plan is on appears."""
    _, error = access(state, request, sub, "Microsoft.Security/locations/alerts/simulate/action")
    if error:
        return error
    try:
        bundles = json.loads(request.body or b"{}")["properties"]["bundles"]
    except (ValueError, KeyError, TypeError):
        return arm_error(400, "InvalidRequestContent", "The request content was invalid.")
    plans_on = {
        p["name"] for p in state.pricings(sub) if p["properties"].get("pricingTier", "").lower() == "standard"
    }
    serial = sum(len(v) for v in state.samples.values())
    state.add_samples(sub, sample_alerts(state.scenario, sub, bundles, plans_on, serial))
    return Response(202, b"")


def list_pricings(state, signer, request, sub):
    _, error = access(state, request, sub, "Microsoft.Security/pricings/read")
    return error or Response(200, {"value": state.pricings(sub)})


def get_pricing(state, signer, request, sub, name):
    _, error = access(state, request, sub, "Microsoft.Security/pricings/read")
    if error:
        return error
    plan = next((p for p in state.pricings(sub) if p["name"].lower() == name.lower()), None)
    return Response(200, plan) if plan else arm_error(404, "NotFound", f"Pricing '{name}' was not found.")


# ---- storage and monitor ------------------------------------------------------------------------------


def account_rest(state, spec):
    blob = f"{state.azurite_url}/{spec.name}/"
    return {
        "id": spec.resource_id,
        "name": spec.name,
        "type": "Microsoft.Storage/storageAccounts",
        "location": "westeurope",
        "kind": "StorageV2",
        "sku": {"name": "Standard_LRS", "tier": "Standard"},
        "tags": {},
        "properties": {
            "provisioningState": "Succeeded",
            "creationTime": "2021-03-02T10:11:12.1234567Z",
            "primaryEndpoints": {
                "blob": blob,
                "queue": f"https://{spec.name}.queue.core.windows.net/",
                "table": f"https://{spec.name}.table.core.windows.net/",
                "file": f"https://{spec.name}.file.core.windows.net/",
            },
            "primaryLocation": "westeurope",
            "statusOfPrimary": "available",
            "supportsHttpsTrafficOnly": True,
            "minimumTlsVersion": "TLS1_2",
            "allowBlobPublicAccess": spec.name.endswith("static"),
            "accessTier": "Hot",
        },
    }


def list_accounts(state, signer, request, sub):
    _, error = access(state, request, sub, "Microsoft.Storage/storageAccounts/read")
    if error:
        return error
    return Response(200, {"value": [account_rest(state, spec) for spec in state.accounts(sub)]})


def _account(state, sub, rg, name):
    return next(
        (s for s in state.accounts(sub) if s.name == name.lower() and s.resource_group.lower() == rg.lower()),
        None,
    )


def list_keys(state, signer, request, sub, rg, name):
    _, error = access(state, request, sub, "Microsoft.Storage/storageAccounts/listkeys/action")
    if error:
        return error
    spec = _account(state, sub, rg, name)
    if spec is None:
        resource = f"Microsoft.Storage/storageAccounts/{name}"
        message = f"The Resource '{resource}' under resource group '{rg}' was not found."
        return arm_error(404, "ResourceNotFound", message)
    key = account_key(spec.name)
    second = account_key(spec.name + "-2")
    created = "2021-03-02T10:11:12.1234567Z"
    keys = [
        {"creationTime": created, "keyName": "key1", "value": key, "permissions": "FULL"},
        {"creationTime": created, "keyName": "key2", "value": second, "permissions": "FULL"},
    ]
    return Response(200, {"keys": keys})


def list_diagnostic_settings(state, signer, request, sub, rg, name):
    _, error = access(state, request, sub, "Microsoft.Insights/diagnosticSettings/read")
    if error:
        return error
    spec = _account(state, sub, rg, name)
    if spec is None:
        return arm_error(404, "ResourceNotFound", f"The Resource '{name}' was not found.")
    return Response(200, {"value": state.diagnostic_settings(spec)})


def list_activity_log(state, signer, request, sub):
    """ActivityLogs_List: the events passing $filter (a time range is required, as in Azure), newest first."""
    from ascmon.simulator.activity_log import matches, parse_filter

    found, error = access(state, request, sub, "Microsoft.Insights/eventtypes/values/read")
    if error:
        return error
    if found.tenant_id in state.activity_denied:
        app = request.claims["appid"]
        message = (
            f"The client '{app}' with object id '{app}' does not have authorization to perform action "
            f"'Microsoft.Insights/eventtypes/values/read' over scope '/subscriptions/{sub}' or the scope is "
            "invalid. If access was recently granted, please refresh your credentials."
        )
        return arm_error(403, "AuthorizationFailed", message)
    terms = parse_filter(request.query.get("$filter", ""))
    if terms is None:
        return arm_error(400, "BadRequest", "The $filter must contain eventTimestamp ge '<start time>'.")
    events = [e for e in state.activity_events(sub) if matches(e, terms)]
    return Response(200, {"value": sorted(events, key=lambda e: e["eventTimestamp"], reverse=True)})


def get_management_policy(state, signer, request, sub, rg, name, policy):
    """The account's lifecycle management policy: a rule deleting the diagnostic archive's log blobs (kept
    30 days once the tenant is fixed, as classic logging is)."""
    _, error = access(state, request, sub, "Microsoft.Storage/storageAccounts/managementPolicies/read")
    if error:
        return error
    spec = _account(state, sub, rg, name)
    if spec is None or not spec.lifecycle_days or policy != "default":
        return arm_error(404, "ManagementPolicyNotFound", f"No ManagementPolicy found for account {name}")
    days = max(spec.lifecycle_days, 30) if state.is_fixed(sub) else spec.lifecycle_days
    rule = {
        "enabled": True,
        "name": "delete-old-logs",
        "type": "Lifecycle",
        "definition": {
            "filters": {"blobTypes": ["appendBlob", "blockBlob"], "prefixMatch": ["insights-logs-"]},
            "actions": {"baseBlob": {"delete": {"daysAfterModificationGreaterThan": days}}},
        },
    }
    return Response(
        200,
        {
            "id": f"{spec.resource_id}/managementPolicies/default",
            "name": "DefaultManagementPolicy",
            "type": "Microsoft.Storage/storageAccounts/managementPolicies",
            "properties": {"lastModifiedTime": "2025-09-01T08:00:00.0000000Z", "policy": {"rules": [rule]}},
        },
    )


# ---- control -------------------------------------------------------------------------------------------


def control(state, signer, request, action):
    payload = json.loads(request.body or b"{}")
    if action == "state":
        return Response(200, state.snapshot())
    if action == "faults":
        state.add_faults(payload.get("faults", []), replace=payload.get("replace", False))
    elif action == "clear":
        state.add_faults([], replace=True)
    elif action == "advance":
        state.advance(payload.get("seconds", 0))
    elif action == "reset":
        state.reset()
    elif action == "config":
        state.page_size = int(payload.get("page_size", state.page_size))
    elif action in ("fix", "unfix"):
        state.fix(payload["tenant_id"], fixed=action == "fix")
        if action == "fix":
            from ascmon.simulator.loader import turn_logging_on

            turn_logging_on(state, payload["tenant_id"])
    elif action in ("deny", "allow"):  # the Activity Log only, for the inventory's finding
        state.deny_activity(payload["tenant_id"], denied=action == "deny")
    elif action == "token":  # a token as the credential would get it, for tests of expiry
        lifetime = int(payload.get("lifetime", 3600))
        return Response(
            200, {"access_token": signer.issue(payload["tenant_id"], payload["client_id"], lifetime)}
        )
    else:
        return arm_error(404, "NotFound", f"no control action {action!r}")
    return Response(200, state.snapshot())


ROUTES = [
    ("GET", r"/(?P<tenant>[^/]+)/v2\.0/\.well-known/openid-configuration", openid_configuration, False),
    ("POST", r"/(?P<tenant>[^/]+)/oauth2/v2\.0/token", token, False),
    ("GET", r"/subscriptions", list_subscriptions, True),
    ("GET", SUB, get_subscription, True),
    ("GET", SUB + r"/resources", list_resources, True),
    ("GET", SUB + RG + r"/providers/Microsoft\.Security/alerts", list_alerts, True),
    ("GET", SUB + RG + LOC, list_alerts, True),
    ("GET", SUB + RG + LOC + r"/(?P<name>[^/]+)", get_alert, True),
    ("POST", SUB + LOC + r"/default/simulate", simulate_alerts, True),
    (
        "POST",
        SUB + RG + LOC + r"/(?P<name>[^/]+)/(?P<action>dismiss|resolve|activate|inProgress)",
        update_alert,
        True,
    ),
    ("GET", SUB + r"/providers/Microsoft\.Security/pricings", list_pricings, True),
    ("GET", SUB + r"/providers/Microsoft\.Security/pricings/(?P<name>[^/]+)", get_pricing, True),
    ("GET", SUB + r"/providers/Microsoft\.Storage/storageAccounts", list_accounts, True),
    ("POST", ACCOUNT + r"/listKeys", list_keys, True),
    ("GET", SUB + r"/providers/Microsoft\.Insights/eventtypes/management/values", list_activity_log, True),
    ("GET", ACCOUNT + r"/managementPolicies/(?P<policy>[^/]+)", get_management_policy, True),
    (
        "GET",
        ACCOUNT + r"/blobServices/default/providers/Microsoft\.Insights/diagnosticSettings",
        list_diagnostic_settings,
        True,
    ),
]
COMPILED = [(m, re.compile(p + r"/?$", re.IGNORECASE), h, auth) for m, p, h, auth in ROUTES]
CONTROL = re.compile(r"/_sim/(?P<action>[a-z]+)/?$")


def handle(state, signer, request):
    match = CONTROL.match(request.path)
    if match:
        return control(state, signer, request, match["action"])
    fault = state.take_fault(request.path)
    response = route(state, signer, request, fault)
    return apply_fault(fault, response)


def route(state, signer, request, fault):
    for method, pattern, handler, needs_auth in COMPILED:
        match = pattern.match(request.path)
        if match is None or method != request.method:
            continue
        if needs_auth:
            if fault is not None and fault.kind == "expired_token":
                return expired()
            request.claims, error = authenticate(signer, request)
            if error:
                return error
        return handler(state, signer, request, **{k: v for k, v in match.groupdict().items()})
    return arm_error(404, "InvalidResourceType", f"The resource type could not be found: {request.path}")


def apply_fault(fault, response):
    if fault is None or fault.kind == "expired_token":
        return response
    if fault.kind == "429":
        headers = {"Retry-After": str(fault.retry_after), "x-ms-ratelimit-remaining-subscription-reads": "0"}
        return arm_error(429, "TooManyRequests", "The request is being throttled.", **headers)
    if fault.kind in ("500", "503"):
        code = "InternalServerError" if fault.kind == "500" else "ServiceUnavailable"
        return arm_error(int(fault.kind), code, "The server encountered an internal error. Please retry.")
    if fault.kind == "slow":
        response.delay = fault.delay
    elif fault.kind == "truncated":
        response.truncate = True
    elif fault.kind == "invalid" and response.status == 200:
        response.body = (
            b'{"value": [{"id": "/subscriptions/x", "properties": {"alertType": "VM_EICAR"}}, {"id'
        )
    return response
