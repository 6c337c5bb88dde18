"""Typed extraction of an alert's `extendedProperties`, through a registry keyed on alert type.

Pure: no Django. Keys differ per alert type, per source and over time ("client IP address" vs "Client IP
address"), so keys are lower-cased and their spaces collapsed before lookup, and alert types match by
case-insensitive prefix (the longest registered prefix wins; a `SIMULATED_` prefix is ignored).
An alert type no extractor claims is "unknown": its raw properties are kept, nothing is guessed.
"""

from dataclasses import dataclass, field

from alerts.property_values import (
    as_int,
    as_ip,
    as_link,
    as_list,
    as_multiline,
    as_size,
    as_text,
    is_entity_value,
)


def normalize_key(key):
    return " ".join(str(key).split()).lower()


def canonical_type(alert_type):
    """`SIMULATED_Storage.Blob_X` -> `Storage.Blob_X`: sample alerts share the real type's extractor."""
    alert_type = (alert_type or "").strip()
    if alert_type.upper().startswith("SIMULATED_"):
        alert_type = alert_type[len("SIMULATED_") :]
    return alert_type


@dataclass(frozen=True)
class Field:
    """One typed value: the keys it may come from, how to parse it, and the entity kind it names."""

    name: str
    keys: tuple
    parse: object = as_text
    entity: str = ""


@dataclass(frozen=True)
class Extractor:
    """The typed fields of one family of alert types."""

    name: str
    prefixes: tuple
    fields: tuple
    by_key: dict = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "by_key", {key: f for f in self.fields for key in f.keys})

    def extract(self, properties):
        typed, entities = {}, []
        for key, value in (properties or {}).items():
            spec = self.by_key.get(normalize_key(key))
            if spec is None or spec.name in typed or value in (None, ""):
                continue
            parsed = spec.parse(value)
            if parsed is None or parsed == "":
                continue
            typed[spec.name] = parsed
            if spec.parse is as_size:
                typed[spec.name.replace("_bytes", "_text")] = as_text(value)
            if spec.entity and is_entity_value(spec.entity, parsed):
                entities.append({"kind": spec.entity, "value": str(parsed), "source": key})
        return typed, entities


CLIENT_IP = Field(
    "client_ip",
    (
        "client ip address",
        "client ip",
        "ip address",
        "source ip",
        "source ip address",
        "attacker ip",
        "caller ip address",
        "caller ip",
        "client address",
    ),
    as_ip,
    "ip",
)
USER_AGENT = Field("user_agent", ("user agent", "useragent", "client user agent"))
CLIENT_LOCATION = Field("client_location", ("client location", "location", "geo location", "country"))
INVESTIGATION = Field("investigation_steps", ("investigation steps",), as_link)
CAUSES = Field("potential_causes", ("potential causes",), as_multiline)
INTENT = Field("kill_chain_intent", ("killchainintent", "kill chain intent"))
RESOURCE_TYPE = Field("resource_type", ("resourcetype", "resource type"))
OPERATIONS = Field(
    "operations",
    (
        "operations types",
        "operation types",
        "operations",
        "operation",
        "operation name",
        "operation names",
        "operations performed",
    ),
    as_list,
)
APPLICATION = Field(
    "application",
    ("application", "application name", "client application", "app", "client app name", "application id"),
)

# Keys most alert types share: who the client was, and Defender's own explanation of the alert.
CLIENT = (CLIENT_IP, USER_AGENT, CLIENT_LOCATION)
ALERT_TEXT = (INVESTIGATION, CAUSES, INTENT, RESOURCE_TYPE)

