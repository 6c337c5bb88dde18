"""Keep Azurite's logs growing while the demo runs.

The demo loads only the newest day of history before it starts (so it is up in seconds), up to a few
hours before the scenario's time. The feeder then delivers the missing recent hours one every
FEED_SECONDS (new hour blobs appearing, each also carrying the previous hour's late lines and some
repeated lines), fills in the older history in the background, and afterwards delivers each hour once
it has passed.

    python -m ascmon.simulator.feeder --azurite URL --size default --seed 1 --now ISO [--backfill-days 13]
"""

import argparse
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ascmon.simulator import loader
from ascmon.simulator import scenario as scenario_module

CATCH_UP_HOURS = 3
FEED_SECONDS = 20
BACKFILL_STEP = timedelta(hours=6)
HOUR = timedelta(hours=1)


def history_end(now):
    return now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=CATCH_UP_HOURS)


def start(azurite_url, size, seed, now, backfill_days=0):
    command = [
        sys.executable, "-m", "ascmon.simulator.feeder", "--azurite", azurite_url, "--size", size,
        "--seed", str(seed), "--now", now.isoformat(), "--backfill-days", str(backfill_days),
    ]  # fmt: skip
    return subprocess.Popen(command, cwd=Path(__file__).resolve().parents[2], start_new_session=True)


def run(azurite_url, scenario, history_start, backfill_until, pause=FEED_SECONDS):
    """history_start: the oldest hour already loaded; older hours down to backfill_until are filled in."""
    hour, older, last = history_end(scenario.now), history_start, 0.0
    while True:
        if hour + HOUR <= datetime.now(UTC) and time.monotonic() - last >= pause:
            loader.deliver(azurite_url, scenario, hour, hour + HOUR)
            hour, last = hour + HOUR, time.monotonic()
        elif older > backfill_until:
            start = max(backfill_until, older - BACKFILL_STEP)
            loader.deliver(azurite_url, scenario, start, older)
            older = start
        else:
            time.sleep(1)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--azurite", required=True)
    parser.add_argument("--size", default="default", choices=scenario_module.SIZES)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--now", required=True)
    parser.add_argument("--loaded-days", type=int, default=1, help="days of history loaded before the start")
    parser.add_argument("--backfill-days", type=int, default=0, help="older days to fill in")
    args = parser.parse_args(argv)
    scenario = scenario_module.build(args.seed, args.size, datetime.fromisoformat(args.now))
    history_start = history_end(scenario.now) - timedelta(days=args.loaded_days)
    try:
        run(args.azurite, scenario, history_start, history_start - timedelta(days=args.backfill_days))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
