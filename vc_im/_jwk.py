"""JWK members and native keys: decoding and checking each member, and the reverse.

Everything a JWK can say wrongly is refused here, before a key object exists: unknown
curves, points off the curve, small-order or non-canonical Ed25519 points, RSA moduli out
of bounds, private parts that do not belong to their public part. Private to
:mod:`vc_im.keys`, which is the way in."""

from __future__ import annotations

import functools
import json
import types
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import Final, TypeAlias

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from vc_im._jose import b64url_decode, b64url_encode, uint_decode, uint_encode
from vc_im.errors import KeyFileError

MIN_RSA_BITS: Final = 2048
#: Larger moduli only cost verifiers time; OpenSSL's own ceiling is the same.
MAX_RSA_BITS: Final = 16384

NativePrivate: TypeAlias = (
    ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey)
NativePublic: TypeAlias = ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey | rsa.RSAPublicKey

_RSA_CRT_MEMBERS: Final = ("p", "q", "dp", "dq", "qi")


@dataclass(frozen=True, slots=True)
class Curve:
    """An elliptic curve vc_im signs with: its JWK name, JWS alg, field prime and sizes."""

    crv: str
    alg: str
    openssl_name: str
    curve: type[ec.EllipticCurve]
    field_prime: int
    size: int  # bytes of a coordinate and of the private scalar


EC_CURVES: Final[Mapping[str, Curve]] = types.MappingProxyType({
    "P-256": Curve("P-256", "ES256", "secp256r1", ec.SECP256R1,
                    2**256 - 2**224 + 2**192 + 2**96 - 1, 32),
    "P-384": Curve("P-384", "ES384", "secp384r1", ec.SECP384R1,
                    2**384 - 2**128 - 2**96 + 2**32 - 1, 48),
    "P-521": Curve("P-521", "ES512", "secp521r1", ec.SECP521R1, 2**521 - 1, 66),
    "secp256k1": Curve("secp256k1", "ES256K", "secp256k1", ec.SECP256K1, 2**256 - 2**32 - 977, 32),
})
#: The cryptography curve name of each supported curve.


#: The cryptography curve name of each supported curve.
EC_BY_OPENSSL_NAME: Final = types.MappingProxyType(
    {c.openssl_name: c for c in EC_CURVES.values()})


_UNSUPPORTED_CURVE_HINT: Final = ("vc_im signs with Ed25519 (OKP), P-256, P-384, P-521 or "
                                   "secp256k1 (EC)")


def fail(message: str) -> KeyFileError:
    """A ``bad_key`` error; ``message`` is one sentence, lower case first, no key material."""
    return KeyFileError(message)


