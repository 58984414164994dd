"""The typed manifest: one immutable object per connector definition (docs/catalog.md, "The typed manifest").

`loader.build_manifest` builds it once from the validated YAML plus this deployment's PATCHBAY_CATALOG_OVERRIDES, and
`connectors.catalog.manifest_for(definition)` hands out the cached object. Everything else reads attributes and calls
the methods here; no code outside the loader reads manifest dicts.

JSON Schema documents (a scheme's `credentials_schema`, `config_schema`, an action's `params`) and JSON values
(`defaults`, check params) stay plain dicts: they are data for jsonschema and for requests. They are shared by every
caller: copy before changing one.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, ClassVar

from .templates import host_placeholders

EMPTY: Mapping[str, Any] = MappingProxyType({})


def _empty() -> Mapping[str, Any]:
    return EMPTY


OAUTH2 = "oauth2"
# How a scheme gets its tokens (docs/catalog.md, "OAuth blocks"): a user's consent (authorization code), the client's
# own credentials (RFC 6749 4.4), or a JWT signed with a service account's key (RFC 7523).
AUTHORIZATION_CODE = "authorization_code"
CLIENT_CREDENTIALS = "client_credentials"
JWT_BEARER = "jwt_bearer"
# Methods that are safe to send twice (RFC 9110 9.2.2); POST and PATCH are not.
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
READ_METHODS = frozenset({"GET", "HEAD"})
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH"})


class UnknownOperation(LookupError):
    """No such entity or action. `available` maps each entity to its action names."""

    code = "unknown_operation"

    def __init__(self, entity: str, action: str | None, available: dict[str, list[str]]) -> None:
        self.entity = entity
        self.action = action
        self.available = available
        if entity not in available:
            message = f"Unknown entity {entity!r}. Available entities: {', '.join(sorted(available)) or 'none'}."
        else:
            message = (
                f"Unknown action {action!r} for entity {entity!r}. Available actions: {', '.join(available[entity])}."
            )
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class UnknownAuthScheme(LookupError):
    """The manifest has no auth scheme with this key (a connector's scheme was removed from the catalog, say)."""

    code = "unknown_auth_scheme"

    def __init__(self, key: str | None, available: list[str]) -> None:
        self.key = key
        self.available = available
        self.message = f"Unknown auth scheme {key!r}. Available: {', '.join(available)}."
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


# A claim template of a `jwt` apply rule: `{name}` or `{name|filter|...}`; a name is a credential field,
# `config.NAME` or `public_key_fingerprint` (docs/catalog.md, "Apply styles").
CLAIM_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_.\-]*)((?:\|[a-z_]+)*)\}")
# upper / lower: change case; first_label: the text before the first dot (an account locator without its region).
CLAIM_FILTERS = frozenset({"upper", "lower", "first_label"})
FINGERPRINT = "public_key_fingerprint"


@dataclass(frozen=True, slots=True)
class ApplyRule:
    """How credentials go on a request: bearer, header, basic, query or jwt (docs/catalog.md, "Apply styles")."""

    type: str
    field: str = "access_token"  # bearer: the credential holding the token
    name: str = ""  # header / query: its name (jwt: the header, default Authorization)
    value: str = ""  # header / query: a template over credential fields
    username: str = ""  # basic: template
    password: str = ""  # basic: template
    prefix: str = "Bearer "  # jwt: what goes before the signed token in the header
    jwt: JwtSpec | None = None  # jwt: how the token is signed (private_key, algorithm, lifetime, claims, key_id)

    def claim_fields(self) -> list[str]:
        """jwt: the credential fields the claim templates read (not config.* nor the computed fingerprint)."""
        if self.jwt is None:
            return []
        names = [m.group(1) for t in self.jwt.claims.values() for m in CLAIM_PLACEHOLDER.finditer(t)]
        return [n for n in names if not n.startswith("config.") and n != FINGERPRINT]


def derive_rules(prop: Any) -> list[Mapping[str, Any]]:
    """A config property's `derive` rules: none, the one it declares, or its list of them in order."""
    rules = prop.get("derive") if isinstance(prop, Mapping) else None
    return [rules] if isinstance(rules, Mapping) else list(rules or ())


