"""Django's manage.py for the test authorization server, for poking at it by hand (serve.py migrates by itself)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    os.environ["DJANGO_SETTINGS_MODULE"] = "authserver.settings"
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
