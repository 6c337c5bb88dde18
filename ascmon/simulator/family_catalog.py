"""The Defender for Storage alerts that report the family episodes (ascmon/simulator/family_episodes.py).

Types, display names, intents and MITRE ids follow Microsoft's alert reference (docs/azure-formats.md §3,
from MicrosoftDocs/azure-docs articles/defender-for-cloud/alerts-azure-storage.md); extended property keys
keep the capitalisation real alerts have. Kept apart from the main catalog (alert_catalog.py): the
scenario adds these on the demo subscription, each beside the episode that makes it true, by family.
"""

from ascmon.simulator.alert_catalog import INVESTIGATION_STORAGE, STORAGE_STEPS, AlertType


def _storage(alert_type, display, description, severity, intent, techniques, properties, entities=("ip",)):
    extended = {"resourceType": "Storage", "Service type": "Azure Blobs", **properties}
    extended.setdefault("Investigation steps", INVESTIGATION_STORAGE)
    return AlertType(
        alert_type, display, description, severity, intent, "storage", "Storage", techniques, (), extended,
        entities, STORAGE_STEPS,
    )  # fmt: skip


CLIENT = {"Client IP address": "{ip}", "User agent": "{user_agent}", "Container": "{container}"}
MALWARE = {
    "Blob name": "{blob}",
    "Container": "{container}",
    "Malware name": "Trojan:Win32/Wacatac.B!ml",
    "SHA256": "{sha256}",
    "Client IP address": "{ip}",
}
ENTRA = {"Authentication type": "Azure AD", "Azure AD user": "{user}"}
ACL_CHANGE = {"Container": "{container}", "Operations types": "SetContainerACL"}

# (family, alert type): the family names the episode whose lines make the alert true.
FAMILY_ALERTS = (
    ("malware", _storage(
        "Storage.Blob_AM.MalwareFound", "Malicious file uploaded to storage account",
        "A file uploaded to blob '{blob}' in container '{container}' of the storage account '{account}' was "
        "found malicious by Defender for Storage malware scanning.",
        "High", "LateralMovement", ("T1105",), {**MALWARE, "Scan result": "Malicious"},
    )),
    ("malware", _storage(
        "Storage.Blob_MalwareHashReputation", "Potential malware uploaded to a storage account",
        "The hash of blob '{blob}' uploaded to the storage account '{account}' matches known malware.",
        "High", "LateralMovement", ("T1105",), {**MALWARE, "hash": "{sha256}"},
    )),
    ("sas", _storage(
        "Storage.Blob_AccountSas.InternalSasUsedExternally",
        "PREVIEW - SAS token made for internal use was used from an external IP address",
        "An account SAS token of '{account}' used so far from internal addresses was used from {ip}.",
        "Medium", "Exfiltration", ("T1078",),
        {**CLIENT, "Authentication type": "Shared access signature (SAS)", "SAS type": "Account SAS"},
    )),
    ("sas", _storage(
        "Storage.Blob_AccountSas.UnusualExternalAccess",
        "PREVIEW - Unusual external access to an Azure storage account with an account SAS token",
        "The storage account '{account}' was accessed with an account SAS token from an unusual external "
        "IP address ({ip}).",
        "Medium", "Exfiltration", ("T1078",),
        {**CLIENT, "Authentication type": "Shared access signature (SAS)", "Operations types": "GetBlob"},
    )),
    ("public", _storage(
        "Storage.Blob_OpenACL",
        "The access level of a potentially sensitive storage blob container was changed to allow "
        "unauthenticated public access",
        "The access level of container '{container}' in '{account}' was changed to allow public access.",
        "Medium", "Collection", ("T1530",), ACL_CHANGE, entities=(),
    )),
    ("public", _storage(
        "Storage.Blob_AnonymousAccessAnomaly", "Unusual unauthenticated access to a storage container",
        "Container '{container}' of '{account}' was accessed without authentication in an unusual way.",
        "High", "Collection", ("T1530",), {**CLIENT, "Authentication type": "Anonymous"},
    )),
    ("scanning", _storage(
        "Storage.Blob_OpenContainersScanning.SuccessfulDiscovery",
        "Publicly accessible storage containers successfully discovered",
        "A scan from {ip} found publicly accessible containers in the storage account '{account}'.",
        "Medium", "Collection", ("T1580",), {**CLIENT, "Authentication type": "Anonymous"},
    )),
    ("scanning", _storage(
        "Storage.Blob_OpenContainersScanning.FailedAttempt",
        "Publicly accessible storage containers unsuccessfully scanned",
        "{ip} tried to list containers of the storage account '{account}' without authentication.",
        "Low", "Collection", ("T1580",), {**CLIENT, "Authentication type": "Anonymous"},
    )),
    ("deletion", _storage(
        "Storage.Blob_DeletionAnomaly", "Unusual deletion in a storage account",
        "An unusual number of blobs was deleted from container '{container}' of '{account}'.",
        "Medium", "Impact", ("T1485",),
        {**CLIENT, "Authentication type": "Storage account key", "Operations types": "DeleteBlob"},
    )),
    ("unusual_place", _storage(
        "Storage.Blob_TorAnomaly", "Authenticated access from a Tor exit node",
        "Container '{container}' of '{account}' was accessed from {ip}, an active Tor exit node.",
        "High", "InitialAccess", ("T1078", "T1090"),
        {**CLIENT, **ENTRA, "Client location": "Tor exit node"},
    )),
    ("unusual_place", _storage(
        "Storage.Blob_GeoAnomaly", "Access from an unusual location to a storage account",
        "The storage account '{account}' was accessed from an unusual geographical location ({ip}).",
        "Low", "InitialAccess", ("T1078",),
        {**CLIENT, "Authentication type": "Azure AD", "Client location": "Frankfurt am Main, Germany"},
    )),
    ("unusual_place", _storage(
        "Storage.Blob_SuspiciousIp", "Access from a suspicious IP address",
        "The storage account '{account}' was accessed from {ip}, an IP address Microsoft Threat "
        "Intelligence considers suspicious.",
        "Medium", "PreAttack", ("T1078",), {**CLIENT, "Authentication type": "Azure AD"},
    )),
    ("application", _storage(
        "Storage.Blob_ApplicationAnomaly", "Unusual application accessed a storage account",
        "An application not seen before on '{account}' ({user_agent}) accessed container '{container}'.",
        "Medium", "Execution", ("T1078",),
        {**CLIENT, "Authentication type": "Storage account key", "Application": "{user_agent}"},
    )),
)  # fmt: skip
