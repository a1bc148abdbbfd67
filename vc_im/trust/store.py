"""The verifier's trust file: which issuers, roots and keys it trusts, for which domains.

Format (CONTRACT.md, plus the trust models of the MIMI identity draft §4)::

    {"issuers": [{"id": "https://im.example.com",
                  "keys": [{"kty": "OKP", "crv": "Ed25519", "x": "...", "alg": "Ed25519"}],
                  "domains": ["example.com"]}],
     "x509_roots": ["-----BEGIN CERTIFICATE-----..."],
     "web_of_trust": {"id": "im:...", "master_key": {...}, "max_hops": 1},
     "well_known": {"threshold": 2},
     "policy": [{"domains": ["example.com"], "methods": ["central", "x509"],
                 "combine": "any", "contradiction": "fail"}],
     "profile_files": ["profiles/support-agent.json"]}

An issuer may carry ``"profiles": ["w3c", "support-agent"]``: the credential profiles it
may issue (built-in names, or those of the ``profile_files``, whose paths are relative to
the trust file); without it an issuer issues ``im-device`` and ``im-user`` only.

Only ``issuers`` is required. Unknown members are an error, never silently
ignored: a misspelt ``domains`` would otherwise trust an issuer for every
domain. Keys and certificates are parsed once, here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar

from vc_im import _jose as strictjson
from vc_im import identifiers
from vc_im.errors import KeyFileError, TrustFileError, VcImError
from vc_im.keys import Key, key_from_jwk
from vc_im.trust.paths import TrustMethod

if TYPE_CHECKING:
    from cryptography.x509 import Certificate

    from vc_im.profiles import Profile

MAX_TRUST_FILE_BYTES = 1 << 20
_TOP_MEMBERS = frozenset({"issuers", "x509_roots", "web_of_trust", "well_known", "policy",
                          "profile_files"})
_ISSUER_MEMBERS = frozenset({"id", "keys", "domains", "profiles"})
_MAX_PROFILE_FILES = 32
_WOT_MEMBERS = frozenset({"id", "master_key", "max_hops"})
_RULE_MEMBERS = frozenset({"domains", "methods", "combine", "contradiction"})


@dataclass(frozen=True, slots=True)
class TrustedIssuer:
    """One issuer the verifier trusts: its id, its public keys and, optionally, its domains."""

    id: str
    keys: tuple[Key, ...]
    domains: frozenset[str] | None = None
    #: The credential profiles it may issue; None: ``im-device`` and ``im-user`` only.
    profiles: frozenset[str] | None = None

    def covers(self, identifier: identifiers.ImId) -> bool:
        """Whether this issuer may speak for ``identifier`` (exact domain match, no subdomains)."""
        return self.domains is None or identifier.domain in self.domains


@dataclass(frozen=True, slots=True)
class WebOfTrustAnchor:
    """The verifier's own place in a web of trust: its user identifier and master key."""

    id: identifiers.ImId
    master_key: Key
    max_hops: int = 1


@dataclass(frozen=True, slots=True)
class Combine:
    """How many of a rule's methods must vouch: any one, all of them, or at least k.

    ``at_least`` is k, or None for all of them; :attr:`ANY` and :attr:`ALL` are the two
    named rules (``"any"`` is k = 1).
    """

    at_least: int | None

    ANY: ClassVar[Combine]
    ALL: ClassVar[Combine]

    def __post_init__(self) -> None:
        if self.at_least is not None and (isinstance(self.at_least, bool)
                                          or self.at_least < 1):
            raise ValueError("a policy rule needs at least one vouching method.")

    def needed(self, methods: int) -> int:
        """How many of ``methods`` methods must vouch."""
        return methods if self.at_least is None else self.at_least


Combine.ANY = Combine(1)
Combine.ALL = Combine(None)


class OnContradiction(StrEnum):
    """What a contradiction between trust methods does: fail the credential, or be reported."""

    FAIL = "fail"
    REPORT = "report"


