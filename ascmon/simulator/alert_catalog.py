"""Real Defender for Cloud alert types the simulator raises, as data.

Types, display names, intents and MITRE ids follow Microsoft's alert reference (docs/azure-formats.md §1, §3).
`extended_properties` values are templates filled from the scenario (`{ip}`, `{host}`, `{user}`, ...);
keys keep the inconsistent capitalisation real alerts have. `resource` says which kind of resource the
alert is raised on; the scenario picks one of that kind. Pure data: no Django, no Azure SDK.
"""

from dataclasses import dataclass, field

INVESTIGATION_STORAGE = (
    '{"displayValue":"View related storage activity using Storage Analytics Logging. See how to '
    'configure Storage Analytics logging and more information by clicking here",'
    '"kind":"Link","value":"https:\\/\\/go.microsoft.com\\/fwlink\\/?linkid=2075734"}'
)
CAUSES_EXFIL = (
    "This alert indicates that an unusually large amount of data was extracted compared to recent "
    "activity on this storage container.\r\nPotential causes:\r\n\u2022 An attacker has extracted a "
    "large amount of data from a container (for example: data exfiltration/breach, unauthorized "
    "transfer of data).\r\n\u2022 A legitimate user or application has extracted an unusual amount of "
    "data from a container (for example: maintenance activity)."
)


@dataclass(frozen=True)
class AlertType:
    """One Defender detection: what the alert says and which extended properties it carries."""

    alert_type: str
    display_name: str
    description: str
    severity: str
    intent: str
    resource: str  # vm, storage, sql, keyvault, subscription, dns, appservice, aks
    product_component: str
    techniques: tuple = ()
    sub_techniques: tuple = ()
    extended_properties: dict = field(default_factory=dict)
    entities: tuple = ("ip",)  # entity kinds to attach besides the azure-resource
    remediation_steps: tuple = ()
    product_name: str = "Azure Security Center"


STORAGE_STEPS = (
    "Limit access to your storage account, following the 'least privilege' principle: "
    "https://go.microsoft.com/fwlink/?linkid=2187303.",
    "Revoke all storage access tokens that may be compromised and ensure that your access tokens are only "
    "shared with authorized users.",
    "Ensure that storage access tokens are stored in a secured location such as Azure Key Vault. Avoid "
    "storing or sharing storage access tokens in source code, documentation, and email.",
)
VM_STEPS = (
    "Review the process and the command line that triggered the alert.",
    "If the activity is not expected, isolate the machine and run a full anti-malware scan.",
    "Escalate the alert to the information security team.",
)
SQL_STEPS = (
    "Investigate the login and the statement; if unexpected, block the client IP in the server firewall.",
    "Rotate the credentials of the principal involved.",
)
KV_STEPS = (
    "Review the key vault's activity logs and the identity that accessed it.",
    "If the access is unexpected, rotate the affected secrets and keys and restrict network access.",
)
ARM_STEPS = (
    "Review the Azure activity log of the subscription for operations by this principal.",
    "If the activity is unexpected, revoke the principal's sessions and reset its credentials.",
)