def shown(value: object, limit: int = 40) -> str:
    """A short, printable rendering of an untrusted (never secret) value for a message."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


_ED_P: Final = 2**255 - 19


_ED_D: Final = -121665 * pow(121666, -1, _ED_P) % _ED_P


_ED_SQRT_M1: Final = pow(2, (_ED_P - 1) // 4, _ED_P)


@functools.lru_cache(maxsize=1024)
def ed25519_public_problem(encoded: bytes, *, decodes: bool = False) -> str | None:
    """Why a 32-byte Ed25519 public key is unsafe or malformed, or None when it is fine.

    OpenSSL (hence ``cryptography`` and joserfc) accepts any 32 bytes as an Ed25519 public
    key, so vc_im refuses, in this order: a y (reduced mod p) that no point has, a point of
    small order (signatures under it prove nothing), and a non-canonical encoding (y >= p,
    or x = 0 with the sign bit set). A y is on the curve when x^2 = u/v (u = y^2 - 1,
    v = d y^2 + 1) has a root, which the Jacobi symbol of u v answers about four times
    faster than computing the root as RFC 8032 §5.1.3 does. On the curve, [8]P is the
    neutral element exactly for y in {0, 1, -1} and the y of the order-8 points, which solve
    d y^4 + 2 y^2 - 1 = 0 (the doubling of P has y = 0). The decoding by doubling,
    :func:`ed25519_public_problem_by_doubling`, is the reference a test holds this to,
    libsodium's list of small-order encodings included. Points with a small-order component
    but of large order are not refused (checking them costs a full scalar multiplication
    and they give no forgeries under RFC 8032 verification).

    ``decodes``: a signature verified under these bytes, which proves the first of the three
    (see :func:`verify_ahead`); the other two are still checked.
    """
    value = int.from_bytes(encoded, "little")
    y_raw = value & ((1 << 255) - 1)
    y = y_raw % _ED_P
    yy = y * y % _ED_P
    u = (yy - 1) % _ED_P
    if u and not decodes and _jacobi(u * (_ED_D * yy + 1) % _ED_P, _ED_P) != 1:
        return "the Ed25519 public key is not a point on the curve."
    if u == 0 or y == 0 or (_ED_D * yy * yy + 2 * yy - 1) % _ED_P == 0:
        return ("the Ed25519 public key is a small-order point, under which signatures "
                "prove nothing.")
    if y_raw >= _ED_P:  # x = 0 only when u = 0, which is of small order
        return "the Ed25519 public key is not canonically encoded."
    return None


def _jacobi(a: int, n: int) -> int:
    """The Jacobi symbol (a/n) for an odd n > 0: for a prime n, 1 when a is a non-zero
    square mod n, -1 when it is not, 0 when n divides a (binary quadratic reciprocity)."""
    a %= n
    result = 1
    while a:
        zeros = (a & -a).bit_length() - 1
        if zeros:
            a >>= zeros
            if zeros & 1 and n & 7 in (3, 5):
                result = -result
        if a & 3 == 3 and n & 3 == 3:
            result = -result
        a, n = n % a, a
    return result if n == 1 else 0


def ed25519_public_problem_by_doubling(encoded: bytes) -> str | None:
    """The reference for :func:`ed25519_public_problem`: the point decoded, multiplied by
    the cofactor, and compared (a test holds the two to the same answer).

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


@functools.lru_cache(maxsize=1024)
def ed25519_public_key(x: str) -> ed25519.Ed25519PublicKey:
    """The Ed25519 public key whose JWK ``x`` is ``x``, checked (see
    :func:`ed25519_public_problem`): built once per key, however many JWKs name it."""
    raw = b64url_decode(x, what="JWK member 'x'", error=KeyFileError)
    if len(raw) != 32:
        raise fail("the JWK member 'x' must be 32 bytes for an Ed25519 key.")
    proven = _PROVEN.get(raw)
    problem = ed25519_public_problem(raw, decodes=proven is not None)
    if problem is not None:
        raise fail(problem)
    return proven if proven is not None else ed25519.Ed25519PublicKey.from_public_bytes(raw)


#: Signatures verified ahead of their checks (:func:`verify_ahead`), by key bytes and
#: signature: the data, which must match too. A batch verifies a chunk of presentations
#: ahead before any of their credentials' checks, so this holds a chunk's; each entry leaves
#: when its own check took it, and every entry when it is full (at most two chunks' data,
#: 8 MiB of the largest tokens, stays here).
_AHEAD: dict[tuple[bytes, bytes], bytes] = {}
#: The keys those signatures proved points of the curve, by their bytes.
_PROVEN: dict[bytes, ed25519.Ed25519PublicKey] = {}
_MAX_AHEAD: Final = 128


def verify_ahead(x: object, signature: bytes, data: bytes) -> None:
    """Verify a signature under the Ed25519 key whose JWK member x is ``x`` before that key
    is parsed, as a presentation does for the key its credential binds.

    Verification decodes the key first and fails when it does not decode (RFC 8032
    §5.1.7), so a signature that verifies proves the key a point of the curve: parsing it
    then skips the Jacobi symbol, the costliest check of a new key, and
    :func:`ed25519_verifies` answers for this signature without verifying it again. A
    signature that does not verify changes nothing: it is verified again in its own check.
    """
    if type(x) is not str or len(x) != 43 or len(signature) != 64:
        return
    try:
        raw = b64url_decode(x, what="x", error=KeyFileError)
    except KeyFileError:
        return
    if len(raw) != 32:
        return
    public = ed25519.Ed25519PublicKey.from_public_bytes(raw)
    if ed25519_verifies(public, signature, data):
        if len(_AHEAD) >= _MAX_AHEAD or len(_PROVEN) >= _MAX_AHEAD:
            _AHEAD.clear()
            _PROVEN.clear()
        _AHEAD[raw, signature] = data
        _PROVEN[raw] = public


