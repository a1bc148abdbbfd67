"""Signing keys: generate, read, write, validate, and name them (JWK, PEM, did:key, did:jwk).

A :class:`Key` is parsed and checked once and then reused: parsing costs more than verifying
a signature. Every way in (:func:`key_from_jwk`, :func:`load_key`, :func:`read_key_file`,
:func:`resolve_did`, :func:`generate`) goes through the same validation, which refuses what
the libraries underneath accept but a verifier must not:

* symmetric keys, curves and algorithms outside :data:`ALGORITHMS`, and a JWK ``alg`` that
  does not fit its key (no algorithm confusion);
* JWK members outside a fixed allow-list, ``use`` other than ``sig``, and non-canonical
  base64url (one key must have one spelling, or thumbprints and did:jwk identifiers stop
  identifying it);
* RSA moduli under :data:`MIN_RSA_BITS` (joserfc only warns, then signs);
* Ed25519 public keys that are small-order points (joserfc and OpenSSL accept them; a
  signature under such a key proves nothing) or not canonically encoded;
* EC points that are not on the curve, and private parts that do not belong to the public
  part they travel with.

Ed25519 keys carry the fully specified JWS algorithm ``Ed25519`` (RFC 9864); the older
polymorphic ``EdDSA`` is accepted when verifying and mapped onto the same key, because
joserfc refuses a key whose JWK ``alg`` differs from the header's.

Messages never contain key material, and start in lower case so that callers can put them
after a prefix of their own.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import types
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal, TypeAlias, cast

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from vc_im import _jose as strictjson
from vc_im._jose import b64url_encode
from vc_im._jwk import (
    EC_CURVES,
    MAX_RSA_BITS,
    MIN_RSA_BITS,
    NativePrivate,
    NativePublic,
    content_name,
    ec_from_members,
    ed25519_verifies,
    fail,
    native_members,
    okp_from_members,
    rsa_from_members,
    shown,
    verify_ahead,
)
from vc_im.errors import KeyFileError

if TYPE_CHECKING:  # joserfc is imported when a key first signs or verifies through it
    from joserfc.jwk import ECKey, OKPKey, RSAKey

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
    "verify_ahead",
    "write_private_key",
    "write_public_key",
]

#: The JWS algorithms vc_im signs with; each key has exactly one of them.
ALGORITHMS: Final[tuple[str, ...]] = ("Ed25519", "ES256", "ES256K", "ES384", "ES512", "RS256")
DEFAULT_ALG: Final = "Ed25519"
MAX_KEY_FILE_BYTES: Final = 1 << 20
#: Bits of a generated RS256 modulus.
RSA_GENERATE_BITS: Final = 2048

Require: TypeAlias = Literal["public", "private", "any"]
#: The joserfc key object handed to the JOSE codec.
JoseKey: TypeAlias = "OKPKey | ECKey | RSAKey"
_EDDSA: Final = "EdDSA"
#: The curve of each ECDSA algorithm (ES256: P-256, ES256K: secp256k1, ES384: P-384, ES512: P-521).
_EC_BY_ALG: Final = types.MappingProxyType({curve.alg: curve for curve in EC_CURVES.values()})
_COMMON_MEMBERS: Final = frozenset({"kty", "kid", "alg", "use", "key_ops"})
_KTY_MEMBERS: Final[Mapping[str, frozenset[str]]] = types.MappingProxyType({
    "OKP": frozenset({"crv", "x", "d"}), "EC": frozenset({"crv", "x", "y", "d"}),
    "RSA": frozenset({"n", "e", "d", "p", "q", "dp", "dq", "qi"})})
_ALL_MEMBERS: Final = _COMMON_MEMBERS.union(*_KTY_MEMBERS.values())
_PRIVATE_MEMBERS: Final = frozenset({"d", "p", "q", "dp", "dq", "qi"})
_KEY_OPS: Final = frozenset({"sign", "verify"})
_MAX_KID_CHARS: Final = 1024
_B64URL: Final = re.compile(r"\A[A-Za-z0-9_-]*\Z")


_PRIVATE_WHERE_PUBLIC: Final = ("the key holds a private key where a public key is expected; "
                                "give its public part only.")
_PUBLIC_TYPES: Final = (ed25519.Ed25519PublicKey, ec.EllipticCurvePublicKey, rsa.RSAPublicKey)
_ED25519: Final = (ed25519.Ed25519PrivateKey, ed25519.Ed25519PublicKey)
_NATIVE_TYPES: Final = (*_PUBLIC_TYPES, ed25519.Ed25519PrivateKey, ec.EllipticCurvePrivateKey,
                        rsa.RSAPrivateKey)


# --- The key -------------------------------------------------------------------------------

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
    _native: NativePrivate | NativePublic = field(compare=False, repr=False)
    _thumbprint: str = field(compare=False, repr=False)
    #: joserfc's key for each JWS alg, made on first use (an Ed25519 signature is verified
    #: without it, so a verification need not import joserfc at all).
    _jose: dict[str, JoseKey] = field(default_factory=dict, compare=False, repr=False)

    def __reduce__(self) -> tuple[Any, ...]:
        """A public key is pickled as its JWK (a batch worker sends its reports to the
        parent process); a private key never is."""
        if self.is_private:
            raise TypeError("a private key is never pickled")
        return (key_from_jwk, (dict(self.public_jwk),))

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
            raise fail("the key is public only; it has no private JWK.")
        members = native_members(native)
        return {**members, "kid": self.kid, "alg": self.alg}

    def to_pem(self, *, private: bool) -> bytes:
        """PEM: PKCS#8 (unencrypted) for the private key, SubjectPublicKeyInfo for the public."""
        native = self._native
        if private:
            if isinstance(native, _PUBLIC_TYPES):
                raise fail("the key is public only; it has no private PEM.")
            return native.private_bytes(serialization.Encoding.PEM,
                                        serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption())
        public = native if isinstance(native, _PUBLIC_TYPES) else native.public_key()
        return public.public_bytes(serialization.Encoding.PEM,
                                   serialization.PublicFormat.SubjectPublicKeyInfo)

    def did_key(self) -> str:
        """The did:key of the public key (multicodec ed25519-pub, p256-pub, p384-pub, p521-pub and
        secp256k1-pub with compressed points, rsa-pub with a DER RSAPublicKey)."""
        from vc_im.dids import DID_KEY_CODECS, b58encode

        native = self._native
        public = native if isinstance(native, _PUBLIC_TYPES) else native.public_key()
        if isinstance(public, ed25519.Ed25519PublicKey):
            prefix = DID_KEY_CODECS["Ed25519"]
            body = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        elif isinstance(public, ec.EllipticCurvePublicKey):
            prefix = DID_KEY_CODECS[self.alg]
            body = public.public_bytes(serialization.Encoding.X962,
                                       serialization.PublicFormat.CompressedPoint)
        else:
            prefix = DID_KEY_CODECS["RS256"]
            body = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)
        return "did:key:z" + b58encode(prefix + body)

    def did_jwk(self) -> str:
        """The did:jwk of the public key: base64url of its RFC 7638 member set, sorted and
        without whitespace (the form of the did:jwk specification's example)."""
        return "did:jwk:" + b64url_encode(_canonical_json(self.public_jwk))

    def with_kid(self, kid: str) -> Key:
        """The same key named ``kid`` (a DID URL, say) instead."""
        return _make_key(self._native, self.alg, kid, dict(self.public_jwk), self.thumbprint())

    def accepts(self, jws_alg: str) -> bool:
        """Whether this key may sign or verify a JWS whose header ``alg`` is ``jws_alg``."""
        return jws_alg == self.alg or (jws_alg == _EDDSA and isinstance(self._native, _ED25519))

    def verifies_ed25519(self, signature: bytes, data: bytes) -> bool | None:
        """For an Ed25519 key, whether ``signature`` verifies over ``data``: the check joserfc
        makes, without parsing the token a second time (a test holds the two equal). None
        for any other key type."""
        if self.alg != "Ed25519":  # the alg and is_private say what the native key is
            return None            # (_make_key): no isinstance on its abstract classes here
        native = self._native
        public = (cast(ed25519.Ed25519PrivateKey, native).public_key() if self.is_private
                  else cast(ed25519.Ed25519PublicKey, native))
        return ed25519_verifies(public, signature, data)

    def signs_ed25519(self, data: bytes) -> bytes:
        """The Ed25519 signature of ``data`` (this key must be a private Ed25519 key)."""
        assert isinstance(self._native, ed25519.Ed25519PrivateKey)
        return self._native.sign(data)

    def jose_key(self, jws_alg: str) -> JoseKey:
        """The joserfc key for a JWS whose header ``alg`` is ``jws_alg`` (which it must accept)."""
        if not self.accepts(jws_alg):
            raise fail(f"the {self.alg} key may not be used with the JWS alg {shown(jws_alg)}.")
        if jws_alg not in self._jose:
            self._jose[jws_alg] = _jose_key(self._native, self.kid, jws_alg)
        return self._jose[jws_alg]


