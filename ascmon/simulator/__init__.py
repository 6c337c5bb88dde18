"""Simulated Azure for the demo and the tests: real protocol peers on 127.0.0.1, spoken to by the real SDKs.

scenario.py          the customers (tenants, subscriptions, resources, plans, storage accounts), by seed
scenario_alerts.py   their Defender alerts as 2022-01-01 REST JSON, from alert_catalog.py
storage_activity.py  storage log content, by topic: traffic.py (usual behaviour, each hour's requests),
                     episodes.py (an exfiltration), family_episodes.py (the other Defender for Storage
                     alert families), log_formats.py (classic and Azure Monitor lines)
server.py            the ARM simulator (HTTPS, trustme CA): identity.py issues tokens, routes.py answers
                     (rest.py shapes), state.py remembers changes
loader.py, feeder.py fill Azurite with logging settings and log blobs, and keep it growing
azurite.py           start/stop Azurite; launcher.py starts everything for `demo`, `simulate` and the tests
"""