def ed25519_verifies(public: ed25519.Ed25519PublicKey, signature: bytes, data: bytes) -> bool:
    """Whether ``signature`` verifies over ``data`` under ``public``: a signature verified
    ahead (:func:`verify_ahead`) is answered, once, without verifying it again."""
    if _AHEAD:
        key = (public.public_bytes_raw(), signature)
        if _AHEAD.get(key) == data:
            _AHEAD.pop(key, None)
            return True
    try:
        public.verify(signature, data)
    except InvalidSignature:
        return False
    return True


def required(members: Mapping[str, str], name: str, kty: str) -> str:
    value = members.get(name)
    if value is None:
        raise fail(f"the {kty} JWK has no {name!r} member.")
    return value


def okp_from_members(members: Mapping[str, str]) -> NativePrivate | NativePublic:
    crv = required(members, "crv", "OKP")
    if crv != "Ed25519":
        raise fail(f"the curve {shown(crv)} is not supported: {_UNSUPPORTED_CURVE_HINT}.")
    public = ed25519_public_key(required(members, "x", "OKP"))
    if "d" not in members:
        return public
    x = public.public_bytes_raw()
    d = b64url_decode(members["d"], what="JWK member 'd'", error=KeyFileError)
    if len(d) != 32:
        raise fail("the JWK member 'd' must be 32 bytes for an Ed25519 key.")
    private = ed25519.Ed25519PrivateKey.from_private_bytes(d)
    derived = private.public_key().public_bytes(serialization.Encoding.Raw,
                                                serialization.PublicFormat.Raw)
    if derived != x:
        raise fail("the JWK's private and public parts do not belong to the same key.")
    return private


def ec_from_members(
    members: Mapping[str, str],
) -> tuple[ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey, Curve]:
    crv = required(members, "crv", "EC")
    curve = EC_CURVES.get(crv)
    if curve is None:
        raise fail(f"the curve {shown(crv)} is not supported: {_UNSUPPORTED_CURVE_HINT}.")
    coordinates = []
    for name in ("x", "y"):
        raw = b64url_decode(required(members, name, "EC"), what=f"JWK member {name!r}",
                            error=KeyFileError)
        if len(raw) != curve.size:
            raise fail(f"the JWK member {name!r} must be {curve.size} bytes for {crv}.")
        value = int.from_bytes(raw, "big")
        if value >= curve.field_prime:
            raise fail(f"the EC public key is not a point on the {crv} curve.")
        coordinates.append(value)
    numbers = ec.EllipticCurvePublicNumbers(coordinates[0], coordinates[1], curve.curve())
    try:
        public = numbers.public_key()
    except ValueError as exc:
        raise fail(f"the EC public key is not a point on the {crv} curve.") from exc
    if "d" not in members:
        return public, curve
    d_raw = b64url_decode(members["d"], what="JWK member 'd'", error=KeyFileError)
    if len(d_raw) != curve.size:
        raise fail(f"the JWK member 'd' must be {curve.size} bytes for {crv}.")
    try:
        private = ec.derive_private_key(int.from_bytes(d_raw, "big"), curve.curve())
    except ValueError as exc:
        raise fail(f"the EC private key is out of range for {crv}.") from exc
    if private.public_key().public_numbers() != numbers:
        raise fail("the JWK's private and public parts do not belong to the same key.")
    return private, curve


