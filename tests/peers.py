"""pytest fixtures for the real protocol peers: the ARM simulator (HTTPS) and Azurite.

Started once per test session on free ports (the SIM work fills this in).
"""
