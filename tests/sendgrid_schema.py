"""The request-body schema of `POST /v3/mail/send` from SendGrid's own API description (the repository's copy,
tests/contract/sendgrid/oai.json, Swagger 2.0), as a jsonschema validator with the description's $refs
(`#/definitions/...`) resolved against the whole document."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft4Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

SPEC = Path(__file__).parent / "contract" / "sendgrid" / "oai.json"
BASE = "urn:sendgrid:v3"


@cache
def mail_send_validator() -> Draft4Validator:
    spec = json.loads(SPEC.read_text(encoding="utf-8"))
    [body] = [p for p in spec["paths"]["/mail/send"]["post"]["parameters"] if p["in"] == "body"]
    assert body["schema"]["type"] == "object" and "personalizations" in body["schema"]["required"]
    registry = Registry().with_resource(BASE, Resource.from_contents(spec, default_specification=DRAFT4))
    pointer = "/paths/~1mail~1send/post/parameters/0/schema"
    assert spec["paths"]["/mail/send"]["post"]["parameters"][0] is body
    return Draft4Validator(
        {"$ref": f"{BASE}#{pointer}"}, registry=registry, format_checker=Draft4Validator.FORMAT_CHECKER
    )


def mail_send_errors(body: Any) -> list[str]:
    """Every violation of the schema by `body`, as `path: message` lines (empty when valid)."""
    return [
        f"{'/'.join(str(p) for p in e.absolute_path) or '<body>'}: {e.message}"
        for e in sorted(
            mail_send_validator().iter_errors(body), key=lambda e: list(map(str, e.absolute_path))
        )
    ]
