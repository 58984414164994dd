from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from connectors.catalog.loader import ManifestError
from connectors.catalog.sync import sync_catalog


class Command(BaseCommand):
    help = "Load the connector catalog (built-in manifests and PATCHBAY_CATALOG_DIRS) into the database. Idempotent."

    def handle(self, *args, **options) -> None:
        try:
            sync_catalog(verbosity=options["verbosity"], write=self.stdout.write)
        except ManifestError as exc:
            raise CommandError(str(exc)) from exc