@dataclass(frozen=True, slots=True)
class PolicyRule:
    """Which trust methods apply to which domains, and how their answers combine.

    ``domains`` None is the default rule (``["*"]``). A rule without methods covers no
    method at all: :meth:`TrustStore.rule_for` gives one for a domain no rule names.
    """

    domains: frozenset[str] | None
    methods: tuple[TrustMethod, ...]
    combine: Combine = Combine.ANY
    contradiction: OnContradiction = OnContradiction.FAIL

    def applies_to(self, domain: str) -> bool:
        """Whether this rule governs identifiers in ``domain`` (None means every domain)."""
        return self.domains is None or domain in self.domains


@dataclass(frozen=True, slots=True)
class TrustStore:
    """Everything the verifier trusts: issuers by id (matched exactly) and the trust models."""

    issuers: Mapping[str, TrustedIssuer]
    x509_roots: tuple[Certificate, ...] = ()
    web_of_trust: WebOfTrustAnchor | None = None
    well_known_threshold: int | None = None
    policy: tuple[PolicyRule, ...] = ()
    #: The profiles the trust file's ``profile_files`` add.
    profiles: tuple[Profile, ...] = ()
    #: The rule for a domain when there is no policy: every configured method (made once;
    #: :meth:`rule_for` gives it for each credential).
    _default_rule: PolicyRule = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_default_rule", PolicyRule(None, self.configured_methods()))

    @classmethod
    def of(cls, *issuers: TrustedIssuer) -> TrustStore:
        """A trust store from issuers given in code."""
        return cls(MappingProxyType({issuer.id: issuer for issuer in issuers}))

    def issuer(self, issuer_id: str) -> TrustedIssuer | None:
        """The trusted issuer with exactly this id, or None."""
        return self.issuers.get(issuer_id)

    def configured_methods(self) -> tuple[TrustMethod, ...]:
        """The trust methods this file gives anchors for, in a fixed order."""
        present = {TrustMethod.CENTRAL: bool(self.issuers),
                   TrustMethod.CASCADE: bool(self.issuers),
                   TrustMethod.X509: bool(self.x509_roots),
                   TrustMethod.WEB_OF_TRUST: self.web_of_trust is not None,
                   TrustMethod.WELL_KNOWN: self.well_known_threshold is not None}
        return tuple(method for method in TrustMethod if present[method])

    def rule_for(self, domain: str) -> PolicyRule:
        """The first policy rule for ``domain``. Without a policy, any configured method will
        do; a policy that neither names ``domain`` nor has a default rule (``["*"]``) fails
        closed: the rule it gives has no methods, so nothing vouches there."""
        for rule in self.policy:
            if rule.applies_to(domain):
                return rule
        if self.policy:
            return PolicyRule(frozenset({domain}), ())
        return self._default_rule

    def profiles_for(self, issuer: TrustedIssuer | None) -> tuple[Profile, ...]:
        """The profiles ``issuer`` may issue (None, a signer the trust file does not list as
        an issuer: ``im-device`` and ``im-user`` only)."""
        import vc_im.profiles as profiles

        if issuer is None or issuer.profiles is None:
            return profiles.IM_PROFILES
        pool = (*(profiles.builtin(name) for name in profiles.BUILTIN_NAMES), *self.profiles)
        return tuple(p for p in pool if p is not None and p.name in issuer.profiles)


def parse_trust(data: bytes, *, source: str = "the trust file",
                base: Path | None = None) -> TrustStore:
    """Parse and validate a trust file's bytes; ``profile_files`` are read relative to
    ``base`` (the trust file's directory)."""
    try:
        document = strictjson.loads(data, what=source, max_bytes=MAX_TRUST_FILE_BYTES)
    except VcImError as exc:
        raise TrustFileError(f"{source} is not usable: {exc.message}") from exc
    _require_members(document, _TOP_MEMBERS, f"{source}")
    profile_files = _parse_profile_files(document.get("profile_files"), source, base)
    known = {"im-device", "im-user", "w3c", *(p.name for p in profile_files)}
    entries = document.get("issuers")
    if not isinstance(entries, list):
        raise TrustFileError(f"{source} needs an \"issuers\" array.")
    issuers: dict[str, TrustedIssuer] = {}
    for index, entry in enumerate(entries):
        where = f"{source}: issuers[{index}]"
        issuer = _parse_issuer(entry, where, known)
        if issuer.id in issuers:
            raise TrustFileError(f"{where} repeats the issuer {issuer.id!r}.")
        issuers[issuer.id] = issuer
    store = TrustStore(
        MappingProxyType(issuers),
        x509_roots=_parse_roots(document.get("x509_roots"), source),
        web_of_trust=_parse_web_of_trust(document.get("web_of_trust"), source),
        well_known_threshold=_parse_well_known(document.get("well_known"), source),
    )
    rules = _parse_policy(document.get("policy"), source, store)
    return TrustStore(store.issuers, store.x509_roots, store.web_of_trust,
                      store.well_known_threshold, rules, profile_files)


