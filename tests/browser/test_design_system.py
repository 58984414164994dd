"""New pages are accessible by default: the design system's rules, checked where a template author would break them."""

from __future__ import annotations

import re
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def test_every_scrolling_table_is_a_labelled_focusable_region():
    offenders = []
    for path in TEMPLATES.rglob("*.html"):
        for tag in re.findall(r"<(?:div|section)[^>]*class=\"[^\"]*table-card[^\"]*\"[^>]*>", path.read_text()):
            labelled = "aria-label=" in tag or "aria-labelledby=" in tag
            if 'tabindex="0"' not in tag or not labelled:
                offenders.append(f"{path.relative_to(TEMPLATES)}: {tag}")
    assert not offenders, "\n".join(offenders)
