"""Signing keys: generate, read, write, validate, and name them (JWK, PEM, did:key, did:jwk).

A :class:`Key` is parsed and checked once and then reused: parsing costs more
than verifying a signature. Every way in (:func:`key_from_jwk`,
:func:`load_key`, :func:`read_key_file`, :func:`resolve_did`,
:func:`generate`) goes through the same validation, which refuses what the
libraries underneath accept but a verifier must not:

* symmetric keys, curves and algorithms outside :data:`ALGORITHMS`, and a JWK
  ``alg`` that does not fit its key (no algorithm confusion);
* JWK members outside a fixed allow-list, ``use`` other than ``sig``, and
  non-canonical base64url (one key must have one spelling, or thumbprints and
  did:jwk identifiers stop identifying it);
* RSA moduli under :data:`MIN_RSA_BITS` (joserfc only warns, then signs);
* Ed25519 public keys that are small-order points (joserfc and OpenSSL accept
  them; a signature under such a key proves nothing) or not canonically encoded;
* EC points that are not on the curve, and private parts that do not belong to
  the public part they travel with.

Ed25519 keys carry the fully specified JWS algorithm ``Ed25519`` (RFC 9864);
the older polymorphic ``EdDSA`` is accepted when verifying and mapped onto the
same key, because joserfc refuses a key whose JWK ``alg`` differs from the
header's.

Messages never contain key material, and start in lower case so that callers
can put them after a prefix of their own.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import json
import re
import types
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, Literal, TypeAlias

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from joserfc.jwk import ECKey, OKPKey, RSAKey

from vc_im import _jose as strictjson
from vc_im.errors import KeyFileError

__all__ = [
    "ALGORITHMS",
    "DEFAULT_ALG",
    "MAX_KEY_FILE_BYTES",
    "MAX_RSA_BITS",
    "MIN_RSA_BITS",
    "RSA_GENERATE_BITS",
    "JoseKey",
    "Key",
    "Require",
    "generate",
    "jwk_thumbprint",
    "key_from_jwk",
    "load_key",
    "read_key_file",
    "resolve_did",
    "write_private_key",
    "write_public_key",
]

#: The JWS algorithms vc_im signs with; each key has exactly one of them.
ALGORITHMS: Final[tuple[str, ...]] = ("Ed25519", "ES256", "ES256K", "RS256")
DEFAULT_ALG: Final = "Ed25519"
MIN_RSA_BITS: Final = 2048
#: Larger moduli only cost verifiers time; OpenSSL's own ceiling is the same.
MAX_RSA_BITS: Final = 16384
#: A key file or key text larger than this is refused unread.
MAX_KEY_FILE_BYTES: Final = 1 << 20
#: Bits of a generated RS256 modulus.
RSA_GENERATE_BITS: Final = 2048

Require: TypeAlias = Literal["public", "private", "any"]
#: The joserfc key object handed to the JOSE codec.
JoseKey: TypeAlias = OKPKey | ECKey | RSAKey
_NativePrivate: TypeAlias = (
    ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey)
_NativePublic: TypeAlias = ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey | rsa.RSAPublicKey

#: JWS alg accepted for an Ed25519 key besides its own (pre-RFC 9864 name).
_EDDSA: Final = "EdDSA"
_COMMON_MEMBERS: Final = frozenset({"kty", "kid", "alg", "use", "key_ops"})
_KTY_MEMBERS: Final[Mapping[str, frozenset[str]]] = types.MappingProxyType({
    "OKP": frozenset({"crv", "x", "d"}),
    "EC": frozenset({"crv", "x", "y", "d"}),
    "RSA": frozenset({"n", "e", "d", "p", "q", "dp", "dq", "qi"}),
})
_ALL_MEMBERS: Final = _COMMON_MEMBERS.union(*_KTY_MEMBERS.values())
_PRIVATE_MEMBERS: Final = frozenset({"d", "p", "q", "dp", "dq", "qi"})
_RSA_CRT_MEMBERS: Final = ("p", "q", "dp", "dq", "qi")
_KEY_OPS: Final = frozenset({"sign", "verify"})
_MAX_KID_CHARS: Final = 1024
_B64URL: Final = re.compile(r"\A[A-Za-z0-9_-]*\Z")


@dataclass(frozen=True, slots=True)
class _Curve:
    """An elliptic curve vc_im signs with: its JWK name, JWS alg, field prime and sizes."""

    crv: str
    alg: str
    openssl_name: str
    curve: type[ec.EllipticCurve]
    field_prime: int
    size: int  # bytes of a coordinate and of the private scalar


_EC_CURVES: Final[Mapping[str, _Curve]] = types.MappingProxyType({
    "P-256": _Curve("P-256", "ES256", "secp256r1", ec.SECP256R1,
                    2**256 - 2**224 + 2**192 + 2**96 - 1, 32),
    "secp256k1": _Curve("secp256k1", "ES256K", "secp256k1", ec.SECP256K1, 2**256 - 2**32 - 977, 32),
})
#: The cryptography curve name of each supported curve.
_EC_BY_OPENSSL_NAME: Final = types.MappingProxyType(
    {c.openssl_name: c for c in _EC_CURVES.values()})
_UNSUPPORTED_CURVE_HINT: Final = "vc_im signs with Ed25519 (OKP), P-256 or secp256k1 (EC)"
_PRIVATE_WHERE_PUBLIC: Final = ("the key holds a private key where a public key is expected; "
                                "give its public part only.")
_PUBLIC_TYPES: Final = (ed25519.Ed25519PublicKey, ec.EllipticCurvePublicKey, rsa.RSAPublicKey)
_NATIVE_TYPES: Final = (*_PUBLIC_TYPES, ed25519.Ed25519PrivateKey, ec.EllipticCurvePrivateKey,
                        rsa.RSAPrivateKey)


def _fail(message: str) -> KeyFileError:
    """A ``bad_key`` error; ``message`` is one sentence, lower case first, no key material."""
    return KeyFileError(message)


def _shown(value: object, limit: int = 40) -> str:
    """A short, printable rendering of an untrusted (never secret) value for a message."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


