"""The examples of ../shared/reference/seed-add-a-connector.txt, verbatim (indentation restored; the page's
extraction lost it). Tests change only the import line, to `from patchbay import Workspace, connect`, and fill in
the <placeholders> the page tells the reader to fill in."""

from __future__ import annotations

import re

PATCHBAY_IMPORT = "from patchbay import Workspace, connect"

CREATE_API_TOKEN = """\
import asyncio
from airbyte_agent_sdk import Workspace

async def main():
    async with Workspace() as ws:
        await ws.create_connector(
            definition_id="<github_definition_id>",
            name="My GitHub Connector",
            credentials={
                "option_title": "PAT Credentials",
                "personal_access_token": "<github_pat>",
            },
            replication_config={"repositories": ["airbytehq/airbyte"]},
        )

asyncio.run(main())
"""

CREATE_OAUTH = """\
import asyncio
from airbyte_agent_sdk import Workspace

async def main():
    async with Workspace() as ws:
        await ws.create_connector(
            definition_id="<hubspot_definition_id>",
            name="My HubSpot Connector",
            credentials={
                "client_id": "<hubspot_client_id>",
                "client_secret": "<hubspot_client_secret>",
                "refresh_token": "<hubspot_refresh_token>",
            },
        )

asyncio.run(main())
"""

LIST_CONNECTORS = """\
async with Workspace() as ws:
    connectors = await ws.list_connectors()
    for info in connectors:
        print(info.id, info.name, info.connector_type)
"""

GET_BY_SLUG = """\
from airbyte_agent_sdk import connect

stripe = connect("stripe")
try:
    result = await stripe.execute("customers", "list", params={"limit": 10})
finally:
    await stripe.close()
"""

CONNECT_BY_ID = """\
stripe_us = connect("stripe", connector_id="<us_account_connector_id>")
stripe_eu = connect("stripe", connector_id="<eu_account_connector_id>")
"""

DELETE = """\
async with Workspace() as ws:
    await ws.delete_connector(connector_id="<connector_id>")
"""


def for_patchbay(example: str, **placeholders: str) -> str:
    """The example with only its import line swapped (added when the snippet has none) and placeholders filled."""
    lines = example.splitlines()
    imports = [i for i, line in enumerate(lines) if re.match(r"from airbyte_agent_sdk import ", line)]
    if imports:
        for i in imports:
            lines[i] = PATCHBAY_IMPORT
    else:
        lines.insert(0, PATCHBAY_IMPORT)
    code = "\n".join(lines) + "\n"
    for name, value in placeholders.items():
        code = code.replace(f"<{name}>", value)
    leftover = re.findall(r"<[a-z_]+>", code)
    assert not leftover, f"unfilled placeholders: {leftover}"
    return code
