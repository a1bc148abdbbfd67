"""Signed statements: the links of a web of trust and well-known service cross-signatures.

The MIMI identity draft's §4.2 (after Matrix cross-signing) lets each user's master key
sign a device-signing key and a user-signing key; the former signs the user's device
keys, the latter other users' master keys. Its §4.3 lets a user publish, on each of
their service accounts, a cross-signature binding their IM identity and key to that
account. Each such signature is a *statement*: a compact JWS with its own ``typ``,
signed by the key its header names (``kid`` is that key's RFC 7638 thumbprint, ``jwk``
the key itself)::

    typ                  signed by                    sub                  cnf.jwk
    im-wot-dsk+jwt       the user's master key        the user (== iss)    device-signing key
    im-wot-usk+jwt       the user's master key        the user (== iss)    user-signing key
    im-wot-device+jwt    the device-signing key       a device of iss      the device key
    im-wot-user+jwt      the user-signing key         another user         that user's master key
    im-revoke+jwt        the key of the statement     (none; ``revokes`` names its jti)
    im-wellknown+jwt     the key it binds             the service account  the bound key

Reading a statement proves only that the key in its header signed it. Whether that key
is one the verifier should believe is decided by :mod:`vc_im.trust.wot` and
:mod:`vc_im.trust.wellknown`, which follow chains of statements from a key the verifier
already trusts.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

import idna

from vc_im import _jose as jose
from vc_im.errors import InputError, KeyFileError, TokenError
from vc_im.identifiers import IdentifierError, IdType, ImId, parse
from vc_im.keys import Key, key_from_jwk
from vc_im.times import MAX_NUMERIC_DATE, TimeRules, numeric_date_problem, seconds_to_rfc3339
from vc_im.trust.services import ip_literal

__all__ = [
    "DEFAULT_LEEWAY",
    "STATEMENT_CODES",
    "Statement",
    "StatementError",
    "StatementKind",
    "account_host",
    "create_statement",
    "https_url_host",
    "normalize_host",
    "read_statement",
    "read_statement_file",
    "short_thumbprint",
]

DEFAULT_LEEWAY: Final = 60
#: The codes a :class:`StatementError` carries; they never change meaning.
STATEMENT_CODES: Final = frozenset({
    "malformed", "too_large", "bad_header", "bad_type", "unsupported_alg", "bad_signature",
    "expired", "bad_iat", "missing_claim", "bad_identifier", "bad_key",
})
#: Characters of a thumbprint that name a key in messages (48 bits: enough to tell keys apart
#: by eye, and a message is never the place where keys are compared).
SHORT_THUMBPRINT: Final = 8

_HEADER: Final = frozenset({"alg", "typ", "kid", "jwk"})
_COMMON_CLAIMS: Final = frozenset({"iss", "iat", "exp", "jti"})
_JTI: Final = re.compile(
    r"\Aurn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z")
_HOST_LABEL: Final = re.compile(r"\A[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\Z")
_MAX_ACCOUNT_CHARS: Final = 2048
#: Identifier types that may speak for themselves in a statement.
_PARTY_TYPES: Final = frozenset({IdType.USER, IdType.HANDLE})
_WELLKNOWN_TYPES: Final = frozenset({IdType.USER, IdType.HANDLE, IdType.DEVICE})


class StatementKind(StrEnum):
    """What a statement says; the value is its JWS ``typ``."""

    DSK = "im-wot-dsk+jwt"
    USK = "im-wot-usk+jwt"
    DEVICE = "im-wot-device+jwt"
    USER = "im-wot-user+jwt"
    REVOKE = "im-revoke+jwt"
    WELLKNOWN = "im-wellknown+jwt"

    @property
    def short(self) -> str:
        """The name the CLI uses: dsk, usk, device, user, revoke or wellknown."""
        return _SHORT_NAMES[self]

    @classmethod
    def of(cls, name: str) -> StatementKind:
        """The kind called ``name`` (a short name or a ``typ``); InputError otherwise."""
        text = name.strip().lower()
        for kind in cls:
            if text in (kind.value, kind.short):
                return kind
        names = ", ".join(kind.short for kind in cls)
        raise InputError(f"{name!r} is not a statement kind; the kinds are {names}.")


_SHORT_NAMES: Final[Mapping[StatementKind, str]] = {
    StatementKind.DSK: "dsk",
    StatementKind.USK: "usk",
    StatementKind.DEVICE: "device",
    StatementKind.USER: "user",
    StatementKind.REVOKE: "revoke",
    StatementKind.WELLKNOWN: "wellknown",
}


class StatementError(TokenError):
    """A statement is not valid on its own; ``code`` is one of :data:`STATEMENT_CODES`."""


@dataclass(frozen=True, slots=True)
class Statement:
    """One statement whose own signature verified; nothing more is implied.

    ``subject`` and ``key`` are None exactly for revocations, which name the statement
    they withdraw in ``revokes`` instead.
    """

    kind: StatementKind
    issuer: ImId
    #: An IM identifier, or for a well-known statement the service account URI.
    subject: ImId | str | None
    #: The key the statement binds (``cnf.jwk``).
    key: Key | None
    #: The key that signed the statement (the header's ``jwk``).
    signer: Key
    jti: str
    issued_at: int
    expires_at: int | None
    revokes: str | None
    token: str

    def describe(self) -> str:
        """What the statement says, in one sentence without a final period."""
        issuer, signer = str(self.issuer), short_thumbprint(self.signer)
        bound = short_thumbprint(self.key) if self.key is not None else ""
        if self.kind is StatementKind.DSK:
            return f"{issuer}'s master key {signer} names its device-signing key {bound}"
        if self.kind is StatementKind.USK:
            return f"{issuer}'s master key {signer} names its user-signing key {bound}"
        if self.kind is StatementKind.DEVICE:
            return (f"{issuer}'s device-signing key {signer} binds device {self.subject} to "
                    f"key {bound}")
        if self.kind is StatementKind.USER:
            return (f"{issuer}'s user-signing key {signer} vouches for {self.subject}'s master "
                    f"key {bound}")
        if self.kind is StatementKind.REVOKE:
            return f"key {signer} of {issuer} withdraws its statement {self.revokes}"
        return f"{issuer} with key {bound} owns the service account {self.subject}"

    def to_json(self) -> dict[str, object]:
        """The statement as ``vc-im statement inspect --json`` prints it (public data only)."""
        return {
            "kind": self.kind.short,
            "typ": self.kind.value,
            "issuer": str(self.issuer),
            "subject": None if self.subject is None else str(self.subject),
            "key": None if self.key is None else self.key.thumbprint(),
            "signer": self.signer.thumbprint(),
            "jti": self.jti,
            "issued_at": seconds_to_rfc3339(self.issued_at),
            "expires_at": (None if self.expires_at is None
                           else seconds_to_rfc3339(self.expires_at)),
            "revokes": self.revokes,
            "meaning": self.describe(),
        }


def short_thumbprint(key: Key) -> str:
    """The first characters of ``key``'s thumbprint: how messages name a key."""
    return key.thumbprint()[:SHORT_THUMBPRINT]


