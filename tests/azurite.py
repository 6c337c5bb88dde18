"""pytest fixture `azurite`: one Azurite blob service per test session with ascmon's test accounts."""
