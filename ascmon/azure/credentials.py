"""Who ascmon is when it talks to a customer's tenant.

`Tenant` carries the app registration's identity; `get_credential` turns it into an azure-identity
credential. The SIM helper finishes this module (authority/CA overrides for the simulator).
"""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Tenant:
    """An app registration in a customer's tenant. `repr` never shows the secret."""

    tenant_id: str
    client_id: str
    client_secret: str = field(repr=False)
