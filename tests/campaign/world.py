"""The campaign's world: real keys, two trust files, base tokens issued by vc_im itself, and
the same world restated for the oracle.

Keys are derived from fixed seeds where that is cheap (Ed25519, EC), so a failing example
replays with the same bytes; the RSA issuer key is generated once per run. Base tokens are
made by vc_im's own issuer, presenter and DPoP signer: a mutation starts from exactly
what a user would send.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from vc_im import keys
from vc_im.credentials import issue_credential
from vc_im.keys import Key
from vc_im.model import CredentialType, Encoding, Evidence
from vc_im.trust import TrustedIssuer, TrustStore, WebOfTrustAnchor
from vc_im.trust.statements import Statement, create_statement, read_statement

from . import oracle

#: 2023-11-14T22:13:20Z, the time of SPEC-NOTES' examples.
NOW = 1_700_000_000
DAY = 86_400
ISSUER = "https://im.example.com"
#: Trusted too, but only for example.org: a hostile issuer for every other domain.
OTHER_ISSUER = "https://im.example.org"
DEVICE = "im:SvPfLlwBQi-6oddVRrkqpw/04c7@example.com"
USER = "im:SvPfLlwBQi-6oddVRrkqpw@example.com"
HANDLE = "im:%40alice_smith@example.com"
MIMI_DEVICE = "mimi://example.com/d/SvPfLlwBQi-6oddVRrkqpw/04c7"
MIMI_USER = "mimi://example.com/u/alice_smith"
#: A one-segment mimi:// device (draft-03's "mimi://a.example/d/ClientA1"): no user part.
ONE_SEGMENT_DEVICE = "mimi://example.com/d/laptop"
ORG_DEVICE = "im:bob/phone@example.org"
ORG_HANDLE = "im:%40bob@example.org"
VERIFIER = "https://verifier.example.org"
NONCE = "n-0S6_WzA2Mj"
HTM = "POST"
HTU = "https://im.example.com/client/token"
ACCESS_TOKEN = "Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"
# The trust models' people (the draft's Figure 2 and a well-known user).
ALICE = "im:alice@example.com"
BOB = "im:bob@example.org"
B1 = "im:bob/B1@example.org"
CAROL = "im:carol@example.net"
CAROL_PHONE = "im:carol/phone@example.net"
CAROL_ACCOUNTS = ("https://code.example/carol", "https://social.example/@carol")


def _seeded_ed25519(label: str) -> Key:
    seed = hashlib.sha256(b"vc_im campaign " + label.encode()).digest()
    native = ed25519.Ed25519PrivateKey.from_private_bytes(seed)
    return keys.load_key(native.private_bytes(serialization.Encoding.PEM,
                                              serialization.PrivateFormat.PKCS8,
                                              serialization.NoEncryption()), require="private")


def _seeded_ec(label: str, curve: ec.EllipticCurve) -> Key:
    scalar = int.from_bytes(hashlib.sha256(b"vc_im campaign " + label.encode()).digest(), "big")
    native = ec.derive_private_key(scalar % (2**255) + 1, curve)
    return keys.load_key(native.private_bytes(serialization.Encoding.PEM,
                                              serialization.PrivateFormat.PKCS8,
                                              serialization.NoEncryption()), require="private")


@dataclass(frozen=True)
class KeyRing:
    """Every private key of the world, by name and by thumbprint."""

    by_name: Mapping[str, Key]

    @functools.cached_property
    def by_thumbprint(self) -> dict[str, Key]:
        return {key.thumbprint(): key for key in self.by_name.values()}

    def __getitem__(self, name: str) -> Key:
        return self.by_name[name]

    def public_keys(self) -> tuple[oracle.PublicKey, ...]:
        return tuple(oracle.PublicKey(dict(key.header_jwk()), key.alg, key.thumbprint())
                     for key in self.by_name.values())


@functools.cache
def keyring() -> KeyRing:
    """The world's keys: issuers, holders, an attacker, and the trust models' people."""
    named: dict[str, Key] = {
        "issuer": _with_kid(_seeded_ed25519("issuer"), "issuer-key-1"),
        "issuer_es256": _with_kid(_seeded_ec("issuer-es256", ec.SECP256R1()), "issuer-es256"),
        "other_issuer": _with_kid(keys.generate("RS256"), "org-rsa"),
        "device": _seeded_ed25519("device"),
        "device_es256k": _seeded_ec("device-es256k", ec.SECP256K1()),
        "attacker": _seeded_ed25519("attacker"),
        "alice_master": _seeded_ed25519("alice master"),
        "alice_usk": _seeded_ed25519("alice usk"),
        "bob_master": _seeded_ed25519("bob master"),
        "bob_dsk": _seeded_ed25519("bob dsk"),
        "b1": _seeded_ed25519("bob B1"),
        "carol": _seeded_ed25519("carol"),
    }
    return KeyRing(named)


def _with_kid(key: Key, kid: str) -> Key:
    return keys.key_from_jwk(key.private_jwk() | {"kid": kid}, require="private")


# --------------------------------------------------------------------------------------------
# Trust files and their oracle restatements


@dataclass(frozen=True)
class World:
    """One verifier configuration: the trust store, evidence, and the oracle's view of both."""

    name: str
    trust: TrustStore
    evidence: Evidence
    oracle: oracle.OracleWorld
    ring: KeyRing = field(repr=False)


