"""URL and credential templates in manifests: `{config.api_url}`, `https://{config.subdomain}.zendesk.com`, `{api_key}`.

Shared by the typed manifest (which placeholders decide a request's host) and the engine (filling them in).
"""

from __future__ import annotations

import re

PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_.\-\[\]]*)\}")


def placeholders(template: str) -> list[str]:
    return PLACEHOLDER.findall(template)


def authority_end(template: str) -> int:
    """Where the template's host part ends: placeholders before it decide where requests go."""
    start = template.find("://")
    if start < 0:
        return 0
    slash = template.find("/", start + 3)
    return len(template) if slash < 0 else slash


def host_placeholders(template: str) -> list[str]:
    """The placeholders (`config.api_url`, `credentials.instance_url`) that start the URL or sit in its host."""
    end = authority_end(template)
    return [m.group(1) for m in PLACEHOLDER.finditer(template) if m.start() == 0 or m.start() < end]
