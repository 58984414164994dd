"""Loopback stand-ins for the services at parity with Airbyte's agent connectors (docs/catalog.md, "Coverage")."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest
from werkzeug import Request, Response

from connectors.catalog import Manifest, build_manifest
from tests.engine.conftest import RAW

REFERENCE = Path(__file__).resolve().parents[3] / "shared" / "reference" / "airbyte-agent-connectors.md"


def reference_operations(slug: str) -> set[str] | None:
    """entity.action of every operation the reference lists for a service (None when the file is not there)."""
    if not REFERENCE.exists():
        return None
    text = REFERENCE.read_text()
    start = text.index(f"\n## {slug}: ")
    end = text.find("\n## ", start + 1)
    return set(re.findall(r"^  - `([a-z_]+\.[a-z_]+)` ", text[start : end if end > 0 else None], re.M))


def query_of(request: Request) -> dict[str, str]:
    """A recorded request's query string as a dict (the last value of a repeated name)."""
    return dict(parse_qsl(request.query_string.decode(), keep_blank_values=True))


@dataclass
class Recorder:
    """Records every request and answers with the next canned response (status, JSON body, headers)."""

    answers: list[tuple[int, Any, dict[str, str]]] = field(default_factory=list)
    requests: list[Request] = field(default_factory=list)
    bodies: list[bytes] = field(default_factory=list)

    def answer(self, body: Any, *, status: int = 200, headers: dict[str, str] | None = None) -> None:
        self.answers.append((status, body, headers or {}))

    def __call__(self, request: Request) -> Response:
        self.requests.append(request)
        self.bodies.append(request.get_data())
        status, body, headers = self.answers.pop(0) if self.answers else (200, {}, {})
        return Response(json.dumps(body), status=status, headers=headers, content_type="application/json")

    @property
    def last(self) -> Request:
        return self.requests[-1]


@pytest.fixture
def vendor(httpserver) -> Recorder:
    recorder = Recorder()
    httpserver.expect_request(re.compile(".*")).respond_with_handler(recorder)
    return recorder


@pytest.fixture(scope="session")
def manifests() -> dict[str, Manifest]:
    return {slug: build_manifest(data) for slug, data in RAW.items()}
