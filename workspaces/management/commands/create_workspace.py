from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from core.errors import InvalidInput
from workspaces.services import workspace_create


class Command(BaseCommand):
    help = "Create a workspace, optionally with an existing user as its owner. Prints the slug last."

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument("name")
        parser.add_argument("--owner", help="Username of an existing user who becomes the owner.")

    def handle(self, *args, **options) -> None:
        owner = None
        if options["owner"]:
            owner = get_user_model().objects.filter(username=options["owner"]).first()
            if owner is None:
                raise CommandError(f"No user is called {options['owner']!r}.")
        try:
            workspace = workspace_create(name=options["name"], owner=owner)
        except InvalidInput as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"Created workspace {workspace.name!r}.")
        self.stdout.write(workspace.slug)
