from __future__ import annotations

import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from workspaces.models import Workspace
from workspaces.services import workspace_create


class Command(BaseCommand):
    help = "First start of `make run`: an admin user and a workspace, and how to log in. Does nothing afterwards."

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument("--url", default="http://127.0.0.1:8000", help="Where `make run` serves (HOST and PORT).")

    def handle(self, *args, **options) -> None:
        User = get_user_model()  # noqa: N806
        if User.objects.filter(is_superuser=True).exists():
            return
        url = options["url"].rstrip("/")
        password = secrets.token_urlsafe(12)
        user = User.objects.create_superuser("admin", "admin@localhost", password)
        if not Workspace.objects.exists():
            workspace_create(name="Default", owner=user)
        creds = settings.BASE_DIR / ".local" / "admin-password.txt"
        creds.parent.mkdir(parents=True, exist_ok=True)
        creds.write_text(f"username: admin\npassword: {password}\n")
        creds.chmod(0o600)
        self.stdout.write(
            self.style.SUCCESS(
                "\n  Created the first admin user.\n"
                f"  Dashboard: {url}/   (admin: {url}/admin/)\n"
                f"  Username:  admin\n  Password:  {password}\n"
                f"  (also saved in {creds}; change it under Account > Password)\n"
            )
        )