STORAGE = Extractor(
    "storage",
    ("Storage.", "BlobStorage"),
    (
        *CLIENT,
        *ALERT_TEXT,
        OPERATIONS,
        APPLICATION,
        Field("authentication_type", ("authentication type", "auth type", "authentication")),
        Field(
            "azure_ad_user", ("azure ad user", "user principal name", "aad user", "user"), as_text, "account"
        ),
        Field("service_type", ("service type",)),
        Field("api_type", ("api type",)),
        Field("container", ("container", "container name", "blob container", "file share", "share")),
        Field("blob_name", ("blob name", "blob", "file name", "file")),
        Field(
            "storage_account",
            ("storage account", "storage account name", "account name"),
            as_text,
            "azure-resource",
        ),
        Field(
            "extracted_bytes",
            (
                "extracted data",
                "amount of extracted data",
                "extracted data size",
                "data extracted",
                "extracted bytes",
            ),
            as_size,
        ),
        Field(
            "extracted_blobs",
            ("extracted blobs", "number of extracted blobs", "blobs extracted", "extracted blobs count"),
            as_int,
        ),
        Field("extracted_files", ("extracted files", "number of extracted files", "files extracted"), as_int),
        Field("deleted_blobs", ("deleted blobs", "number of deleted blobs", "deleted files"), as_int),
        Field(
            "accessed_containers",
            ("accessed containers", "number of accessed containers", "scanned containers"),
            as_int,
        ),
        Field("malware_hash", ("hash", "sha256", "blob hash", "file hash", "malware hash"), as_text),
        Field("malware_name", ("malware name", "malware", "threat name", "scan result"), as_text),
        Field("sas_type", ("sas type", "token type"), as_text),
        Field(
            "sensitive_information_types", ("sensitive information types", "sensitive info types"), as_list
        ),
    ),
)

VM = Extractor(
    "vm",
    ("VM_", "VM.", "Windows", "Linux"),
    (
        CLIENT_IP,
        USER_AGENT,
        *ALERT_TEXT,
        Field(
            "host_name",
            ("compromised host", "host name", "hostname", "machine name", "computer name", "domain name"),
            as_text,
            "host",
        ),
        Field("user_name", ("user name", "username", "account name", "account"), as_text, "account"),
        Field("user_sid", ("user sid", "sid")),
        Field("account_logon_id", ("account logon id", "logon id")),
        Field("process_name", ("process name", "suspicious process", "process")),
        Field("process_id", ("process id", "suspicious process id")),
        Field("parent_process", ("parent process", "parent process name")),
        Field("parent_process_id", ("parent process id",)),
        Field("command_line", ("command line", "suspicious command line", "commandline"), as_multiline),
        Field("file_name", ("file name", "file path", "malware file", "file")),
        Field("file_hash", ("file hash", "hash", "sha256", "md5")),
        Field("malware_name", ("malware name", "threat name", "threat status", "detection")),
        Field(
            "failed_attempts",
            ("failed attempts", "number of failed authentication attempts", "failed logins"),
            as_int,
        ),
        Field("successful_logins", ("successful logins", "number of successful authentications"), as_int),
        Field("target_port", ("target port", "destination port", "port")),
        Field("logon_type", ("logon type",)),
        Field("account_session_id", ("account session id", "session id")),
        Field(
            "targeted_accounts", ("top accounts with failed sign in attempts", "targeted accounts"), as_list
        ),
        Field("protocol", ("protocol",)),
    ),
)

SQL = Extractor(
    "sql",
    ("SQL.", "SQL_"),
    (
        *CLIENT,
        *ALERT_TEXT,
        APPLICATION,
        Field(
            "principal_name",
            (
                "client principal name",
                "principal name",
                "user name",
                "login name",
                "login",
                "username",
                "sql login",
            ),
            as_text,
            "account",
        ),
        Field(
            "client_host",
            ("client hostname", "client host name", "client host", "host name"),
            as_text,
            "host",
        ),
        Field("server_name", ("server name", "sql server", "server"), as_text, "azure-resource"),
        Field("database_name", ("database name", "database", "db name")),
        Field(
            "suspicious_statement",
            ("vulnerable statement", "suspicious statement", "statement", "sql statement", "query"),
            as_multiline,
        ),
        Field(
            "failed_logins",
            ("failed logins", "number of failed logins", "failed login attempts", "failed attempts"),
            as_int,
        ),
        Field("successful_logins", ("successful logins", "number of successful logins"), as_int),
        Field("error_code", ("error code", "sql error code")),
    ),
)

KEY_VAULT = Extractor(
    "key_vault",
    ("KV_", "KeyVault"),
    (
        *CLIENT,
        *ALERT_TEXT,
        OPERATIONS,
        APPLICATION,
        Field(
            "user_principal",
            ("user principal name", "upn", "user", "caller", "principal", "user name", "identity"),
            as_text,
            "account",
        ),
        Field("object_id", ("object id", "objectid", "principal id")),
        Field(
            "vault_name", ("key vault name", "vault name", "key vault", "vault"), as_text, "azure-resource"
        ),
        Field("operation_count", ("count of operations", "number of operations", "operations count"), as_int),
        Field("secret_names", ("secret names", "accessed secrets", "secrets", "keys accessed"), as_list),
    ),
)

