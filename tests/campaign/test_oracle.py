"""The oracle is not vacuous: it accepts what vc_im issues and refuses the classic attacks."""

from __future__ import annotations

import json

import pytest

from vc_im import _jose as jose

from . import oracle
from . import world as w
from .sign import sign_json


@pytest.mark.parametrize("world", ["central", "models"])
def test_oracle_accepts_every_base_credential(world: str) -> None:
    """Each credential the campaign starts from is acceptable to the oracle (in the world it
    was issued for)."""
    view = (w.central_world() if world == "central" else w.models_world()).oracle
    bases = w.central_credentials() if world == "central" else w.models_credentials()
    for base in bases:
        oracle.credential(base.token, view, now=w.NOW, leeway=60)


def test_oracle_accepts_every_base_statement() -> None:
    """The trust-model world's statements are acceptable to the oracle."""
    for token in w.statements():
        oracle.statement(token, w.models_world().oracle, now=w.NOW, leeway=60)


@pytest.mark.parametrize(("text", "kind", "parts", "domain"), [
    ("im:a%2Fb@example.com", "user", ("a/b",), "example.com"),
    ("im:xmpp=juliet/balcony@example.com", "device", ("juliet", "balcony"), "example.com"),
    ("im:%40alice@example.com", "handle", ("alice",), "example.com"),
    ("mimi://Example.COM/d/laptop", "device", ("laptop",), "example.com"),
    ("im:wxyz=BFuVxW5BfqaMEfJDc8R7Qw/072b@example.com", "device",
     ("BFuVxW5BfqaMEfJDc8R7Qw", "072b"), "example.com"),
])
def test_oracle_reads_contract_identifiers(text: str, kind: str, parts: tuple[str, ...],
                                           domain: str) -> None:
    """The oracle's own identifier reader agrees with CONTRACT.md's table."""
    ident = oracle.parse_identifier(text)
    assert (ident.kind, ident.parts, ident.domain) == (kind, parts, domain)


@pytest.mark.parametrize("text", ["im:wxyz=#projectX@example.com", "im:a/b@example.com?x",
                                  "im:a%00/b@example.com", "im:example", "im:a/b@127.0.0.1"])
def test_oracle_refuses_bad_identifiers(text: str) -> None:
    """Fragments, queries, NUL escapes, a single-label domain identifier and IP addresses."""
    with pytest.raises(oracle.Refused):
        oracle.parse_identifier(text)


@pytest.mark.parametrize("change", ["alg none", "milliseconds", "other domain", "hs256"])
def test_oracle_refuses_classic_attacks(change: str) -> None:
    """alg none, the seed's millisecond dates, a subject outside the issuer's domains, and a
    MAC algorithm are refused even when signed by the trusted key."""
    base = w.central_credentials()[0]
    header, payload, _ = base.token.split(".")
    head = json.loads(jose.b64url_decode(header, what="h"))
    body = json.loads(jose.b64url_decode(payload, what="p"))
    if change == "alg none":
        head["alg"] = "none"
    elif change == "hs256":
        head["alg"] = "HS256"
    elif change == "milliseconds":
        body["nbf"] = body["nbf"] * 1000
    else:
        body["sub"] = "im:a/b@example.org"
        body["vc"]["credentialSubject"]["hasInstantMessage"] = ["im:a/b@example.org"]
    token = sign_json(head, body, w.keyring()[base.signer])
    with pytest.raises(oracle.Refused):
        oracle.credential(token, w.central_world().oracle, now=w.NOW, leeway=60)