# --------------------------------------------------------------------------------------------
# Service accounts


def normalize_host(host: str) -> str:
    """A host as one name: lower-case A-labels without a final dot, or an IP address in its
    one form (``127.1`` and ``::ffff:127.0.0.1`` are ``127.0.0.1``).

    Raises :class:`ValueError` when ``host`` is not a DNS name or an IP address.
    """
    text = host.strip("[]") if host.startswith("[") else host
    address = ip_literal(text)
    if address is not None:
        return str(address)
    text = text.removesuffix(".")
    if not text.isascii():
        try:
            text = idna.encode(text, uts46=True).decode("ascii")
        except idna.IDNAError as exc:
            raise ValueError("the host is not a valid internationalised domain name") from exc
    text = text.lower()
    if not text or len(text) > 253 or not all(_HOST_LABEL.match(label)
                                              for label in text.split(".")):
        raise ValueError("the host is not a DNS name or an IP address")
    return text


def account_host(account: str) -> str:
    """The host of a service account URI (``https://host/path`` or ``acct:user@host``).

    The host stands for the service when well-known statements are counted; ports, paths
    and users do not make two accounts independent. Raises :class:`ValueError`.
    """
    if not isinstance(account, str) or not account or len(account) > _MAX_ACCOUNT_CHARS:
        raise ValueError("the service account is not a URI of at most 2048 characters")
    if not account.isprintable() or any(c.isspace() for c in account):
        raise ValueError("the service account contains whitespace or control characters")
    if account[:5].lower() == "acct:":
        local, at, host = account[5:].rpartition("@")
        if not at or not local or not host:
            raise ValueError("an acct: service account is written acct:user@host")
        return normalize_host(host)
    if urlsplit(account).scheme.lower() != "https":
        raise ValueError("the service account is neither an https:// URL nor an acct: URI")
    return https_url_host(account)


