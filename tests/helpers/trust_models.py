"""Helpers for the trust-model tests: trust files with every member, a test PKI, the
statements of the draft's Figure 2 and well-known cross-signatures, and a compact view of
a report's trust paths."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.conftest import NOW
from vc_im import keys
from vc_im.keys import Key
from vc_im.report import Report
from vc_im.trust import TrustStore, parse_trust
from vc_im.trust.statements import Statement, create_statement, read_statement
from vc_im.trust.x509 import x5c_of
from vc_im.trust.x509_mint import mint_ca, mint_leaf

#: Alice's user identifier: the user part of conftest's DEVICE.
USER = "im:SvPfLlwBQi-6oddVRrkqpw@example.com"
#: The provider's domain identifier, as the seed's §5.1 names a provider in a certificate.
PROVIDER = "mimi://example.com"
#: The web of trust of the draft's Figure 2: Alice verifies, Bob owns device B1.
ALICE = "im:alice@example.com"
BOB = "im:bob@example.org"
B1 = "im:bob/B1@example.org"
DAY = 86_400
#: What ``decide`` says for a method of the rule that produced no trust path.
NO_EVIDENCE = "no evidence was given for it"


def public_jwk(key: Key) -> dict[str, str]:
    """The key's public JWK, as a trust file lists it."""
    return dict(key.public_jwk)


def issuer_entry(issuer_id: str, key: Key, domains: Sequence[str] | None = ("example.com",),
                 ) -> dict[str, Any]:
    """One ``issuers`` entry of a trust file."""
    entry: dict[str, Any] = {"id": issuer_id, "keys": [public_jwk(key)]}
    if domains is not None:
        entry["domains"] = list(domains)
    return entry


def trust_document(issuers: Sequence[Mapping[str, Any]] = (), **members: Any) -> dict[str, Any]:
    """A trust file: ``issuers`` plus the other members given (x509_roots, policy, ...)."""
    return {"issuers": list(issuers), **members}


def store_of(document: Mapping[str, Any]) -> TrustStore:
    """Parse ``document`` exactly as ``vc-im verify --trust`` reads a trust file."""
    return parse_trust(json.dumps(document).encode())


def rule(methods: Sequence[str], combine: object = "any", domains: Sequence[str] = ("*",),
         **extra: Any) -> dict[str, Any]:
    """One policy rule of a trust file."""
    return {"domains": list(domains), "methods": list(methods), "combine": combine, **extra}


def paths(report: Report) -> list[tuple[str, bool]]:
    """The report's trust paths as (method, ok), in the order the policy weighed them."""
    return [(str(path["method"]), bool(path["ok"])) for path in report.trust]


def path_of(report: Report, method: str) -> dict[str, object]:
    """The report's trust path for ``method`` (KeyError when it has none)."""
    for path in report.trust:
        if path["method"] == method:
            return dict(path)
    raise KeyError(method)


def not_given(method: str) -> dict[str, object]:
    """The trust path a policy reports for a method nobody gave evidence for."""
    return {"method": method, "ok": False, "steps": [], "reason": NO_EVIDENCE,
            "contradiction": False}


def short(key: Key) -> str:
    """How trust-path sentences name a key."""
    return key.thumbprint()[:8]


def block_network(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Make every socket connection and name lookup fail; return the list of attempts."""
    attempts: list[str] = []

    def refuse(name: str) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            attempts.append(name)
            raise OSError(f"network access attempted: {name}")
        return call

    monkeypatch.setattr(socket.socket, "connect", refuse("connect"))
    monkeypatch.setattr(socket.socket, "connect_ex", refuse("connect_ex"))
    monkeypatch.setattr(socket, "getaddrinfo", refuse("getaddrinfo"))
    monkeypatch.setattr(socket, "create_connection", refuse("create_connection"))
    return attempts


# --------------------------------------------------------------------------------------------
# A test PKI (the seed's §5.1)


@dataclass(frozen=True, slots=True)
class Pki:
    """A P-256 root CA minted a day before NOW, and leaves it signs."""

    name: str
    cert_pem: bytes
    key: Key

    @classmethod
    def mint(cls, name: str) -> Pki:
        """A new root CA named ``name``, valid for ten years from a day before NOW."""
        cert_pem, key = mint_ca(name=name, now=NOW - DAY)
        return cls(name, cert_pem, key)

    def leaf(self, subject_key: Key, sans: Sequence[str], *, name: str = "Example IM",
             now: int = NOW - DAY, days: int = 90) -> bytes:
        """A client certificate (PEM) for ``subject_key`` naming ``sans``."""
        return mint_leaf(ca_cert_pem=self.cert_pem, ca_key=self.key, subject_key=subject_key,
                         san_uris=list(sans), subject_name=name, now=now, days=days)

    def x5c(self, subject_key: Key, sans: Sequence[str], **options: Any) -> list[str]:
        """The x5c header value of a leaf for ``subject_key`` (the leaf alone)."""
        return x5c_of(self.leaf(subject_key, sans, **options))

    @property
    def root(self) -> str:
        """The CA certificate as an ``x509_roots`` entry."""
        return self.cert_pem.decode("ascii")


# --------------------------------------------------------------------------------------------
# Signed statements


def statement(signer: Key, kind: str, issuer: str, *, now: int = NOW, **options: Any,
              ) -> Statement:
    """Create a statement and read it back, as ``vc-im verify --statement`` does."""
    return read_statement(create_statement(signer, kind, issuer=issuer, now=now, **options),
                          now=now)


def wellknown(key: Key, identity: str, account: str) -> Statement:
    """A well-known statement: ``identity`` holding ``key`` owns ``account``."""
    return statement(key, "wellknown", identity, subject=account)


def revocation(signer: Key, issuer: str, revoked: Statement) -> Statement:
    """``signer`` (of ``issuer``) withdraws the statement ``revoked``."""
    return statement(signer, "revoke", issuer, revokes=revoked.jti)


@dataclass(slots=True)
class Figure2:
    """The draft's Figure 2: Alice's and Bob's master, user-signing and device-signing keys,
    Bob's device B1, and Alice's user-signing key vouching for Bob's master key."""

    keys: dict[str, Key] = field(default_factory=dict)

    def __getitem__(self, name: str) -> Key:
        if name not in self.keys:
            self.keys[name] = keys.generate()
        return self.keys[name]

    def usk(self) -> Statement:
        """Alice's master key names her user-signing key."""
        return statement(self["alice-master"], "usk", ALICE, key=self["alice-usk"].public())

    def cross(self) -> Statement:
        """Alice's user-signing key vouches for Bob's master key (the cross-signature)."""
        return statement(self["alice-usk"], "user", ALICE, subject=BOB,
                         key=self["bob-master"].public())

    def dsk(self) -> Statement:
        """Bob's master key names his device-signing key."""
        return statement(self["bob-master"], "dsk", BOB, key=self["bob-dsk"].public())

    def device(self, signer: str = "bob-dsk") -> Statement:
        """``signer`` (Bob's device-signing key unless forged) binds B1 to its key."""
        return statement(self[signer], "device", BOB, subject=B1, key=self["b1"].public())

    def all(self) -> tuple[Statement, ...]:
        """The four statements that make Alice trust B1's key."""
        return self.usk(), self.cross(), self.dsk(), self.device()

    def anchor(self, max_hops: int | None = None) -> dict[str, Any]:
        """The trust file's ``web_of_trust`` member: Alice and her master key."""
        member: dict[str, Any] = {"id": ALICE, "master_key": public_jwk(self["alice-master"])}
        if max_hops is not None:
            member["max_hops"] = max_hops
        return member
