"""`make run`'s settings: no debug page, even locally, unless asked for."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_local_settings_have_debug_off_unless_asked():
    code = "import django; from django.conf import settings; django.setup(); print(settings.DEBUG)"
    base = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env = {**base, "DJANGO_SETTINGS_MODULE": "config.settings.local"}
    off = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert off.stdout.strip() == "False"
    on = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env={**env, "DJANGO_DEBUG": "true"}, capture_output=True, text=True
    )
    assert on.stdout.strip() == "True"
