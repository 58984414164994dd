"""The `patchbay` command line against the live server: tables, --json, errors, and the installed script."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from patchbay.cli import format_table, main, parse_param

from connectors.models import Connector
from tests.sdk.conftest import GITHUB_ID, customers_page


def test_format_table_aligns_columns():
    table = format_table(["id", "name"], [["1", "Stripe"], ["22", None]])
    assert table.splitlines() == ["ID  NAME", "1   Stripe", "22"]


def test_params_are_read_as_json_when_they_parse():
    assert parse_param("limit=10") == ("limit", 10)
    assert parse_param("email=a@b.c") == ("email", "a@b.c")
    assert parse_param('name="123"') == ("name", "123")
    assert parse_param('expand=["data.x"]') == ("expand", ["data.x"])


def test_definitions_list(env, capsys):
    assert main(["definitions", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["SLUG", "NAME", "DEFINITION_ID", "AUTH_SCHEMES"]
    github = next(line for line in lines if line.startswith("github "))
    assert github.split()[:3] == ["github", "GitHub", GITHUB_ID]
    # Columns line up: every row's definition id starts where the header's does.
    column = lines[0].index("DEFINITION_ID")
    assert all(line[column : column + 36].count("-") == 4 for line in lines[1:])

    assert main(["definitions", "list", "--name", "github", "--json"]) == 0
    (only,) = json.loads(capsys.readouterr().out)
    assert only["id"] == GITHUB_ID and only["slug"] == "github"


def test_connectors_list_get_delete(env, make_stripe, capsys):
    assert main(["connectors", "list"]) == 0
    assert capsys.readouterr().out == "No connectors in this workspace.\n"

    first = make_stripe(name="Stripe US")
    second = make_stripe(name="Stripe EU")
    assert main(["connectors", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["ID", "NAME", "SLUG", "TYPE", "STATUS", "CREATED_AT", "LAST_USED_AT"]
    assert [line.split()[0] for line in lines[1:]] == [second, first]
    assert "Stripe EU" in lines[1] and "unknown" in lines[1]  # nothing has checked it yet

    assert main(["connectors", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [c["name"] for c in listed] == ["Stripe EU", "Stripe US"]
    assert listed[0]["connector_type"] == "Stripe" and listed[0]["created_at"]

    assert main(["connectors", "get", first]) == 0
    detail = dict(line.split(None, 1) for line in capsys.readouterr().out.splitlines()[1:] if " " in line.strip())
    assert detail["id"].strip() == first and detail["name"].strip() == "Stripe US"
    assert detail["credential_fields"].strip() == '["api_key"]'

    assert main(["connectors", "delete", first]) == 0
    assert capsys.readouterr().out == f"Deleted connector {first}.\n"
    assert not Connector.objects.filter(pk=first).exists()

    assert main(["connectors", "get", first]) == 1
    assert "not found" in capsys.readouterr().err


def test_execute_prints_records_as_a_table(env, make_stripe, upstream, capsys):
    make_stripe()
    upstream.expect_request("/v1/customers", query_string={"limit": "2"}).respond_with_json(
        customers_page(["cus_1", "cus_2"], True)
    )
    assert main(["execute", "stripe", "customers", "list", "--param", "limit=2"]) == 0
    captured = capsys.readouterr()
    assert captured.out.splitlines() == [
        "ID     OBJECT    EMAIL",
        "cus_1  customer  cus_1@example.com",
        "cus_2  customer  cus_2@example.com",
    ]
    assert "execution " in captured.err and "--param cursor=" in captured.err

    assert main(["execute", "stripe", "customers", "list", "--params", '{"limit": 2}', "--json"]) == 0
    body = json.loads(capsys.readouterr().out)
    assert body["status"] == "success" and body["connector_metadata"]["has_next_page"] is True


def test_execute_all_pages_with_connector_id(env, make_stripe, upstream, capsys):
    make_stripe(name="A")
    chosen = make_stripe(name="B", api_key="sk_test_b")
    upstream.expect_request("/v1/customers", query_string={"limit": "1"}).respond_with_json(
        customers_page(["cus_1"], True)
    )
    upstream.expect_request("/v1/customers", query_string={"limit": "1", "starting_after": "cus_1"}).respond_with_json(
        customers_page(["cus_2"], False)
    )
    assert main(["execute", "stripe", "customers", "list", "--param", "limit=1"]) == 1
    err = capsys.readouterr().err
    assert "2 stripe connectors" in err and f"--connector-id {chosen}  (B)" in err

    argv = ["execute", "stripe", "customers", "list", "--param", "limit=1", "--connector-id", chosen, "--all-pages"]
    assert main(argv) == 0
    assert [line.split()[0] for line in capsys.readouterr().out.splitlines()] == ["ID", "cus_1", "cus_2"]
    assert all(r.headers["Authorization"] == "Bearer sk_test_b" for r, _ in upstream.log)


def test_errors_exit_1_with_the_message(server, capsys):
    assert main(["connectors", "list", "--url", server, "--api-key", "pb_00000000_nope"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: Unknown API key") and "PATCHBAY_API_KEY" in err


def test_usage_errors_exit_2(capsys):
    with pytest.raises(SystemExit) as caught:
        main(["execute", "stripe", "customers", "list", "--param", "nokey"])
    assert caught.value.code == 2


def test_installed_script(env, make_stripe):
    make_stripe(name="From the shell")
    script = Path(sys.executable).with_name("patchbay")
    assert script.exists(), "pip install -e ./sdk installs the patchbay script"
    done = subprocess.run(
        [str(script), "connectors", "list"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "From the shell" in done.stdout and done.stdout.startswith("ID ")