def read_trust_file(path: Path) -> TrustStore:
    """Read and parse the trust file at ``path``."""
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_TRUST_FILE_BYTES + 1)
    except OSError as exc:
        raise TrustFileError(f"cannot read the trust file {path}: {exc.strerror or exc}.") from exc
    return parse_trust(data, source=f"trust file {path}", base=path.parent)


def _require_members(value: Any, allowed: frozenset[str], where: str) -> None:
    if not isinstance(value, dict):
        raise TrustFileError(f"{where} must be a JSON object.")
    unknown = sorted(set(value) - allowed)
    if unknown:
        raise TrustFileError(f"{where} has unknown member {unknown[0]!r}; "
                             f"allowed: {', '.join(sorted(allowed))}.")


def _parse_profile_files(raw: Any, source: str, base: Path | None) -> tuple[Profile, ...]:
    if raw is None:
        return ()
    if (not isinstance(raw, list) or not raw or len(raw) > _MAX_PROFILE_FILES
            or not all(isinstance(item, str) and item for item in raw)):
        raise TrustFileError(f"{source}: \"profile_files\" must be a non-empty array (at most "
                             f"{_MAX_PROFILE_FILES}) of profile file paths.")
    if base is None:
        raise TrustFileError(f"{source}: \"profile_files\" needs a trust file on disk, to "
                             "read them relative to it.")
    from vc_im.profiles import read_profile_file

    found: list[Profile] = []
    for index, item in enumerate(raw):
        try:
            profile = read_profile_file(base / item)
        except VcImError as exc:
            raise TrustFileError(f"{source}: profile_files[{index}]: {exc.message}") from exc
        if any(other.name == profile.name for other in found):
            raise TrustFileError(f"{source}: profile_files[{index}] repeats the profile "
                                 f"{profile.name!r}.")
        found.append(profile)
    return tuple(found)


def _parse_profiles(entry: Mapping[str, Any], where: str,
                    known: set[str]) -> frozenset[str] | None:
    if "profiles" not in entry:
        return None
    raw = entry["profiles"]
    if not isinstance(raw, list) or not raw or not all(isinstance(p, str) for p in raw):
        raise TrustFileError(f"{where}: \"profiles\" must be a non-empty array of profile "
                             "names.")
    unknown = [name for name in raw if name not in known]
    if unknown:
        raise TrustFileError(f"{where}: the profile {unknown[0]!r} is neither built in "
                             "(im-device, im-user, w3c) nor named by a profile_files entry.")
    return frozenset(raw)


def _parse_issuer(entry: Any, where: str, known: set[str]) -> TrustedIssuer:
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
    return TrustedIssuer(issuer_id, tuple(keys), _parse_domains(entry, where),
                         _parse_profiles(entry, where, known))


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