@dataclass(frozen=True, slots=True)
class JwtSpec:
    """How a `jwt_bearer` scheme signs its assertion (RFC 7523 2.1). Claim values are templates over the credentials
    (plus the fields of the JSON document in `key_json`, a pasted service-account key) and `{token_url}`."""

    private_key: str = "private_key"  # the credential (or key-JSON) field holding the PEM private key
    passphrase: str | None = None  # the credential field holding an encrypted key's passphrase, when one may be given
    key_id: str | None = None  # the field whose value goes in the JWT header's `kid`
    key_json: str | None = None  # a credential holding a whole JSON key file (Google's service account JSON)
    algorithm: str = "RS256"
    claims: Mapping[str, str] = field(default_factory=_empty)  # iss, sub, aud...: templates; empty ones are dropped
    scope_claim: str | None = "scope"  # the claim carrying the scopes (Google), None when scopes go elsewhere
    lifetime: int = 3600  # seconds from iat to exp


@dataclass(frozen=True, slots=True)
class OAuthSpec:
    """A scheme's `oauth` block. URLs may hold `{config.x}` placeholders until the OAuth layer fills them in."""

    URL_KEYS: ClassVar[tuple[str, ...]] = ("authorization_url", "token_url", "revoke_url", "account_url")

    authorization_url: str = ""  # empty for grants without a user (client_credentials, jwt_bearer)
    token_url: str = ""
    revoke_url: str | None = None
    grant: str = AUTHORIZATION_CODE  # authorization_code | client_credentials | jwt_bearer
    scopes: tuple[str, ...] = ()
    scope_separator: str = " "
    scope_param: str = "scope"
    pkce: bool = True
    client_auth: str = "basic"  # basic: HTTP Basic; body: client_id/client_secret in the token request body
    token_body: str = "form"  # noqa: S105 - the token request's encoding (form | json), not a credential
    rotates_refresh_token: bool = False
    default_expires_in: int | None = None
    authorize_params: Mapping[str, str] = field(default_factory=_empty)
    token_response_fields: tuple[str, ...] = ()
    # Nested token answers: the dotted path to the object holding access_token (`data` for {"data": {...}}).
    token_path: str | None = None
    # False: access tokens are long-lived (no expiry, usually no refresh token); an `expires_in` of 0 means none.
    token_expires: bool = True
    jwt: JwtSpec | None = None  # jwt_bearer only
    # What the token answer leaves out and the provider tells on a call after it (Mailchimp's data centre, Harvest's
    # account id): fetched once per consent with the new access token; each credential field <- a path in the answer.
    account_url: str | None = None
    account_authorization: str = "Bearer {access_token}"
    account_fields: Mapping[str, str] = field(default_factory=_empty)

    @property
    def uses_consent(self) -> bool:
        """Whether tokens come from a user's consent (the redirect flow) rather than from credentials alone."""
        return self.grant == AUTHORIZATION_CODE

    def urls(self) -> dict[str, str]:
        """The endpoints this provider has, by key (authorization_url, token_url, revoke_url)."""
        return {key: url for key in self.URL_KEYS if (url := getattr(self, key))}


@dataclass(frozen=True, slots=True)
class AuthScheme:
    key: str
    title: str
    type: str  # api_key | basic | oauth2
    credentials_schema: dict[str, Any]
    apply: tuple[ApplyRule, ...]
    description: str = ""
    base_url: str | None = None  # replaces the manifest's base_url for this scheme (Jira OAuth)
    oauth: OAuthSpec | None = None
    # alias -> credential field: names another product uses for our fields (Airbyte's `token`), mapped on input.
    credential_aliases: Mapping[str, str] = field(default_factory=_empty)

    @property
    def is_oauth(self) -> bool:
        """Whether Patchbay manages this scheme's access tokens (obtains, caches and refreshes them)."""
        return self.type == OAUTH2 and self.oauth is not None

    @property
    def uses_consent(self) -> bool:
        """An OAuth scheme connected through the redirect flow ("Connect <Service>"), not by credentials alone."""
        return self.oauth is not None and self.is_oauth and self.oauth.uses_consent

    @property
    def mints_tokens(self) -> bool:
        """An OAuth scheme whose tokens Patchbay requests from pasted credentials alone (client credentials,
        JWT bearer): no user, no refresh token; a new token is requested whenever the cached one runs out."""
        return self.is_oauth and not self.uses_consent

    @property
    def credential_properties(self) -> Mapping[str, Any]:
        return self.credentials_schema.get("properties") or {}


