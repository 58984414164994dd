"""Loads the catalog into ConnectorDefinition rows. Idempotent: `migrate` and `manage.py sync_catalog` both call it."""

from __future__ import annotations

import json
from collections.abc import Callable

from django.db import transaction

from connectors.models import ConnectorDefinition

from .loader import ManifestError, load_catalog


@transaction.atomic
def sync_catalog(*, verbosity: int = 1, write: Callable[[str], object] = print) -> dict[str, int]:
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    for loaded in load_catalog():
        data = loaded.data
        clash = ConnectorDefinition.objects.filter(slug=data["slug"]).exclude(pk=data["definition_id"]).first()
        if clash is not None:
            raise ManifestError(f"{loaded.path}: slug {data['slug']!r} already belongs to definition {clash.pk}")
        fields = {
            "slug": data["slug"],
            "name": data["name"],
            "icon": data.get("icon", ""),
            "manifest_json": json.dumps(data),
            "version": str(data["version"]),
            "source_path": loaded.path.name,
        }
        existing = ConnectorDefinition.objects.filter(pk=data["definition_id"]).first()
        if existing is None:
            ConnectorDefinition.objects.create(id=data["definition_id"], **fields)
            counts["created"] += 1
        elif any(getattr(existing, k) != v for k, v in fields.items()):
            for key, value in fields.items():
                setattr(existing, key, value)
            existing.save()
            counts["updated"] += 1
        else:
            counts["unchanged"] += 1
    if verbosity:
        write("  Catalog: {created} created, {updated} updated, {unchanged} unchanged connector types".format(**counts))
    return counts