def _parse_roots(raw: Any, source: str) -> tuple[Certificate, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not raw or not all(isinstance(p, str) for p in raw):
        raise TrustFileError(f"{source}: \"x509_roots\" must be a non-empty array of PEM "
                             "certificates.")
    from vc_im.trust.x509 import load_roots  # cryptography.x509 only when roots are configured

    roots: list[Certificate] = []
    for index, pem in enumerate(raw):
        try:
            roots.extend(load_roots(pem.encode("utf-8")))
        except VcImError as exc:
            raise TrustFileError(f"{source}: x509_roots[{index}]: {exc.message}") from exc
    return tuple(roots)


def _parse_web_of_trust(raw: Any, source: str) -> WebOfTrustAnchor | None:
    if raw is None:
        return None
    where = f"{source}: web_of_trust"
    _require_members(raw, _WOT_MEMBERS, where)
    try:
        me = identifiers.parse(str(raw.get("id", "")))
    except identifiers.IdentifierError as exc:
        raise TrustFileError(f"{where}: \"id\" must be your user identifier: "
                             f"{exc.message}") from exc
    if me.type not in (identifiers.IdType.USER, identifiers.IdType.HANDLE):
        raise TrustFileError(f"{where}: \"id\" must be your user identifier, and {me} is a "
                             f"{me.type.value}.")
    if not isinstance(raw.get("master_key"), dict):
        raise TrustFileError(f"{where} needs a \"master_key\" (a public JWK).")
    try:
        master = key_from_jwk(raw["master_key"], require="public")
    except KeyFileError as exc:
        raise TrustFileError(f"{where}.master_key: {exc.message}") from exc
    hops = raw.get("max_hops", 1)
    if isinstance(hops, bool) or not isinstance(hops, int) or not 0 <= hops <= 4:
        raise TrustFileError(f"{where}: \"max_hops\" must be a whole number from 0 to 4.")
    return WebOfTrustAnchor(me, master, hops)


def _parse_well_known(raw: Any, source: str) -> int | None:
    if raw is None:
        return None
    _require_members(raw, frozenset({"threshold"}), f"{source}: well_known")
    threshold = raw.get("threshold", 2)
    if isinstance(threshold, bool) or not isinstance(threshold, int) or not 1 <= threshold <= 16:
        raise TrustFileError(f"{source}: well_known \"threshold\" must be a whole number from "
                             "1 to 16.")
    return threshold


def _parse_policy(raw: Any, source: str, store: TrustStore) -> tuple[PolicyRule, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not raw:
        raise TrustFileError(f"{source}: \"policy\" must be a non-empty array of rules.")
    return tuple(_parse_rule(rule, f"{source}: policy[{index}]", store)
                 for index, rule in enumerate(raw))


def _parse_rule(raw: Any, where: str, store: TrustStore) -> PolicyRule:
    _require_members(raw, _RULE_MEMBERS, where)
    domains_raw = raw.get("domains")
    domains: frozenset[str] | None
    if domains_raw == ["*"]:
        domains = None
    else:
        domains = _parse_domains(raw, where)
        if domains is None:
            raise TrustFileError(f"{where} needs \"domains\" (or [\"*\"] for every domain).")
    methods = raw.get("methods")
    names = [method.value for method in TrustMethod]
    if (not isinstance(methods, list) or not methods
            or not all(isinstance(m, str) and m in names for m in methods)
            or len(set(methods)) != len(methods)):
        raise TrustFileError(f"{where}: \"methods\" must be distinct names among "
                             f"{', '.join(names)}.")
    chosen = tuple(TrustMethod(m) for m in methods)
    missing = [m for m in chosen if m not in store.configured_methods()]
    if missing:
        raise TrustFileError(f"{where} uses the method {missing[0].value!r}, but the trust file "
                             "configures no anchor for it.")
    return PolicyRule(domains, chosen, _parse_combine(raw.get("combine", "any"), where,
                                                      len(chosen)),
                      _parse_contradiction(raw.get("contradiction", "fail"), where))


def _parse_combine(raw: Any, where: str, methods: int) -> Combine:
    if raw == "any":
        return Combine.ANY
    if raw == "all":
        return Combine.ALL
    if (isinstance(raw, dict) and set(raw) == {"k"} and isinstance(raw["k"], int)
            and not isinstance(raw["k"], bool) and 1 <= raw["k"] <= methods):
        return Combine(raw["k"])
    raise TrustFileError(f"{where}: \"combine\" must be \"any\", \"all\" or "
                         f"{{\"k\": N}} with N from 1 to {methods}.")


def _parse_contradiction(raw: Any, where: str) -> OnContradiction:
    if isinstance(raw, str) and raw in {option.value for option in OnContradiction}:
        return OnContradiction(raw)
    raise TrustFileError(f"{where}: \"contradiction\" must be \"fail\" or \"report\".")