def rsa_from_members(members: Mapping[str, str]) -> rsa.RSAPrivateKey | rsa.RSAPublicKey:
    n = uint_decode(required(members, "n", "RSA"), what="JWK member 'n'",
                    error=KeyFileError)
    e = uint_decode(required(members, "e", "RSA"), what="JWK member 'e'",
                    error=KeyFileError)
    bits = n.bit_length()
    if bits < MIN_RSA_BITS:
        raise fail(f"the RSA key has {bits} bits; vc_im requires at least {MIN_RSA_BITS}.")
    if bits > MAX_RSA_BITS:
        raise fail(f"the RSA key has {bits} bits; vc_im accepts at most {MAX_RSA_BITS}.")
    if n % 2 == 0:
        raise fail("the RSA modulus is even, so it is not an RSA modulus.")
    # FIPS 186-5 §A.1.1 bounds the exponent above by 2**256; it is odd and at least 3.
    if e < 3 or e % 2 == 0 or e >= 2**256:
        raise fail("the RSA public exponent must be odd, at least 3 and below 2**256.")
    public_numbers = rsa.RSAPublicNumbers(e, n)
    if "d" not in members:
        if any(name in members for name in _RSA_CRT_MEMBERS):
            raise fail("the RSA JWK has prime factors but no private exponent 'd'.")
        try:
            return public_numbers.public_key()
        except ValueError as exc:
            raise fail("the RSA public key is not valid.") from exc
    d = uint_decode(members["d"], what="JWK member 'd'", error=KeyFileError)
    present = [name for name in _RSA_CRT_MEMBERS if name in members]
    mismatch = "the JWK's private and public parts do not belong to the same key."
    if not present:
        # RFC 7518 §6.3.2 lets a private key carry only "d"; recover the rest.
        try:
            p, q = rsa.rsa_recover_prime_factors(n, e, d)
        except ValueError as exc:
            raise fail(mismatch) from exc
        dp, dq, qi = rsa.rsa_crt_dmp1(d, p), rsa.rsa_crt_dmq1(d, q), rsa.rsa_crt_iqmp(p, q)
    elif len(present) == len(_RSA_CRT_MEMBERS):
        p, q, dp, dq, qi = (uint_decode(members[name], what=f"JWK member {name!r}",
                                         error=KeyFileError)
                            for name in _RSA_CRT_MEMBERS)
    else:
        raise fail("the RSA JWK must carry all of p, q, dp, dq and qi, or none of them.")
    if p * q != n:
        raise fail(mismatch)
    try:
        return rsa.RSAPrivateNumbers(p, q, d, dp, dq, qi, public_numbers).private_key()
    except ValueError as exc:
        raise fail(mismatch) from exc


def native_members(native: NativePrivate | NativePublic) -> dict[str, str]:
    """The JWK members (kty first, without kid and alg) of a native cryptography key."""
    if isinstance(native, ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey):
        public = native.public_key() if isinstance(native, ed25519.Ed25519PrivateKey) else native
        raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        members = {"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(raw)}
        if isinstance(native, ed25519.Ed25519PrivateKey):
            members["d"] = b64url_encode(native.private_bytes(serialization.Encoding.Raw,
                                                      serialization.PrivateFormat.Raw,
                                                      serialization.NoEncryption()))
        return members
    if isinstance(native, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
        curve = EC_BY_OPENSSL_NAME.get(native.curve.name)
        if curve is None:
            raise fail(f"the elliptic curve {shown(native.curve.name)} is not supported: "
                        f"{_UNSUPPORTED_CURVE_HINT}.")
        public_ec = native.public_key() if isinstance(native, ec.EllipticCurvePrivateKey) \
            else native
        point = public_ec.public_numbers()
        members = {"kty": "EC", "crv": curve.crv,
                   "x": b64url_encode(point.x.to_bytes(curve.size, "big")),
                   "y": b64url_encode(point.y.to_bytes(curve.size, "big"))}
        if isinstance(native, ec.EllipticCurvePrivateKey):
            members["d"] = b64url_encode(native.private_numbers().private_value.to_bytes(curve.size,
                                                                                "big"))
        return members
    if isinstance(native, rsa.RSAPrivateKey):
        numbers = native.private_numbers()
        pub = numbers.public_numbers
        return {"kty": "RSA", "n": uint_encode(pub.n), "e": uint_encode(pub.e),
                "d": uint_encode(numbers.d), "p": uint_encode(numbers.p),
                "q": uint_encode(numbers.q), "dp": uint_encode(numbers.dmp1),
                "dq": uint_encode(numbers.dmq1), "qi": uint_encode(numbers.iqmp)}
    if isinstance(native, rsa.RSAPublicKey):
        pub = native.public_numbers()
        return {"kty": "RSA", "n": uint_encode(pub.n), "e": uint_encode(pub.e)}
    raise fail(f"the key is a {type(native).__name__}, which vc_im does not support.")


def content_name(jwk: Mapping[str, object]) -> Hashable:
    """A JWK's members and values, hashable: sorted pairs of strings, else canonical JSON."""
    if all(type(member) is str and type(value) is str for member, value in jwk.items()):
        return tuple(sorted(jwk.items()))
    return json.dumps(jwk, sort_keys=True, separators=(",", ":"))
