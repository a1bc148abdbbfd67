"""The verifier's trust file: which issuers it trusts, with which keys, for which domains.

Format (CONTRACT.md)::

    {"issuers": [{"id": "https://im.example.com",
                  "keys": [{"kty": "OKP", "crv": "Ed25519", "x": "...", "alg": "Ed25519"}],
                  "domains": ["example.com"]}]}

Unknown members are an error, never silently ignored: a misspelt ``domains``
would otherwise trust an issuer for every domain. Keys are parsed once, here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from vc_im import identifiers, strictjson
from vc_im.errors import KeyFileError, TrustFileError, VcImError
from vc_im.keys import Key, key_from_jwk

MAX_TRUST_FILE_BYTES = 1 << 20
_TOP_MEMBERS = frozenset({"issuers"})
_ISSUER_MEMBERS = frozenset({"id", "keys", "domains"})


@dataclass(frozen=True, slots=True)
class TrustedIssuer:
    """One issuer the verifier trusts: its id, its public keys and, optionally, its domains."""

    id: str
    keys: tuple[Key, ...]
    domains: frozenset[str] | None = None

    def covers(self, identifier: identifiers.ImId) -> bool:
        """Whether this issuer may speak for ``identifier`` (exact domain match, no subdomains)."""
        return self.domains is None or identifier.domain in self.domains


@dataclass(frozen=True, slots=True)
class TrustStore:
    """The trusted issuers, by id (matched exactly)."""

    issuers: Mapping[str, TrustedIssuer]

    @classmethod
    def of(cls, *issuers: TrustedIssuer) -> TrustStore:
        """A trust store from issuers given in code."""
        return cls(MappingProxyType({issuer.id: issuer for issuer in issuers}))

    def issuer(self, issuer_id: str) -> TrustedIssuer | None:
        """The trusted issuer with exactly this id, or None."""
        return self.issuers.get(issuer_id)


def parse_trust(data: bytes, *, source: str = "the trust file") -> TrustStore:
    """Parse and validate a trust file's bytes."""
    try:
        document = strictjson.loads(data, what=source, max_bytes=MAX_TRUST_FILE_BYTES)
    except VcImError as exc:
        raise TrustFileError(f"{source} is not usable: {exc.message}") from exc
    _require_members(document, _TOP_MEMBERS, f"{source}")
    entries = document.get("issuers")
    if not isinstance(entries, list):
        raise TrustFileError(f"{source} needs an \"issuers\" array.")
    issuers: dict[str, TrustedIssuer] = {}
    for index, entry in enumerate(entries):
        where = f"{source}: issuers[{index}]"
        issuer = _parse_issuer(entry, where)
        if issuer.id in issuers:
            raise TrustFileError(f"{where} repeats the issuer {issuer.id!r}.")
        issuers[issuer.id] = issuer
    return TrustStore(MappingProxyType(issuers))


def read_trust_file(path: Path) -> TrustStore:
    """Read and parse the trust file at ``path``."""
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_TRUST_FILE_BYTES + 1)
    except OSError as exc:
        raise TrustFileError(f"cannot read the trust file {path}: {exc.strerror or exc}.") from exc
    return parse_trust(data, source=f"trust file {path}")


def _require_members(value: Any, allowed: frozenset[str], where: str) -> None:
    if not isinstance(value, dict):
        raise TrustFileError(f"{where} must be a JSON object.")
    unknown = sorted(set(value) - allowed)
    if unknown:
        raise TrustFileError(f"{where} has unknown member {unknown[0]!r}; "
                             f"allowed: {', '.join(sorted(allowed))}.")


def _parse_issuer(entry: Any, where: str) -> TrustedIssuer:
    _require_members(entry, _ISSUER_MEMBERS, where)
    issuer_id = entry.get("id")
    if not isinstance(issuer_id, str) or ":" not in issuer_id or issuer_id != issuer_id.strip():
        raise TrustFileError(f"{where} needs an \"id\" that is an absolute URI.")
    raw_keys = entry.get("keys")
    if not isinstance(raw_keys, list) or not raw_keys:
        raise TrustFileError(f"{where} needs a non-empty \"keys\" array.")
    keys: list[Key] = []
    for number, jwk in enumerate(raw_keys):
        if not isinstance(jwk, dict):
            raise TrustFileError(f"{where}.keys[{number}] must be a JWK object.")
        try:
            key = key_from_jwk(jwk, require="public")
        except KeyFileError as exc:
            raise TrustFileError(f"{where}.keys[{number}]: {exc.message}") from exc
        if any(other.kid == key.kid for other in keys):
            raise TrustFileError(f"{where} has two keys with kid {key.kid!r}.")
        keys.append(key)
    return TrustedIssuer(issuer_id, tuple(keys), _parse_domains(entry, where))


def _parse_domains(entry: Mapping[str, Any], where: str) -> frozenset[str] | None:
    if "domains" not in entry:
        return None
    raw = entry["domains"]
    if not isinstance(raw, list) or not raw or not all(isinstance(d, str) for d in raw):
        raise TrustFileError(f"{where}: \"domains\" must be a non-empty array of domain names.")
    try:
        return frozenset(identifiers.normalize_domain(d) for d in raw)
    except identifiers.IdentifierError as exc:
        raise TrustFileError(f"{where}: {exc.message}") from exc
