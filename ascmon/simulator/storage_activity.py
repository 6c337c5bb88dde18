"""Storage log content for the simulator: usual behaviour per principal plus episodes that fit the
Defender alerts the scenario raises, written in Azure's formats and uploaded to a blob endpoint.

By topic: traffic.py (the accounts' principals and each hour's requests), episodes.py (the exfiltration
episode), family_episodes.py (the other Defender for Storage alert families), log_formats.py (classic
and Azure Monitor lines, the bench's CSV files). This module keeps the names the rest of ascmon imports.
"""

from ascmon.simulator.episodes import Episode, exfiltration_episode
from ascmon.simulator.log_formats import (
    CLEAN_COLUMNS,
    classic_line,
    classic_log_blobs,
    clean_row,
    monitor_log_blobs,
    monitor_record,
    write_log_files,
)
from ascmon.simulator.traffic import (
    HOUR,
    AccountLogSpec,
    LogBlob,
    Principal,
    Request,
    delivered_requests,
    hour_requests,
    logged_query,
    principals,
    sas_identity,
)

__all__ = [
    "CLEAN_COLUMNS", "HOUR", "AccountLogSpec", "Episode", "LogBlob", "Principal", "Request", "classic_line",
    "classic_log_blobs", "clean_row", "delivered_requests", "exfiltration_episode", "hour_requests",
    "load_account", "logged_query", "monitor_log_blobs", "monitor_record", "principals", "sas_identity",
    "write_log_files",
]  # fmt: skip


def load_account(access, spec, start, end, seed, episode=None):
    """Upload an account's logs for [start, end) into Azurite (or any blob endpoint) and set its logging.

    Returns the list of LogBlob uploaded.
    """
    from ascmon.azure import blobs

    if spec.logging_version:
        blobs.set_logging_properties(access, version=spec.logging_version, read=spec.read, write=spec.write,
                                     delete=spec.delete, retention_days=spec.retention_days)  # fmt: skip
    uploaded = [
        *classic_log_blobs(spec, start, end, seed, episode),
        *monitor_log_blobs(spec, start, end, seed, episode),
    ]
    for container in sorted({blob.container for blob in uploaded}):
        blobs.ensure_container(access, container)
    for blob in uploaded:
        blobs.upload_blob(access, blob.container, blob.name, blob.data, blob.metadata)
    return uploaded
