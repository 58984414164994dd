from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from connectors.rotation import rotate_all


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored secret with the first key in PATCHBAY_ENCRYPTION_KEYS. "
        "Put the new key first, keep the old ones after it, run this, then drop the old keys. Safe to re-run."
    )

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args, **options) -> None:
        report = rotate_all(batch_size=options["batch_size"], write=self.stdout.write)
        if report.failed:
            raise CommandError(
                f"{len(report.failed)} secret(s) could not be decrypted with any configured key: "
                + ", ".join(report.failed[:20])
            )
        self.stdout.write(
            self.style.SUCCESS(f"Done: {report.rotated} re-encrypted, {report.current} already on the newest key.")
        )
