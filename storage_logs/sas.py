"""SAS tokens in storage logs (docs/azure-formats.md §6.2a): Azure never writes a signature into a log
(sig=XXXXX), so classic lines tell tokens apart by their visible fields, and Azure Monitor events by the
SHA-256 of the signature they carry. No Django imports.
"""

import hashlib
import html
import re

# The query fields of a SAS token (service, account and user delegation SAS), all visible in logs but sig.
SAS_FIELDS = frozenset(
    "sv ss srt sp st se sip spr sr si sdd skoid sktid skt ske sks skv saoid suoid scid ses".split()
    + "rscc rscd rsce rscl rsct".split()
)
# A SAS signature in text (the engine's redact_signatures does the same to stored object names).
_SIGNATURE = re.compile(r"((?i:sig)=)(?!XXXXX(?:[&; \t\n\r\f\v\"']|$))[^&; \t\n\r\f\v\"']+")


def redact(text):
    """Text that may hold a URL, with any SAS signature that is not Azure's own redaction replaced."""
    return _SIGNATURE.sub(r"\1XXXXX", text)


def sas_fields(query):
    """A SAS token's identity in a classic log line: its visible fields (the query as written, HTML-encoded),
    sorted and joined as k=v&k=v. Tokens with the same visible fields cannot be told apart by the log."""
    pairs = []
    for part in html.unescape(query).split("&"):
        key, _, value = part.partition("=")
        if key.lower() in SAS_FIELDS:
            pairs.append((key.lower(), value))
    return "&".join(f"{key}={value}" for key, value in sorted(pairs))


def sas_principal(sig):
    """(principal kind, id) of a SAS identity as a record's SIG position holds it: '#' and a signature hash
    (Azure Monitor), or the visible fields (classic)."""
    if sig.startswith("#"):
        return "sas", sig[1:]
    return "sas_fields", hashlib.sha256(sig.encode()).hexdigest()[:16]