CATALOG = (
    # ---- Storage -----------------------------------------------------------------------------------
    AlertType(
        "Storage.Blob_DataExfiltration.AmountOfDataAnomaly",
        "Unusual amount of data extracted from a storage account",
        "Someone has extracted an unusual amount of data from the container '{container}' in the storage "
        "account '{account}'.",
        "High",
        "Exfiltration",
        "storage",
        "Storage",
        ("T1537",),
        (),
        {
            "resourceType": "Storage",
            "investigation steps": INVESTIGATION_STORAGE,
            "potential causes": CAUSES_EXFIL,
            "client IP address": "{ip}",
            "client location": "{location}",
            "authentication type": "{auth_label}",
            "operations types": "GetBlob",
            "service type": "Azure Blobs",
            "user agent": "{user_agent}",
            "container": "{container}",
            "extracted data": "{extracted_data}",
            "extracted blobs": "{extracted_blobs}",
            "killChainIntent": "Exfiltration",
        },
        ("ip",),
        STORAGE_STEPS,
    ),
    AlertType(
        "Storage.Blob_TorAnomaly",
        "Authenticated access from a Tor exit node",
        "One or more storage container(s) / file share(s) in your storage account '{account}' were "
        "successfully accessed from an IP address known to be an active exit node of Tor.",
        "High",
        "InitialAccess",
        "storage",
        "Storage",
        ("T1078",),
        (),
        {
            "resourceType": "Storage",
            "Client IP address": "{ip}",
            "Client location": "{location}",
            "Authentication type": "Shared access signature (SAS)",
            "Operations types": "ListBlobs, GetBlob",
            "Service type": "Azure Blobs",
            "User agent": "{user_agent}",
            "Container": "{container}",
            "Investigation steps": INVESTIGATION_STORAGE,
        },
        ("ip",),
        STORAGE_STEPS,
    ),
    AlertType(
        "Storage.Blob_GeoAnomaly",
        "Access from an unusual location to a storage account",
        "The storage account '{account}' was accessed from an unusual geographical location.",
        "Low",
        "InitialAccess",
        "storage",
        "Storage",
        ("T1078",),
        (),
        {
            "Alert Id": "{guid}",
            "Azure AD user": "N/A (Azure AD user authentication was not used)",
            "User agent": "Azure-Storage/9.3.0 (.NET Core)",
            "API type": "Blob",
            "Client location": "Dublin, Ireland",
            "Client IP address": "{ip}",
            "Authentication type": "Shared access signature (SAS)",
            "Operations types": "GetBlob",
            "Service type": "Azure Blobs",
            "Container": "{container}",
            "resourceType": "Storage",
            "ReportingSystem": "Azure",
        },
        ("ip",),
        STORAGE_STEPS,
    ),
    AlertType(
        "Storage.Blob_SuspiciousApp",
        "PREVIEW - Access from a suspicious application",
        "A suspicious application has successfully accessed a container of the storage account '{account}'.",
        "Medium",
        "InitialAccess",
        "storage",
        "Storage",
        ("T1078",),
        (),
        {
            "resourceType": "Storage",
            "client IP address": "{ip}",
            "application": "{user_agent}",
            "authentication type": "Storage account key",
            "container": "{container}",
            "operations types": "ListBlobs",
        },
        ("ip",),
        STORAGE_STEPS,
    ),
    AlertType(
        "Storage.Blob_MalwareHashReputation",
        "Potential malware uploaded to a storage account",
        "A blob uploaded to the storage account '{account}' contains potential malware.",
        "High",
        "LateralMovement",
        "storage",
        "Storage",
        ("T1105",),
        (),
        {
            "resourceType": "Storage",
            "client IP address": "{ip}",
            "container": "{container}",
            "blob name": "payroll-2021.xlsm",
            "hash": "275A021BBFB6489E54D471899F7DB9D1663FC695EC2FE2A2C4538AABF651FD0F",
            "malware name": "Virus:DOS/EICAR_Test_File",
        },
        ("ip", "file"),
        STORAGE_STEPS,
    ),
    AlertType(
        "Storage.Blob_DataExfiltration.AmountOfDataAnomaly.Sensitive",
        "Unusual amount of data extracted from a sensitive blob container (Preview)",
        "Someone has extracted an unusual amount of data from the sensitive container '{container}'.",
        "Medium",
        "Exfiltration",
        "storage",
        "Storage",
        ("T1537",),
        (),
        {
            "client IP address": "{ip}",
            "container": "{container}",
            "extracted data": "1.2 GB",
            "extracted blobs": "35",
            "Sensitive information types": "Credit Card Number, EU Passport Number",
        },
        ("ip",),
        STORAGE_STEPS,
    ),
    # ---- Virtual machines --------------------------------------------------------------------------
    AlertType(
        "VM_EICAR",
        "Azure Security Center test alert (not a threat)",
        "To verify that Azure Security Center is watching '{host}', it ran the EICAR test file.",
        "High",
        "Execution",
        "vm",
        "Servers",
        ("T1204",),
        ("T1204.002",),
        {
            "Compromised Host": "{host}",
            "User Name": "{host}\\azureuser",
            "Account Session Id": "0x3e7",
            "Suspicious Process": "c:\\windows\\temp\\eicar.com",
            "Suspicious Command Line": "c:\\windows\\temp\\eicar.com",
            "Parent Process": "c:\\windows\\system32\\cmd.exe",
            "Suspicious Process Id": "0x1a2c",
            "resourceType": "Virtual Machine",
        },
        ("host", "process", "account"),
        VM_STEPS,
    ),
    AlertType(
        "VM_SshBruteForceFailed",
        "Failed SSH brute force attack",
        "Failed brute force attacks were detected from the attacker {ip} against '{host}'.",
        "Medium",
        "Probing",
        "vm",
        "Servers",
        ("T1110",),
        ("T1110.001",),
        {
            "Compromised Host": "{host}",
            "Attacker IP": "{ip}",
            "Number of failed authentication attempts": "{count}",
            "Top accounts with failed sign in attempts": "root, admin, oracle",
            "Protocol": "ssh",
            "resourceType": "Virtual Machine",
        },
        ("host", "ip"),
        VM_STEPS,
    ),
    AlertType(
        "VM_LoginBruteForceSuccess",
        "Successful brute force attack",
        "Several sign in attempts were detected from {ip}, one of which succeeded on '{host}'.",
        "High",
        "InitialAccess",
        "vm",
        "Servers",
        ("T1110",),
        ("T1110.001",),
        {
            "Compromised Host": "{host}",
            "Attacker IP": "{ip}",
            "Failed attempts": "{count}",
            "Successful logins": "1",
            "User Name": "azureuser",
            "Protocol": "RDP",
            "resourceType": "Virtual Machine",
        },
        ("host", "ip", "account"),
        VM_STEPS,
    ),
    AlertType(
        "VM_ThreatIntelSuspectLogon",
        "A logon from a malicious IP has been detected",
        "A successful remote authentication for the account 'azureuser' on '{host}' came from {ip}, an "
        "address Microsoft Threat Intelligence associates with malicious activity.",
        "High",
        "InitialAccess",
        "vm",
        "Servers",
        ("T1078",),
        (),
        {
            "Compromised Host": "{host}",
            "Source IP": "{ip}",
            "Account": "azureuser",
            "Logon Type": "10 (RemoteInteractive)",
            "resourceType": "Virtual Machine",
        },
        ("host", "ip", "account"),
        VM_STEPS,
    ),
    # ---- SQL -------------------------------------------------------------------------------------------
    AlertType(
        "SQL.DB_PotentialSqlInjection",
        "Potential SQL injection",
        "An application generated a faulty SQL statement in database 'salesdb' on '{resource_name}'. "
        "This can indicate a SQL injection vulnerability.",
        "High",
        "PreAttack",
        "sql",
        "SqlServers",
        ("T1190",),
        (),
        {
            "Client IP address": "{ip}",
            "Client principal name": "webapp",
            "Application": "{user_agent}",
            "Database name": "salesdb",
            "Vulnerable statement": "SELECT * FROM Orders WHERE Id = '1' OR '1'='1' --';<script>alert(1)"
            "</script>",
            "resourceType": "SQL Database",
        },
        ("ip", "account"),
        SQL_STEPS,
    ),
    AlertType(
        "SQL.DB_BruteForce",
        "Suspected brute force attack",
        "A potential brute force attack was detected on '{resource_name}'.",
        "High",
        "PreAttack",
        "sql",
        "SqlServers",
        ("T1110",),
        (),
        {
            "Client IP address": "{ip}",
            "Client location": "{location}",
            "Login name": "sa",
            "Failed logins": "{count}",
            "resourceType": "SQL Database",
        },
        ("ip",),
        SQL_STEPS,
    ),
    # ---- Key Vault ------------------------------------------------------------------------------------
    AlertType(
        "KV_TORAccess",
        "Access from a TOR exit node to a key vault",
        "The key vault '{resource_name}' has been accessed by someone using the TOR IP anonymization "
        "system to hide their location.",
        "Medium",
        "CredentialAccess",
        "keyvault",
        "KeyVaults",
        ("T1555",),
        (),
        {
            "Client IP address": "{ip}",
            "User principal name": "{user}",
            "Object ID": "{guid}",
            "Operations": "SecretGet, SecretList",
            "Count of operations": "{count}",
            "resourceType": "Key Vault",
        },
        ("ip", "account"),
        KV_STEPS,
    ),
    AlertType(
        "KV_SuspiciousIPAccess",
        "Access from a suspicious IP address to a key vault",
        "The key vault '{resource_name}' has been accessed from an IP identified by Microsoft Threat "
        "Intelligence as a suspicious IP address.",
        "Medium",
        "CredentialAccess",
        "keyvault",
        "KeyVaults",
        ("T1555",),
        (),
        {
            "Client IP address": "{ip}",
            "User principal name": "{user}",
            "Accessed secrets": "db-password, storage-key",
            "resourceType": "Key Vault",
        },
        ("ip", "account"),
        KV_STEPS,
    ),
    # ---- Resource Manager ---------------------------------------------------------------------------
    AlertType(
        "ARM_MicroBurst.AzDomainInfo",
        "MicroBurst exploitation toolkit used to extract information from your subscriptions",
        "MicroBurst's Information Gathering module was run on your subscription by '{user}'.",
        "High",
        "Collection",
        "subscription",
        "Arm",
        ("T1526",),
        (),
        {
            "Caller": "{user}",
            "Client IP address": "{ip}",
            "Toolkit": "MicroBurst",
            "Number of operations": "{count}",
            "resourceType": "Subscription",
        },
        ("ip", "account"),
        ARM_STEPS,
    ),
    AlertType(
        "ARM.MCAS_ImpossibleTravelActivity",
        "PREVIEW - Impossible travel activity",
        "Two user activities by '{user}' were performed from distant locations within a time period "
        "shorter than the time it takes to travel between them.",
        "Medium",
        "InitialAccess",
        "subscription",
        "Arm",
        ("T1078",),
        (),
        {
            "User": "{user}",
            "Client IP address": "{ip}",
            "Client location": "Lagos, Nigeria",
            "Previous location": "Amsterdam, Netherlands",
            "resourceType": "Subscription",
        },
        ("ip", "account"),
        ARM_STEPS,
    ),
    # ---- DNS, App Service, containers ------------------------------------------------------------------
    AlertType(
        "AzureDNS_ThreatIntelSuspectDomain",
        "Communication with suspicious domain identified by threat intelligence",
        "DNS transaction analysis for '{host}' found a lookup of a domain associated with "
        "malicious activity.",
        "Medium",
        "InitialAccess",
        "vm",
        "Dns",
        ("T1071",),
        ("T1071.004",),
        {
            "Compromised Host": "{host}",
            "Domain name": "update-check.tk",
            "Source IP": "10.0.0.4",
            "resourceType": "Virtual Machine",
        },
        ("host",),
        VM_STEPS,
    ),
    AlertType(
        "AppServices_PhpInUploadFolder",
        "PHP file in upload folder",
        "The App Service '{resource_name}' served a PHP file from an upload folder: a sign of a web shell.",
        "Medium",
        "Execution",
        "appservice",
        "AppServices",
        ("T1505",),
        ("T1505.003",),
        {
            "Client IP address": "{ip}",
            "URI": "/wp-content/uploads/2021/05/x.php?cmd=id",
            "User agent": "{user_agent}",
            "resourceType": "App Service",
        },
        ("ip",),
        ("Check whether the file is a web shell; remove it and rotate the app's credentials.",),
    ),
    AlertType(
        "K8S_PrivilegedContainer",
        "Privileged container detected",
        "Kubernetes audit log analysis of '{resource_name}' detected a new privileged container.",
        "Low",
        "PrivilegeEscalation",
        "aks",
        "Containers",
        ("T1611",),
        (),
        {
            "Namespace": "kube-public",
            "Container name": "debug-shell",
            "Image": "docker.io/library/alpine:latest",
            "User name": "system:serviceaccount:default:builder",
            "resourceType": "Kubernetes Service",
        },
        ("account",),
        ("Review the container in the Kubernetes audit log; delete it if it is not expected.",),
    ),
)