def _jose_key(native: NativePrivate | NativePublic, kid: str, alg: str) -> JoseKey:
    """joserfc's key object for ``native`` under the JWS alg ``alg``."""
    from joserfc.jwk import ECKey, OKPKey, RSAKey

    if isinstance(native, _ED25519):
        return OKPKey.import_key(native, {"kid": kid, "alg": alg})
    if isinstance(native, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
        return ECKey.import_key(native, {"kid": kid, "alg": alg})
    return RSAKey.import_key(native, {"kid": kid, "alg": alg})


def _canonical_json(public_jwk: Mapping[str, str]) -> bytes:
    """RFC 7638 §3: the required members only, sorted, no whitespace."""
    required = ("crv", "kty", "x", "y") if public_jwk["kty"] != "RSA" else ("e", "kty", "n")
    members = {name: public_jwk[name] for name in required if name in public_jwk}
    if all(_B64URL.match(value) for value in members.values()):  # nothing to escape: as is
        return ("{" + ",".join(f'"{n}":"{v}"' for n, v in members.items()) + "}").encode()
    return json.dumps(members, sort_keys=True, separators=(",", ":")).encode("ascii")


def _thumbprint_of(public_members: Mapping[str, str]) -> str:
    """The RFC 7638 thumbprint, computed once per key."""
    required = ("crv", "kty", "x", "y") if public_members["kty"] != "RSA" else ("e", "kty", "n")
    return _thumbprint(tuple((n, public_members[n]) for n in required if n in public_members))


@functools.lru_cache(maxsize=1024)
def _thumbprint(members: tuple[tuple[str, str], ...]) -> str:
    return b64url_encode(hashlib.sha256(_canonical_json(dict(members))).digest())


def _make_key(native: NativePrivate | NativePublic, alg: str, kid: str | None,
              public_members: dict[str, str], thumbprint: str | None = None) -> Key:
    """Wrap an already validated native key; computes kid (joserfc's keys come on first use)."""
    public_only: dict[str, str] = {k: public_members[k] for k in ("kty", "crv", "x", "y", "n", "e")
                   if k in public_members}
    if thumbprint is None:
        thumbprint = _thumbprint_of(public_only)
    kid = kid if kid is not None else thumbprint
    public_jwk = types.MappingProxyType({**public_only, "kid": kid, "alg": alg})
    return Key(alg=alg, kid=kid, public_jwk=public_jwk,
               is_private=not isinstance(native, _PUBLIC_TYPES), _native=native,
               _thumbprint=thumbprint)


# --- JWK → Key -----------------------------------------------------------------------------

#: Public keys parsed so far, by (require, canonical JWK): a key's checks (its point on the
#: curve, above all) run once per key, however many credentials and presentations carry it.
_PUBLIC_KEYS: Final[dict[tuple[str, Hashable], Key]] = {}
_MAX_PUBLIC_KEYS: Final = 4096


def key_from_jwk(jwk: Mapping[str, object], *, require: Require = "any") -> Key:
    """Validate a JWK and build its :class:`Key`.

    ``require="public"`` refuses private members (a public key is expected, as
    in a trust file, ``cnf.jwk`` or a header ``jwk``); ``require="private"``
    refuses a key without its private part. Raises
    :class:`~vc_im.errors.KeyFileError` (``bad_key``). A public key seen before is
    not parsed again (only valid keys are kept, and never a private one).
    """
    if require == "private" or not (type(jwk) is dict or isinstance(jwk, Mapping)) or (
            "d" in jwk or "p" in jwk):
        return parse_jwk(jwk, require=require)
    try:
        name = (require, content_name(jwk))
    except (TypeError, ValueError):  # not JSON: let the parser say what is wrong
        return parse_jwk(jwk, require=require)
    key = _PUBLIC_KEYS.get(name)
    if key is None:
        key = parse_jwk(jwk, require=require)
        if key.is_private:  # cannot be, without "d" or "p"; never kept anyway
            return key
        if len(_PUBLIC_KEYS) >= _MAX_PUBLIC_KEYS - 1:
            _PUBLIC_KEYS.clear()
        # Kept as written barely too (a header's jwk after a cnf.jwk): "alg", "use" and
        # "key_ops" only have to fit, and a missing "kid" is the thumbprint.
        bare = {member: value for member, value in key.public_jwk.items()
                if member != "alg" and not (member == "kid" and value == key.thumbprint())}
        _PUBLIC_KEYS[name] = _PUBLIC_KEYS[(require, content_name(bare))] = key
    return key


def parse_jwk(jwk: Mapping[str, object], *, require: Require = "any") -> Key:
    """:func:`key_from_jwk` without its cache: every check, every time (the reference a
    test holds the cache to)."""
    if not (type(jwk) is dict or isinstance(jwk, Mapping)):  # a dict without the ABC's call
        raise fail("the JWK is not a JSON object.")
    names = set(jwk)
    if not all(isinstance(name, str) for name in names):
        raise fail("the JWK has a member name that is not a string.")
    kty = jwk.get("kty")
    if kty is None:
        raise fail("the JWK has no \"kty\" member.")
    if kty == "oct":
        raise fail("the JWK is a symmetric (\"oct\") key; vc_im uses asymmetric keys only.")
    if not isinstance(kty, str) or kty not in _KTY_MEMBERS:
        raise fail(f"the JWK key type {shown(kty)} is not supported (OKP, EC or RSA).")
    unknown = names - _ALL_MEMBERS
    if unknown:
        listed = ", ".join(shown(name, 30) for name in sorted(unknown)[:5])
        raise fail(f"the JWK has members vc_im does not accept: {listed}.")
    for name in names - {"key_ops"}:
        if not isinstance(jwk[name], str):
            raise fail(f"the JWK member {name!r} must be a string.")
    members: dict[str, str] = {name: str(jwk[name]) for name in names - {"key_ops"}}
    misplaced = names - _COMMON_MEMBERS - _KTY_MEMBERS[kty]
    if misplaced:
        raise fail(f"the JWK member {shown(sorted(misplaced)[0], 30)} does not belong "
                    f"in an {kty} key.")
    _check_use_and_ops(members.get("use"), jwk.get("key_ops"))
    kid = members.get("kid")
    if kid is not None and not (0 < len(kid) <= _MAX_KID_CHARS and kid.isprintable()):
        raise fail(f"the JWK \"kid\" must be 1 to {_MAX_KID_CHARS} printable characters.")

    private = bool(names & _PRIVATE_MEMBERS)
    if require == "public" and private:
        raise fail(_PRIVATE_WHERE_PUBLIC)
    if require == "private" and not private:
        raise fail("the key is public only, but a private key is needed here.")

    native: NativePrivate | NativePublic
    if kty == "OKP":
        native, key_alg = okp_from_members(members), "Ed25519"
    elif kty == "EC":
        native, curve = ec_from_members(members)
        key_alg = curve.alg
    else:
        native, key_alg = rsa_from_members(members), "RS256"
    alg = _check_alg(members.get("alg"), key_alg, members.get("crv", kty))
    return _make_key(native, alg, kid, members)


def _check_use_and_ops(use: str | None, key_ops: object) -> None:
    if use is not None and use != "sig":
        raise fail(f"the JWK \"use\" is {shown(use)}, but vc_im keys sign (\"sig\").")
    if key_ops is not None and not (
        isinstance(key_ops, list) and key_ops
        and all(isinstance(op, str) and op in _KEY_OPS for op in key_ops)
        and len(set(key_ops)) == len(key_ops)
    ):
        raise fail("the JWK \"key_ops\" must list distinct operations among \"sign\" "
                    "and \"verify\".")


def _check_alg(alg: str | None, key_alg: str, key_name: str) -> str:
    """The key's algorithm; a JWK ``alg`` must name it (``EdDSA`` counts as ``Ed25519``)."""
    if alg is None or alg == key_alg or (alg == _EDDSA and key_alg == "Ed25519"):
        return key_alg
    if alg in ALGORITHMS or alg == _EDDSA:
        raise fail(f"the JWK alg {alg} does not fit this {key_name} key, whose alg is {key_alg}.")
    raise fail(f"the JWK alg {shown(alg)} is not supported ({', '.join(ALGORITHMS)}).")


def jwk_thumbprint(jwk: Mapping[str, object]) -> str:
    """The RFC 7638 thumbprint (SHA-256) of a public JWK, after validating it."""
    return key_from_jwk(jwk, require="public").thumbprint()


# --- Generating, loading, reading and writing ----------------------------------------------

def generate(alg: str = DEFAULT_ALG, *, kid: str | None = None) -> Key:
    """A fresh private key for ``alg`` (RS256: a 2048-bit modulus, exponent 65537)."""
    native: NativePrivate
    if alg == "Ed25519":
        native = ed25519.Ed25519PrivateKey.generate()
    elif alg in _EC_BY_ALG:
        native = ec.generate_private_key(_EC_BY_ALG[alg].curve())
    elif alg == "RS256":
        native = rsa.generate_private_key(public_exponent=65537, key_size=RSA_GENERATE_BITS)
    else:
        raise fail(f"the algorithm {shown(alg)} is not one of {', '.join(ALGORITHMS)}.")
    members: dict[str, object] = dict(native_members(native))
    if kid is not None:
        members["kid"] = kid
    # The same validation as every other way in (kid syntax, small-order points, sizes).
    return key_from_jwk(members, require="private")


def load_key(data: bytes | str, *, require: Require = "any", password: bytes | None = None,
             kid: str | None = None) -> Key:
    """A key from JWK JSON (strict: no duplicate names, NaN or BOM), a JWKS, or PEM.

    PEM is read by ``cryptography``'s loaders, so every common form works: PKCS#8
    (``BEGIN PRIVATE KEY``), encrypted PKCS#8 (``BEGIN ENCRYPTED PRIVATE KEY``, with
    ``password``), PKCS#1 (``BEGIN RSA PRIVATE KEY``), SEC1 (``BEGIN EC PRIVATE KEY``, as
    ``openssl ecparam -genkey`` writes it) and SubjectPublicKeyInfo (``BEGIN PUBLIC KEY``). A
    JWKS (``{"keys": [...]}``) gives the key whose ``kid`` is ``kid``, or its only key. Any
    other form is refused with a sentence that says how to convert it.
    """
    if len(data) > MAX_KEY_FILE_BYTES:
        raise fail("the key is larger than 1 MiB.")
    try:
        raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    except UnicodeEncodeError as exc:
        raise fail("the key text is not valid Unicode (it has lone surrogates).") from exc
    stripped = raw.strip(b" \t\r\n")
    if b"-----BEGIN " in stripped[:4096]:
        if len(_PEM_KEY_LABEL.findall(stripped)) > 1:
            raise fail("the PEM text holds more than one key; keep only the one to use.")
        return _key_from_pem(stripped, require, password)
    if stripped.startswith(b"{") or raw.startswith(b"\xef\xbb\xbf"):
        try:
            value = strictjson.loads(raw, what="JWK", max_bytes=MAX_KEY_FILE_BYTES)
        except strictjson.StrictJSONError as exc:
            raise fail(exc.message) from exc
        if not isinstance(value, dict):
            raise fail("the JWK is not a JSON object.")
        if "keys" in value and "kty" not in value:
            return key_from_jwk(_jwks_member(value, kid), require=require)
        if kid is not None and value.get("kid") != kid:
            raise fail(f"the JWK's kid is not {shown(kid)}.")
        return key_from_jwk(value, require=require)
    if stripped.startswith(b"ssh-") or stripped.startswith(b"ecdsa-sha2-"):
        raise fail("the key is an OpenSSH public key; " + _CONVERT_HINT)
    if stripped[:1] == b"\x30":
        raise fail("the key is binary (DER); convert it to PEM with "
                   "`openssl pkey -inform DER -in KEY.der -out KEY.pem`, or give a JWK.")
    raise fail("the key is neither a JWK, a JWKS nor a PEM key; " + _CONVERT_HINT)


#: A PEM block holding a key (``EC PARAMETERS`` beside ``EC PRIVATE KEY`` is no second key).
_PEM_KEY_LABEL: Final = re.compile(rb"-----BEGIN [A-Z0-9 ]*KEY-----")
#: How to turn a key vc_im cannot read into one it can.
_CONVERT_HINT: Final = ("convert it with `openssl pkey -in KEY -out key.pem` (PKCS#8; "
                        "`ssh-keygen -e -m PKCS8 -f KEY` for an OpenSSH key), or give a JWK.")


def _jwks_member(jwks: Mapping[str, object], kid: str | None) -> Mapping[str, object]:
    """The JWK a JWKS holds under ``kid``; without ``kid``, its only key."""
    members = jwks.get("keys")
    if set(jwks) != {"keys"} or not isinstance(members, list) or not members:
        raise fail("the JWKS must be an object whose only member \"keys\" lists JWKs.")
    if not all(isinstance(member, dict) for member in members):
        raise fail("every member of the JWKS \"keys\" must be a JWK (a JSON object).")
    kids = [str(member.get("kid")) for member in members if isinstance(member.get("kid"), str)]
    if kid is None:
        if len(members) == 1:
            return dict(members[0])
        listed = ", ".join(shown(name, 60) for name in kids[:8]) or "none has a kid"
        raise fail(f"the JWKS holds {len(members)} keys; choose one with --kid ({listed}).")
    found = [member for member in members if member.get("kid") == kid]
    if len(found) != 1:
        listed = ", ".join(shown(name, 60) for name in kids[:8]) or "none"
        what = "no key" if not found else "more than one key"
        raise fail(f"the JWKS has {what} whose kid is {shown(kid)} (its kids: {listed}).")
    return dict(found[0])


def _key_from_pem(pem: bytes, require: Require, password: bytes | None) -> Key:
    """A PEM key through ``cryptography``'s loaders: private forms first, then public ones."""
    native: object
    try:
        native = serialization.load_pem_private_key(pem + b"\n", password=password)
    except TypeError as exc:
        if password is None:  # the only TypeError without a password: an encrypted key
            raise fail("the PEM private key is encrypted; give its password with "
                       "--password-file FILE or the VC_IM_KEY_PASSWORD environment "
                       "variable.") from exc
        # A password for a key that has none: read the key as it is.
        native = _load_pem(serialization.load_pem_private_key, pem, None)
    except ValueError as exc:
        if b"ENCRYPTED" in pem and password is not None:
            raise fail("the PEM private key cannot be decrypted: the password is wrong, or "
                       "the key is malformed.") from exc
        native = _load_pem(serialization.load_pem_public_key, pem, None)
    except UnsupportedAlgorithm as exc:
        raise fail("the PEM key is of a type vc_im does not support; " + _CONVERT_HINT) \
            from exc
    if not isinstance(native, _NATIVE_TYPES):
        raise fail(f"the PEM key is a {_pem_kind(native)} key, which vc_im does not support.")
    if require == "public" and not isinstance(native, _PUBLIC_TYPES):
        raise fail(_PRIVATE_WHERE_PUBLIC)
    return key_from_jwk(dict(native_members(native)), require=require)


def _load_pem(loader: Callable[..., object], pem: bytes, password: bytes | None) -> object:
    """``loader`` on ``pem``; a failure says what is wrong and how to convert."""
    try:
        if loader is serialization.load_pem_public_key:
            return loader(pem + b"\n")
        return loader(pem + b"\n", password=password)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        if b"CERTIFICATE-----" in pem:
            raise fail("the PEM block is a certificate, not a key; give the key it "
                       "certifies (`openssl x509 -in CERT -pubkey -noout` prints it).") from exc
        if b"OPENSSH PRIVATE KEY" in pem:
            raise fail("the key is in OpenSSH's own format; convert it with "
                       "`ssh-keygen -p -m PKCS8 -f KEY` (in place), or give a JWK.") from exc
        raise fail("the PEM key cannot be read (malformed or of an unsupported form); "
                   + _CONVERT_HINT) from exc


def _pem_kind(native: object) -> str:
    name = type(native).__name__
    for suffix in ("PrivateKey", "PublicKey"):
        name = name.removesuffix(suffix)
    return name or "unknown"


def resolve_did(did: str) -> Key:
    """The public key a did:key or did:jwk names, resolved offline (see :mod:`vc_im.dids`)."""
    from vc_im.dids import resolve_did as resolve

    return resolve(did)


def read_key_file(path: Path, *, require: Require = "any", password: bytes | None = None,
                  kid: str | None = None) -> Key:
    """Read a JWK, JWKS or PEM key file of at most 1 MiB (see :func:`load_key` for
    ``password`` and ``kid``); errors name the path."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_KEY_FILE_BYTES + 1)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise fail(f"the key file {path} cannot be read: {reason}.") from exc
    if len(data) > MAX_KEY_FILE_BYTES:
        raise fail(f"the key file {path} is larger than 1 MiB.")
    try:
        return load_key(data, require=require, password=password, kid=kid)
    except KeyFileError as exc:
        raise fail(f"the key file {path} is unusable: {exc.message}") from exc


def write_private_key(path: Path, key: Key, *, force: bool = False) -> None:
    """Write the private JWK with mode 0600, atomically.

    The JSON goes to a new file in the same directory, created with mode 0600
    (never readable by others, whatever the umask), then takes the name ``path``.
    An existing file is refused unless ``force``; a symlink at ``path`` is never
    followed (see :func:`vc_im.files.write_new_file`).
    """
    if not key.is_private:
        raise fail("the key is public only; there is no private key to write.")
    _write_atomically(path, key.private_jwk(), 0o600, force=force)


def write_public_key(path: Path, key: Key, *, force: bool = False) -> None:
    """Write the public JWK (mode 0644), atomically, under the same rules."""
    _write_atomically(path, dict(key.public_jwk), 0o644, force=force)


def _write_atomically(path: Path, jwk: Mapping[str, str], mode: int, *,
                      force: bool = False) -> None:
    from vc_im.files import write_new_file

    text = json.dumps(jwk, indent=2) + "\n"
    write_new_file(Path(path), text.encode("utf-8"), mode=mode, force=force)


