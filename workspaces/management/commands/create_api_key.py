from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from core.errors import InvalidInput
from workspaces.models import Workspace
from workspaces.services import api_key_create


class Command(BaseCommand):
    help = "Create an API key for a workspace. The key is printed once, alone on the last line."

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument("--workspace", required=True, help="Workspace slug.")
        parser.add_argument("--name", required=True)

    def handle(self, *args, **options) -> None:
        workspace = Workspace.objects.filter(slug=options["workspace"]).first()
        if workspace is None:
            raise CommandError(f"No workspace has the slug {options['workspace']!r}.")
        try:
            key, raw = api_key_create(workspace=workspace, name=options["name"])
        except InvalidInput as exc:
            raise CommandError(exc.message) from exc
        self.stderr.write(f"API key {key.name!r} for {workspace.slug}; store it now, it is not shown again:")
        self.stdout.write(raw)