def https_url_host(url: str) -> str:
    """The normalised host of an https:// URL that carries no user information, fragment or
    bad port: the one rule for the URLs of service accounts and of everything fetched.
    Raises :class:`ValueError` with the reason; the caller has checked the scheme."""
    parts = urlsplit(url)
    if "@" in parts.netloc:
        raise ValueError("the URL carries user information")
    if parts.fragment or "#" in url:
        raise ValueError("the URL has a fragment")
    try:
        parts.port  # noqa: B018 - validates the port
    except ValueError as exc:
        raise ValueError("the URL has an invalid port") from exc
    if not parts.hostname:
        raise ValueError("the URL names no host")
    return normalize_host(parts.hostname)


# --------------------------------------------------------------------------------------------
# What each kind may say


def _meaning_problem(kind: StatementKind, issuer: ImId, subject: ImId | str | None,
                     key: Key | None, signer: Key) -> tuple[str, str] | None:
    """Why a statement of ``kind`` cannot say this: (code, sentence without period), or None."""
    if kind is StatementKind.WELLKNOWN or kind is StatementKind.REVOKE:
        if issuer.type not in _WELLKNOWN_TYPES:
            return ("bad_identifier", f"a {kind.short} statement is issued by a user, handle "
                    f"or device, and {issuer} is a {issuer.type.value}")
    elif issuer.type not in _PARTY_TYPES:
        return ("bad_identifier", f"a {kind.short} statement is issued by a user or handle, "
                f"and {issuer} is a {issuer.type.value}")
    if kind in (StatementKind.DSK, StatementKind.USK) and subject != issuer:
        return ("bad_identifier", f"a {kind.short} statement names its issuer's own key, so "
                f"its subject must be {issuer}, not {subject}")
    if kind is StatementKind.DEVICE:
        if not isinstance(subject, ImId) or subject.type is not IdType.DEVICE:
            return ("bad_identifier", "the subject of a device statement must be a device "
                    f"identifier, not {subject}")
        try:
            owner = subject.user()
        except IdentifierError as exc:
            return ("bad_identifier", exc.message.rstrip("."))
        if owner != issuer:
            return ("bad_identifier", f"device {subject} belongs to {owner}, and a device "
                    f"statement issued by {issuer} may only name {issuer}'s own devices")
    if kind is StatementKind.USER:
        if not isinstance(subject, ImId) or subject.type not in _PARTY_TYPES:
            return ("bad_identifier", "the subject of a user statement must be a user or "
                    f"handle, not {subject}")
        if subject == issuer:
            return ("bad_identifier", "a user statement vouches for another user's master "
                    "key, not its issuer's own")
    if kind is StatementKind.WELLKNOWN:
        if key is not None and key.thumbprint() != signer.thumbprint():
            return ("bad_key", "a well-known statement must be signed by the key it binds "
                    "(proof of possession)")
    elif key is not None and key.thumbprint() == signer.thumbprint():
        return ("bad_key", f"a {kind.short} statement binds a key other than the one that "
                "signs it")
    return None


# --------------------------------------------------------------------------------------------
# Creating


def _public_members(key: Key) -> dict[str, str]:
    """The public JWK without ``kid`` (statements name keys by thumbprint)."""
    return {name: value for name, value in key.public_jwk.items() if name != "kid"}


def _parse_identifier(text: str, what: str) -> ImId:
    try:
        return parse(text)
    except IdentifierError as exc:
        raise InputError(f"the {what} {text!r} is not an IM identifier: {exc.message}") from exc