# Alert types ascmon has no extractor for: their properties must be kept raw, not guessed.
UNKNOWN_TO_ASCMON = (
    AlertType(
        "CosmosDB_SqlInjection.Success",
        "Suspected successful SQL injection attack",
        "A SQL statement to the Cosmos DB account '{resource_name}' looks like a successful injection.",
        "High",
        "Execution",
        "sql",
        "CosmosDbs",
        ("T1190",),
        (),
        {"Client IP": "{ip}", "Query obfuscated": "True", "Frobnication index": "0.93"},
    ),
    AlertType(
        "AI.Azure_Jailbreak.ContentFiltering.BlockedAttempt",
        "Jailbreak attempt on an Azure AI model deployment was blocked by Prompt Shields (Preview)",
        "Prompt Shields blocked a jailbreak attempt on '{resource_name}'.",
        "Medium",
        "PrivilegeEscalation",
        "appservice",
        "AI",
        ("T1548",),
        (),
        {"Deployment": "gpt-4o", "Caller IP": "{ip}", "Prompt excerpt": "ignore previous instructions & <b>"},
    ),
)

# The same sign-in incident reported by three products (dedup must collapse them).
CROSS_PRODUCT_INCIDENT = (
    ("ARM.MCAS_ImpossibleTravelActivity", "Azure Security Center", "PREVIEW - Impossible travel activity"),
    ("ImpossibleTravel", "Microsoft Cloud App Security", "Impossible travel activity"),
    ("AtypicalTravel", "Azure Active Directory Identity Protection", "Atypical travel"),
)

EXFILTRATION_TYPE = "Storage.Blob_DataExfiltration.AmountOfDataAnomaly"
BY_TYPE = {alert.alert_type: alert for alert in CATALOG + UNKNOWN_TO_ASCMON}


def known_types():
    """The alert types of the catalog that ascmon is expected to understand."""
    return [alert.alert_type for alert in CATALOG]
