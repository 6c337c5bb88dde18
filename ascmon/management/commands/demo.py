"""Run the whole demo: simulated Azure peers, the web server and the background workers.

Nothing is written into the database directly: the demo tenant is onboarded through the same code path
a customer-success user takes, and the product's own tasks fill the dashboard. Ctrl-C stops every
child process (each runs in its own process group) and leaves nothing behind.
"""

import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

DEMO_USERS = (
    ("analyst", "analyst", False),
    ("customer", "customer_success", False),
    ("admin", "admin", True),
)
DEMO_PASSWORD = "demo"
DEMO_EMAIL = "{}@demo.invalid"


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def users_the_demo_did_not_create():
    """Usernames in the database other than the demo's own (known by name and demo address)."""
    if User._meta.db_table not in connection.introspection.table_names():
        return []  # a new database: nobody to protect
    demo = [(name, DEMO_EMAIL.format(name)) for name, _, _ in DEMO_USERS]
    users = User.objects.values_list("username", "email").order_by("username")
    return [name for name, email in users if (name, email) not in demo]


class Command(BaseCommand):
    help = "Start the demo: simulator + Azurite, web server on 127.0.0.1:8000 and qcluster."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--size", default="default", help="scenario size: small, default or large")
        parser.add_argument("--no-peers", action="store_true", help="do not start the simulator and Azurite")

    def handle(self, *args, port, size, no_peers, **options):
        strangers = users_the_demo_did_not_create()
        if strangers:
            raise CommandError(
                f"This database has {len(strangers)} user(s) the demo did not create "
                f"({', '.join(strangers[:5])}). The demo sets its users' passwords to '{DEMO_PASSWORD}' and "
                "onboards a simulated tenant, so it runs only on its own database: point DATABASE_URL at "
                "an empty one (scripts/demo uses db.sqlite3 in the checkout)."
            )
        self.children = []
        # A launcher may have started us with SIGINT ignored; Ctrl-C and SIGTERM must both stop the demo.
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, _interrupt)
        try:
            call_command("migrate", verbosity=0, interactive=False)
            self.create_demo_users()
            # Customers' notification e-mails go to files, not over the terminal.
            os.environ.setdefault("EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend")
            env = os.environ.copy()
            peers = None if no_peers else self.start_peers(size, env)
            self.spawn(
                "web", [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"], env
            )
            self.spawn("qcluster", [sys.executable, "manage.py", "qcluster"], env)
            if peers is not None:
                self.onboard_demo_tenant(peers, env)
            self.stdout.write(self.style.SUCCESS(f"\nascmon demo: http://127.0.0.1:{port}/"))
            self.stdout.write(
                "Log in as analyst, customer or admin; the password of each is 'demo' (demo only)."
            )
            if os.environ["EMAIL_BACKEND"].endswith("filebased.EmailBackend"):
                self.stdout.write(f"Notification e-mails are written to {settings.EMAIL_FILE_PATH}/.")
            self.stdout.write("Press Ctrl-C to stop everything.\n")
            self.watch()
        except KeyboardInterrupt:
            self.stdout.write("\nstopping the demo…")
        finally:
            self.stop_children()

    def create_demo_users(self):
        for username, role, staff in DEMO_USERS:
            user, _ = User.objects.get_or_create(
                username=username, defaults={"email": DEMO_EMAIL.format(username)}
            )
            user.is_staff = staff
            user.set_password(DEMO_PASSWORD)
            user.save()
            user.groups.set([Group.objects.get(name=role)])

    def start_peers(self, size, env):
        from ascmon.simulator import launcher

        peers = launcher.start_demo_peers(size=size, stdout=self.stdout)
        self.children.extend(peers.processes)
        env.update(peers.environment())
        os.environ.update(peers.environment())
        return peers

    def onboard_demo_tenant(self, peers, env):
        """The demo tenant and the fleet around it, each through the form a customer-success user fills."""
        from devices.onboarding import onboard_demo_device

        names = [onboard_demo_device(tenant).name for tenant in peers.fleet_tenants()]
        self.stdout.write(
            f"onboarded {len(names)} devices ({', '.join(names)}); their inventories, alerts and logs load "
            "in the background"
        )

    def spawn(self, name, argv, env):
        process = subprocess.Popen(argv, env=env, start_new_session=True)
        process.ascmon_name = name
        self.children.append(process)
        return process

    def watch(self):
        while True:
            for process in self.children:
                if process.poll() is not None:
                    name = getattr(process, "ascmon_name", process.args)
                    self.stderr.write(f"{name} exited with {process.returncode}; stopping the demo")
                    return
            time.sleep(0.5)

    def stop_children(self):
        """SIGTERM each child's leader (qcluster hangs when its workers get it too), then sweep groups."""
        started = time.monotonic()
        for process in reversed(self.children):
            if process.poll() is None:
                process.terminate()
        deadline = time.monotonic() + 15
        for process in self.children:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            try:
                os.killpg(process.pid, signal.SIGKILL)  # anything left in the child's process group
            except (ProcessLookupError, PermissionError):
                pass
            process.wait()
        self.stdout.write(f"stopped {len(self.children)} processes in {time.monotonic() - started:.1f} s")