def create_statement(signer: Key, kind: StatementKind | str, *, issuer: str,
                     subject: str | None = None, key: Key | None = None, now: int,
                     valid_for: int | None = None, revokes: str | None = None) -> str:
    """Sign a statement of ``kind`` with ``signer`` and return the compact JWS.

    ``subject`` defaults to ``issuer`` for dsk and usk statements; ``key`` defaults to the
    signer's public key for well-known statements (which must be signed by the key they
    bind). A revocation takes ``revokes`` (the jti withdrawn) and neither subject nor key.
    Raises :class:`~vc_im.errors.InputError` for a statement that readers would refuse.
    """
    kind = kind if isinstance(kind, StatementKind) else StatementKind.of(kind)
    if not signer.is_private:
        raise KeyFileError("signing a statement needs the signer's private key.")
    if valid_for is not None and valid_for <= 0:
        raise InputError("the validity of a statement must be a positive number of seconds.")
    if not 0 <= now <= MAX_NUMERIC_DATE:
        raise InputError("the time of issue is not a NumericDate in seconds.")
    iss = _parse_identifier(issuer, "issuer")
    payload: dict[str, Any] = {"iss": str(iss), "iat": now}
    if valid_for is not None:
        payload["exp"] = now + valid_for
    payload["jti"] = uuid.uuid4().urn
    if kind is StatementKind.REVOKE:
        if subject is not None or key is not None:
            raise InputError("a revocation takes neither a subject nor a subject key; it names "
                             "the statement it withdraws with revokes.")
        if revokes is None or _JTI.match(revokes) is None:
            raise InputError("a revocation needs revokes: the jti (urn:uuid:...) of the "
                             "statement it withdraws.")
        payload["revokes"] = revokes
        meaning = _meaning_problem(kind, iss, None, None, signer)
    else:
        if revokes is not None:
            raise InputError(f"only a revocation names a statement to revoke, not a "
                             f"{kind.short} statement.")
        sub: ImId | str
        if kind is StatementKind.WELLKNOWN:
            if subject is None:
                raise InputError("a well-known statement needs the service account as subject "
                                 "(https://host/... or acct:user@host).")
            try:
                account_host(subject)
            except ValueError as exc:
                raise InputError(f"the service account {subject!r} is unusable: {exc}.") \
                    from exc
            sub = subject
            key = signer.public() if key is None else key
        else:
            sub = iss if subject is None else _parse_identifier(subject, "subject")
            if key is None:
                raise InputError(f"a {kind.short} statement needs the key it binds (the "
                                 "subject key).")
        meaning = _meaning_problem(kind, iss, sub, key, signer)
        payload["sub"] = str(sub)
        payload["cnf"] = {"jwk": _public_members(key)}
    if meaning is not None:
        raise InputError(meaning[1] + ".")
    header = {"typ": kind.value, "kid": signer.thumbprint(), "jwk": _public_members(signer)}
    return jose.sign(header, payload, signer)


# --------------------------------------------------------------------------------------------
# Reading


def _fail(code: str, message: str) -> StatementError:
    return StatementError(message, code=code)


def _read_key(jwk: object, what: str) -> Key:
    if not isinstance(jwk, dict):
        raise _fail("bad_key", f"the {what} is not a JWK object.")
    try:
        return key_from_jwk(jwk, require="public")
    except KeyFileError as exc:
        raise _fail("bad_key", f"the {what} is unusable: {exc.message}") from exc


def _numeric_date(payload: Mapping[str, Any], claim: str, *, required: bool) -> int | None:
    if claim not in payload:
        if required:
            raise _fail("missing_claim", f"the statement has no {claim!r} claim.")
        return None
    value = payload[claim]
    problem = numeric_date_problem(claim, value)
    if problem is not None:
        raise _fail("malformed", problem + ".")
    return int(value)


def _identifier(value: object, claim: str) -> ImId:
    if not isinstance(value, str):
        raise _fail("malformed", f"the {claim!r} claim is not a string.")
    try:
        return parse(value)
    except IdentifierError as exc:
        raise _fail("bad_identifier", f"the {claim!r} claim is not an IM identifier: "
                    f"{exc.message}") from exc


def _check_header(header: Mapping[str, Any]) -> tuple[StatementKind, str, Key]:
    """The kind, alg and signer named by an allow-listed header."""
    for name in header:
        if name not in _HEADER:
            raise _fail("bad_header", f"the header parameter {name!r} is not one a statement "
                        "may carry (alg, typ, kid, jwk).")
    for name in ("alg", "typ", "kid", "jwk"):
        if name not in header:
            raise _fail("bad_header", f"the statement's header has no {name!r}.")
    typ = header["typ"]
    if not isinstance(typ, str) or typ not in {kind.value for kind in StatementKind}:
        raise _fail("bad_type", f"the header's typ {typ!r} is not a statement's "
                    f"({', '.join(kind.value for kind in StatementKind)}).")
    alg = header["alg"]
    if not isinstance(alg, str):
        raise _fail("bad_header", "the header's alg is not a string.")
    if alg not in jose.VERIFY_ALGORITHMS:
        raise _fail("unsupported_alg", f"the algorithm {alg[:20]!r} is not one vc_im verifies "
                    f"({', '.join(sorted(jose.VERIFY_ALGORITHMS))}).")
    signer = _read_key(header["jwk"], "header's jwk")
    if header["kid"] != signer.thumbprint():
        raise _fail("bad_header", "the header's kid is not the RFC 7638 thumbprint of its jwk.")
    if not signer.accepts(alg):
        raise _fail("unsupported_alg", f"the header's alg {alg} does not fit the signer's "
                    f"{signer.alg} key.")
    return StatementKind(typ), alg, signer