@dataclass(frozen=True, slots=True)
class Pagination:
    """One pagination style and its keys (docs/catalog.md, "Pagination"); unused keys keep their defaults."""

    type: str = "none"  # link_header | cursor | graphql | offset | next_url | page | none
    cursor_param: str = "cursor"
    cursor_in: str | None = None  # query | body | variables (GraphQL); None: by method and body kind
    next_cursor: str = "next_cursor"
    has_more: str | None = None
    page_info: str = "pageInfo"
    cursor_variable: str = "after"
    offset_param: str = "offset"
    limit_param: str = "limit"
    total: str | None = None
    is_last: str | None = None
    next_url: str = "next"
    done: str | None = None
    # Exports that always give a next cursor (Zendesk's incremental exports): a next page only when this one held
    # a full page: the request's limit_param if sent, else this many records.
    full_page: int | None = None
    # Page numbers (ClickUp's `page`, from 0): the next page is this one's number plus one.
    page_param: str = "page"
    first_page: int = 1

    @property
    def enabled(self) -> bool:
        return self.type != "none"


# Actions with these names only read, whatever their method (HubSpot's and Notion's searches are POSTs).
READ_ACTION_NAMES = frozenset({"list", "get", "search", "query"})


@dataclass(frozen=True, slots=True)
class Action:
    entity: str
    name: str
    method: str
    path: str
    description: str = ""
    body: str | None = None  # as declared; `body_kind` says what is sent
    graphql_query: str | None = None  # the GraphQL document, when the action has a `graphql` block
    headers: Mapping[str, str] = field(default_factory=_empty)
    params: dict[str, Any] | None = None  # the JSON Schema of the caller's params, as declared
    records: str | None = None  # dotted path to the result in the response body
    record: str | None = None  # dotted path, inside each listed item, to the object it wraps (Snap's sub-requests)
    pagination: Pagination = field(default_factory=Pagination)
    base_url: str | None = None  # replaces the manifest's (and scheme's) base_url for this action
    idempotent: bool | None = None  # as declared; `is_idempotent` has the default
    read_only: bool | None = None  # as declared; `is_read_only` has the default
    defaults: dict[str, Any] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()  # other names of this action: `name` (same entity) or `entity.name`
    response: str = "json"  # json | binary: a successful answer's body is file content, not JSON
    # An answer without a body (LinkedIn's 201 with the new id in `x-restli-id`): the result is these response headers,
    # as {result field: header name}.
    result_headers: Mapping[str, str] = field(default_factory=_empty)

    @property
    def body_kind(self) -> str:
        """json | form | graphql | none: the declared `body`, else graphql with a document, else by method."""
        if self.body:
            return self.body
        if self.graphql_query is not None:
            return "graphql"
        return "json" if self.method in WRITE_METHODS else "none"

    @property
    def is_graphql_query(self) -> bool:
        return self.body_kind == "graphql" and not (self.graphql_query or "").lstrip().startswith("mutation")

    @property
    def is_read_only(self) -> bool:
        """Whether the action only reads: as the manifest says, else GET/HEAD, actions named like reads (`list`,
        `get`, `search`, `query`: a search is often a POST) and GraphQL queries."""
        if self.read_only is not None:
            return self.read_only
        if self.method in READ_METHODS or self.name in READ_ACTION_NAMES:
            return True
        # A GraphQL query declared as such (`body: graphql`); a mutation writes.
        return self.body == "graphql" and not (self.graphql_query or "").lstrip().startswith("mutation")

    @property
    def is_idempotent(self) -> bool:
        """Safe to retry after a 5xx or a dropped connection (before any idempotency header is considered)."""
        if self.idempotent is not None:
            return self.idempotent
        return self.method in IDEMPOTENT_METHODS or self.is_graphql_query

    @property
    def is_paginated(self) -> bool:
        return self.pagination.enabled

    @property
    def param_properties(self) -> Mapping[str, Any]:
        return (self.params or {}).get("properties") or {}

    @property
    def whole_body_param(self) -> str | None:
        """The param whose value is the entire JSON body (`whole_body: true`; HubSpot's association labels are a
        JSON array), if the action has one."""
        return next(
            (n for n, p in self.param_properties.items() if isinstance(p, dict) and p.get("whole_body")),
            None,
        )

    @property
    def param_aliases(self) -> dict[str, str]:
        """alias -> param name, from each params property's `aliases` (Stripe's `id` for `customer`)."""
        return {
            alias: name
            for name, prop in self.param_properties.items()
            if isinstance(prop, dict)
            for alias in prop.get("aliases") or ()
        }


