"""Every manifest, every auth scheme: its check operation and a list action run against a loopback stub."""

from __future__ import annotations

import base64
import json
import re
from typing import Any
from urllib.parse import parse_qsl

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from werkzeug import Request, Response

from connectors.catalog.loader import BUILTIN_DIR, load_catalog
from connectors.engine import Limits, execute_operation
from tests.engine.conftest import point_at

CATALOG = {m.data["slug"]: m.data for m in load_catalog([BUILTIN_DIR])}
CONFIG = {
    "github": {"repositories": ["octo/hello"]},
    "jira": {"site": "acme.atlassian.net", "cloud_id": "11111111-2222-3333-4444-555555555555"},
    "snowflake": {"account": "xy12345.us-east-2.aws"},
    "zendesk-support": {"subdomain": "acme"},
}
SIGNING_KEY = (
    rsa.generate_private_key(public_exponent=65537, key_size=2048)
    .private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    .decode()
)
CASES = [(slug, scheme["key"]) for slug, m in sorted(CATALOG.items()) for scheme in m["auth_schemes"]]


def credentials_for(scheme: dict[str, Any]) -> dict[str, Any]:
    creds: dict[str, Any] = {}
    for name, prop in scheme["credentials_schema"].get("properties", {}).items():
        if "const" in prop:
            creds[name] = prop["const"]
        elif name == "instance_url":
            creds[name] = "https://acme.my.salesforce.com"
        else:
            creds[name] = f"tok-{name}-9f3a"
    for rule in scheme["apply"]:
        if rule["type"] == "jwt":  # a private key the engine can sign with
            creds[rule["jwt"].get("private_key", "private_key")] = SIGNING_KEY
    return creds


def sample(schema: dict[str, Any]) -> Any:
    kind = schema.get("type")
    if "enum" in schema:
        return schema["enum"][0]
    if kind == "integer":
        return max(1, schema.get("minimum", 1))
    if kind == "boolean":
        return True
    if kind == "array":
        return [sample(schema.get("items") or {"type": "string"})]
    if kind == "object":
        return {k: sample(schema["properties"][k]) for k in schema.get("required", [])}
    return "x1"


def required_sample(action: dict[str, Any]) -> dict[str, Any]:
    params = action.get("params") or {}
    return {name: sample(params["properties"][name]) for name in params.get("required", [])}


def list_action(manifest: dict[str, Any]) -> tuple[str, str]:
    for entity, spec in manifest["entities"].items():
        action = spec["actions"].get("list")
        if action and not (action.get("params") or {}).get("required"):
            return entity, "list"
    return next((e, "list") for e, spec in manifest["entities"].items() if "list" in spec["actions"])


def expected_path(action: dict[str, Any], params: dict[str, Any]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: str(params[m.group(1)]), action["path"])


@pytest.mark.parametrize(("slug", "scheme_key"), CASES)
def test_check_and_list_against_stub(httpserver, slug, scheme_key) -> None:
    seen: list[Request] = []

    def handler(request: Request) -> Response:
        seen.append(request)
        request.get_data()
        return Response(json.dumps({"ok": True}), content_type="application/json")

    httpserver.expect_request(re.compile(".*")).respond_with_handler(handler)
    manifest = CATALOG[slug]  # the expectations; the engine runs the typed manifest, aimed at the stub
    typed = point_at(manifest, httpserver.url_for(""))
    scheme = next(s for s in manifest["auth_schemes"] if s["key"] == scheme_key)
    creds = credentials_for(scheme)
    check = manifest["check"]
    list_entity, list_name = list_action(manifest)
    operations = [
        (check["entity"], check["action"], check.get("params") or {}),
        (list_entity, list_name, required_sample(manifest["entities"][list_entity]["actions"][list_name])),
    ]
    for entity, action, params in operations:
        before = len(seen)
        result = execute_operation(
            manifest=typed,
            auth_scheme=scheme_key,
            credentials=creds,
            config=CONFIG.get(slug, {}),
            entity=entity,
            action=action,
            params=params,
            limits=Limits(max_attempts=1),
        )
        assert result.status_code == 200 and result.attempts == 1
        request = seen[before]
        spec = manifest["entities"][entity]["actions"][action]
        assert request.method == spec["method"]
        assert request.path == expected_path(spec, params)
        for rule in scheme["apply"]:
            if rule["type"] == "bearer":
                assert request.headers["Authorization"] == f"Bearer {creds[rule['field']]}"
            elif rule["type"] == "header":
                assert request.headers[rule["name"]] == re.sub(r"\{(\w+)\}", lambda m: creds[m.group(1)], rule["value"])
            elif rule["type"] == "basic":
                user = re.sub(r"\{(\w+)\}", lambda m: creds[m.group(1)], rule["username"])
                password = re.sub(r"\{(\w+)\}", lambda m: creds[m.group(1)], rule["password"])
                assert base64.b64decode(request.headers["Authorization"][6:]).decode() == f"{user}:{password}"
            elif rule["type"] == "query":
                assert dict(parse_qsl(request.query_string.decode()))[rule["name"]]
            elif rule["type"] == "jwt":  # a signed token (tests/engine/test_jwt_apply.py checks its claims)
                header = request.headers[rule.get("name") or "Authorization"]
                assert header.startswith(rule.get("prefix", "Bearer ") + "ey") and header.count(".") >= 2
        defaults = {
            k: str(v["default"])
            for k, v in ((manifest.get("config_schema") or {}).get("properties") or {}).items()
            if isinstance(v, dict) and v.get("default") not in (None, "")
        }
        for name, value in (manifest.get("headers") or {}).items():
            filled = re.sub(r"\{config\.(\w+)\}", lambda m, d=defaults: d.get(m.group(1), "{}"), value)
            if "{config." in value and "{}" in filled:
                # sent only when that config value is set (Stripe-Account from account_id)
                assert name not in request.headers
            elif "{config." in value:  # a config field with a default (LinkedIn-Version from api_version)
                assert request.headers[name] == filled
            else:
                assert request.headers[name] == value