def read_statement(token: str | bytes, *, now: int, leeway: int = DEFAULT_LEEWAY) -> Statement:
    """Verify a statement's own signature, claims and times, and return what it says.

    Raises :class:`StatementError` with one of :data:`STATEMENT_CODES`. Whether the signer
    deserves any trust is not decided here.
    """
    try:
        unverified = jose.peek_unverified(token)
    except TokenError as exc:
        raise _fail(exc.code, exc.message) from exc
    kind, _alg, signer = _check_header(unverified.header)
    if not jose.verify_signature(unverified, signer):
        raise _fail("bad_signature", "the statement's signature does not verify with the key "
                    "its header names.")
    payload = unverified.payload
    allowed = _COMMON_CLAIMS | ({"revokes"} if kind is StatementKind.REVOKE else {"sub", "cnf"})
    for name in payload:
        if name not in allowed:
            raise _fail("malformed", f"the claim {name!r} is not one a {kind.short} statement "
                        f"carries ({', '.join(sorted(allowed))}).")
    for name in sorted(allowed - {"exp"}):
        if name not in payload:
            raise _fail("missing_claim", f"the statement has no {name!r} claim.")
    issued_at = _numeric_date(payload, "iat", required=True)
    assert issued_at is not None
    expires_at = _numeric_date(payload, "exp", required=False)
    jti = payload["jti"]
    if not isinstance(jti, str) or _JTI.match(jti) is None:
        raise _fail("malformed", "the jti is not a lower-case urn:uuid.")
    issuer = _identifier(payload["iss"], "iss")
    subject: ImId | str | None = None
    key: Key | None = None
    revokes: str | None = None
    if kind is StatementKind.REVOKE:
        revokes = payload["revokes"]
        if not isinstance(revokes, str) or _JTI.match(revokes) is None:
            raise _fail("malformed", "revokes is not the lower-case urn:uuid jti of a "
                        "statement.")
    else:
        cnf = payload["cnf"]
        if not isinstance(cnf, dict) or set(cnf) != {"jwk"}:
            raise _fail("malformed", "cnf must be an object with exactly one member, jwk.")
        key = _read_key(cnf["jwk"], "cnf.jwk")
        if kind is StatementKind.WELLKNOWN:
            account = payload["sub"]
            if not isinstance(account, str):
                raise _fail("malformed", "the 'sub' claim is not a string.")
            try:
                account_host(account)
            except ValueError as exc:
                raise _fail("bad_identifier", f"the service account is unusable: {exc}.") \
                    from exc
            subject = account
        else:
            subject = _identifier(payload["sub"], "sub")
    problem = _meaning_problem(kind, issuer, subject, key, signer)
    if problem is not None:
        raise _fail(problem[0], problem[1] + ".")
    rules = TimeRules(now, leeway)
    if rules.in_future(issued_at):
        raise _fail("bad_iat", f"the statement was issued in the future, at "
                    f"{seconds_to_rfc3339(issued_at)}.")
    if expires_at is not None:
        if expires_at <= issued_at:
            raise _fail("bad_iat", "the statement expires before it was issued.")
        if rules.ended(expires_at):
            raise _fail("expired", f"the statement expired at {seconds_to_rfc3339(expires_at)}.")
    return Statement(kind, issuer, subject, key, signer, jti, issued_at, expires_at, revokes,
                     unverified.token)


def read_statement_file(path: Path, now: int, *, leeway: int = DEFAULT_LEEWAY) -> Statement:
    """Read a statement (compact JWS, surrounding whitespace allowed) from a file.

    Raises :class:`~vc_im.errors.InputError` when the file cannot be read, and
    :class:`StatementError` when the statement is invalid.
    """
    try:
        with open(path, "rb") as handle:
            data = handle.read(jose.MAX_TOKEN_BYTES + 1024)
    except OSError as exc:
        raise InputError(f"cannot read the statement file {path}: "
                         f"{exc.strerror or type(exc).__name__}.") from exc
    return read_statement(data.strip(b" \t\r\n"), now=now, leeway=leeway)
