"""Entra ID for the simulator: the v2.0 client-credentials token endpoint MSAL uses, and bearer checks.

Tokens are opaque to the client: base64(json claims) plus an HMAC only this simulator process can check.
Errors carry the real AADSTS codes, which ascmon maps to what the user got wrong.
"""

import base64
import hashlib
import hmac
import json
import os
import time
import uuid
from datetime import UTC, datetime
from urllib.parse import parse_qs

from ascmon.simulator.rest import Response, arm_error

TOKEN_LIFETIME = 3600


class TokenSigner:
    """Opaque bearer tokens the simulator can check: base64(json claims) + HMAC."""

    def __init__(self):
        self.key = os.urandom(32)

    def issue(self, tenant_id, client_id, lifetime=TOKEN_LIFETIME):
        claims = {"tid": tenant_id, "appid": client_id, "exp": int(time.time()) + lifetime}
        body = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
        return f"sim.{body}.{self._sign(body)}"

    def _sign(self, body):
        return hmac.new(self.key, body.encode(), hashlib.sha256).hexdigest()

    def claims(self, token):
        try:
            _, body, signature = token.split(".")
        except ValueError:
            return None
        if not hmac.compare_digest(signature, self._sign(body)):
            return None
        return json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))


def aad_error(status, error, code, description):
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%SZ")
    body = {
        "error": error,
        "error_description": f"AADSTS{code}: {description}\r\nTrace ID: {uuid.uuid4()}\r\nTimestamp: {stamp}",
        "error_codes": [code],
        "timestamp": stamp,
    }
    return Response(status, body)


def openid_configuration(state, signer, request, tenant):
    base = f"{request.base_url}/{tenant}"
    return Response(
        200,
        {
            "token_endpoint": f"{base}/oauth2/v2.0/token",
            "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
            "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
            "issuer": f"{base}/v2.0",
            "jwks_uri": f"{base}/discovery/v2.0/keys",
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt"],
            "response_types_supported": ["code", "id_token", "token"],
            "tenant_region_scope": "EU",
        },
    )


def token(state, signer, request, tenant):
    form = {k: v[-1] for k, v in parse_qs(request.body.decode(errors="replace")).items()}
    known = {t.tenant_id: t for t in state.scenario.tenants}
    app = known.get(tenant)
    if app is None:
        message = f"Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are "
        return aad_error(400, "invalid_request", 90002, message + "signing into the correct cloud.")
    client_id = form.get("client_id", "")
    if client_id != app.client_id:
        message = f"Application with identifier '{client_id}' was not found in the directory '{app.name}'."
        return aad_error(400, "unauthorized_client", 700016, message)
    if form.get("client_secret") != app.client_secret:
        message = (
            "Invalid client secret provided. Ensure the secret being sent in the request is the client "
            f"secret value, not the client secret ID, for a secret added to app '{client_id}'."
        )
        return aad_error(401, "invalid_client", 7000215, message)
    if not state.take_token(app):
        message = (
            f"The provided client secret keys for app '{client_id}' are expired. Visit the Azure portal to "
            "create new keys for your app."
        )
        return aad_error(401, "invalid_client", 7000222, message)
    access_token = signer.issue(tenant, client_id)
    return Response(
        200,
        {"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": access_token},
    )


def authenticate(signer, request):
    """Claims of a valid bearer token, or the 401 Response ARM would send."""
    header = request.headers.get("authorization", "")
    challenge = {
        "WWW-Authenticate": 'Bearer authorization_uri="https://login.windows.net/", error="invalid_token"'
    }
    if not header.lower().startswith("bearer "):
        message = "Authentication failed. The 'Authorization' header is missing."
        return None, arm_error(401, "AuthenticationFailed", message, **challenge)
    claims = signer.claims(header[7:].strip())
    if claims is None:
        return None, arm_error(401, "InvalidAuthenticationToken", "The access token is invalid.", **challenge)
    if claims["exp"] < datetime.now(UTC).timestamp():
        return None, expired(**challenge)
    return claims, None


def expired(**headers):
    now = datetime.now(UTC).strftime("%m/%d/%Y %H:%M:%S")
    message = f"The access token expiry UTC time '{now}' is earlier than current UTC time '{now}'."
    return arm_error(401, "ExpiredAuthenticationToken", message, **headers)