@dataclass(frozen=True, slots=True)
class Entity:
    name: str
    actions: Mapping[str, Action]
    description: str = ""
    aliases: tuple[str, ...] = ()  # other names callers may use for this entity


@dataclass(frozen=True, slots=True)
class ErrorSpec:
    """Vendor quirks: errors in 200 answers (Slack's `ok`), GraphQL errors, vendor codes (docs/catalog.md, "Errors")."""

    ok_field: str | None = None
    message_field: str | None = None
    code_field: str | None = None
    graphql: bool = False
    codes: Mapping[str, str] = field(default_factory=_empty)  # vendor code -> Patchbay error code
    # A 2xx body whose code_field holds none of these is an error (TikTok: HTTP 200 with a non-zero numeric `code`).
    success_codes: tuple[Any, ...] = ()


@dataclass(frozen=True, slots=True)
class RateLimit:
    remaining_header: str | None = None
    limit_header: str | None = None
    reset_header: str | None = None
    reset_format: str | None = None  # epoch_seconds (default) | epoch_ms | delta_seconds | http_date | iso8601


@dataclass(frozen=True, slots=True)
class Check:
    """The cheap call that proves credentials work."""

    entity: str
    action: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Manifest:
    definition_id: str
    slug: str
    name: str
    version: str
    base_url: str
    auth_schemes: tuple[AuthScheme, ...]
    entities: Mapping[str, Entity]
    description: str = ""
    icon: str = ""
    docs_url: str | None = None
    allowed_hosts: tuple[str, ...] = ()
    headers: Mapping[str, str] = field(default_factory=_empty)
    config_schema: dict[str, Any] | None = None
    rate_limit: RateLimit = field(default_factory=RateLimit)
    errors: ErrorSpec = field(default_factory=ErrorSpec)
    check: Check | None = None
    idempotency_header: str | None = None
    query_arrays: str = "repeat"

    # --- Auth schemes ---------------------------------------------------------------------------------------------

    def find_scheme(self, key: str | None) -> AuthScheme | None:
        return next((scheme for scheme in self.auth_schemes if scheme.key == key), None)

    def scheme(self, key: str | None) -> AuthScheme:
        """The auth scheme with this key; UnknownAuthScheme (naming the available ones) when there is none."""
        found = self.find_scheme(key)
        if found is None:
            raise UnknownAuthScheme(key, [scheme.key for scheme in self.auth_schemes])
        return found

    def oauth_scheme(self, key: str | None = None) -> AuthScheme | None:
        """The first OAuth 2.0 scheme with a redirect flow (the one with this key, when given); None when there is
        none. Client-credentials and JWT-bearer schemes have no consent step, so they are never it."""
        return next(
            (scheme for scheme in self.auth_schemes if scheme.uses_consent and (not key or scheme.key == key)), None
        )

    # --- Operations -----------------------------------------------------------------------------------------------

    def operations(self) -> dict[str, list[str]]:
        """entity -> action names, in manifest order."""
        return {name: list(entity.actions) for name, entity in self.entities.items()}

    def action(self, entity: str, action: str) -> Action:
        """The action, by its names or its aliases (docs/catalog.md, "Aliases"); UnknownOperation (listing what
        exists) for an unknown entity or action."""
        found = self.find_action(entity, action) if isinstance(entity, str) and isinstance(action, str) else None
        if found is None:
            raise UnknownOperation(self._entity_name(entity), str(action), self.operations())
        return found

    def find_action(self, entity: str, action: str) -> Action | None:
        """The action named so, directly or through an entity alias, an action alias or an `entity.action` alias."""
        owner = self.find_entity(entity)
        if owner is not None:
            found = owner.actions.get(action) or next((a for a in owner.actions.values() if action in a.aliases), None)
            if found is not None:
                return found
        qualified = f"{entity}.{action}"
        return next((a for a in self.actions() if qualified in a.aliases), None)

    def find_entity(self, name: str) -> Entity | None:
        return self.entities.get(name) or next((e for e in self.entities.values() if name in e.aliases), None)

    def _entity_name(self, name: Any) -> str:
        """An entity alias reads as its entity in UnknownOperation (which lists that entity's actions)."""
        entity = self.find_entity(name) if isinstance(name, str) else None
        return entity.name if entity is not None else str(name)

    def aliases(self) -> dict[str, str]:
        """`entity.action` alias -> the `entity.action` it names, for every entity and action alias."""
        out: dict[str, str] = {}
        for entity in self.entities.values():
            for action in entity.actions.values():
                target = f"{entity.name}.{action.name}"
                names = [action.name, *(a for a in action.aliases if "." not in a)]
                for entity_name in entity.aliases:
                    for name in names:
                        out[f"{entity_name}.{name}"] = target
                for name in names[1:]:
                    out[f"{entity.name}.{name}"] = target
                for alias in action.aliases:
                    if "." in alias:
                        out[alias] = target
        return out

    def actions(self) -> Iterator[Action]:
        for entity in self.entities.values():
            yield from entity.actions.values()

    # --- Where requests go ----------------------------------------------------------------------------------------

    def base_url_for(self, action: Action, scheme: AuthScheme) -> str:
        """The URL template an action's calls start from under a scheme: the action's, the scheme's, the manifest's."""
        return action.base_url or scheme.base_url or self.base_url

    def url_templates(self, scheme_key: str | None = None) -> Iterator[str]:
        """Every URL template a connector of this type (with this auth scheme, when given) may call."""
        yield self.base_url
        for scheme in self.auth_schemes:
            if scheme_key is not None and scheme.key != scheme_key:
                continue
            if scheme.base_url:
                yield scheme.base_url
            if scheme.oauth is not None:
                yield from scheme.oauth.urls().values()
        for action in self.actions():
            if action.base_url:
                yield action.base_url

    def host_fields(self) -> set[str]:
        """Field names (`replication_config.api_url`, `credentials.instance_url`) that decide a request's host."""
        fields: set[str] = set()
        for template in self.url_templates():
            for ref in host_placeholders(template):
                source, _, name = ref.partition(".")
                fields.add(f"{'replication_config' if source == 'config' else source}.{name}")
        return fields

    # --- Configuration --------------------------------------------------------------------------------------------

    @property
    def config_properties(self) -> Mapping[str, Any]:
        return (self.config_schema or {}).get("properties") or {}

    def derived_config(self, credentials: Mapping[str, Any], config: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Config values derived from the credentials or from other config: a config property's `derive` rule, or
        the first of a list of them that gives a value. `{credential, pattern}` takes the pattern's first group from
        that credential (Mailchimp's data centre is its API key's suffix, `abc-us21` -> `us21`, or its OAuth
        metadata's `dc`); `{config, values}` looks another config value (or its default) up in `values` (Zoho's
        accounts domain for its data centre: `ca` -> `zohocloud.ca`). A value set in the config still wins."""
        config = config or {}
        out: dict[str, Any] = {}
        for name, prop in self.config_properties.items():
            for rule in derive_rules(prop):  # the first that gives a value
                value = self._derived(rule, credentials, config)
                if value is not None:
                    out[name] = value
                    break
        return out

    def _derived(self, rule: Mapping[str, Any], credentials: Mapping[str, Any], config: Mapping[str, Any]) -> Any:
        if "config" in rule:
            source = config.get(rule["config"])
            source = self.config_defaults.get(rule["config"]) if source in (None, "") else source
            return rule["values"].get(str(source)) if source is not None else None
        value = credentials.get(rule["credential"])
        match = re.search(rule["pattern"], value) if isinstance(value, str) else None
        return (match.group(1) if match.groups() else match.group(0)) if match else None

    def config_fallbacks(
        self, credentials: Mapping[str, Any], config: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """What an unset config property stands for: its value derived from the credentials or the rest of the
        config, else its default."""
        return {**self.config_defaults, **self.derived_config(credentials, config)}

    @property
    def config_defaults(self) -> dict[str, Any]:
        """`default` of each config property that declares one (a placeholder's fallback)."""
        return {
            name: prop["default"]
            for name, prop in self.config_properties.items()
            if isinstance(prop, dict) and "default" in prop
        }
