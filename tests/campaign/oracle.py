"""An independent, deliberately simple restatement of what vc_im may accept.

Written from SPEC-NOTES.md (§1.6, §2, §7) and CONTRACT.md ("Rules that verify applies"),
never by calling vc_im's checks: it parses JSON, identifiers, keys and URLs itself and
verifies signatures with ``cryptography`` directly. It answers one question: *may* the
verifier call this token valid? Every function returns ``None`` when the token is
acceptable and otherwise one sentence saying which rule refuses it. The campaign fails
whenever vc_im says ``valid`` and the oracle gives a reason.

Simplicity wins over completeness: where the rules are vague and refusing costs nothing
(an exotic identifier form, an x5c chain), the oracle refuses, because the campaign's
strategies only build valid tokens in forms the oracle knows. Where vc_im may accept more
than the oracle knows about, the oracle is permissive only where the specifications are
(unknown JWT claims of a presentation are ignored, VC-JOSE-COSE §"JOSE Header").
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import idna
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa, utils

# --------------------------------------------------------------------------------------------
# Constants, restated from the specifications (not imported from vc_im)

V1 = "https://www.w3.org/2018/credentials/v1"
V2 = "https://www.w3.org/ns/credentials/v2"
VCIM = "https://vc-im.example/contexts/v1"
MAX_TOKEN = 65536  # CONTRACT.md: at most 64 KiB
MAX_DEPTH = 32
MAX_DATE = 253_402_300_799  # 9999-12-31T23:59:59Z
MAX_IMS = 32
MAX_CREDENTIALS = 16  # CONTRACT.md
VP_MAX_AGE = 300
VP_MAX_LIFETIME = 600
DPOP_MAX_AGE = 300
ALGS = {"Ed25519", "EdDSA", "ES256", "ES256K", "RS256"}
THUMBPRINT_URN = "urn:ietf:params:oauth:jwk-thumbprint:sha-256:"
DEVICE_TYPE, USER_TYPE = "ImDeviceCredential", "ImUserCredential"
STATEMENT_TYPS = {"im-wot-dsk+jwt", "im-wot-usk+jwt", "im-wot-device+jwt", "im-wot-user+jwt",
                  "im-revoke+jwt", "im-wellknown+jwt"}
_URI = re.compile(r"\A[A-Za-z][A-Za-z0-9+.-]*:\S+\Z")
_B64 = re.compile(r"\A[A-Za-z0-9_-]*\Z")
_UUID_URN = re.compile(r"\Aurn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-"
                       r"[0-9a-f]{12}\Z")
_DATETIME = re.compile(r"\A\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})\Z")


class Refused(Exception):
    """The oracle refuses; the message is the rule."""


def _need(condition: bool, rule: str) -> None:
    if not condition:
        raise Refused(rule)


# --------------------------------------------------------------------------------------------
# Strict JSON and the compact JWS (RFC 7515 §7.1, RFC 8725 §3.1, VC-JOSE-COSE strict parsing)


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in pairs:
        _need(name not in out, f"duplicate member {name!r}")
        out[name] = value
    return out


def _no_constant(name: str) -> Any:
    raise Refused(f"{name} is not JSON")


def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


def _strings_ok(value: Any) -> bool:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return False
        return True
    if isinstance(value, dict):
        return all(_strings_ok(k) and _strings_ok(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_strings_ok(v) for v in value)
    return True


def strict_json(data: bytes) -> Any:
    """UTF-8 without BOM, no duplicate names, no NaN/Infinity, bounded depth, no lone
    surrogates."""
    _need(not data.startswith(b"\xef\xbb\xbf"), "a byte order mark")
    try:
        text = data.decode("utf-8")
        value = json.loads(text, object_pairs_hook=_pairs, parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise Refused("not JSON") from exc
    _need(not _has_infinity(value), "a number out of range")
    _need(_depth(value) <= MAX_DEPTH, "nested too deep")
    _need(_strings_ok(value), "a lone surrogate")
    return value


def _has_infinity(value: Any) -> bool:
    if isinstance(value, float):
        return value in (float("inf"), float("-inf")) or value != value
    if isinstance(value, dict):
        return any(_has_infinity(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_infinity(v) for v in value)
    return False


def b64u_decode(segment: str) -> bytes:
    """Canonical unpadded base64url only (one spelling per byte string)."""
    _need(bool(segment) or segment == "", "empty")
    _need(_B64.match(segment) is not None and len(segment) % 4 != 1, "not base64url")
    try:
        data = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except (binascii.Error, ValueError) as exc:
        raise Refused("not base64url") from exc
    _need(base64.urlsafe_b64encode(data).rstrip(b"=").decode() == segment,
          "non-canonical base64url")
    return data


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass(frozen=True)
class Jws:
    header: dict[str, Any]
    payload: dict[str, Any]
    signing_input: bytes
    signature: bytes


def parse_jws(token: str | bytes) -> Jws:
    """One compact JWS of at most 64 KiB whose header and payload are strict JSON objects."""
    _need(len(token) <= MAX_TOKEN, "larger than 64 KiB")
    if isinstance(token, bytes):
        try:
            token = token.decode("ascii")
        except UnicodeDecodeError as exc:
            raise Refused("not ASCII") from exc
    parts = token.split(".")
    _need(len(parts) == 3 and all(parts), "not three non-empty parts")
    header = strict_json(b64u_decode(parts[0]))
    payload = strict_json(b64u_decode(parts[1]))
    _need(isinstance(header, dict) and isinstance(payload, dict), "not JSON objects")
    return Jws(header, payload, f"{parts[0]}.{parts[1]}".encode("ascii"),
               b64u_decode(parts[2]))


# --------------------------------------------------------------------------------------------
# Keys (RFC 7517, RFC 7638, RFC 8037) and signatures


_KTY_MEMBERS = {"OKP": {"crv", "x"}, "EC": {"crv", "x", "y"}, "RSA": {"n", "e"}}
_OPTIONAL = {"kid", "alg", "use", "key_ops"}
_KEY_ALG = {("OKP", "Ed25519"): "Ed25519", ("EC", "P-256"): "ES256",
            ("EC", "secp256k1"): "ES256K", ("RSA", None): "RS256"}


@dataclass(frozen=True)
class PublicKey:
    """A public key the world knows: its JWK members, algorithm and RFC 7638 thumbprint."""

    jwk: Mapping[str, str]
    alg: str
    kid: str

    @property
    def thumbprint(self) -> str:
        return thumbprint(self.jwk)

    def accepts(self, alg: Any) -> bool:
        return alg == self.alg or (self.alg == "Ed25519" and alg == "EdDSA")


def thumbprint(jwk: Mapping[str, Any]) -> str:
    """RFC 7638: SHA-256 over the required members, sorted, without whitespace."""
    required = sorted(_KTY_MEMBERS[str(jwk["kty"])] | {"kty"})
    canonical = json.dumps({name: jwk[name] for name in required}, sort_keys=True,
                           separators=(",", ":"))
    return b64u(hashlib.sha256(canonical.encode()).digest())


def public_key(jwk: Any, known: Sequence[PublicKey]) -> PublicKey:
    """A JWK as a public key: only public members, ``use`` sig, a fitting ``alg``, and the key
    material of a key the world knows (the oracle does not validate curve points itself)."""
    _need(isinstance(jwk, dict), "a JWK is an object")
    kty = jwk.get("kty")
    _need(kty in _KTY_MEMBERS, "unknown kty")
    required = _KTY_MEMBERS[kty]
    _need(set(jwk) <= required | {"kty"} | _OPTIONAL, "members outside the public allow-list")
    _need(required <= set(jwk), "missing key members")
    _need(all(isinstance(jwk[m], str) for m in set(jwk) - {"key_ops"}), "a member not a string")
    if "use" in jwk:
        _need(jwk["use"] == "sig", "use is not sig")
    if "key_ops" in jwk:
        ops = jwk["key_ops"]
        _need(isinstance(ops, list) and bool(ops) and len(set(map(str, ops))) == len(ops)
              and all(op in ("sign", "verify") for op in ops), "bad key_ops")
    if "kid" in jwk:
        _need(0 < len(jwk["kid"]) <= 1024 and jwk["kid"].isprintable(), "bad kid")
    match = [k for k in known if k.jwk.get("kty") == kty
             and all(k.jwk.get(m) == jwk[m] for m in required)]
    _need(len(match) == 1, "not a key the world knows")
    key = match[0]
    if "alg" in jwk:
        _need(key.accepts(jwk["alg"]), "the JWK alg does not fit the key")
    return PublicKey({m: jwk[m] for m in required | {"kty"}}, key.alg,
                     jwk.get("kid", key.thumbprint))


def verify_signature(jws: Jws, key: PublicKey) -> bool:
    """The signature over the received octets, with the algorithm the header names."""
    alg = jws.header.get("alg")
    if not key.accepts(alg):
        return False
    jwk, data, sig = key.jwk, jws.signing_input, jws.signature
    try:
        if jwk["kty"] == "OKP":
            ed25519.Ed25519PublicKey.from_public_bytes(b64u_decode(jwk["x"])).verify(sig, data)
        elif jwk["kty"] == "EC":
            curve = ec.SECP256R1() if jwk["crv"] == "P-256" else ec.SECP256K1()
            point = ec.EllipticCurvePublicNumbers(
                int.from_bytes(b64u_decode(jwk["x"]), "big"),
                int.from_bytes(b64u_decode(jwk["y"]), "big"), curve).public_key()
            if len(sig) != 64:
                return False
            der = utils.encode_dss_signature(int.from_bytes(sig[:32], "big"),
                                             int.from_bytes(sig[32:], "big"))
            point.verify(der, data, ec.ECDSA(hashes.SHA256()))
        else:
            numbers = rsa.RSAPublicNumbers(int.from_bytes(b64u_decode(jwk["e"]), "big"),
                                           int.from_bytes(b64u_decode(jwk["n"]), "big"))
            numbers.public_key().verify(sig, data, padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, ValueError, Refused):
        return False
    return True


# --------------------------------------------------------------------------------------------
# IM identifiers (SPEC-NOTES §1.6, CONTRACT.md "uri parse")


@dataclass(frozen=True)
class Ident:
    """An identifier as a value: equal values name the same identifier."""

    scheme: str
    tag: str | None
    kind: str
    parts: tuple[str, ...]
    domain: str

    def user(self) -> Ident | None:
        """A device's user (an XMPP device's handle), or None when it names none."""
        if self.kind != "device" or len(self.parts) != 2:
            return None
        return Ident(self.scheme, self.tag, "handle" if self.tag == "xmpp" else "user",
                     self.parts[:1], self.domain)


_SUB_DELIMS = set("!$&'()*+,;=")
_UNRESERVED = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_LDH = re.compile(r"\A[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\Z")
_TAG = re.compile(r"\A[A-Za-z][A-Za-z0-9+.-]*\Z")
_MIMI_KINDS = {"u": "user", "d": "device", "r": "room", "g": "group", "p": "pseudonym",
               "t": "team"}


def _bad_char(char: str) -> bool:
    return char.isspace() or unicodedata.category(char) in ("Cc", "Cf", "Cs", "Zs", "Zl", "Zp")


def _domain(text: str, *, full: bool) -> str:
    _need(bool(text) and not text.endswith(".") and not any(c in text for c in ":@/%[]"),
          "not a domain")
    try:
        ascii_form = idna.encode(text, uts46=True).decode("ascii").lower()
    except idna.IDNAError as exc:
        raise Refused("not a domain") from exc
    labels = ascii_form.split(".")
    _need(all(_LDH.match(label) for label in labels), "not a DNS name")
    _need(not labels[-1].isdigit(), "an IP address")
    _need(not full or len(labels) >= 2, "a single-label domain identifier")
    return ascii_form


def _part(raw: str, extra_forbidden: str) -> str:
    _need(bool(raw), "an empty part")
    for char in raw:
        if char.isascii():
            _need(char in _UNRESERVED or char in _SUB_DELIMS or char in ":@%", f"{char!r}")
            _need(char not in extra_forbidden, f"a literal {char!r}")
    out = bytearray()
    index = 0
    while index < len(raw):
        if raw[index] == "%":
            pair = raw[index + 1:index + 3]
            _need(len(pair) == 2 and all(c in "0123456789abcdefABCDEF" for c in pair),
                  "a bad escape")
            out.append(int(pair, 16))
            index += 3
        else:
            out.extend(raw[index].encode("utf-8"))
            index += 1
    try:
        text = out.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Refused("escapes are not UTF-8") from exc
    _need(text not in (".", "..") and "\x00" not in text, "a dot part or NUL")
    _need(not any(unicodedata.category(c) in ("Cc", "Cf") for c in text),
          "an escaped control character")
    return text


def parse_identifier(text: Any) -> Ident:
    """An ``im:`` (untagged, generic-tagged or xmpp) or ``mimi://`` identifier; the oracle
    refuses IRC forms and anything it does not know."""
    _need(isinstance(text, str) and 0 < len(text) <= 2048, "not an identifier string")
    _need(not any(_bad_char(c) for c in text), "whitespace or control characters")
    _need("?" not in text and "#" not in text, "a query or fragment")
    if text[:7].lower() == "mimi://":
        return _mimi(text[7:])
    _need(text[:3].lower() == "im:", "neither im: nor mimi://")
    return _im(text[3:])


def _mimi(rest: str) -> Ident:
    authority, _, path = rest.partition("/")
    domain = _domain(authority, full=False)
    if not path:
        return Ident("mimi", None, "domain", (), domain)
    letter, _, tail = path.partition("/")
    _need(letter in _MIMI_KINDS and bool(tail), "not a mimi kind")
    kind = _MIMI_KINDS[letter]
    segments = tail.split("/")
    _need(kind == "device" or len(segments) == 1, "too many segments")
    return Ident("mimi", None, kind, tuple(_part(s, "/") for s in segments), domain)


def _im(body: str) -> Ident:
    tag = None
    if "=" in body:
        tag_text, _, body = body.partition("=")
        _need(_TAG.match(tag_text) is not None, "not a protocol tag")
        tag = tag_text.lower()
        _need(tag != "irc", "the oracle does not read IRC forms")
    _need(bool(body) and "=" not in body and not body.startswith("//"), "a bad im: body")
    if "@" not in body:
        return Ident("im", tag, "domain", (), _domain(body, full=tag != "xmpp"))
    _need(body.count("@") == 1, "more than one @")
    local, _, host = body.partition("@")
    domain = _domain(host, full=False)
    _need(bool(local), "nothing before @")
    if tag == "xmpp":
        _need(local.count("/") <= 1, "a bad JID")
        parts = tuple(_part(p, "@=/") for p in local.split("/"))
        return Ident("im", tag, "device" if len(parts) == 2 else "handle", parts, domain)
    if local.startswith("%40"):
        return Ident("im", tag, "handle", (_part(local[3:], "@=/"),), domain)
    if local.startswith("%23%23"):
        inner = local[6:].split("/")
        _need(len(inner) <= 2, "a bad team channel")
        return Ident("im", tag, "team" if len(inner) == 1 else "team_channel",
                     tuple(_part(p, "@=/") for p in inner), domain)
    if local.startswith("%23"):
        return Ident("im", tag, "channel", (_part(local[3:], "@=/"),), domain)
    if local.startswith("$"):
        return Ident("im", tag, "group", (_part(local[1:], "@=/"),), domain)
    pieces = local.split("/")
    _need(len(pieces) <= 2, "more than one /")
    parts = tuple(_part(p, "@=/") for p in pieces)
    return Ident("im", tag, "device" if len(parts) == 2 else "user", parts, domain)


# --------------------------------------------------------------------------------------------
# The world the verifier was configured with, as the oracle sees it


@dataclass(frozen=True)
class OracleIssuer:
    id: str
    keys: tuple[PublicKey, ...]
    domains: frozenset[str] | None


@dataclass(frozen=True)
class OracleWorld:
    """What the verifier trusts, restated: issuers, known keys and what statements vouch."""

    issuers: Mapping[str, OracleIssuer]
    known_keys: tuple[PublicKey, ...]
    #: The trust file configures a web of trust or well-known services (a self-issued
    #: credential may carry its key in the header).
    statements_configured: bool = False
    #: Identity -> the key thumbprint the evidence statements bind it to (a web-of-trust
    #: device binding or well-known bindings at or above the threshold).
    vouched: Mapping[Ident, str] = field(default_factory=dict)
    #: Identity -> every key thumbprint any evidence statement binds it to.
    asserted: Mapping[Ident, frozenset[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Accepted:
    """What the oracle learnt from an acceptable credential (for presentations)."""

    type: str
    subject: Ident
    instant_messages: tuple[Ident, ...]
    bound: str | None  # thumbprint of the key cnf binds
    bound_key: PublicKey | None


def _numeric(payload: Mapping[str, Any], claim: str, required: bool) -> int | None:
    if claim not in payload:
        _need(not required, f"{claim} is missing")
        return None
    value = payload[claim]
    _need(type(value) is int and 0 <= value <= MAX_DATE and value < 10**12,
          f"{claim} is not a NumericDate in seconds")
    return int(value)


def _rfc3339(value: Any) -> int:
    _need(isinstance(value, str) and _DATETIME.match(value) is not None, "not a date-time")
    try:
        return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp())
    except ValueError as exc:
        raise Refused("not a date-time") from exc


def _non_empty_str(value: Any) -> bool:
    return isinstance(value, str) and bool(value)


_SUBJECT_MEMBERS = {"id", "fn", "hasOrganizationName", "hasOrganizationalUnit",
                    "hasOrganizationUnit", "mayIssueDeviceCredentials", "hasInstantMessage"}
_VC1_CLAIMS = {"iss", "sub", "jti", "nbf", "iat", "exp", "cnf", "nonce", "vc"}
_VC1_VC = {"@context", "type", "credentialSubject", "id", "issuer", "issuanceDate",
           "expirationDate"}
_VC2_MEMBERS = {"@context", "id", "type", "issuer", "validFrom", "validUntil",
                "credentialSubject", "iss", "sub", "jti", "iat", "exp", "nbf", "cnf", "nonce"}


def credential(token: str | bytes, world: OracleWorld, *, now: int, leeway: int) -> Accepted:
    """Why a credential may not be accepted (Refused), or what it says."""
    jws = parse_jws(token)
    header, payload = jws.header, jws.payload
    typ = header.get("typ", "JWT")
    _need(typ in ("JWT", "vc+jwt"), "typ is not a credential's")
    vc2 = typ == "vc+jwt"
    _need("vp" not in payload, "a presentation")
    iss = payload.get("iss")
    _need(isinstance(iss, str) and _URI.match(iss) is not None, "iss is not a URI")
    sub = payload.get("sub")
    self_issued = False
    try:
        self_issued = parse_identifier(iss) == parse_identifier(
            sub if sub is not None else (payload.get("credentialSubject") or {}).get("id"))
    except (Refused, AttributeError):
        self_issued = False
    allowed = {"alg", "typ", "kid", "cty"}
    if self_issued and world.statements_configured:
        allowed.add("jwk")
    _need(set(header) <= allowed, "a header parameter outside the allow-list")
    _need(header.get("cty") is None or (vc2 and header["cty"] == "vc"), "cty does not fit")
    _need("kid" not in header or _non_empty_str(header["kid"]), "kid is not a string")
    alg = header.get("alg")
    _need(alg in ALGS, "alg is not allowed")

    assert isinstance(iss, str)
    issuer = world.issuers.get(iss)
    if issuer is not None:
        candidates = list(issuer.keys)
        key_names_issuer = True
    else:
        _need(self_issued and "jwk" in header, "the issuer is not trusted")
        candidates = [public_key(header["jwk"], world.known_keys)]
        key_names_issuer = False
    if "kid" in header:
        found = [k for k in candidates if k.kid == header["kid"]]
        _need(bool(found), "no key with that kid")
        key = found[0]
    else:
        fitting = [k for k in candidates if k.accepts(alg)]
        _need(len(fitting) == 1, "no single key fits alg")
        key = fitting[0]
    _need(key.accepts(alg), "the key does not fit alg")
    _need(verify_signature(jws, key), "the signature does not verify")

    # Claims and the data model (VC DM 1.1 §6.3.1; VC-JOSE-COSE), and the schemas' shape.
    if vc2:
        _need(set(payload) <= _VC2_MEMBERS, "a member outside the vc2 credential")
        for name in ("@context", "id", "type", "issuer", "credentialSubject", "iss", "iat",
                     "exp"):
            _need(name in payload, f"{name} is missing")
        body = payload
        _need(isinstance(body["issuer"], str) and body["issuer"] == iss, "issuer differs")
        _need(isinstance(body["id"], str) and _URI.match(body["id"]) is not None, "bad id")
        _need(payload.get("jti", body["id"]) == body["id"], "jti differs from id")
        nbf = _numeric(payload, "nbf", False)
    else:
        _need(set(payload) <= _VC1_CLAIMS, "a claim outside the vc1 credential")
        for name in ("iss", "sub", "jti", "nbf", "exp", "vc"):
            _need(name in payload, f"{name} is missing")
        body = payload["vc"]
        _need(isinstance(body, dict) and set(body) <= _VC1_VC, "a bad vc claim")
        for name in ("@context", "type", "credentialSubject"):
            _need(name in body, f"vc.{name} is missing")
        nbf = _numeric(payload, "nbf", True)
        if "id" in body:
            _need(body["id"] == payload["jti"], "vc.id differs from jti")
        if "issuer" in body:
            _need(body["issuer"] == iss, "vc.issuer differs from iss")
        if "issuanceDate" in body:
            _need(_rfc3339(body["issuanceDate"]) == nbf, "issuanceDate differs from nbf")
    exp = _numeric(payload, "exp", True)
    iat = _numeric(payload, "iat", False)
    assert exp is not None
    if not vc2 and "expirationDate" in body:
        _need(_rfc3339(body["expirationDate"]) == exp, "expirationDate differs from exp")
    jti = payload.get("jti")
    _need(jti is None or (isinstance(jti, str) and _URI.match(jti) is not None),
          "jti is not a URI")
    _need("nonce" not in payload or isinstance(payload["nonce"], str), "nonce not a string")

    # Time (CONTRACT.md: the leeway applies to every time check).
    _need(nbf is None or nbf <= now + leeway, "not yet valid")
    _need(now - leeway < exp, "expired")
    _need(iat is None or iat <= now + leeway, "issued in the future")
    if vc2:
        if "validFrom" in body:
            _need(_rfc3339(body["validFrom"]) <= now + leeway, "validFrom in the future")
        if "validUntil" in body:
            _need(now - leeway < _rfc3339(body["validUntil"]), "validUntil passed")

    # Type and contexts: exactly the encoding's.
    _need(body["@context"] == [V2 if vc2 else V1, VCIM], "not the expected @context")
    types = body["type"]
    _need(isinstance(types, list) and len(types) == 2
          and "VerifiableCredential" in types
          and (DEVICE_TYPE in types) != (USER_TYPE in types), "not a vc_im credential type")
    kind = DEVICE_TYPE if DEVICE_TYPE in types else USER_TYPE

    # The subject (vCard terms of vc_im's context; nothing else may appear).
    subject = body["credentialSubject"]
    _need(isinstance(subject, dict) and set(subject) <= _SUBJECT_MEMBERS,
          "a credentialSubject member outside the context")
    _need(_non_empty_str(subject.get("fn")), "fn is missing")
    for name in ("hasOrganizationName", "hasOrganizationalUnit", "hasOrganizationUnit"):
        _need(name not in subject or _non_empty_str(subject[name]), f"{name} is empty")
    _need(not {"hasOrganizationalUnit", "hasOrganizationUnit"} <= set(subject),
          "both spellings of the organization unit")
    _need(subject.get("mayIssueDeviceCredentials", True) is True, "mayIssue is not true")
    if vc2:
        _need("id" in subject, "credentialSubject.id is missing")
    subject_text = subject.get("id", sub)
    _need(sub is None or subject_text == sub, "sub differs from credentialSubject.id")
    subject_id = parse_identifier(subject_text)
    _need(subject_text.startswith(("im:", "mimi://")), "the subject's scheme is not lower-case")
    if kind == DEVICE_TYPE:
        _need(subject_id.kind == "device", "a device credential's subject is not a device")
    else:
        _need(subject_id.kind in ("user", "handle"), "a user credential's subject")
    ims = subject.get("hasInstantMessage")
    _need(isinstance(ims, list) and 0 < len(ims) <= MAX_IMS, "hasInstantMessage")
    _need(all(isinstance(v, str) and v.startswith(("im:", "mimi://")) for v in ims),
          "a hasInstantMessage value")
    _need(len(set(ims)) == len(ims), "repeated hasInstantMessage values")
    values = tuple(parse_identifier(v) for v in ims)
    _need(subject_id in values, "the subject is not among hasInstantMessage")
    if issuer is not None and issuer.domains is not None:
        _need(all(v.domain in issuer.domains for v in (subject_id, *values)),
              "an identifier outside the issuer's domains")

    # Holder key (RFC 7800): exactly one of jwk or jkt.
    bound: str | None = None
    bound_key: PublicKey | None = None
    if "cnf" in payload:
        cnf = payload["cnf"]
        _need(isinstance(cnf, dict) and len(cnf) == 1 and set(cnf) <= {"jwk", "jkt"},
              "cnf is not exactly one of jwk or jkt")
        if "jwk" in cnf:
            bound_key = public_key(cnf["jwk"], world.known_keys)
            bound = bound_key.thumbprint
        else:
            jkt = cnf["jkt"]
            _need(isinstance(jkt, str) and len(jkt) == 43 and len(b64u_decode(jkt)) == 32,
                  "cnf.jkt is not a thumbprint")
            bound = jkt

    # Trust: the signer's key from the trust file, or a self-issued key that statements
    # vouch for; no positive evidence may name another key (SPEC-NOTES §7, draft §4.4).
    own = subject_id.user() if subject_id.kind == "device" else subject_id
    weighed = [subject_id] + ([own] if own is not None else []) + [
        v for v in values if v.kind in ("user", "handle")]
    if not key_names_issuer:
        _need(own is not None, "a self-issued device without a user")
        signer = key.thumbprint
        _need(bound is None or bound == signer, "cnf names another key than the signer")
        vouched = {i for i, k in world.vouched.items() if k == signer}
        _need(subject_id in vouched or own in vouched, "no statement vouches for the subject")
        _need(all(v in vouched or v in (subject_id, own) for v in values),
              "a value no statement vouches for")
        key_for_evidence: str | None = signer
    else:
        key_for_evidence = bound_key.thumbprint if bound_key is not None else None
    if key_for_evidence is not None:
        for identity in weighed:
            others = world.asserted.get(identity, frozenset()) - {key_for_evidence}
            _need(not others, "a statement binds the subject to another key")
    return Accepted(kind, subject_id, values, bound, bound_key)


# --------------------------------------------------------------------------------------------
# Presentations (CONTRACT.md "Presentations" and "Replay"; SPEC-NOTES §7 B)


@dataclass
class ReplayMemory:
    """What an accepting verifier has consumed: nonces and (iss, jti) pairs."""

    nonces: set[str] = field(default_factory=set)
    pairs: set[tuple[str, str]] = field(default_factory=set)
    dpop: set[tuple[str, str]] = field(default_factory=set)


_VP_BODY = {"@context", "type", "verifiableCredential", "holder", "id"}
_VP2_CLAIMS = {"iss", "aud", "nonce", "jti", "iat", "exp", "nbf"}
_ENVELOPE = "data:application/vc+jwt,"


def presentation(token: str | bytes, world: OracleWorld, *, now: int, leeway: int,
                 audience: str | None, nonce: str | None, memory: ReplayMemory) -> None:
    """Refuse a presentation vc_im may not accept; on acceptance, remember what it consumed."""
    _need(audience is not None and nonce is not None, "no audience or nonce to answer")
    assert nonce is not None
    jws = parse_jws(token)
    header, payload = jws.header, jws.payload
    _need(set(header) <= {"alg", "typ", "kid", "jwk", "cty"}, "a header parameter")
    typ = header.get("typ", "JWT")
    vc2 = typ == "vp+jwt"
    _need(vc2 or (typ == "JWT" and "vp" in payload), "not a presentation")
    _need("cty" not in header or (vc2 and header["cty"] == "vp"), "cty does not fit")
    _need("kid" not in header or isinstance(header["kid"], str), "kid is not a string")
    _need(header.get("alg") in ALGS, "alg is not allowed")
    _need("vc" not in payload and (not vc2 or "vp" not in payload), "a vc or vp claim")
    body = payload if vc2 else payload["vp"]
    _need(isinstance(body, dict), "vp is not an object")
    _need(set(body) <= _VP_BODY | (_VP2_CLAIMS if vc2 else set()), "a vp member")
    base = V2 if vc2 else V1
    _need(body.get("@context") in ([base], [base, VCIM]), "not the expected @context")
    _need(body.get("type") in (["VerifiablePresentation"], "VerifiablePresentation"),
          "not a VerifiablePresentation")
    items = body.get("verifiableCredential")
    _need(isinstance(items, list) and 0 < len(items) <= MAX_CREDENTIALS,
          "verifiableCredential")
    assert isinstance(items, list)
    tokens: list[str] = []
    for item in items:
        if not vc2:
            _need(isinstance(item, str), "a credential is not a compact JWS")
            tokens.append(item)
            continue
        _need(isinstance(item, dict) and set(item) == {"@context", "type", "id"},
              "not an enveloped credential")
        _need(item["@context"] in ([V2], V2) and item["type"] in (
            ["EnvelopedVerifiableCredential"], "EnvelopedVerifiableCredential"),
            "not an enveloped credential")
        _need(isinstance(item["id"], str) and item["id"].startswith(_ENVELOPE),
              "not a data: URL")
        tokens.append(item["id"][len(_ENVELOPE):])
    iss = payload.get("iss")
    _need(isinstance(iss, str), "iss is missing")
    _need(body.get("holder", iss) == iss, "holder differs from iss")
    holder = parse_identifier(iss)
    assert isinstance(iss, str)
    jti = payload.get("jti")
    _need(_non_empty_str(jti), "jti is missing")
    iat = _numeric(payload, "iat", True)
    exp = _numeric(payload, "exp", True)
    nbf = _numeric(payload, "nbf", False)
    assert iat is not None
    assert exp is not None
    aud = payload.get("aud")
    if isinstance(aud, list) and len(aud) == 1:
        aud = aud[0]
    _need(aud == audience, "aud is not the audience")
    _need(payload.get("nonce") == nonce, "nonce is not the nonce")
    _need(iat <= now + leeway and now - iat <= VP_MAX_AGE + leeway, "iat outside the window")
    _need(exp - iat <= VP_MAX_LIFETIME and now - leeway < exp, "exp")
    _need(nbf is None or nbf <= now + leeway, "not yet valid")

    accepted: list[Accepted] = []
    for inner in tokens:
        inner_jws = parse_jws(inner)
        _need(inner_jws.header.get("typ") != "vp+jwt" and "vp" not in inner_jws.payload,
              "a presentation inside")
        if vc2:
            _need(inner_jws.header.get("typ") == "vc+jwt", "a vc1 credential in a vc2 VP")
        accepted.append(credential(inner, world, now=now, leeway=leeway))
    bound = {a.bound for a in accepted}
    _need(None not in bound and len(bound) == 1, "credentials bind no or different keys")
    thumb = next(iter(bound))
    assert thumb is not None
    key = next((a.bound_key for a in accepted if a.bound_key is not None), None)
    if "jwk" in header:
        header_key = public_key(header["jwk"], world.known_keys)
        _need(header_key.thumbprint == thumb, "the header names another key")
        key = key or header_key
    _need(key is not None, "no key to verify with")
    assert key is not None
    if "kid" in header:
        _need(header["kid"] in (thumb, THUMBPRINT_URN + thumb, key.kid), "kid names another key")
    devices = [a for a in accepted if a.type == DEVICE_TYPE]
    _need(bool(devices) and all(d.subject == holder for d in devices), "holder binding")
    listed = {v for d in devices for v in d.instant_messages}
    _need(all(a.subject in listed for a in accepted if a.type == USER_TYPE),
          "a user credential no device lists")
    _need(verify_signature(jws, key), "the signature does not verify with the bound key")
    _need(nonce not in memory.nonces and (iss, jti) not in memory.pairs, "a replay")
    memory.nonces.add(nonce)
    memory.pairs.add((iss, str(jti)))


# --------------------------------------------------------------------------------------------
# DPoP proofs (RFC 9449 §4.3)


def normalize_url(url: Any) -> str:
    """RFC 3986 §6.2.2-6.2.3 for http(s), without query and fragment (RFC 9449 §4.3 9)."""
    _need(isinstance(url, str), "htu is not a string")
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise Refused("htu is not a URL") from exc
    scheme = parts.scheme.lower()
    _need(scheme in ("http", "https") and bool(parts.hostname), "htu is not http(s)")
    _need(parts.username is None and parts.password is None, "userinfo in htu")
    host = (parts.hostname or "").lower()
    _need(re.fullmatch(r"[a-z0-9.-]+", host) is not None, "the oracle reads DNS hosts only")
    default = 443 if scheme == "https" else 80
    netloc = host if port in (None, default) else f"{host}:{port}"

    def escape(match: re.Match[str]) -> str:
        char = chr(int(match.group(1), 16))
        return char if char in _UNRESERVED else "%" + match.group(1).upper()

    path = _remove_dots(re.sub(r"%([0-9A-Fa-f]{2})", escape, parts.path) or "/")
    return f"{scheme}://{netloc}{path}"


def _remove_dots(path: str) -> str:
    """RFC 3986 §5.2.4, as written there."""
    out: list[str] = []
    rest = path
    while rest:
        if rest.startswith("../"):
            rest = rest[3:]
        elif rest.startswith("./"):
            rest = rest[2:]
        elif rest.startswith("/./"):
            rest = "/" + rest[3:]
        elif rest == "/.":
            rest = "/"
        elif rest.startswith("/../") or rest == "/..":
            rest = "/" + rest[4:]
            if out:
                out.pop()
        elif rest in (".", ".."):
            rest = ""
        else:
            end = rest.find("/", 1)
            end = len(rest) if end < 0 else end
            out.append(rest[:end])
            rest = rest[end:]
    result = "".join(out)
    return result if result.startswith("/") else "/" + result


def dpop(token: str | bytes, world: OracleWorld, *, now: int, leeway: int, htm: str, htu: str,
         nonce: str | None, access_token: str | None, credential_token: str | None,
         memory: ReplayMemory) -> None:
    """Refuse a DPoP proof vc_im may not accept; on acceptance, remember its jti."""
    jws = parse_jws(token)
    header, payload = jws.header, jws.payload
    _need(set(header) <= {"typ", "alg", "jwk"} and header.get("typ") == "dpop+jwt",
          "not a DPoP header")
    key = public_key(header.get("jwk"), world.known_keys)
    _need(header.get("alg") in ALGS and key.accepts(header["alg"]), "alg")
    _need(verify_signature(jws, key), "the signature does not verify")
    for claim in ("jti", "htm", "htu"):
        _need(_non_empty_str(payload.get(claim)), f"{claim} is missing")
    iat = _numeric(payload, "iat", True)
    exp = _numeric(payload, "exp", False)
    assert iat is not None
    _need(payload["htm"] == htm, "htm")
    _need(normalize_url(payload["htu"]) == normalize_url(htu), "htu")
    if nonce is not None:
        _need(payload.get("nonce") == nonce, "nonce")
    _need(iat <= now + leeway and now - iat <= DPOP_MAX_AGE + leeway, "iat window")
    _need(exp is None or now - leeway < exp, "expired")
    if access_token is not None:
        expected = b64u(hashlib.sha256(access_token.encode("ascii")).digest())
        _need(payload.get("ath") == expected, "ath")
    if credential_token is not None:
        accepted = credential(credential_token, world, now=now, leeway=leeway)
        _need(accepted.bound == key.thumbprint, "the proof key is not the bound key")
        if "sub" in payload:
            _need(parse_identifier(payload["sub"]) == accepted.subject, "sub")
    pair = (normalize_url(htu), str(payload["jti"]))
    _need(pair not in memory.dpop, "a replayed jti")
    memory.dpop.add(pair)


# --------------------------------------------------------------------------------------------
# Trust statements (the draft's §4.2-4.3 as vc_im's statements restate them)


def _account_ok(account: Any) -> bool:
    if not isinstance(account, str) or not account or len(account) > 2048:
        return False
    if not account.isprintable() or any(c.isspace() for c in account):
        return False
    try:
        if account[:5].lower() == "acct:":
            local, at, host = account[5:].rpartition("@")
            return bool(local and at) and _host_ok(host)
        parts = urlsplit(account)
        parts.port  # noqa: B018 - a bad port raises
        return (parts.scheme.lower() == "https" and "@" not in parts.netloc
                and "#" not in account and bool(parts.hostname)
                and _host_ok(parts.hostname or ""))
    except (ValueError, Refused):
        return False


def _host_ok(host: str) -> bool:
    try:
        _domain(host.removesuffix("."), full=False)
    except Refused:
        return bool(re.fullmatch(r"[0-9.]+|\[?[0-9a-fA-F:.]+\]?", host))
    return True


def statement(token: str | bytes, world: OracleWorld, *, now: int, leeway: int) -> None:
    """Refuse a statement ``read_statement`` may not return."""
    jws = parse_jws(token)
    header, payload = jws.header, jws.payload
    _need(set(header) == {"alg", "typ", "kid", "jwk"}, "the statement header")
    typ = header["typ"]
    _need(typ in STATEMENT_TYPS, "not a statement typ")
    signer = public_key(header["jwk"], world.known_keys)
    _need(header["kid"] == signer.thumbprint, "kid is not the thumbprint")
    _need(header["alg"] in ALGS and signer.accepts(header["alg"]), "alg")
    _need(verify_signature(jws, signer), "the signature does not verify")
    revoke = typ == "im-revoke+jwt"
    allowed = {"iss", "iat", "exp", "jti"} | ({"revokes"} if revoke else {"sub", "cnf"})
    _need(set(payload) <= allowed and allowed - {"exp"} <= set(payload), "claims")
    iat = _numeric(payload, "iat", True)
    exp = _numeric(payload, "exp", False)
    assert iat is not None
    _need(isinstance(payload["jti"], str) and _UUID_URN.match(payload["jti"]) is not None,
          "jti")
    issuer = parse_identifier(payload["iss"])
    wellknown = typ == "im-wellknown+jwt"
    if wellknown or revoke:
        _need(issuer.kind in ("user", "handle", "device"), "issuer kind")
    else:
        _need(issuer.kind in ("user", "handle"), "issuer kind")
    if revoke:
        _need(isinstance(payload["revokes"], str)
              and _UUID_URN.match(payload["revokes"]) is not None, "revokes")
    else:
        cnf = payload["cnf"]
        _need(isinstance(cnf, dict) and set(cnf) == {"jwk"}, "cnf")
        try:
            bound = public_key(cnf["jwk"], world.known_keys).thumbprint
        except Refused as refused:
            if wellknown or str(refused) != "not a key the world knows":
                raise
            # A web-of-trust statement may vouch for any public key; whether an unknown one is
            # a point on its curve is the key parser's business, which this oracle does not
            # re-implement, so it is taken as given (its members passed the checks above).
            bound = thumbprint(cnf["jwk"])
        if wellknown:
            _need(_account_ok(payload["sub"]), "the service account")
            _need(bound == signer.thumbprint, "well-known: not self-signed")
        else:
            _need(bound != signer.thumbprint, "binds its own signer")
            subject = parse_identifier(payload["sub"])
            if typ in ("im-wot-dsk+jwt", "im-wot-usk+jwt"):
                _need(subject == issuer, "dsk/usk names another")
            elif typ == "im-wot-device+jwt":
                _need(subject.kind == "device" and subject.user() == issuer, "device owner")
            else:
                _need(subject.kind in ("user", "handle") and subject != issuer, "user stmt")
    _need(iat <= now + leeway, "issued in the future")
    if exp is not None:
        _need(exp > iat and now - leeway < exp, "expired")