# --------------------------------------------------------------------------------------
# base64url, Base64urlUInt, base58btc
# --------------------------------------------------------------------------------------

def _b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64u_decode(value: str, what: str) -> bytes:
    """Canonical unpadded base64url only: one byte string, one spelling."""
    if _B64URL.match(value) is None or len(value) % 4 == 1:
        raise _fail(f"the {what} is not unpadded base64url.")
    try:
        data = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError) as exc:  # pragma: no cover - the regex rules these out
        raise _fail(f"the {what} is not unpadded base64url.") from exc
    if _b64u(data) != value:
        raise _fail(f"the {what} is not canonical base64url (non-zero padding bits).")
    return data


def _uint_b64u(value: int) -> str:
    """RFC 7518 Base64urlUInt: big-endian, as few octets as the value needs."""
    return _b64u(value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big"))


def _uint_decode(value: str, what: str) -> int:
    data = _b64u_decode(value, what)
    if not data or (len(data) > 1 and data[0] == 0):
        raise _fail(f"the {what} is not the shortest big-endian encoding RFC 7518 requires.")
    return int.from_bytes(data, "big")


_B58_ALPHABET: Final = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX: Final = types.MappingProxyType({c: i for i, c in enumerate(_B58_ALPHABET)})


def _b58encode(data: bytes) -> str:
    number = int.from_bytes(data, "big")
    digits: list[str] = []
    while number:
        number, digit = divmod(number, 58)
        digits.append(_B58_ALPHABET[digit])
    zeros = len(data) - len(data.lstrip(b"\0"))
    return "1" * zeros + "".join(reversed(digits))


def _b58decode(text: str) -> bytes:
    number = 0
    for char in text:
        digit = _B58_INDEX.get(char)
        if digit is None:
            raise _fail("the did:key value is not base58btc.")
        number = number * 58 + digit
    zeros = len(text) - len(text.lstrip("1"))
    body = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return b"\0" * zeros + body


# --------------------------------------------------------------------------------------
# Ed25519 point checks
# --------------------------------------------------------------------------------------

_ED_P: Final = 2**255 - 19
_ED_D: Final = -121665 * pow(121666, -1, _ED_P) % _ED_P
_ED_SQRT_M1: Final = pow(2, (_ED_P - 1) // 4, _ED_P)


@functools.lru_cache(maxsize=1024)
def _ed25519_public_problem(encoded: bytes) -> str | None:
    """Why a 32-byte Ed25519 public key is unsafe or malformed, or None when it is fine.

    OpenSSL (hence ``cryptography`` and joserfc) accepts any 32 bytes as an
    Ed25519 public key. We decode the point as RFC 8032 §5.1.3 does, but
    leniently at first (y reduced mod p, a zero x with the sign bit set), so
    that every encoding of a small-order point is named as such: the point
    times the cofactor 8 is the neutral element exactly for the 8 small-order
    points. This covers the list of small-order encodings libsodium blocks in
    ``ge25519_has_small_order`` (src/libsodium/crypto_core/ed25519/ref10/ed25519_ref10.c:
    0, 1, the two order-8 y values, p-1, p and p+1, with either sign bit), as
    the tests check. Then non-canonical encodings (y >= p, or x = 0 with the
    sign bit set) are refused too. Points with a small-order component but of
    large order are not refused (checking them costs a full scalar
    multiplication and they give no forgeries under RFC 8032 verification).
    """
    value = int.from_bytes(encoded, "little")
    sign = value >> 255
    y_raw = value & ((1 << 255) - 1)
    y = y_raw % _ED_P
    u = (y * y - 1) % _ED_P
    v = (_ED_D * y * y + 1) % _ED_P
    x = u * pow(v, 3, _ED_P) * pow(u * pow(v, 7, _ED_P), (_ED_P - 5) // 8, _ED_P) % _ED_P
    vxx = v * x * x % _ED_P
    if vxx == (-u) % _ED_P:
        x = x * _ED_SQRT_M1 % _ED_P
    elif vxx != u:
        return "the Ed25519 public key is not a point on the curve."
    canonical = y_raw < _ED_P and not (x == 0 and sign)
    if (x & 1) != sign:
        x = (-x) % _ED_P
    # Three doublings in projective coordinates (a = -1, "dbl-2008-bbjlp"): [8]P.
    px, py, pz = x, y, 1
    for _ in range(3):
        b = (px + py) ** 2 % _ED_P
        c = px * px % _ED_P
        d = py * py % _ED_P
        e = -c % _ED_P
        f = (e + d) % _ED_P
        j = (f - 2 * pz * pz) % _ED_P
        px, py, pz = (b - c - d) * j % _ED_P, f * (e - d) % _ED_P, f * j % _ED_P
    if px == 0 and py == pz:
        return ("the Ed25519 public key is a small-order point, under which signatures "
                "prove nothing.")
    if not canonical:
        return "the Ed25519 public key is not canonically encoded."
    return None


# --------------------------------------------------------------------------------------
# The key
# --------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Key:
    """A parsed, validated signing key; built once and reused.

    Build keys with :func:`generate`, :func:`key_from_jwk`, :func:`load_key`,
    :func:`read_key_file` or :func:`resolve_did`, never by hand. Two keys are
    equal when their algorithm, ``kid``, public JWK and privateness are.
    """

    #: One of :data:`ALGORITHMS` (an Ed25519 key is always ``Ed25519``).
    alg: str
    #: From the JWK, else the RFC 7638 thumbprint (a DID's verification method for resolved DIDs).
    kid: str
    #: Public members plus ``kid`` and ``alg``; read-only.
    public_jwk: Mapping[str, str] = field(hash=False)
    is_private: bool
    _native: _NativePrivate | _NativePublic = field(compare=False, repr=False)
    _jose: JoseKey = field(compare=False, repr=False)
    _jose_eddsa: OKPKey | None = field(compare=False, repr=False)
    _thumbprint: str = field(compare=False, repr=False)

    def thumbprint(self) -> str:
        """The RFC 7638 JWK thumbprint (SHA-256, base64url) of the public key."""
        return self._thumbprint

    def header_jwk(self) -> dict[str, str]:
        """The public key as a JOSE header ``jwk``: key members only (no kid or alg, which the
        header states itself)."""
        return {k: v for k, v in self.public_jwk.items() if k not in ("kid", "alg")}

    def thumbprint_uri(self) -> str:
        """The RFC 9278 thumbprint URI of the public key."""
        return f"urn:ietf:params:oauth:jwk-thumbprint:sha-256:{self._thumbprint}"

    def public(self) -> Key:
        """This key without its private part (the key itself when it is public)."""
        native = self._native
        if isinstance(native, _PUBLIC_TYPES):
            return self
        return _make_key(native.public_key(), self.alg, self.kid, dict(self.public_jwk),
                         self._thumbprint)

    def private_jwk(self) -> dict[str, str]:
        """The private JWK (public members, private members, ``kid``, ``alg``)."""
        native = self._native
        if isinstance(native, _PUBLIC_TYPES):
            raise _fail("the key is public only; it has no private JWK.")
        members = _native_members(native)
        return {**members, "kid": self.kid, "alg": self.alg}

    def to_pem(self, *, private: bool) -> bytes:
        """PEM: PKCS#8 (unencrypted) for the private key, SubjectPublicKeyInfo for the public."""
        native = self._native
        if private:
            if isinstance(native, _PUBLIC_TYPES):
                raise _fail("the key is public only; it has no private PEM.")
            return native.private_bytes(serialization.Encoding.PEM,
                                        serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption())
        public = native if isinstance(native, _PUBLIC_TYPES) else native.public_key()
        return public.public_bytes(serialization.Encoding.PEM,
                                   serialization.PublicFormat.SubjectPublicKeyInfo)

    def did_key(self) -> str:
        """The did:key of the public key (multicodec ed25519-pub, p256-pub and secp256k1-pub
        with compressed points, rsa-pub with a DER RSAPublicKey)."""
        native = self._native
        public = native if isinstance(native, _PUBLIC_TYPES) else native.public_key()
        if isinstance(public, ed25519.Ed25519PublicKey):
            prefix = _DID_KEY_CODECS["Ed25519"]
            body = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        elif isinstance(public, ec.EllipticCurvePublicKey):
            prefix = _DID_KEY_CODECS[self.alg]
            body = public.public_bytes(serialization.Encoding.X962,
                                       serialization.PublicFormat.CompressedPoint)
        else:
            prefix = _DID_KEY_CODECS["RS256"]
            body = public.public_bytes(serialization.Encoding.DER,
                                       serialization.PublicFormat.PKCS1)
        return "did:key:z" + _b58encode(prefix + body)

    def did_jwk(self) -> str:
        """The did:jwk of the public key: base64url of its RFC 7638 member set, sorted and
        without whitespace (the form of the did:jwk specification's example)."""
        return "did:jwk:" + _b64u(_canonical_json(self.public_jwk))

    def accepts(self, jws_alg: str) -> bool:
        """Whether this key may sign or verify a JWS whose header ``alg`` is ``jws_alg``."""
        return jws_alg == self.alg or (jws_alg == _EDDSA and self._jose_eddsa is not None)

    def jose_key(self, jws_alg: str) -> JoseKey:
        """The joserfc key for a JWS whose header ``alg`` is ``jws_alg`` (which it must accept)."""
        if jws_alg == self.alg:
            return self._jose
        if jws_alg == _EDDSA and self._jose_eddsa is not None:
            return self._jose_eddsa
        raise _fail(f"the {self.alg} key may not be used with the JWS alg {_shown(jws_alg)}.")


_DID_KEY_CODECS: Final[Mapping[str, bytes]] = types.MappingProxyType({
    "Ed25519": b"\xed\x01",  # ed25519-pub 0xed
    "ES256": b"\x80\x24",  # p256-pub 0x1200
    "ES256K": b"\xe7\x01",  # secp256k1-pub 0xe7
    "RS256": b"\x85\x24",  # rsa-pub 0x1205
})
#: Multicodec public-key codes vc_im recognises but does not support, for clear refusals.
_DID_KEY_UNSUPPORTED: Final[Mapping[bytes, str]] = types.MappingProxyType({
    b"\xec\x01": "x25519-pub",
    b"\x81\x24": "p384-pub",
    b"\x82\x24": "p521-pub",
    b"\x83\x24": "ed448-pub",
    b"\xe3\x01": "bls12_381-g1-pub",
    b"\xeb\x01": "bls12_381-g2-pub",
})


def _canonical_json(public_jwk: Mapping[str, str]) -> bytes:
    """RFC 7638 §3: the required members only, sorted, no whitespace."""
    required = ("crv", "kty", "x", "y") if public_jwk["kty"] != "RSA" else ("e", "kty", "n")
    members = {name: public_jwk[name] for name in required if name in public_jwk}
    return json.dumps(members, sort_keys=True, separators=(",", ":")).encode("ascii")


def _thumbprint_of(public_members: Mapping[str, str]) -> str:
    return _b64u(hashlib.sha256(_canonical_json(public_members)).digest())


def _make_key(native: _NativePrivate | _NativePublic, alg: str, kid: str | None,
              public_members: dict[str, str], thumbprint: str | None = None) -> Key:
    """Wrap an already validated native key; computes kid and the joserfc key objects."""
    public_only: dict[str, str] = {k: public_members[k] for k in ("kty", "crv", "x", "y", "n", "e")
                   if k in public_members}
    if thumbprint is None:
        thumbprint = _thumbprint_of(public_only)
    kid = kid if kid is not None else thumbprint
    public_jwk = types.MappingProxyType({**public_only, "kid": kid, "alg": alg})
    jose: JoseKey
    eddsa: OKPKey | None = None
    if isinstance(native, ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey):
        jose = OKPKey.import_key(native, {"kid": kid, "alg": alg})
        eddsa = OKPKey.import_key(native, {"kid": kid, "alg": _EDDSA})
    elif isinstance(native, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
        jose = ECKey.import_key(native, {"kid": kid, "alg": alg})
    else:
        jose = RSAKey.import_key(native, {"kid": kid, "alg": alg})
    return Key(alg=alg, kid=kid, public_jwk=public_jwk,
               is_private=not isinstance(native, _PUBLIC_TYPES), _native=native,
               _jose=jose, _jose_eddsa=eddsa, _thumbprint=thumbprint)


# --------------------------------------------------------------------------------------
# JWK → Key
# --------------------------------------------------------------------------------------

def key_from_jwk(jwk: Mapping[str, object], *, require: Require = "any") -> Key:
    """Validate a JWK and build its :class:`Key`.

    ``require="public"`` refuses private members (a public key is expected, as
    in a trust file, ``cnf.jwk`` or a header ``jwk``); ``require="private"``
    refuses a key without its private part. Raises
    :class:`~vc_im.errors.KeyFileError` (``bad_key``).
    """
    if not isinstance(jwk, Mapping):
        raise _fail("the JWK is not a JSON object.")
    names = set(jwk)
    if not all(isinstance(name, str) for name in names):
        raise _fail("the JWK has a member name that is not a string.")
    kty = jwk.get("kty")
    if kty is None:
        raise _fail("the JWK has no \"kty\" member.")
    if kty == "oct":
        raise _fail("the JWK is a symmetric (\"oct\") key; vc_im uses asymmetric keys only.")
    if not isinstance(kty, str) or kty not in _KTY_MEMBERS:
        raise _fail(f"the JWK key type {_shown(kty)} is not supported (OKP, EC or RSA).")
    unknown = names - _ALL_MEMBERS
    if unknown:
        listed = ", ".join(_shown(name, 30) for name in sorted(unknown)[:5])
        raise _fail(f"the JWK has members vc_im does not accept: {listed}.")
    for name in names - {"key_ops"}:
        if not isinstance(jwk[name], str):
            raise _fail(f"the JWK member {name!r} must be a string.")
    members: dict[str, str] = {name: str(jwk[name]) for name in names - {"key_ops"}}
    misplaced = names - _COMMON_MEMBERS - _KTY_MEMBERS[kty]
    if misplaced:
        raise _fail(f"the JWK member {_shown(sorted(misplaced)[0], 30)} does not belong "
                    f"in an {kty} key.")
    _check_use_and_ops(members.get("use"), jwk.get("key_ops"))
    kid = members.get("kid")
    if kid is not None and not (0 < len(kid) <= _MAX_KID_CHARS and kid.isprintable()):
        raise _fail(f"the JWK \"kid\" must be 1 to {_MAX_KID_CHARS} printable characters.")

    private = bool(names & _PRIVATE_MEMBERS)
    if require == "public" and private:
        raise _fail(_PRIVATE_WHERE_PUBLIC)
    if require == "private" and not private:
        raise _fail("the key is public only, but a private key is needed here.")

    native: _NativePrivate | _NativePublic
    if kty == "OKP":
        native, key_alg = _okp_from_members(members), "Ed25519"
    elif kty == "EC":
        native, curve = _ec_from_members(members)
        key_alg = curve.alg
    else:
        native, key_alg = _rsa_from_members(members), "RS256"
    alg = _check_alg(members.get("alg"), key_alg, members.get("crv", kty))
    return _make_key(native, alg, kid, members)


def _check_use_and_ops(use: str | None, key_ops: object) -> None:
    if use is not None and use != "sig":
        raise _fail(f"the JWK \"use\" is {_shown(use)}, but vc_im keys sign (\"sig\").")
    if key_ops is not None and not (
        isinstance(key_ops, list) and key_ops
        and all(isinstance(op, str) and op in _KEY_OPS for op in key_ops)
        and len(set(key_ops)) == len(key_ops)
    ):
        raise _fail("the JWK \"key_ops\" must list distinct operations among \"sign\" "
                    "and \"verify\".")


def _check_alg(alg: str | None, key_alg: str, key_name: str) -> str:
    """The key's algorithm; a JWK ``alg`` must name it (``EdDSA`` counts as ``Ed25519``)."""
    if alg is None or alg == key_alg or (alg == _EDDSA and key_alg == "Ed25519"):
        return key_alg
    if alg in ALGORITHMS or alg == _EDDSA:
        raise _fail(f"the JWK alg {alg} does not fit this {key_name} key, whose alg is {key_alg}.")
    raise _fail(f"the JWK alg {_shown(alg)} is not supported (Ed25519, ES256, ES256K, RS256).")


def _required(members: Mapping[str, str], name: str, kty: str) -> str:
    value = members.get(name)
    if value is None:
        raise _fail(f"the {kty} JWK has no {name!r} member.")
    return value


def _okp_from_members(members: Mapping[str, str]) -> _NativePrivate | _NativePublic:
    crv = _required(members, "crv", "OKP")
    if crv != "Ed25519":
        raise _fail(f"the curve {_shown(crv)} is not supported: {_UNSUPPORTED_CURVE_HINT}.")
    x = _b64u_decode(_required(members, "x", "OKP"), "JWK member 'x'")
    if len(x) != 32:
        raise _fail("the JWK member 'x' must be 32 bytes for an Ed25519 key.")
    problem = _ed25519_public_problem(x)
    if problem is not None:
        raise _fail(problem)
    if "d" not in members:
        return ed25519.Ed25519PublicKey.from_public_bytes(x)
    d = _b64u_decode(members["d"], "JWK member 'd'")
    if len(d) != 32:
        raise _fail("the JWK member 'd' must be 32 bytes for an Ed25519 key.")
    private = ed25519.Ed25519PrivateKey.from_private_bytes(d)
    derived = private.public_key().public_bytes(serialization.Encoding.Raw,
                                                serialization.PublicFormat.Raw)
    if derived != x:
        raise _fail("the JWK's private and public parts do not belong to the same key.")
    return private


def _ec_from_members(
    members: Mapping[str, str],
) -> tuple[ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey, _Curve]:
    crv = _required(members, "crv", "EC")
    curve = _EC_CURVES.get(crv)
    if curve is None:
        raise _fail(f"the curve {_shown(crv)} is not supported: {_UNSUPPORTED_CURVE_HINT}.")
    coordinates = []
    for name in ("x", "y"):
        raw = _b64u_decode(_required(members, name, "EC"), f"JWK member {name!r}")
        if len(raw) != curve.size:
            raise _fail(f"the JWK member {name!r} must be {curve.size} bytes for {crv}.")
        value = int.from_bytes(raw, "big")
        if value >= curve.field_prime:
            raise _fail(f"the EC public key is not a point on the {crv} curve.")
        coordinates.append(value)
    numbers = ec.EllipticCurvePublicNumbers(coordinates[0], coordinates[1], curve.curve())
    try:
        public = numbers.public_key()
    except ValueError as exc:
        raise _fail(f"the EC public key is not a point on the {crv} curve.") from exc
    if "d" not in members:
        return public, curve
    d_raw = _b64u_decode(members["d"], "JWK member 'd'")
    if len(d_raw) != curve.size:
        raise _fail(f"the JWK member 'd' must be {curve.size} bytes for {crv}.")
    try:
        private = ec.derive_private_key(int.from_bytes(d_raw, "big"), curve.curve())
    except ValueError as exc:
        raise _fail(f"the EC private key is out of range for {crv}.") from exc
    if private.public_key().public_numbers() != numbers:
        raise _fail("the JWK's private and public parts do not belong to the same key.")
    return private, curve


def _rsa_from_members(members: Mapping[str, str]) -> rsa.RSAPrivateKey | rsa.RSAPublicKey:
    n = _uint_decode(_required(members, "n", "RSA"), "JWK member 'n'")
    e = _uint_decode(_required(members, "e", "RSA"), "JWK member 'e'")
    bits = n.bit_length()
    if bits < MIN_RSA_BITS:
        raise _fail(f"the RSA key has {bits} bits; vc_im requires at least {MIN_RSA_BITS}.")
    if bits > MAX_RSA_BITS:
        raise _fail(f"the RSA key has {bits} bits; vc_im accepts at most {MAX_RSA_BITS}.")
    if n % 2 == 0:
        raise _fail("the RSA modulus is even, so it is not an RSA modulus.")
    # FIPS 186-5 §A.1.1 bounds the exponent above by 2**256; it is odd and at least 3.
    if e < 3 or e % 2 == 0 or e >= 2**256:
        raise _fail("the RSA public exponent must be odd, at least 3 and below 2**256.")
    public_numbers = rsa.RSAPublicNumbers(e, n)
    if "d" not in members:
        if any(name in members for name in _RSA_CRT_MEMBERS):
            raise _fail("the RSA JWK has prime factors but no private exponent 'd'.")
        try:
            return public_numbers.public_key()
        except ValueError as exc:
            raise _fail("the RSA public key is not valid.") from exc
    d = _uint_decode(members["d"], "JWK member 'd'")
    present = [name for name in _RSA_CRT_MEMBERS if name in members]
    mismatch = "the JWK's private and public parts do not belong to the same key."
    if not present:
        # RFC 7518 §6.3.2 lets a private key carry only "d"; recover the rest.
        try:
            p, q = rsa.rsa_recover_prime_factors(n, e, d)
        except ValueError as exc:
            raise _fail(mismatch) from exc
        dp, dq, qi = rsa.rsa_crt_dmp1(d, p), rsa.rsa_crt_dmq1(d, q), rsa.rsa_crt_iqmp(p, q)
    elif len(present) == len(_RSA_CRT_MEMBERS):
        p, q, dp, dq, qi = (_uint_decode(members[name], f"JWK member {name!r}")
                            for name in _RSA_CRT_MEMBERS)
    else:
        raise _fail("the RSA JWK must carry all of p, q, dp, dq and qi, or none of them.")
    if p * q != n:
        raise _fail(mismatch)
    try:
        return rsa.RSAPrivateNumbers(p, q, d, dp, dq, qi, public_numbers).private_key()
    except ValueError as exc:
        raise _fail(mismatch) from exc


def _native_members(native: _NativePrivate | _NativePublic) -> dict[str, str]:
    """The JWK members (kty first, without kid and alg) of a native cryptography key."""
    if isinstance(native, ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey):
        public = native.public_key() if isinstance(native, ed25519.Ed25519PrivateKey) else native
        raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        members = {"kty": "OKP", "crv": "Ed25519", "x": _b64u(raw)}
        if isinstance(native, ed25519.Ed25519PrivateKey):
            members["d"] = _b64u(native.private_bytes(serialization.Encoding.Raw,
                                                      serialization.PrivateFormat.Raw,
                                                      serialization.NoEncryption()))
        return members
    if isinstance(native, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
        curve = _EC_BY_OPENSSL_NAME.get(native.curve.name)
        if curve is None:
            raise _fail(f"the elliptic curve {_shown(native.curve.name)} is not supported: "
                        f"{_UNSUPPORTED_CURVE_HINT}.")
        public_ec = native.public_key() if isinstance(native, ec.EllipticCurvePrivateKey) \
            else native
        point = public_ec.public_numbers()
        members = {"kty": "EC", "crv": curve.crv,
                   "x": _b64u(point.x.to_bytes(curve.size, "big")),
                   "y": _b64u(point.y.to_bytes(curve.size, "big"))}
        if isinstance(native, ec.EllipticCurvePrivateKey):
            members["d"] = _b64u(native.private_numbers().private_value.to_bytes(curve.size,
                                                                                "big"))
        return members
    if isinstance(native, rsa.RSAPrivateKey):
        numbers = native.private_numbers()
        pub = numbers.public_numbers
        return {"kty": "RSA", "n": _uint_b64u(pub.n), "e": _uint_b64u(pub.e),
                "d": _uint_b64u(numbers.d), "p": _uint_b64u(numbers.p),
                "q": _uint_b64u(numbers.q), "dp": _uint_b64u(numbers.dmp1),
                "dq": _uint_b64u(numbers.dmq1), "qi": _uint_b64u(numbers.iqmp)}
    if isinstance(native, rsa.RSAPublicKey):
        pub = native.public_numbers()
        return {"kty": "RSA", "n": _uint_b64u(pub.n), "e": _uint_b64u(pub.e)}
    raise _fail(f"the key is a {type(native).__name__}, which vc_im does not support.")


def jwk_thumbprint(jwk: Mapping[str, object]) -> str:
    """The RFC 7638 thumbprint (SHA-256) of a public JWK, after validating it."""
    return key_from_jwk(jwk, require="public").thumbprint()


# --------------------------------------------------------------------------------------
# Generating, loading, reading and writing
# --------------------------------------------------------------------------------------

def generate(alg: str = DEFAULT_ALG, *, kid: str | None = None) -> Key:
    """A fresh private key for ``alg`` (RS256: a 2048-bit modulus, exponent 65537)."""
    native: _NativePrivate
    if alg == "Ed25519":
        native = ed25519.Ed25519PrivateKey.generate()
    elif alg == "ES256":
        native = ec.generate_private_key(ec.SECP256R1())
    elif alg == "ES256K":
        native = ec.generate_private_key(ec.SECP256K1())
    elif alg == "RS256":
        native = rsa.generate_private_key(public_exponent=65537, key_size=RSA_GENERATE_BITS)
    else:
        raise _fail(f"the algorithm {_shown(alg)} is not one of {', '.join(ALGORITHMS)}.")
    members: dict[str, object] = dict(_native_members(native))
    if kid is not None:
        members["kid"] = kid
    # The same validation as every other way in (kid syntax, small-order points, sizes).
    return key_from_jwk(members, require="private")


def load_key(data: bytes | str, *, require: Require = "any") -> Key:
    """A key from JWK JSON (strict: no duplicate names, NaN or BOM) or PEM.

    PEM is a PKCS#8 private key (``BEGIN PRIVATE KEY``, unencrypted) or a
    SubjectPublicKeyInfo public key (``BEGIN PUBLIC KEY``).
    """
    if len(data) > MAX_KEY_FILE_BYTES:
        raise _fail("the key is larger than 1 MiB.")
    try:
        raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    except UnicodeEncodeError as exc:
        raise _fail("the key text is not valid Unicode (it has lone surrogates).") from exc
    stripped = raw.strip(b" \t\r\n")
    if stripped.startswith(b"-----BEGIN "):
        return _key_from_pem(stripped, require)
    if stripped.startswith(b"{") or raw.startswith(b"\xef\xbb\xbf"):
        try:
            value = strictjson.loads(raw, what="JWK", max_bytes=MAX_KEY_FILE_BYTES)
        except strictjson.StrictJSONError as exc:
            raise _fail(exc.message) from exc
        if not isinstance(value, dict):
            raise _fail("the JWK is not a JSON object.")
        return key_from_jwk(value, require=require)
    raise _fail("the key is neither a JWK (a JSON object) nor a PEM key.")


_PEM_BLOCK: Final = re.compile(
    rb"\A-----BEGIN ([A-Z0-9 ]+)-----\r?\n[A-Za-z0-9+/=\r\n]+-----END \1-----\Z")


def _key_from_pem(pem: bytes, require: Require) -> Key:
    match = _PEM_BLOCK.match(pem)
    if match is None:
        raise _fail("the PEM text is not exactly one well-formed PEM block.")
    label = match.group(1)
    if label == b"ENCRYPTED PRIVATE KEY":
        raise _fail("the PEM private key is encrypted; vc_im reads unencrypted PKCS#8.")
    if label not in (b"PRIVATE KEY", b"PUBLIC KEY"):
        raise _fail("the PEM block is neither a PKCS#8 private key (BEGIN PRIVATE KEY) "
                    "nor a public key (BEGIN PUBLIC KEY).")
    if label == b"PRIVATE KEY" and require == "public":
        raise _fail(_PRIVATE_WHERE_PUBLIC)
    native: object
    try:
        if label == b"PRIVATE KEY":
            native = serialization.load_pem_private_key(pem + b"\n", password=None)
        else:
            native = serialization.load_pem_public_key(pem + b"\n")
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise _fail("the PEM key cannot be read (malformed or of an unsupported type).") \
            from exc
    if not isinstance(native, _NATIVE_TYPES):
        raise _fail(f"the PEM key is a {_pem_kind(native)} key, which vc_im does not support.")
    return key_from_jwk(dict(_native_members(native)), require=require)


def _pem_kind(native: object) -> str:
    name = type(native).__name__
    for suffix in ("PrivateKey", "PublicKey"):
        name = name.removesuffix(suffix)
    return name or "unknown"


def read_key_file(path: Path, *, require: Require = "any") -> Key:
    """Read a JWK or PEM key file of at most 1 MiB; errors name the path."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_KEY_FILE_BYTES + 1)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise _fail(f"the key file {path} cannot be read: {reason}.") from exc
    if len(data) > MAX_KEY_FILE_BYTES:
        raise _fail(f"the key file {path} is larger than 1 MiB.")
    try:
        return load_key(data, require=require)
    except KeyFileError as exc:
        raise _fail(f"the key file {path} is unusable: {exc.message}") from exc


def write_private_key(path: Path, key: Key, *, force: bool = False) -> None:
    """Write the private JWK with mode 0600, atomically.

    The JSON goes to a new file in the same directory, created with mode 0600
    (never readable by others, whatever the umask), then takes the name ``path``.
    An existing file is refused unless ``force``; a symlink at ``path`` is never
    followed (see :func:`vc_im.files.write_new_file`).
    """
    if not key.is_private:
        raise _fail("the key is public only; there is no private key to write.")
    _write_atomically(path, key.private_jwk(), 0o600, force=force)


def write_public_key(path: Path, key: Key, *, force: bool = False) -> None:
    """Write the public JWK (mode 0644), atomically, under the same rules."""
    _write_atomically(path, dict(key.public_jwk), 0o644, force=force)


def _write_atomically(path: Path, jwk: Mapping[str, str], mode: int, *,
                      force: bool = False) -> None:
    from vc_im.files import write_new_file

    text = json.dumps(jwk, indent=2) + "\n"
    write_new_file(Path(path), text.encode("utf-8"), mode=mode, force=force)


# --------------------------------------------------------------------------------------
# DIDs
# --------------------------------------------------------------------------------------

#: A did:jwk of the largest RSA key vc_im accepts fits well within this.
_MAX_DID_CHARS: Final = 8192


@functools.lru_cache(maxsize=256)
def resolve_did(did: str) -> Key:
    """The public key a did:key or did:jwk names, resolved offline.

    A DID URL naming the DID's one verification method is accepted too
    (``did:key:z…#z…``, ``did:jwk:…#0``). The key's ``kid`` is that
    verification method's DID URL, which is what a JWS header names. Results
    are cached (DIDs are immutable strings and keys immutable values).
    """
    if not isinstance(did, str) or len(did) > _MAX_DID_CHARS:
        raise _fail("the DID is not a did:key or did:jwk of a reasonable length.")
    base, _, fragment = did.partition("#")
    if base.startswith("did:key:"):
        value = base.removeprefix("did:key:")
        if fragment and fragment != value:
            raise _fail("the did:key URL fragment does not name its verification method.")
        return _resolve_did_key(value, f"{base}#{value}")
    if base.startswith("did:jwk:"):
        if fragment and fragment != "0":
            raise _fail("the did:jwk URL fragment must be '0'.")
        return _resolve_did_jwk(base.removeprefix("did:jwk:"), f"{base}#0")
    raise _fail("the DID is not a did:key or did:jwk; vc_im resolves no other method.")


def _resolve_did_key(value: str, kid: str) -> Key:
    if not value.startswith("z"):
        raise _fail("the did:key value is not base58btc multibase (it must start with 'z').")
    data = _b58decode(value[1:])
    if "z" + _b58encode(data) != value:  # pragma: no cover - base58 has one spelling
        raise _fail("the did:key value is not canonical base58btc.")
    for alg, prefix in _DID_KEY_CODECS.items():
        if data.startswith(prefix):
            return _did_key_body(alg, data[len(prefix):], kid)
    for prefix, name in _DID_KEY_UNSUPPORTED.items():
        if data.startswith(prefix):
            raise _fail(f"the did:key names a {name} key, which vc_im does not support.")
    raise _fail("the did:key multicodec is not a public key type vc_im supports.")


def _did_key_body(alg: str, body: bytes, kid: str) -> Key:
    members: dict[str, object]
    if alg == "Ed25519":
        if len(body) != 32:
            raise _fail("the did:key ed25519-pub key is not 32 bytes.")
        members = {"kty": "OKP", "crv": "Ed25519", "x": _b64u(body)}
    elif alg in ("ES256", "ES256K"):
        curve = _EC_CURVES["P-256" if alg == "ES256" else "secp256k1"]
        if len(body) != curve.size + 1 or body[0] not in (2, 3):
            raise _fail(f"the did:key {curve.crv} key is not a compressed point.")
        try:
            public = ec.EllipticCurvePublicKey.from_encoded_point(curve.curve(), body)
        except ValueError as exc:
            raise _fail(f"the did:key {curve.crv} key is not a point on the curve.") from exc
        members = dict(_native_members(public))
    else:
        try:
            public_rsa = serialization.load_der_public_key(body)
        except (ValueError, UnsupportedAlgorithm) as exc:
            raise _fail("the did:key rsa-pub key is not a DER RSAPublicKey.") from exc
        if not isinstance(public_rsa, rsa.RSAPublicKey) or public_rsa.public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.PKCS1) != body:
            raise _fail("the did:key rsa-pub key is not a DER RSAPublicKey.")
        members = dict(_native_members(public_rsa))
    members["kid"] = kid
    return key_from_jwk(members, require="public")


def _resolve_did_jwk(value: str, kid: str) -> Key:
    data = _b64u_decode(value, "did:jwk value")
    try:
        jwk = strictjson.loads(data, what="did:jwk JWK", max_bytes=_MAX_DID_CHARS)
    except strictjson.StrictJSONError as exc:
        raise _fail(exc.message) from exc
    if not isinstance(jwk, dict):
        raise _fail("the did:jwk value is not a JSON object.")
    # The spec: the fragment is always #0, whatever kid the JWK carries.
    key = key_from_jwk(jwk, require="public")
    return _make_key(key._native, key.alg, kid, dict(key.public_jwk), key.thumbprint())
