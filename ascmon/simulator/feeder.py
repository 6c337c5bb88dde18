"""Keep Azurite's logs growing while the demo runs: one more hour of log blobs every little while.

History is loaded up to a few hours before the scenario's time; the feeder then delivers the missing
hours quickly (every FEED_SECONDS) and afterwards each hour once it has passed. Each delivery also
carries the previous hour's late lines and some repeated lines (storage_activity decides which).

    python -m ascmon.simulator.feeder --azurite URL --size default --seed 1 --now ISO
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
HOUR = timedelta(hours=1)


def history_end(now):
    return now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=CATCH_UP_HOURS)


def start(azurite_url, size, seed, now):
    command = [
        sys.executable,
        "-m",
        "ascmon.simulator.feeder",
        "--azurite",
        azurite_url,
        "--size",
        size,
        "--seed",
        str(seed),
        "--now",
        now.isoformat(),
    ]
    return subprocess.Popen(command, cwd=Path(__file__).resolve().parents[2], start_new_session=True)


def run(azurite_url, scenario, pause=FEED_SECONDS):
    hour = history_end(scenario.now)
    while True:
        if hour + HOUR <= datetime.now(UTC):
            loader.deliver(azurite_url, scenario, hour, hour + HOUR)
            hour += HOUR
        time.sleep(pause)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--azurite", required=True)
    parser.add_argument("--size", default="default", choices=scenario_module.SIZES)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--now", required=True)
    args = parser.parse_args(argv)
    scenario = scenario_module.build(args.seed, args.size, datetime.fromisoformat(args.now))
    try:
        run(args.azurite, scenario)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
