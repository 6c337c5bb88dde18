"""Benchmarks that print figures. Each has a --smoke mode that tests/test_benches.py runs, so a change that
breaks a bench fails the suite; the full-size runs are in the README."""
