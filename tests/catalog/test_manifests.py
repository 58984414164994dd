"""Every built-in manifest loads, validates and meets the catalog's bar; a broken one fails with file, path, message."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from connectors.catalog.loader import BUILTIN_DIR, ManifestError, load_catalog, load_file

REFERENCE = Path(__file__).resolve().parents[3] / "shared" / "reference" / "airbyte-agent-connectors.md"
# Ours only (Airbyte's agent connectors have no twin); every other built-in slug takes Airbyte's definition id.
OURS_ONLY = {"google-sheets": "71607ba1-c0ac-4799-8049-7f4b90dd50f7"}
CATALOG = {m.data["slug"]: m.data for m in load_catalog([BUILTIN_DIR])}
SLUGS = sorted(CATALOG)


def reference_section(slug: str) -> str | None:
    if not REFERENCE.exists():
        return None
    text = REFERENCE.read_text()
    start = text.find(f"\n## {slug}: ")
    if start < 0:
        return None
    end = text.find("\n## ", start + 1)
    return text[start : end if end > 0 else None]


def test_each_twin_has_airbytes_definition_id() -> None:
    assert set(OURS_ONLY) <= set(CATALOG)
    for slug, manifest in CATALOG.items():
        if slug in OURS_ONLY:
            assert manifest["definition_id"] == OURS_ONLY[slug]
            continue
        section = reference_section(slug)
        if section is None and not REFERENCE.exists():
            continue  # the reference is beside the project in CI; without it only the ours-only ids are checked
        assert section is not None, f"{slug} is neither ours-only nor in Airbyte's reference"
        assert f"- definition id: `{manifest['definition_id']}`" in section, slug


def test_ids_and_slugs_unique() -> None:
    loaded = load_catalog([BUILTIN_DIR])
    assert len({m.data["definition_id"] for m in loaded}) == len({m.data["slug"] for m in loaded}) == len(loaded)


@pytest.mark.parametrize("slug", SLUGS)
def test_operation_coverage(slug) -> None:
    entities = CATALOG[slug]["entities"]
    actions = [(entity, action) for entity, spec in entities.items() for action in spec["actions"]]
    check = CATALOG[slug]["check"]
    assert check["action"] in entities[check["entity"]]["actions"]
    section = reference_section(slug)
    if section is not None:
        # A twin's scope is Airbyte's operations (tests/catalog_depth checks each one); small APIs (Exa, Granola)
        # have fewer than the bar below.
        reference = set(re.findall(r"^  - `([a-z_]+\.[a-z_]+)` ", section, re.M))
        assert reference, slug
        return
    assert len(actions) >= 4
    with_list_and_get = [e for e, spec in entities.items() if {"list", "get"} <= set(spec["actions"])]
    assert len(with_list_and_get) >= 2, with_list_and_get
    assert any(action in ("create", "append") for _, action in actions)


@pytest.mark.parametrize("slug", SLUGS)
def test_auth_schemes_are_complete(slug) -> None:
    for scheme in CATALOG[slug]["auth_schemes"]:
        schema = scheme["credentials_schema"]
        assert schema.get("additionalProperties") is False
        for name, prop in schema["properties"].items():
            assert "order" in prop, (slug, scheme["key"], name)
            if name in (
                "client_secret",
                "access_token",
                "refresh_token",
                "api_key",
                "api_token",
                "token",
                "personal_access_token",
            ):
                assert prop.get("secret") is True, (slug, scheme["key"], name)
        grant = (scheme.get("oauth") or {}).get("grant", "authorization_code")
        if scheme["type"] == "oauth2" and grant != "authorization_code":
            # Tokens minted from pasted credentials (client credentials, JWT bearer): the token is Patchbay's to keep.
            assert "access_token" in schema["properties"] and "refresh_token" not in schema["properties"]
            assert "token_url" in scheme["oauth"] and (grant != "jwt_bearer" or "jwt" in scheme["oauth"])
        elif scheme["type"] == "oauth2":
            assert {"client_id", "client_secret", "refresh_token", "access_token"} <= set(schema["properties"])
            oauth = scheme["oauth"]
            for key in (
                "authorization_url",
                "token_url",
                "scopes",
                "scope_separator",
                "pkce",
                "client_auth",
                "token_body",
                "rotates_refresh_token",
            ):
                assert key in oauth, (slug, key)


def test_existing_scheme_contracts_are_kept() -> None:
    def schemes(slug: str) -> dict[str, dict]:
        return {s["key"]: s for s in CATALOG[slug]["auth_schemes"]}

    github = schemes("github")
    assert github["pat"]["title"] == "PAT Credentials"
    assert github["pat"]["credentials_schema"]["properties"]["option_title"]["const"] == "PAT Credentials"
    assert "personal_access_token" in github["pat"]["credentials_schema"]["properties"]
    assert "oauth" in github
    assert "repositories" in CATALOG["github"]["config_schema"]["required"]
    hubspot = schemes("hubspot")
    # Airbyte's replication shape marks each scheme with credentials_title (a const, never required).
    assert set(hubspot["oauth"]["credentials_schema"]["properties"]) == {
        "credentials_title",
        "client_id",
        "client_secret",
        "refresh_token",
        "access_token",
    }
    assert hubspot["oauth"]["credentials_schema"]["required"] == ["client_id", "client_secret", "refresh_token"]
    assert set(hubspot["private_app"]["credentials_schema"]["properties"]) == {"credentials_title", "access_token"}
    assert hubspot["private_app"]["credentials_schema"]["required"] == ["access_token"]
    assert set(schemes("stripe")["api_key"]["credentials_schema"]["properties"]) == {"api_key"}
    assert set(schemes("linear")["api_key"]["credentials_schema"]["properties"]) == {"api_key"}
    assert set(schemes("notion")["token"]["credentials_schema"]["properties"]) == {"token"}


def test_vendor_specific_oauth_details() -> None:
    def oauth(slug: str) -> dict:
        return next(s["oauth"] for s in CATALOG[slug]["auth_schemes"] if s["type"] == "oauth2")

    assert oauth("salesforce")["token_response_fields"] == ["instance_url"]
    assert [s["key"] for s in CATALOG["salesforce"]["auth_schemes"]] == ["oauth"]
    assert oauth("google-sheets")["authorize_params"]["access_type"] == "offline"
    assert oauth("google-sheets")["authorize_params"]["prompt"] == "consent"
    assert oauth("jira")["authorize_params"] == {"audience": "api.atlassian.com", "prompt": "consent"}
    assert oauth("slack")["scope_separator"] == oauth("linear")["scope_separator"] == ","
    assert oauth("notion")["client_auth"] == "basic"
    assert CATALOG["zendesk-support"]["base_url"] == "https://{config.subdomain}.zendesk.com"
    assert CATALOG["salesforce"]["base_url"].startswith("{credentials.instance_url}")
    assert CATALOG["github"]["base_url"] == "{config.api_url}"


def _write(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_broken_manifest_names_file_path_and_problem(tmp_path) -> None:
    data = yaml.safe_load((BUILTIN_DIR / "stripe.yaml").read_text())
    data["entities"]["customers"]["actions"]["list"]["method"] = "FETCH"
    path = _write(tmp_path, data)
    with pytest.raises(ManifestError) as caught:
        load_file(path)
    message = str(caught.value)
    assert str(path) in message
    assert "$.entities.customers.actions.list.method" in message
    assert "'FETCH' is not one of" in message


def test_yaml_flow_mapping_slip_is_caught(tmp_path) -> None:
    # An unquoted comma in a flow-style description silently creates a key with a null value.
    path = tmp_path / "slip.yaml"
    source = (
        (BUILTIN_DIR / "github.yaml")
        .read_text()
        .replace(
            "{type: string, in: query, description: Comma-separated label names.}",
            "{type: string, in: query, description: Comma, separated label names.}",
        )
    )
    path.write_text(source)
    with pytest.raises(ManifestError) as caught:
        load_catalog([tmp_path])
    assert "labels" in str(caught.value) and "slip.yaml" in str(caught.value)


def test_unknown_param_location_is_refused(tmp_path) -> None:
    data = yaml.safe_load((BUILTIN_DIR / "github.yaml").read_text())
    data["entities"]["users"]["actions"]["get"]["params"]["properties"]["username"]["in"] = "cookie"
    with pytest.raises(ManifestError) as caught:
        load_file(_write(tmp_path, data))
    assert "$.entities.users.actions.get.params.properties.username.in" in str(caught.value)


def test_duplicate_definition_id_is_refused(tmp_path) -> None:
    data = yaml.safe_load((BUILTIN_DIR / "github.yaml").read_text())
    data["slug"] = "github-copy"
    _write(tmp_path, data)
    with pytest.raises(ManifestError) as caught:
        load_catalog([BUILTIN_DIR, tmp_path])
    assert "ef69ef6e-aa7f-4af1-a01d-ef775033524e is already defined" in str(caught.value)


def test_the_fast_yaml_loader_reads_every_manifest_as_the_reference_one_does():
    """The loader parses with libyaml's safe loader when PyYAML has it: the catalog must come out the same."""
    for path in sorted(BUILTIN_DIR.glob("*.yaml")):
        assert load_file(path).data == yaml.safe_load(path.read_text()), path.name