RESOURCE_MANAGER = Extractor(
    "resource_manager",
    ("ARM_", "ARM."),
    (
        *CLIENT,
        *ALERT_TEXT,
        OPERATIONS,
        APPLICATION,
        Field(
            "caller",
            ("caller", "user", "user principal name", "principal", "user name", "upn", "identity", "account"),
            as_text,
            "account",
        ),
        Field("object_id", ("object id", "objectid", "principal id")),
        Field(
            "affected_resources", ("affected resources", "resource", "resources", "target resource"), as_list
        ),
        Field("operation_count", ("number of operations", "count of operations", "operations count"), as_int),
        Field("subscription", ("subscription", "subscription id")),
        Field("tool", ("toolkit", "tool", "tool name")),
        Field("previous_location", ("previous location",)),
    ),
)

DNS = Extractor(
    "dns",
    ("AzureDNS_", "DNS_"),
    (
        CLIENT_IP,
        *ALERT_TEXT,
        Field("host_name", ("compromised host", "host name", "machine name"), as_text, "host"),
        Field("domain_name", ("domain name", "queried domain", "domain", "dns domain")),
    ),
)

APP_SERVICE = Extractor(
    "app_service",
    ("AppServices_", "App_"),
    (
        *CLIENT,
        *ALERT_TEXT,
        Field("uri", ("uri", "url", "request uri", "requested uri")),
        Field("host_name", ("host name", "hostname", "site name"), as_text, "host"),
        Field("file_name", ("file name", "file path", "file")),
    ),
)

CONTAINERS = Extractor(
    "containers",
    ("K8S_", "K8S.", "AKS_", "Containers_"),
    (
        CLIENT_IP,
        USER_AGENT,
        *ALERT_TEXT,
        Field("namespace", ("namespace", "kubernetes namespace")),
        Field("container_name", ("container name", "container")),
        Field("pod_name", ("pod name", "pod")),
        Field("image", ("image", "container image", "image name")),
        Field("user_name", ("user name", "username", "kubernetes user", "user"), as_text, "account"),
        Field("command_line", ("command line", "command"), as_multiline),
    ),
)

# Sign-in detections of Defender for Cloud Apps and Entra ID Protection, which mirror ARM.MCAS_* alerts.
IDENTITY = Extractor(
    "identity",
    (
        "ImpossibleTravel",
        "AtypicalTravel",
        "AnonymousIP",
        "AnonymousLogin",
        "UnfamiliarFeatures",
        "UnfamiliarSignin",
        "MaliciousIP",
        "LeakedCredentials",
        "PasswordSpray",
        "InfrequentCountry",
        "MCAS_",
        "IPC_",
    ),
    (
        *CLIENT,
        *ALERT_TEXT,
        APPLICATION,
        Field(
            "user",
            ("user", "user principal name", "upn", "account", "user name", "caller"),
            as_text,
            "account",
        ),
        Field("previous_location", ("previous location",)),
        Field("previous_ip", ("previous ip address", "previous ip"), as_ip, "ip"),
    ),
)

REGISTRY = (STORAGE, VM, SQL, KEY_VAULT, RESOURCE_MANAGER, DNS, APP_SERVICE, CONTAINERS, IDENTITY)
_BY_PREFIX = sorted(
    ((prefix.lower(), extractor) for extractor in REGISTRY for prefix in extractor.prefixes),
    key=lambda pair: -len(pair[0]),
)


def extractor_for(alert_type):
    """The registered extractor for this alert type, or None when ascmon does not know the type."""
    wanted = canonical_type(alert_type).lower()
    return next((extractor for prefix, extractor in _BY_PREFIX if wanted.startswith(prefix)), None)


def extract(alert_type, properties):
    """(extractor name or "", typed values, entities named by the properties)."""
    extractor = extractor_for(alert_type)
    if extractor is None:
        return "", {}, []
    typed, entities = extractor.extract(properties)
    return extractor.name, typed, entities