def _issuers(ring: KeyRing, domains: tuple[str, ...]) -> tuple[TrustedIssuer, ...]:
    return (
        TrustedIssuer(ISSUER, (ring["issuer"].public(), ring["issuer_es256"].public()),
                      frozenset(domains)),
        TrustedIssuer(OTHER_ISSUER, (ring["other_issuer"].public(),), frozenset({"example.org"})),
    )


def _oracle_issuers(issuers: tuple[TrustedIssuer, ...]) -> dict[str, oracle.OracleIssuer]:
    return {
        issuer.id: oracle.OracleIssuer(issuer.id, tuple(
            oracle.PublicKey(dict(k.header_jwk()), k.alg, k.kid) for k in issuer.keys),
            issuer.domains)
        for issuer in issuers
    }


@functools.cache
def central_world() -> World:
    """A trust file with two issuers, each trusted for its own domain only."""
    ring = keyring()
    issuers = _issuers(ring, ("example.com",))
    store = TrustStore(dict((i.id, i) for i in issuers))
    view = oracle.OracleWorld(_oracle_issuers(issuers), ring.public_keys())
    return World("central", store, Evidence(), view, ring)


@functools.cache
def statements() -> tuple[str, ...]:
    """The evidence of the trust-model world: Figure 2's chain from Alice to Bob's device B1,
    and Carol's two well-known cross-signatures."""
    ring = keyring()
    at = NOW - DAY
    return (
        create_statement(ring["alice_master"], "usk", issuer=ALICE,
                         key=ring["alice_usk"].public(), now=at),
        create_statement(ring["alice_usk"], "user", issuer=ALICE, subject=BOB,
                         key=ring["bob_master"].public(), now=at),
        create_statement(ring["bob_master"], "dsk", issuer=BOB, key=ring["bob_dsk"].public(),
                         now=at),
        create_statement(ring["bob_dsk"], "device", issuer=BOB, subject=B1,
                         key=ring["b1"].public(), now=at),
        *(create_statement(ring["carol"], "wellknown", issuer=CAROL, subject=account, now=at)
          for account in CAROL_ACCOUNTS),
    )


@functools.cache
def models_world() -> World:
    """Central issuers plus a web of trust (Alice's) and well-known services (threshold 2),
    with the statements above as evidence."""
    ring = keyring()
    issuers = _issuers(ring, ("example.com", "example.org", "example.net"))
    anchor = WebOfTrustAnchor(_parse(ALICE), ring["alice_master"].public(), 1)
    store = TrustStore(dict((i.id, i) for i in issuers), web_of_trust=anchor,
                       well_known_threshold=2)
    read: tuple[Statement, ...] = tuple(read_statement(t, now=NOW) for t in statements())
    b1, carol = ring["b1"].thumbprint(), ring["carol"].thumbprint()
    vouched = {oracle.parse_identifier(B1): b1, oracle.parse_identifier(CAROL): carol}
    asserted = {ident: frozenset({thumb}) for ident, thumb in vouched.items()}
    view = oracle.OracleWorld(_oracle_issuers(issuers), ring.public_keys(),
                              statements_configured=True, vouched=vouched, asserted=asserted)
    return World("models", store, Evidence(statements=read), view, ring)


