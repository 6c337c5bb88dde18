"""Re-encrypt every stored secret with the newest of ASCMON_ENCRYPTION_KEYS, so older keys can be dropped.

Safe to run twice or while the app runs: each row is rewritten only if it still holds the token read.
"""

from django.core.management.base import BaseCommand, CommandError

from ascmon import crypto
from devices.models import Device


class Command(BaseCommand):
    help = "Re-encrypt the devices' client secrets with the newest key in ASCMON_ENCRYPTION_KEYS."

    def handle(self, *args, **options):
        rotated, unreadable = 0, []
        for pk, name, token in Device.objects.exclude(secret_encrypted="").values_list(
            "pk", "name", "secret_encrypted"
        ):
            try:
                fresh = crypto.rotate(token)
            except crypto.SecretUnreadable:
                unreadable.append(name)
                continue
            rotated += Device.objects.filter(pk=pk, secret_encrypted=token).update(secret_encrypted=fresh)
        self.stdout.write(f"{rotated} device secret(s) re-encrypted with the newest key.")
        if unreadable:
            raise CommandError(
                f"{len(unreadable)} device secret(s) decrypt with none of the configured keys: "
                f"{', '.join(sorted(unreadable))}. Enter their client secrets again (Devices → edit)."
            )
