import json

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from storage_logs.aggregate import DEFAULT_POLICIES
from storage_logs.models import AggregationPolicy
from storage_logs.reduce import log_files, reduce_paths


class Command(BaseCommand):
    help = "Parse and aggregate classic .log files or Azure Monitor JSON offline; print one JSON object."

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", help="files or folders")
        parser.add_argument("--workers", type=int, default=None, help="processes (default: one per core)")
        parser.add_argument(
            "--default-policies", action="store_true", help="ignore the policies in the database"
        )

    def handle(self, *args, paths, workers, default_policies, **options):
        if not log_files(paths):
            raise CommandError("No .log or .json files found in the given paths.")
        policies = DEFAULT_POLICIES
        if not default_policies:
            try:
                policies = AggregationPolicy.current()
            except DatabaseError:
                policies = DEFAULT_POLICIES
        self.stdout.write(json.dumps(reduce_paths(paths, policies, workers)))
