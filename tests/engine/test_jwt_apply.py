"""The `jwt` apply style: a JWT signed for each call with the connector's private key, as Snowflake's SQL API takes
it (KEYPAIR_JWT; docs.snowflake.com/en/developer-guide/sql-api/authenticating).

The loopback server checks what Snowflake checks: the token verifies with the user's public key, iss is
ACCOUNT.USER.SHA256:<base64 SHA-256 of the public key's DER SubjectPublicKeyInfo>, sub is ACCOUNT.USER (account
locator without its region, uppercase), exp is at most an hour after iat. The expected fingerprint is computed here
independently of the engine.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import re
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from werkzeug import Request, Response

from connectors.catalog.loader import ManifestError, validate_manifest
from connectors.engine import Limits, execute_operation
from connectors.validation import validate_credentials
from core.errors import OperationInputError, UpstreamError
from tests.catalog_depth.conftest import Recorder
from tests.engine.conftest import RAW, point_at

SLUG = "snowflake"
TOKEN_TYPE = "X-Snowflake-Authorization-Token-Type"
CONNECTORS = "/api/v1/integrations/connectors"
OK = {"data": [["COMPUTE_WH", "STARTED"]], "code": "090001", "message": "Statement executed successfully."}


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode("ascii")


@pytest.fixture
def vendor(httpserver) -> Recorder:
    recorder = Recorder()
    httpserver.expect_request(re.compile(".*")).respond_with_handler(recorder)
    return recorder


def fingerprint(key: rsa.RSAPrivateKey) -> str:
    der = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return "SHA256:" + base64.b64encode(hashlib.sha256(der).digest()).decode()


def run(httpserver, credentials: dict[str, Any], *, account: str = "xy12345.us-east-2.aws", **kwargs: Any):
    return execute_operation(
        manifest=point_at(RAW[SLUG], httpserver.url_for("")),
        credentials=credentials,
        config={"account": account} if account else {},
        entity="warehouses",
        action="list",
        params={},
        limits=Limits(max_attempts=1),
        **kwargs,
    )


def body_lines(pem: str) -> list[str]:
    return [line for line in pem.splitlines() if line and not line.startswith("-----")]


def assert_key_never_sent(vendor: Recorder, pem: str) -> None:
    for request, body in zip(vendor.requests, vendor.bodies, strict=True):
        sent = " ".join([*request.headers.values(), request.query_string.decode(), body.decode()])
        assert not any(line in sent for line in body_lines(pem))


@pytest.mark.parametrize(
    ("account", "user", "expected"),
    [
        ("xy12345.us-east-2.aws", "jsmith", "XY12345.JSMITH"),  # a locator: its region left out
        ("myorg-myaccount", "Data.Loader", "MYORG-MYACCOUNT.DATA.LOADER"),
    ],
)
def test_the_signed_token_is_what_snowflake_verifies(httpserver, vendor, key, pem, account, user, expected) -> None:
    vendor.answer(OK)
    before = int(time.time())
    result = run(httpserver, {"user": user, "private_key": pem}, account=account, auth_scheme="key_pair")
    after = int(time.time())
    assert result.result == OK
    request = vendor.last
    assert request.headers[TOKEN_TYPE] == "KEYPAIR_JWT"
    scheme, _, token = request.headers["Authorization"].partition(" ")
    assert scheme == "Bearer"
    claims = jwt.decode(token, key.public_key(), algorithms=["RS256"])
    assert jwt.get_unverified_header(token)["alg"] == "RS256"
    assert claims["iss"] == f"{expected}.{fingerprint(key)}"
    assert claims["sub"] == expected
    assert before <= claims["iat"] <= after
    assert 0 < claims["exp"] - claims["iat"] <= 3600
    assert_key_never_sent(vendor, pem)


def test_the_scheme_is_chosen_by_its_fields_and_each_call_signs_anew(httpserver, vendor, key, pem) -> None:
    vendor.answer(OK)
    vendor.answer(OK)
    credentials = {"user": "jsmith", "private_key": pem}
    run(httpserver, credentials)
    run(httpserver, credentials)
    tokens = [r.headers["Authorization"].removeprefix("Bearer ") for r in vendor.requests]
    assert all(r.headers[TOKEN_TYPE] == "KEYPAIR_JWT" for r in vendor.requests)
    for token in tokens:
        assert jwt.decode(token, key.public_key(), algorithms=["RS256"])["sub"] == "XY12345.JSMITH"


@pytest.mark.parametrize(
    "pasted",
    [
        lambda pem: pem.replace("\n", "\\n"),  # escaped newlines (a JSON string)
        lambda pem: pem.replace("\n", " "),  # a single-line input turned line breaks into spaces
        lambda pem: "".join(body_lines(pem)),  # the base64 body alone
    ],
    ids=["escaped", "one-line", "body-only"],
)
def test_a_pasted_key_is_read_whatever_its_line_breaks(httpserver, vendor, key, pem, pasted) -> None:
    vendor.answer(OK)
    run(httpserver, {"user": "jsmith", "private_key": pasted(pem)}, auth_scheme="key_pair")
    token = vendor.last.headers["Authorization"].removeprefix("Bearer ")
    assert jwt.decode(token, key.public_key(), algorithms=["RS256"])["iss"].endswith(fingerprint(key))


@pytest.mark.parametrize(
    ("private_key", "problem"),
    [
        ("-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5IGF0IGFsbA==\n-----END PRIVATE KEY-----\n", "not a readable"),
        ("-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIFHDBOBgkqhkiG9w0BBQ0wQTApBgkq\n-----END ENCRYPTED PRIVATE KEY-----",
         "is encrypted"),
    ],
)  # fmt: skip
def test_an_unreadable_key_is_named_never_quoted(httpserver, vendor, private_key, problem) -> None:
    with pytest.raises(OperationInputError) as caught:
        run(httpserver, {"user": "jsmith", "private_key": private_key}, auth_scheme="key_pair")
    assert caught.value.code == "credentials_invalid"
    assert problem in str(caught.value) and "'private_key'" in str(caught.value)
    assert [e["field"] for e in caught.value.errors] == ["credentials.private_key"]
    for line in private_key.splitlines()[1:-1]:
        assert line not in str(caught.value) and line not in repr(caught.value.errors)
    assert vendor.requests == []


def test_an_encrypted_key_signs_with_its_passphrase_and_a_wrong_one_is_named(httpserver, vendor, key) -> None:
    encrypted = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"correct horse"),
    ).decode()
    assert "BEGIN ENCRYPTED PRIVATE KEY" in encrypted
    vendor.answer(OK)
    credentials = {"user": "jsmith", "private_key": encrypted, "private_key_password": "correct horse"}
    run(httpserver, credentials, auth_scheme="key_pair")
    token = vendor.last.headers["Authorization"].removeprefix("Bearer ")
    assert jwt.decode(token, key.public_key(), algorithms=["RS256"])["iss"].endswith(fingerprint(key))
    assert_key_never_sent(vendor, encrypted)
    assert not any("correct horse" in v for v in vendor.last.headers.values())

    for password, problem in (("wrong horse", "could not be decrypted with the passphrase in 'private_key_password'"),
                              ("", "is encrypted: give its passphrase in 'private_key_password'")):  # fmt: skip
        with pytest.raises(OperationInputError) as caught:
            run(httpserver, {**credentials, "private_key_password": password}, auth_scheme="key_pair")
        assert problem in str(caught.value) and "horse" not in str(caught.value)
        assert [e["field"] for e in caught.value.errors] == ["credentials.private_key"]
    assert len(vendor.requests) == 1


def test_missing_fields_fail_before_any_call(httpserver, vendor, pem) -> None:
    with pytest.raises(OperationInputError) as caught:
        run(httpserver, {"user": "jsmith", "private_key": ""}, auth_scheme="key_pair")
    assert caught.value.code == "credentials_missing"
    assert caught.value.errors[0]["field"] == "credentials.private_key"
    with pytest.raises(OperationInputError) as caught:
        run(httpserver, {"user": "jsmith", "private_key": pem}, account="", auth_scheme="key_pair")
    assert caught.value.code == "invalid_config"
    assert caught.value.errors[0]["field"] == "replication_config.account"
    assert vendor.requests == []


def test_a_rejected_token_is_scrubbed_from_the_error(httpserver, pem) -> None:
    seen: list[Request] = []

    def echo(request: Request) -> Response:  # Snowflake's 390144 answer, here quoting the token it was sent
        seen.append(request)
        token = request.headers["Authorization"].removeprefix("Bearer ")
        body = {"code": "390144", "message": f"JWT token is invalid. [{token}]"}
        return Response(json.dumps(body), status=401, content_type="application/json")

    httpserver.expect_request(re.compile(".*")).respond_with_handler(echo)
    with pytest.raises(UpstreamError) as caught:
        run(httpserver, {"user": "jsmith", "private_key": pem}, auth_scheme="key_pair")
    token = seen[-1].headers["Authorization"].removeprefix("Bearer ")
    assert caught.value.code == "credentials_rejected"
    assert "JWT token is invalid" in str(caught.value)
    assert token not in str(caught.value)
    assert not any(line in str(caught.value) for line in body_lines(pem))


def test_key_pair_credentials_are_validated_and_the_key_is_secret(manifests, pem) -> None:
    manifest = manifests[SLUG]
    scheme, stored = validate_credentials(manifest, {"user": "jsmith", "private_key": pem})
    assert scheme.key == "key_pair" and stored == {"user": "jsmith", "private_key": pem}
    assert scheme.credential_properties["private_key"]["secret"] is True


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"iss": "{config.account|shout}.{user}"}, "unknown filter 'shout'"),
        ({"iss": "{account}.{user}"}, "{account} is not a credential field"),
    ],
)
def test_claim_templates_are_checked_when_the_manifest_loads(change, message) -> None:
    data = copy.deepcopy(RAW[SLUG])
    scheme = next(s for s in data["auth_schemes"] if s["key"] == "key_pair")
    scheme["apply"][0]["jwt"]["claims"].update(change)
    with pytest.raises(ManifestError, match=message.replace("{", r"\{").replace("|", r"\|")):
        validate_manifest(data, path="snowflake.yaml")
    del scheme["apply"][0]["jwt"]
    with pytest.raises(ManifestError, match="'jwt' is a required property"):
        validate_manifest(data, path="snowflake.yaml")


@pytest.mark.django_db
def test_an_unreadable_key_is_refused_when_the_connector_is_saved(api, pem) -> None:
    body = {
        "definition_id": RAW[SLUG]["definition_id"],
        "name": "Warehouse",
        "auth_scheme": "key_pair",
        "replication_config": {"account": "myorg-myaccount"},
    }
    bad = "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5IGF0IGFsbA==\n-----END PRIVATE KEY-----\n"
    refused = api.post(CONNECTORS, {**body, "credentials": {"user": "jsmith", "private_key": bad}})
    assert refused.status_code == 422, refused.json()
    assert [e["field"] for e in refused.json()["errors"]] == ["credentials.private_key"]
    assert "bm90IGEga2V5IGF0IGFsbA" not in refused.content.decode()
    created = api.post(CONNECTORS, {**body, "credentials": {"user": "jsmith", "private_key": pem}})
    assert created.status_code == 201, created.json()
    assert not any(line in created.content.decode() for line in body_lines(pem))
