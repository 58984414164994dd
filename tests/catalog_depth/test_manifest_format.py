"""The manifest keys issue 11 added: entity, action and param aliases, credential aliases, path params with slashes,
value templates and config-derived headers; and the loader refusing aliases that are ambiguous."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from connectors.catalog import ManifestError, UnknownOperation, build_manifest
from connectors.catalog.loader import validate_manifest
from connectors.engine.request import config_headers

BASE: dict[str, Any] = {
    "definition_id": "3f0c7c1e-8a55-4c47-9a5e-0d6d2b7d4a10",
    "slug": "billing-internal",
    "name": "Billing",
    "version": "1.0.0",
    "base_url": "https://billing.example.com",
    "headers": {"X-Tenant": "{config.tenant}", "Accept": "application/json"},
    "config_schema": {"type": "object", "properties": {"tenant": {"type": "string"}}},
    "auth_schemes": [
        {
            "key": "api_key",
            "title": "API key",
            "type": "api_key",
            "credentials_schema": {
                "type": "object",
                "required": ["api_key"],
                "additionalProperties": False,
                "properties": {"api_key": {"type": "string", "secret": True}},
            },
            "credential_aliases": {"token": "api_key"},
            "apply": [{"type": "bearer", "field": "api_key"}],
        }
    ],
    "check": {"entity": "me", "action": "get"},
    "entities": {
        "invoices": {
            "aliases": ["bills"],
            "actions": {
                "get": {
                    "method": "GET",
                    "path": "/invoices/{invoice}",
                    "aliases": ["retrieve", "me.invoice"],
                    "params": {
                        "type": "object",
                        "required": ["invoice"],
                        "properties": {"invoice": {"type": "string", "in": "path", "aliases": ["id"]}},
                    },
                }
            },
        },
        "account": {"actions": {"get": {"method": "GET", "path": "/account", "aliases": ["me.get"]}}},
    },
}


def manifest_data(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(BASE)
    data.update(changes)
    return data


def test_every_kind_of_alias_resolves() -> None:
    validate_manifest(BASE, path="billing.yaml")  # the check names an action through a cross-entity alias
    manifest = build_manifest(BASE)
    get = manifest.action("invoices", "get")
    assert manifest.action("bills", "get") is get
    assert manifest.action("invoices", "retrieve") is get
    assert manifest.action("bills", "retrieve") is get
    assert manifest.action("me", "invoice") is get
    assert manifest.action("me", "get") is manifest.action("account", "get")
    assert get.param_aliases == {"id": "invoice"}
    assert manifest.scheme("api_key").credential_aliases == {"token": "api_key"}
    assert manifest.operations() == {"invoices": ["get"], "account": ["get"]}
    assert manifest.aliases() == {
        "bills.get": "invoices.get",
        "bills.retrieve": "invoices.get",
        "invoices.retrieve": "invoices.get",
        "me.invoice": "invoices.get",
        "me.get": "account.get",
    }
    with pytest.raises(UnknownOperation):
        manifest.action("bills", "list")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["entities"]["invoices"].update(aliases=["account"]), "is an entity of its own"),
        (lambda d: d["entities"]["account"]["actions"]["get"].update(aliases=["invoices.get"]), "already names"),
        (lambda d: d["entities"]["account"]["actions"]["get"].update(aliases=["me.invoice"]), "already names"),
        (
            lambda d: d["entities"]["invoices"]["actions"]["get"]["params"]["properties"].update(
                id={"type": "string", "in": "query"}
            ),
            "is taken",
        ),
        (lambda d: d["auth_schemes"][0].update(credential_aliases={"token": "nope"}), "not a credential field"),
        (lambda d: d["auth_schemes"][0].update(credential_aliases={"api_key": "api_key"}), "own name"),
        (lambda d: d.update(check={"entity": "me", "action": "nothing"}), "is not an action"),
    ],
)
def test_the_loader_refuses_ambiguous_aliases(change, message) -> None:
    data = manifest_data()
    change(data)
    with pytest.raises(ManifestError, match=message):
        validate_manifest(data, path="billing.yaml")


def test_alias_names_are_checked_by_the_schema() -> None:
    data = manifest_data()
    data["entities"]["invoices"]["actions"]["get"]["aliases"] = ["a.b.c"]
    with pytest.raises(ManifestError, match=r"aliases\[0\]"):
        validate_manifest(data, path="billing.yaml")


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({"tenant": "acme"}, {"X-Tenant": "acme", "Accept": "application/json"}),
        ({}, {"Accept": "application/json"}),
        ({"tenant": ""}, {"Accept": "application/json"}),
    ],
)
def test_config_headers_are_sent_only_when_the_value_is_set(config, expected) -> None:
    assert config_headers(build_manifest(BASE), config) == expected


def test_a_config_header_value_cannot_smuggle_a_header() -> None:
    from core.errors import OperationInputError

    with pytest.raises(OperationInputError) as caught:
        config_headers(build_manifest(BASE), {"tenant": "acme\r\nX-Evil: 1"})
    assert caught.value.errors[0]["field"] == "replication_config.tenant"


def test_a_config_value_may_follow_another_and_only_another_of_this_manifest() -> None:
    """`derive: {config, values}`: the value another config field (or its default) maps to, unless set itself."""
    region = {"type": "string", "enum": ["us", "ca"], "default": "us"}
    host = {"type": "string", "derive": {"config": "region", "values": {"us": "us.example", "ca": "cloud.example"}}}
    data = manifest_data(config_schema={"type": "object", "properties": {"region": region, "host": host}})
    validate_manifest(data, path="billing.yaml")
    manifest = build_manifest(data)
    assert manifest.config_fallbacks({}, {})["host"] == "us.example"
    assert manifest.config_fallbacks({}, {"region": "ca"})["host"] == "cloud.example"
    assert manifest.derived_config({}, {"region": "eu"}) == {}  # no mapping: nothing derived

    data["config_schema"]["properties"]["host"]["derive"]["config"] = "zone"
    with pytest.raises(ManifestError, match="host.derive: 'zone' is not another config field"):
        validate_manifest(data, path="billing.yaml")
