"""Identifier helpers shared by every layer."""

from __future__ import annotations

import uuid
from typing import Any


def is_uuid(value: Any) -> bool:
    """Whether `value` reads as a UUID (a connector id), as opposed to a slug or a name."""
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True
