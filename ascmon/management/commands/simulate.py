"""Run the simulated Azure on its own: the ARM simulator (HTTPS) and Azurite, until Ctrl-C."""

import signal
import time

from django.core.management.base import BaseCommand


def _interrupt(signum, frame):
    raise KeyboardInterrupt


class Command(BaseCommand):
    help = "Start the ARM simulator and Azurite; print their endpoints and the demo tenant's credentials."

    def add_arguments(self, parser):
        parser.add_argument("--size", default="default", choices=("small", "default", "large"))
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--no-feed", action="store_true", help="do not keep adding new hour blobs")

    def handle(self, *args, size, seed, no_feed, **options):
        from ascmon.simulator import launcher

        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, _interrupt)
        peers = launcher.start_demo_peers(size=size, stdout=self.stdout, seed=seed, feed=not no_feed)
        try:
            self.describe(peers)
            while all(process.poll() is None for process in peers.processes):
                time.sleep(0.5)
            self.stderr.write("a simulator process exited; stopping")
        except KeyboardInterrupt:
            self.stdout.write("\nstopping the simulator…")
        finally:
            peers.stop()

    def describe(self, peers):
        self.stdout.write(self.style.SUCCESS("\nSimulated Azure is up. Environment for ascmon:"))
        for name, value in peers.environment().items():
            self.stdout.write(f"  export {name}={value}")
        self.stdout.write(self.style.SUCCESS("\nTenants (the first is the demo tenant):"))
        for tenant in peers.arm.scenario.tenants:
            self.stdout.write(f"  {tenant.name}: tenant id {tenant.tenant_id}")
            self.stdout.write(f"    client id {tenant.client_id}  client secret {tenant.client_secret}")
            for sub in tenant.subscriptions:
                access = "granted" if sub.granted else "NOT granted (403)"
                self.stdout.write(
                    f"    subscription {sub.subscription_id}  {sub.display_name}  {sub.state}  {access}"
                )
        self.stdout.write(
            f"\nControl: POST {peers.arm.url}/_sim/faults|fix|advance|reset, GET-like POST /_sim/state"
        )
        self.stdout.write("Press Ctrl-C to stop.")
