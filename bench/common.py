"""What the Django benchmarks share: settings for a run of their own, and percentiles."""

import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def setup_django():
    """Django on DATABASE_URL, or on a fresh SQLite file of the run's own; migrated. Only for a bench run
    from the command line: the test suite calls a bench's `run` on the test database instead."""
    os.environ.setdefault(
        "DATABASE_URL", f"sqlite:///{tempfile.mkdtemp(prefix='ascmon-bench-')}/bench.sqlite3"
    )
    os.environ.setdefault("ASCMON_DEBUG", "1")
    os.environ.setdefault("ASCMON_Q_SYNC", "1")
    os.environ.setdefault("ASCMON_LOG_LEVEL", "WARNING")
    os.environ["ALLOWED_HOSTS"] = "testserver,127.0.0.1,localhost"
    os.environ["DJANGO_SETTINGS_MODULE"] = "ascmon.settings"
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    return os.environ["DATABASE_URL"]


def percentile(values, fraction):
    """The nearest-rank percentile (`fraction` in 0..1) of some timings."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def timed(call):
    """(result, wall ms, CPU ms of this process) of one call. On a machine shared with other work the CPU
    figure is the part that work cannot stretch (on SQLite it includes the database's work; on PostgreSQL
    the server's is left out)."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = call()
    return result, (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000
