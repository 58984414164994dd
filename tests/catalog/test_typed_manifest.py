"""The typed manifest: built once from the validated files plus overrides, in file order, with what callers need."""

from __future__ import annotations

import dataclasses

import pytest

from connectors.catalog import UnknownAuthScheme, UnknownOperation, build_manifest, manifest_for
from connectors.catalog.loader import BUILTIN_DIR, load_catalog
from connectors.models import ConnectorDefinition

RAW = {m.data["slug"]: m.data for m in load_catalog([BUILTIN_DIR])}
TYPED = {slug: build_manifest(data) for slug, data in RAW.items()}


@pytest.mark.parametrize("slug", sorted(RAW))
def test_order_of_the_file_is_kept(slug) -> None:
    raw, typed = RAW[slug], TYPED[slug]
    assert list(typed.entities) == list(raw["entities"])
    for name, entity in raw["entities"].items():
        assert list(typed.entities[name].actions) == list(entity["actions"])
    assert [s.key for s in typed.auth_schemes] == [s["key"] for s in raw["auth_schemes"]]
    for scheme, raw_scheme in zip(typed.auth_schemes, raw["auth_schemes"], strict=True):
        assert list(scheme.credential_properties) == list(raw_scheme["credentials_schema"].get("properties", {}))


def test_it_is_immutable() -> None:
    github = TYPED["github"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        github.base_url = "https://evil.example.com"  # type: ignore[misc]
    with pytest.raises(TypeError):
        github.entities["issues"] = github.entities["users"]  # type: ignore[index]


def test_scheme_and_action_lookups_say_what_exists() -> None:
    github = TYPED["github"]
    assert github.scheme("pat").title and github.find_scheme("nope") is None
    with pytest.raises(UnknownAuthScheme, match=r"Unknown auth scheme 'nope'\. Available: pat, oauth\."):
        github.scheme("nope")
    assert github.oauth_scheme().key == "oauth" and github.oauth_scheme("pat") is None
    assert TYPED["stripe"].oauth_scheme() is None
    assert github.action("issues", "list").method == "GET"
    with pytest.raises(UnknownOperation, match="Available actions: list, get, create"):
        github.action("issues", "delete")
    assert github.operations()["issues"] == ["list", "get", "create", "update", "search"]
    assert github.check is not None and github.check.entity


def test_action_defaults() -> None:
    linear, stripe = TYPED["linear"], TYPED["stripe"]
    query, mutation = linear.action("issues", "list"), linear.action("issues", "create")
    assert (query.body_kind, query.is_read_only, query.is_idempotent) == ("graphql", True, True)
    assert (mutation.body_kind, mutation.is_read_only, mutation.is_idempotent) == ("graphql", False, False)
    create = stripe.action("customers", "create")
    assert (create.body_kind, create.is_read_only, create.is_idempotent) == ("form", False, False)
    assert stripe.idempotency_header == "Idempotency-Key"
    assert stripe.action("customers", "list").is_paginated and not stripe.action("customers", "get").is_paginated


def test_overrides_reach_every_url_of_the_type() -> None:
    sheets = build_manifest(RAW["google-sheets"], {"base_url": "http://127.0.0.1:9", "token_url": "http://t/token"})
    oauth = sheets.oauth_scheme().oauth
    assert oauth.token_url == "http://t/token"
    assert oauth.authorization_url == RAW["google-sheets"]["auth_schemes"][0]["oauth"]["authorization_url"]
    assert set(sheets.url_templates()) == {"http://127.0.0.1:9", *oauth.urls().values()}
    assert any(a.base_url == "http://127.0.0.1:9" for a in sheets.actions())  # the Drive actions follow


def test_host_fields() -> None:
    assert TYPED["github"].host_fields() == {"replication_config.api_url"}
    assert TYPED["zendesk-support"].host_fields() >= {"replication_config.subdomain"}
    assert TYPED["salesforce"].host_fields() == {"credentials.instance_url"}
    jira = TYPED["jira"]
    assert jira.host_fields() == {"replication_config.site"}  # cloud_id is a path segment of the OAuth gateway
    assert jira.base_url_for(jira.action("users", "me"), jira.scheme("oauth")) == jira.scheme("oauth").base_url
    assert jira.base_url_for(jira.action("users", "me"), jira.scheme("api_token")) == jira.base_url


@pytest.mark.django_db
def test_manifest_for_is_built_once_per_version_and_overrides(settings) -> None:
    definition = ConnectorDefinition.objects.get(slug="github")
    first = manifest_for(definition)
    deferred = ConnectorDefinition.objects.defer("manifest_json").get(pk=definition.pk)
    assert manifest_for(deferred) is first
    assert "manifest_json" in deferred.get_deferred_fields()  # served from the cache: the text was never read

    settings.PATCHBAY_CATALOG_OVERRIDES = {"github": {"base_url": "https://github.example.com/api/v3"}}
    overridden = manifest_for(definition)
    assert overridden is not first and overridden.base_url == "https://github.example.com/api/v3"

    definition.save()  # a catalog change bumps updated_at
    assert manifest_for(definition) is not overridden