def _parse(text: str) -> Any:
    from vc_im import identifiers
    return identifiers.parse(text)


# --------------------------------------------------------------------------------------------
# Base tokens, issued by vc_im itself


@dataclass(frozen=True)
class Base:
    """A token vc_im issued, with the name of the key that signed it."""

    token: str
    signer: str
    label: str


def _issue(ring: KeyRing, signer: str, label: str, **arguments: Any) -> Base:
    defaults: dict[str, Any] = {"issuer": ISSUER, "fn": "Alice M. Smith", "now": NOW,
                                "organization": "Example Corp", "unit": "Engineering",
                                "valid_for": 90 * DAY}
    return Base(issue_credential(ring[signer], **(defaults | arguments)), signer, label)


@functools.cache
def central_credentials() -> tuple[Base, ...]:
    """Valid credentials of the central world, and the one-segment device (known crash)."""
    ring = keyring()
    bases: list[Base] = []
    for encoding in (Encoding.VC1, Encoding.VC2):
        common = {"encoding": encoding}
        bases += [
            _issue(ring, "issuer", f"device {encoding}", subject=DEVICE, instant_messages=[HANDLE],
                   holder_key=ring["device"].public(), **common),
            _issue(ring, "issuer_es256", f"mimi device {encoding}", subject=MIMI_DEVICE,
                   instant_messages=[MIMI_USER],
                   holder_key=ring["device_es256k"].public(), **common),
            _issue(ring, "issuer_es256", f"mimi user {encoding}", subject=MIMI_USER,
                   credential_type=CredentialType.USER,
                   holder_key=ring["device_es256k"].public(), **common),
            _issue(ring, "issuer", f"user {encoding}", subject=HANDLE,
                   credential_type=CredentialType.USER, holder_key=ring["device"].public(),
                   **common),
            _issue(ring, "issuer", f"unbound device {encoding}", subject=DEVICE, **common),
            _issue(ring, "other_issuer", f"org device {encoding}", issuer=OTHER_ISSUER,
                   subject=ORG_DEVICE, instant_messages=[ORG_HANDLE],
                   holder_key=ring["device"].public(), **common),
            _issue(ring, "issuer", f"one-segment device {encoding}", subject=ONE_SEGMENT_DEVICE,
                   holder_key=ring["device"].public(), **common),
        ]
    return tuple(bases)


@functools.cache
def models_credentials() -> tuple[Base, ...]:
    """Credentials of the trust-model world: central ones for identities the statements do
    and do not speak about, and self-issued ones that only statements can vouch for."""
    ring = keyring()
    bases: list[Base] = []
    for encoding in (Encoding.VC1, Encoding.VC2):
        common = {"encoding": encoding}
        bases += [
            _issue(ring, "issuer", f"central device {encoding}", subject=DEVICE,
                   holder_key=ring["device"].public(), **common),
            _issue(ring, "issuer", f"central B1 {encoding}", subject=B1,
                   holder_key=ring["b1"].public(), **common),
            _issue(ring, "issuer", f"central carol {encoding}", subject=CAROL_PHONE,
                   instant_messages=[CAROL], holder_key=ring["carol"].public(), **common),
            _issue(ring, "b1", f"self-issued B1 {encoding}", issuer=B1, subject=B1,
                   holder_key=ring["b1"].public(), **common),
            _issue(ring, "carol", f"self-issued carol {encoding}", issuer=CAROL_PHONE,
                   subject=CAROL_PHONE, instant_messages=[CAROL],
                   holder_key=ring["carol"].public(), **common),
            _issue(ring, "issuer", f"one-segment device {encoding}", subject=ONE_SEGMENT_DEVICE,
                   holder_key=ring["device"].public(), **common),
        ]
    return tuple(bases)
