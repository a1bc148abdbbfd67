"""vc_im.keys: RFC vectors, key generation and files, and every refusal of an unusable key."""

from __future__ import annotations

import base64
import functools
import json
import os
import stat
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa, x25519
from hypothesis import given, settings
from hypothesis import strategies as st
from joserfc import jws
from joserfc.errors import BadSignatureError, SecurityWarning, UnsupportedKeyAlgorithmError
from joserfc.jwk import RSAKey

from tests.helpers.vectors import vector_json
from vc_im import keys
from vc_im.errors import KeyFileError
from vc_im.files import OutputFileError
from vc_im.keys import (
    ALGORITHMS,
    DEFAULT_ALG,
    MIN_RSA_BITS,
    Key,
    generate,
    jwk_thumbprint,
    key_from_jwk,
    load_key,
    read_key_file,
    write_private_key,
    write_public_key,
)

RFC8037_THUMBPRINT = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"

# RFC 8037 A.2 and RFC 7515 A.3, written out so the refusal tests read no vector file.
ED_PUBLIC: dict[str, object] = {
    "kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}
ED_PRIVATE: dict[str, object] = {
    **ED_PUBLIC, "d": "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"}
P256_PUBLIC: dict[str, object] = {
    "kty": "EC", "crv": "P-256", "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
    "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}
P256_PRIVATE: dict[str, object] = {
    **P256_PUBLIC, "d": "jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI"}
# did:key test vector zQ3shjmnWpSDEbYKpaFm4kTs9kXyqG6N2QwCYHNPP4yubqgJS (w3c-ccg/did-method-key).
K1_PUBLIC: dict[str, object] = {
    "kty": "EC", "crv": "secp256k1", "x": "TEIJN9vnTq1EXMkqzo7yN_867-foKc2pREv45Fw_QA8",
    "y": "9yiymlzdxKCiRbYq7p-ArRB-C1ytjHE-eb7RDTi6rVc"}

# libsodium's blocklist of small-order Ed25519 encodings (ge25519_has_small_order in
# src/libsodium/crypto_core/ed25519/ref10/ed25519_ref10.c), compared there with the sign
# bit masked, so each entry stands for two encodings.
SMALL_ORDER_ENCODINGS = [
    "0000000000000000000000000000000000000000000000000000000000000000",  # order 4
    "0100000000000000000000000000000000000000000000000000000000000000",  # order 1
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",  # order 8
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",  # order 8
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  # p-1, order 2
    "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  # p, non-canonical 0
    "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  # p+1, non-canonical 1
]
ED25519_P = 2**255 - 19


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64u_uint(value: int) -> str:
    return b64u(value.to_bytes((value.bit_length() + 7) // 8, "big"))


def load_vector(*parts: str) -> Any:
    """A public vector from tests/vectors."""
    return vector_json(*parts)


def refusal(action: Callable[[], object], word: str, *,
            secrets: Mapping[str, object] | None = None) -> KeyFileError:
    """Run ``action``, which must raise exactly KeyFileError (bad_key) mentioning ``word``."""
    with pytest.raises(KeyFileError) as caught:
        action()
    error = caught.value
    assert type(error) is KeyFileError
    assert error.code == "bad_key"
    assert word in error.message
    assert error.message == str(error)
    assert error.message.endswith(".")
    for name, value in (secrets or {}).items():
        if name not in {"kty", "crv", "alg", "use", "kid"} and isinstance(value, str) \
                and len(value) >= 8:
            assert value not in error.message
    return error


@pytest.fixture(scope="module")
def rsa_1024() -> rsa.RSAPrivateKey:
    # Deliberately weak: the refusals below are about exactly this size.
    return rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505


@pytest.fixture(scope="module")
def generated() -> dict[str, Key]:
    return {alg: generate(alg) for alg in ALGORITHMS}


# --------------------------------------------------------------------------------------
# RFC 8037 (Ed25519) and RFC 7515 (ES256, RS256) vectors
# --------------------------------------------------------------------------------------

def test_rfc8037_a1_private_key_import() -> None:
    """RFC 8037 A.1: the private JWK imports as a private Ed25519 key with the same d and x."""
    vector = load_vector("jose-rfc", "rfc8037-ed25519.json")
    key = key_from_jwk(vector["private_jwk"], require="private")
    assert key.alg == "Ed25519"
    assert key.is_private is True
    assert key.private_jwk() == {**vector["private_jwk"], "kid": RFC8037_THUMBPRINT,
                                 "alg": "Ed25519"}


def test_rfc8037_a2_public_key_import() -> None:
    """RFC 8037 A.2: the public JWK imports as the public part of the A.1 key."""
    vector = load_vector("jose-rfc", "rfc8037-ed25519.json")
    public = key_from_jwk(vector["public_jwk"], require="public")
    private = key_from_jwk(vector["private_jwk"])
    assert public.is_private is False
    assert dict(public.public_jwk) == {**vector["public_jwk"], "kid": RFC8037_THUMBPRINT,
                                       "alg": "Ed25519"}
    assert private.public() == public


def test_rfc8037_a3_thumbprint_is_the_default_kid() -> None:
    """RFC 8037 A.3: the RFC 7638 thumbprint is kPrK_qmx…, the default kid, and its RFC 9278 URI."""
    vector = load_vector("jose-rfc", "rfc8037-ed25519.json")
    key = key_from_jwk(vector["public_jwk"])
    assert vector["jwk_thumbprint_sha256"] == RFC8037_THUMBPRINT
    assert key.thumbprint() == RFC8037_THUMBPRINT
    assert key.kid == RFC8037_THUMBPRINT
    assert key.thumbprint_uri() == (
        "urn:ietf:params:oauth:jwk-thumbprint:sha-256:" + RFC8037_THUMBPRINT)
    assert jwk_thumbprint(vector["public_jwk"]) == RFC8037_THUMBPRINT


def test_rfc8037_a4_signature_reproduced_with_eddsa_key() -> None:
    """RFC 8037 A.4: signing through jose_key("EdDSA") reproduces the RFC's JWS byte for byte."""
    vector = load_vector("jose-rfc", "rfc8037-ed25519.json")
    key = key_from_jwk(vector["private_jwk"])
    with pytest.warns(SecurityWarning, match="EdDSA"):
        token = jws.serialize_compact({"alg": "EdDSA"}, vector["payload_utf8"],
                                      key.jose_key("EdDSA"), algorithms=["EdDSA"])
    assert token == vector["compact"]


def test_rfc8037_a4_signature_verifies_through_joserfc() -> None:
    """RFC 8037 A.4: jws.deserialize_compact verifies the RFC's JWS with the public EdDSA key."""
    vector = load_vector("jose-rfc", "rfc8037-ed25519.json")
    public = key_from_jwk(vector["public_jwk"], require="public")
    assert public.accepts("EdDSA") is True
    with pytest.warns(SecurityWarning, match="EdDSA"):
        result = jws.deserialize_compact(vector["compact"], public.jose_key("EdDSA"),
                                         algorithms=["EdDSA"])
    assert result.payload == vector["payload_utf8"].encode("utf-8")
    assert result.headers() == {"alg": "EdDSA"}


def test_rfc8037_a4_needs_the_eddsa_mapping() -> None:
    """joserfc refuses an Ed25519-labelled key for an EdDSA header: hence jose_key's mapping."""
    vector = load_vector("jose-rfc", "rfc8037-ed25519.json")
    public = key_from_jwk(vector["public_jwk"])
    with pytest.warns(SecurityWarning), pytest.raises(UnsupportedKeyAlgorithmError):
        jws.deserialize_compact(vector["compact"], public.jose_key("Ed25519"),
                                algorithms=["EdDSA"])


def test_rfc8037_a4_tampered_signature_fails() -> None:
    """A one-bit change in the RFC 8037 A.4 signature makes joserfc refuse it."""
    vector = load_vector("jose-rfc", "rfc8037-ed25519.json")
    public = key_from_jwk(vector["public_jwk"])
    signature = bytearray(base64.urlsafe_b64decode(vector["signature_b64u"] + "=="))
    signature[0] ^= 1
    token = f"{vector['signing_input']}.{b64u(bytes(signature))}"
    with pytest.warns(SecurityWarning), pytest.raises(BadSignatureError):
        jws.deserialize_compact(token, public.jose_key("EdDSA"), algorithms=["EdDSA"])


def test_rfc8037_key_signs_with_ed25519_alg() -> None:
    """The RFC 8037 key signs under the RFC 9864 alg Ed25519 and verifies as EdDSA too."""
    vector = load_vector("jose-rfc", "rfc8037-ed25519.json")
    key = key_from_jwk(vector["private_jwk"])
    token = jws.serialize_compact({"alg": "Ed25519"}, b"payload", key.jose_key("Ed25519"),
                                  algorithms=["Ed25519"])
    result = jws.deserialize_compact(token, key.public().jose_key("Ed25519"),
                                     algorithms=["Ed25519"])
    assert result.payload == b"payload"
    # Same signature bytes whatever the header calls the algorithm: Ed25519 is deterministic.
    with pytest.warns(SecurityWarning):
        eddsa = jws.serialize_compact({"alg": "EdDSA"}, b"payload", key.jose_key("EdDSA"),
                                      algorithms=["EdDSA"])
    assert eddsa.split(".")[0] == "eyJhbGciOiJFZERTQSJ9"


def test_rfc7515_a3_es256_verifies() -> None:
    """RFC 7515 A.3: the P-256 JWK imports as ES256 and verifies the RFC's JWS via jose_key."""
    vector = load_vector("jose-rfc", "rfc7515-appendix-A.json")["vectors"]["A.3"]
    key = key_from_jwk(vector["jwk"], require="private")
    assert key.alg == "ES256"
    public = key.public()
    result = jws.deserialize_compact(vector["compact"], public.jose_key("ES256"),
                                     algorithms=["ES256"])
    assert result.payload == vector["payload_utf8"].encode("utf-8")
    from_public_members = key_from_jwk({k: v for k, v in vector["jwk"].items() if k != "d"})
    assert from_public_members == public


def test_rfc7515_a2_rs256_verifies_and_is_reproduced() -> None:
    """RFC 7515 A.2: the 2048-bit RSA JWK imports as RS256 and reproduces the RFC's JWS."""
    vector = load_vector("jose-rfc", "rfc7515-appendix-A.json")["vectors"]["A.2"]
    key = key_from_jwk(vector["jwk"], require="private")
    assert key.alg == "RS256"
    result = jws.deserialize_compact(vector["compact"], key.public().jose_key("RS256"),
                                     algorithms=["RS256"])
    assert result.payload == vector["payload_utf8"].encode("utf-8")
    # RSASSA-PKCS1-v1_5 is deterministic: re-sign the RFC's exact signing input.
    header_b64, payload_b64, signature_b64 = vector["compact"].split(".")
    native = serialization.load_pem_private_key(key.to_pem(private=True), password=None)
    assert isinstance(native, rsa.RSAPrivateKey)
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding
    signature = native.sign(f"{header_b64}.{payload_b64}".encode("ascii"), padding.PKCS1v15(),
                            hashes.SHA256())
    assert b64u(signature) == signature_b64


def test_rfc7515_a1_symmetric_key_refused() -> None:
    """RFC 7515 A.1's HMAC key is refused: vc_im uses asymmetric keys only."""
    vector = load_vector("jose-rfc", "rfc7515-appendix-A.json")["vectors"]["A.1"]
    refusal(lambda: key_from_jwk(vector["jwk"]), "symmetric", secrets=vector["jwk"])


def test_rfc7515_a4_es512_verifies() -> None:
    """RFC 7515 A.4: the P-521 JWK imports as ES512 and vc_im verifies the RFC's JWS."""
    vector = load_vector("jose-rfc", "rfc7515-appendix-A.json")["vectors"]["A.4"]
    key = key_from_jwk(vector["jwk"], require="private")
    assert (key.alg, key.public_jwk["crv"]) == ("ES512", "P-521")
    result = jws.deserialize_compact(vector["compact"], key.public().jose_key("ES512"),
                                     algorithms=["ES512"])
    assert result.payload == b"Payload"
    tampered = vector["compact"].replace(".UGF5bG9hZA.", ".cGF5bG9hZA.")  # "payload"
    with pytest.raises(BadSignatureError):
        jws.deserialize_compact(tampered, key.public().jose_key("ES512"), algorithms=["ES512"])


# --------------------------------------------------------------------------------------
# Generation, files, PEM, algorithms
# --------------------------------------------------------------------------------------

EXPECTED_MEMBERS = {
    "Ed25519": {"kty", "crv", "x", "kid", "alg"},
    "ES256": {"kty", "crv", "x", "y", "kid", "alg"},
    "ES256K": {"kty", "crv", "x", "y", "kid", "alg"},
    "ES384": {"kty", "crv", "x", "y", "kid", "alg"},
    "ES512": {"kty", "crv", "x", "y", "kid", "alg"},
    "RS256": {"kty", "n", "e", "kid", "alg"},
}


def test_default_alg_and_algorithms() -> None:
    """The algorithm list and default are exactly the contract's."""
    assert ALGORITHMS == ("Ed25519", "ES256", "ES256K", "ES384", "ES512", "RS256")
    assert DEFAULT_ALG == "Ed25519"
    assert MIN_RSA_BITS == 2048
    assert generate().alg == "Ed25519"


@pytest.mark.parametrize("alg", ALGORITHMS)
def test_generated_key_shape(generated: dict[str, Key], alg: str) -> None:
    """A generated key is private, carries its alg, and its kid is its RFC 7638 thumbprint."""
    key = generated[alg]
    assert key.alg == alg
    assert key.is_private is True
    assert key.kid == key.thumbprint()
    assert set(key.public_jwk) == EXPECTED_MEMBERS[alg]
    assert key.public_jwk["alg"] == alg
    assert key.public_jwk["kid"] == key.kid
    # Cross-check our RFC 7638 / RFC 9278 code against joserfc's.
    assert key.thumbprint() == key.jose_key(alg).thumbprint()
    assert key.thumbprint_uri() == key.jose_key(alg).thumbprint_uri()
    with pytest.raises(TypeError):
        key.public_jwk["kid"] = "changed"  # type: ignore[index]


@pytest.mark.parametrize("alg", ALGORITHMS)
def test_keygen_file_round_trip(generated: dict[str, Key], alg: str, tmp_path: Path) -> None:
    """Private and public JWK files round-trip; the private one has mode 0600, the public 0644."""
    key = generated[alg]
    private_path = tmp_path / "private.jwk"
    public_path = tmp_path / "public.jwk"
    write_private_key(private_path, key)
    write_public_key(public_path, key)
    assert stat.S_IMODE(os.stat(private_path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(public_path).st_mode) == 0o644
    assert read_key_file(private_path, require="private") == key
    assert read_key_file(public_path, require="public") == key.public()
    written = json.loads(private_path.read_text(encoding="utf-8"))
    assert written == key.private_jwk()
    assert json.loads(public_path.read_text(encoding="utf-8")) == dict(key.public_jwk)
    assert sorted(os.listdir(tmp_path)) == ["private.jwk", "public.jwk"]


@pytest.mark.parametrize("alg", ALGORITHMS)
def test_keygen_pem_round_trip(generated: dict[str, Key], alg: str) -> None:
    """PKCS#8 and SubjectPublicKeyInfo PEM round-trip to the same keys."""
    key = generated[alg]
    private_pem = key.to_pem(private=True)
    public_pem = key.to_pem(private=False)
    assert private_pem.startswith(b"-----BEGIN PRIVATE KEY-----\n")
    assert public_pem.startswith(b"-----BEGIN PUBLIC KEY-----\n")
    assert load_key(private_pem, require="private") == key
    assert load_key(public_pem.decode("ascii"), require="public") == key.public()
    assert key.public().to_pem(private=False) == public_pem


@pytest.mark.parametrize("alg", ALGORITHMS)
def test_generated_key_signs_and_verifies(generated: dict[str, Key], alg: str) -> None:
    """Each generated key signs a JWS under its alg; its public part verifies it via joserfc."""
    key = generated[alg]
    token = jws.serialize_compact({"alg": alg}, b"hello", key.jose_key(alg), algorithms=[alg])
    result = jws.deserialize_compact(token, key.public().jose_key(alg), algorithms=[alg])
    assert result.payload == b"hello"


@pytest.mark.parametrize("alg", ALGORITHMS)
def test_accepts_only_its_own_alg(generated: dict[str, Key], alg: str) -> None:
    """A key accepts its own alg (and EdDSA for Ed25519) and refuses a jose_key for any other."""
    key = generated[alg].public()
    expected = {alg, "EdDSA"} if alg == "Ed25519" else {alg}
    candidates = {*ALGORITHMS, "EdDSA", "HS256", "none", "PS256", "ES256P"}
    assert {name for name in candidates if key.accepts(name)} == expected
    for name in sorted(candidates - expected):
        refusal(functools.partial(key.jose_key, name), "may not be used")
    assert key.jose_key(alg).alg == alg
    if alg == "Ed25519":
        assert key.jose_key("EdDSA").alg == "EdDSA"
        assert key.jose_key("EdDSA").thumbprint() == key.thumbprint()


def test_generate_with_kid_and_unknown_alg() -> None:
    """generate() keeps an explicit kid and refuses an algorithm outside ALGORITHMS."""
    key = generate("ES256", kid="issuer-key-1")
    assert key.kid == "issuer-key-1"
    assert key.private_jwk()["kid"] == "issuer-key-1"
    assert key.public_jwk["kid"] == "issuer-key-1"
    refusal(lambda: generate("HS256"), "not one of")
    refusal(lambda: generate("Ed25519", kid=""), "kid")


def test_public_key_has_no_private_exports(generated: dict[str, Key], tmp_path: Path) -> None:
    """A public key has no private JWK or PEM and cannot be written as a private key file."""
    public = generated["Ed25519"].public()
    assert public.public() is public
    refusal(public.private_jwk, "public only")
    refusal(lambda: public.to_pem(private=True), "public only")
    refusal(lambda: write_private_key(tmp_path / "x.jwk", public), "public only")
    assert not (tmp_path / "x.jwk").exists()


def test_keys_are_hashable_and_compare_by_value(generated: dict[str, Key]) -> None:
    """Keys work as dict keys; equal keys have equal hashes; private and public differ."""
    key = generated["ES256K"]
    again = key_from_jwk(key.private_jwk())
    assert again == key
    assert hash(again) == hash(key)
    assert key.public() != key
    assert len({key, again, key.public()}) == 2
    assert key.private_jwk()["d"] not in repr(key)


def test_private_file_overwrite_keeps_mode_0600(generated: dict[str, Key], tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """Overwriting (force) a 0644 file leaves mode 0600, and the file is 0600 before it takes
    the name."""
    path = tmp_path / "issuer.jwk"
    path.write_text("old", encoding="utf-8")
    os.chmod(path, 0o644)
    modes: list[int] = []
    real_replace = os.replace

    def spying_replace(src: Any, dst: Any) -> None:
        modes.append(stat.S_IMODE(os.stat(src).st_mode))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spying_replace)
    old_umask = os.umask(0)
    try:
        write_private_key(path, generated["Ed25519"], force=True)
    finally:
        os.umask(old_umask)
    assert modes == [0o600]
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert read_key_file(path) == generated["Ed25519"]
    assert os.listdir(tmp_path) == ["issuer.jwk"]


def test_write_into_missing_directory_fails(generated: dict[str, Key], tmp_path: Path) -> None:
    """Writing into a directory that does not exist fails with the path in the sentence."""
    path = tmp_path / "missing" / "issuer.jwk"
    with pytest.raises(OutputFileError, match="cannot be written") as caught:
        write_private_key(path, generated["Ed25519"])
    assert str(path) in caught.value.message


def test_read_key_file_errors_name_the_path(tmp_path: Path) -> None:
    """Missing, oversized and unusable key files fail with one sentence naming the path."""
    missing = tmp_path / "missing.jwk"
    error = refusal(lambda: read_key_file(missing), "cannot be read")
    assert str(missing) in error.message

    big = tmp_path / "big.jwk"
    big.write_bytes(b" " * (keys.MAX_KEY_FILE_BYTES + 1))
    error = refusal(lambda: read_key_file(big), "larger than 1 MiB")
    assert str(big) in error.message

    private = tmp_path / "private.jwk"
    private.write_text(json.dumps(ED_PRIVATE), encoding="utf-8")
    error = refusal(lambda: read_key_file(private, require="public"), "private key",
                    secrets=ED_PRIVATE)
    assert error.message == (
        f"the key file {private} is unusable: the key holds a private key where a public key "
        "is expected; give its public part only.")


def test_eddsa_jwk_alg_is_normalised() -> None:
    """A JWK with alg EdDSA is accepted and its key carries the alg Ed25519."""
    key = key_from_jwk({**ED_PUBLIC, "alg": "EdDSA"})
    assert key.alg == "Ed25519"
    assert key.public_jwk["alg"] == "Ed25519"
    assert key.accepts("EdDSA") is True


def test_use_sig_and_key_ops_are_accepted_and_dropped() -> None:
    """use "sig" and key_ops sign/verify are accepted; the public JWK keeps neither."""
    key = key_from_jwk({**P256_PUBLIC, "use": "sig", "key_ops": ["verify", "sign"],
                        "kid": "k1"})
    assert dict(key.public_jwk) == {**P256_PUBLIC, "kid": "k1", "alg": "ES256"}


def test_rsa_private_key_with_only_d() -> None:
    """An RSA private JWK with only d (RFC 7518 §6.3.2) recovers its primes."""
    vector = load_vector("jose-rfc", "rfc7515-appendix-A.json")["vectors"]["A.2"]
    short = {name: vector["jwk"][name] for name in ("kty", "n", "e", "d")}
    key = key_from_jwk(short, require="private")
    assert key.private_jwk() == {**vector["jwk"], "kid": key.thumbprint(), "alg": "RS256"}


def test_joserfc_alone_signs_with_1024_bit_rsa(rsa_1024: rsa.RSAPrivateKey) -> None:
    """joserfc only warns about a 1024-bit RSA key and signs with it; vc_im refuses it."""
    with pytest.warns(SecurityWarning, match="2048"):
        weak = RSAKey.import_key(rsa_1024)
    token = jws.serialize_compact({"alg": "RS256"}, b"x", weak, algorithms=["RS256"])
    assert token.count(".") == 2
    members = weak.as_dict(private=True)
    refusal(lambda: key_from_jwk(members), "has 1024 bits", secrets=members)


# --------------------------------------------------------------------------------------
# Refusals
# --------------------------------------------------------------------------------------

def _with(base: Mapping[str, object], **changes: object) -> dict[str, object]:
    result = dict(base)
    for name, value in changes.items():
        if value is None:
            result.pop(name, None)
        else:
            result[name] = value
    return result


def _ed_x(encoded_hex: str, *, sign: bool = False) -> dict[str, object]:
    raw = bytearray(bytes.fromhex(encoded_hex))
    if sign:
        raw[31] |= 0x80
    return _with(ED_PUBLIC, x=b64u(bytes(raw)))


def _ed_y(y: int) -> dict[str, object]:
    return _with(ED_PUBLIC, x=b64u(y.to_bytes(32, "little")))


def _p256_shifted_y() -> dict[str, object]:
    y = int.from_bytes(base64.urlsafe_b64decode(str(P256_PUBLIC["y"]) + "="), "big")
    return _with(P256_PUBLIC, y=b64u((y + 1).to_bytes(32, "big")))


P256_FIELD_PRIME = 2**256 - 2**224 + 2**192 + 2**96 - 1
OTHER_ED_X = b64u(bytes.fromhex("3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c"))

REFUSED: list[tuple[str, dict[str, object], keys.Require, str]] = [
    # Where a public key is expected, a private one is refused (and vice versa).
    ("private-okp-as-public", ED_PRIVATE, "public", "holds a private key"),
    ("private-ec-as-public", P256_PRIVATE, "public", "holds a private key"),
    ("private-rsa-d-as-public", {"kty": "RSA", "n": "AQAB", "e": "AQAB", "d": "AQAB"},
     "public", "holds a private key"),
    ("public-as-private", ED_PUBLIC, "private", "public only"),
    # Key types, curves, algorithms.
    ("oct", {"kty": "oct", "k": "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ"}, "any", "symmetric"),
    ("unknown-kty", {"kty": "XYZ"}, "any", "key type 'XYZ' is not supported"),
    ("no-kty", {"crv": "Ed25519", "x": ED_PUBLIC["x"]}, "any", "no \"kty\""),
    ("x25519", _with(ED_PUBLIC, crv="X25519"), "any", "curve 'X25519' is not supported"),
    ("ed448", _with(ED_PUBLIC, crv="Ed448"), "any", "curve 'Ed448' is not supported"),
    ("p384-sized-p256", _with(P256_PUBLIC, crv="P-384"), "any", "must be 48 bytes for P-384"),
    ("p-256k", _with(P256_PUBLIC, crv="P-256K"), "any", "curve 'P-256K' is not supported"),
    ("lowercase-crv", _with(P256_PUBLIC, crv="p-256"), "any", "curve 'p-256' is not supported"),
    ("brainpool", _with(P256_PUBLIC, crv="BP-256"), "any", "curve 'BP-256' is not supported"),
    ("es256-on-secp256k1", _with(K1_PUBLIC, alg="ES256"), "any",
     "alg ES256 does not fit this secp256k1 key"),
    ("es256k-on-p256", _with(P256_PUBLIC, alg="ES256K"), "any",
     "alg ES256K does not fit this P-256 key"),
    ("rs256-on-ec", _with(P256_PUBLIC, alg="RS256"), "any",
     "alg RS256 does not fit this P-256 key"),
    ("ed25519-on-ec", _with(P256_PUBLIC, alg="Ed25519"), "any", "does not fit"),
    ("eddsa-on-ec", _with(P256_PUBLIC, alg="EdDSA"), "any", "alg EdDSA does not fit"),
    ("es256-on-okp", _with(ED_PUBLIC, alg="ES256"), "any",
     "alg ES256 does not fit this Ed25519 key"),
    ("hs256", _with(ED_PUBLIC, alg="HS256"), "any", "alg 'HS256' is not supported"),
    ("ps256", _with(P256_PUBLIC, alg="PS256"), "any", "alg 'PS256' is not supported"),
    ("none-alg", _with(ED_PUBLIC, alg="none"), "any", "alg 'none' is not supported"),
    # Members.
    ("unknown-member", _with(ED_PUBLIC, foo="bar"), "any", "does not accept: 'foo'"),
    ("x5c", _with(ED_PUBLIC, x5c=["MII"]), "any", "does not accept: 'x5c'"),
    ("rsa-oth", {"kty": "RSA", "n": "AQAB", "e": "AQAB", "oth": []}, "any", "'oth'"),
    ("misplaced-y", _with(ED_PUBLIC, y=ED_PUBLIC["x"]), "any", "'y' does not belong in an OKP key"),
    ("use-enc", _with(ED_PUBLIC, use="enc"), "any", "\"use\" is 'enc'"),
    ("key-ops-encrypt", _with(ED_PUBLIC, key_ops=["encrypt"]), "any", "key_ops"),
    ("key-ops-duplicate", _with(ED_PUBLIC, key_ops=["sign", "sign"]), "any", "key_ops"),
    ("key-ops-string", _with(ED_PUBLIC, key_ops="sign"), "any", "key_ops"),
    ("non-string-x", _with(ED_PUBLIC, x=123), "any", "member 'x' must be a string"),
    ("non-string-kid", _with(ED_PUBLIC, kid=7), "any", "member 'kid' must be a string"),
    ("empty-kid", _with(ED_PUBLIC, kid=""), "any", "\"kid\" must be 1 to 1024"),
    ("control-kid", _with(ED_PUBLIC, kid="a\nb"), "any", "printable"),
    ("missing-x", _with(ED_PUBLIC, x=None), "any", "has no 'x' member"),
    ("missing-y", _with(P256_PUBLIC, y=None), "any", "has no 'y' member"),
    ("missing-crv", _with(P256_PUBLIC, crv=None), "any", "has no 'crv' member"),
    # Encodings.
    ("padded-x", _with(ED_PUBLIC, x=str(ED_PUBLIC["x"]) + "="), "any", "unpadded base64url"),
    ("standard-b64-x", _with(ED_PUBLIC, x="+" + str(ED_PUBLIC["x"])[1:]), "any",
     "unpadded base64url"),
    ("trailing-bits-x", _with(ED_PUBLIC, x=str(ED_PUBLIC["x"])[:-1] + "p"), "any",
     "not canonical base64url"),
    ("short-x", _with(ED_PUBLIC, x=b64u(bytes(31))), "any", "must be 32 bytes"),
    ("short-ec-x", _with(P256_PUBLIC, x=b64u(bytes(31))), "any", "must be 32 bytes for P-256"),
    ("rsa-leading-zero", {"kty": "RSA", "n": b64u(b"\0" + bytes([0xC1]) * 256), "e": "AQAB"},
     "any", "shortest big-endian"),
    # Points and numbers.
    ("ed-not-on-curve", _ed_y(2), "any", "not a point on the curve"),
    ("ed-non-canonical", _ed_y(ED25519_P + 3), "any", "not canonically encoded"),
    ("ec-not-on-curve", _p256_shifted_y(), "any", "not a point on the P-256 curve"),
    ("ec-x-above-prime", _with(P256_PUBLIC, x=b64u((P256_FIELD_PRIME + 1).to_bytes(32, "big"))),
     "any", "not a point on the P-256 curve"),
    ("k1-not-on-curve", _with(K1_PUBLIC, x=P256_PUBLIC["x"]), "any",
     "not a point on the secp256k1 curve"),
    ("rsa-too-large", {"kty": "RSA", "n": b64u_uint((1 << 16384) | 1), "e": "AQAB"}, "any",
     "at most 16384"),
    ("rsa-even-modulus", {"kty": "RSA", "n": b64u_uint(1 << 2047), "e": "AQAB"}, "any", "even"),
    ("rsa-exponent-one", {"kty": "RSA", "n": b64u_uint((1 << 2047) | 1), "e": "AQ"}, "any",
     "public exponent"),
    ("rsa-exponent-even", {"kty": "RSA", "n": b64u_uint((1 << 2047) | 1), "e": "BA"}, "any",
     "public exponent"),
    ("rsa-exponent-huge", {"kty": "RSA", "n": b64u_uint((1 << 4095) | 1),
                           "e": b64u_uint((1 << 256) + 1)}, "any", "public exponent"),
    ("rsa-crt-partial", {"kty": "RSA", "n": b64u_uint((1 << 2047) | 1), "e": "AQAB", "d": "AQ",
                         "p": "Aw"}, "any", "all of p, q, dp, dq and qi"),
    ("rsa-crt-without-d", {"kty": "RSA", "n": b64u_uint((1 << 2047) | 1), "e": "AQAB",
                           "p": "Aw"}, "any", "no private exponent"),
    # Private parts that do not belong to the public part.
    ("okp-mismatch", _with(ED_PRIVATE, x=OTHER_ED_X), "any", "do not belong to the same key"),
    ("ec-mismatch", _with(P256_PRIVATE, d="gPh-VvVS8MbvKQ9LSVVmfnxnKjHn4Tqj0bmbpehRlpc"), "any",
     "do not belong to the same key"),
    ("ec-d-zero", _with(P256_PRIVATE, d=b64u(bytes(32))), "any", "out of range"),
    ("okp-short-d", _with(ED_PRIVATE, d=b64u(bytes(16))), "any", "'d' must be 32 bytes"),
]


@pytest.mark.parametrize(("jwk", "require", "word"), [case[1:] for case in REFUSED],
                         ids=[case[0] for case in REFUSED])
def test_refused_jwk(jwk: dict[str, object], require: keys.Require, word: str) -> None:
    """Each unusable JWK is refused with KeyFileError (bad_key) and a sentence naming why."""
    refusal(lambda: key_from_jwk(jwk, require=require), word, secrets=jwk)


def test_refused_messages_are_exact() -> None:
    """Two refusal sentences, word for word (the CLI prints them after 'vc-im: ')."""
    error = refusal(lambda: key_from_jwk(_with(K1_PUBLIC, alg="ES256")), "ES256")
    assert error.message == (
        "the JWK alg ES256 does not fit this secp256k1 key, whose alg is ES256K.")
    error = refusal(lambda: key_from_jwk(_ed_x(SMALL_ORDER_ENCODINGS[1])), "small-order")
    assert error.message == (
        "the Ed25519 public key is a small-order point, under which signatures prove nothing.")


@pytest.mark.parametrize("sign", [False, True], ids=["sign0", "sign1"])
@pytest.mark.parametrize("encoded", SMALL_ORDER_ENCODINGS)
def test_small_order_ed25519_refused(encoded: str, sign: bool) -> None:
    """Every small-order Ed25519 encoding on libsodium's list, with either sign bit, is refused."""
    jwk = _ed_x(encoded, sign=sign)
    # OpenSSL itself accepts the point: the check is ours.
    ed25519.Ed25519PublicKey.from_public_bytes(base64.urlsafe_b64decode(str(jwk["x"]) + "="))
    refusal(lambda: key_from_jwk(jwk), "small-order")
    refusal(lambda: key_from_jwk(jwk, require="public"), "small-order")


def test_small_order_refused_in_every_input_form() -> None:
    """A small-order key is refused as JWK text and as SubjectPublicKeyInfo PEM."""
    raw = bytes.fromhex(SMALL_ORDER_ENCODINGS[2])
    pem = ed25519.Ed25519PublicKey.from_public_bytes(raw).public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    refusal(lambda: load_key(json.dumps(_ed_x(SMALL_ORDER_ENCODINGS[2]))), "small-order")
    refusal(lambda: load_key(pem), "small-order")


def test_rsa_1024_refused_as_pem(rsa_1024: rsa.RSAPrivateKey) -> None:
    """A 1024-bit RSA key in PKCS#8 or SubjectPublicKeyInfo PEM is refused for its size."""
    private_pem = rsa_1024.private_bytes(serialization.Encoding.PEM,
                                         serialization.PrivateFormat.PKCS8,
                                         serialization.NoEncryption())
    public_pem = rsa_1024.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    refusal(lambda: load_key(private_pem), "vc_im requires at least 2048")
    refusal(lambda: load_key(public_pem), "vc_im requires at least 2048")


def test_pem_refusals() -> None:
    """Encrypted without a password, garbled, doubled and unsupported PEM keys are refused
    with their reason."""
    ed = ed25519.Ed25519PrivateKey.generate()
    encrypted = ed.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.BestAvailableEncryption(b"pw"))
    refusal(lambda: load_key(encrypted), "--password-file FILE or the VC_IM_KEY_PASSWORD")
    refusal(lambda: load_key(encrypted, password=b"wrong"), "the password is wrong")
    garbled = b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"
    refusal(lambda: load_key(garbled), "cannot be read")
    two = ed.public_key().public_bytes(serialization.Encoding.PEM,
                                       serialization.PublicFormat.SubjectPublicKeyInfo) * 2
    refusal(lambda: load_key(two), "more than one key")
    x_pem = x25519.X25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption())
    refusal(lambda: load_key(x_pem), "X25519 key, which vc_im does not support")
    p224 = ec.generate_private_key(ec.SECP224R1()).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    refusal(lambda: load_key(p224), "'secp224r1' is not supported")
    private_pem = ed.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                   serialization.NoEncryption())
    refusal(lambda: load_key(private_pem, require="public"), "holds a private key")
    public_pem = ed.public_key().public_bytes(serialization.Encoding.PEM,
                                              serialization.PublicFormat.SubjectPublicKeyInfo)
    refusal(lambda: load_key(public_pem, require="private"), "public only")


@pytest.mark.parametrize(("text", "word"), [
    ('{"kty":"OKP","kty":"OKP","crv":"Ed25519"}', "appears twice"),
    ('{"kty": NaN}', "NaN"),
    ('{"kty": Infinity}', "Infinity"),
    ("[1, 2]", "neither a JWK"),
    ('["kty"]', "neither a JWK"),
    ('{"kty": "OKP"', "not valid JSON"),
    ("\ufeff{}", "byte order mark"),
    ("", "neither a JWK"),
    ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI", "ssh-keygen -e -m PKCS8"),
    ('"kty"', "neither a JWK"),
])
def test_strict_json_refusals(text: str, word: str) -> None:
    """Key text must be strict JSON (no duplicate names, NaN, BOM) or PEM."""
    refusal(lambda: load_key(text), word)
    refusal(lambda: load_key(text.encode("utf-8")), word)


def test_non_utf8_and_oversized_key_text() -> None:
    """Key bytes that are not UTF-8, text with lone surrogates, or over 1 MiB are refused."""
    refusal(lambda: load_key(b'{"kty": "\xff"}'), "not UTF-8")
    refusal(lambda: load_key("{" + " " * keys.MAX_KEY_FILE_BYTES + "}"), "larger than 1 MiB")
    refusal(lambda: load_key('{"kty": "\ud800"}'), "lone surrogates")


def test_jwk_thumbprint_validates() -> None:
    """jwk_thumbprint validates the JWK first: a private or small-order JWK has no thumbprint."""
    assert jwk_thumbprint(ED_PUBLIC) == RFC8037_THUMBPRINT
    refusal(lambda: jwk_thumbprint(ED_PRIVATE), "holds a private key", secrets=ED_PRIVATE)
    refusal(lambda: jwk_thumbprint(_ed_x(SMALL_ORDER_ENCODINGS[0])), "small-order")


# --------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------

@settings(max_examples=8, deadline=None)
@given(alg=st.sampled_from(ALGORITHMS), kid=st.none() | st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=1, max_size=20))
def test_public_jwk_json_round_trip(alg: str, kid: str | None) -> None:
    """For any generated key, its public JWK as JSON loads back to its public part."""
    key = generate(alg, kid=kid)
    loaded = load_key(json.dumps(dict(key.public_jwk)), require="public")
    assert loaded == key.public()
    assert loaded.thumbprint() == key.thumbprint()
    assert loaded.kid == (kid if kid is not None else key.thumbprint())


@settings(max_examples=150, deadline=None)
@given(raw=st.binary(min_size=32, max_size=32))
def test_any_32_bytes_as_ed25519_key_fails_cleanly(raw: bytes) -> None:
    """Any 32 bytes as an Ed25519 x give a key or KeyFileError, never another exception."""
    code: str | None = None
    try:
        key = key_from_jwk(_with(ED_PUBLIC, x=b64u(raw)))
    except KeyFileError as error:
        code = error.code
    else:
        assert key.public_jwk["x"] == b64u(raw)
    assert code in {None, "bad_key"}


@settings(max_examples=100, deadline=None)
@given(data=st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
def test_arbitrary_bytes_fail_cleanly(data: bytes) -> None:
    """Arbitrary bytes given as a key raise KeyFileError (bad_key), never another exception."""
    with pytest.raises(KeyFileError) as caught:
        load_key(data)
    assert caught.value.code == "bad_key"


@settings(max_examples=100, deadline=None)
@given(jwk=st.dictionaries(
    st.sampled_from(["kty", "crv", "x", "y", "d", "n", "e", "alg", "use", "kid", "key_ops"]),
    st.sampled_from(["OKP", "EC", "RSA", "Ed25519", "P-256", "secp256k1", "AQAB", "", "sig",
                     "ES256", str(ED_PUBLIC["x"])]) | st.integers() | st.none()
    | st.lists(st.sampled_from(["sign", "verify"]))))
def test_arbitrary_jwk_members_fail_cleanly(jwk: dict[str, object]) -> None:
    """Arbitrary JWK-like mappings give a key or KeyFileError, never another exception."""
    code: str | None = None
    try:
        key_from_jwk(jwk)
    except KeyFileError as error:
        code = error.code
    assert code in {None, "bad_key"}


def test_ed25519_private_keys_are_never_refused() -> None:
    """Public keys derived from real Ed25519 private keys pass the small-order check."""
    for _ in range(50):
        native = ed25519.Ed25519PrivateKey.generate()
        raw = native.public_key().public_bytes(serialization.Encoding.Raw,
                                               serialization.PublicFormat.Raw)
        assert key_from_jwk(_with(ED_PUBLIC, x=b64u(raw))).public_jwk["x"] == b64u(raw)


# --- key formats other tools write -------------------------------------------------------------

def _pem(native: Any, fmt: Any, password: bytes | None = None) -> bytes:
    encryption = (serialization.BestAvailableEncryption(password) if password
                  else serialization.NoEncryption())
    return bytes(native.private_bytes(serialization.Encoding.PEM, fmt, encryption))


def test_every_common_private_pem_form_is_read() -> None:
    """SEC1 (openssl ecparam, with its EC PARAMETERS block), PKCS#1 (BEGIN RSA PRIVATE KEY)
    and PKCS#8 all give the same key as its JWK."""
    ec_key = ec.generate_private_key(ec.SECP256R1())
    sec1 = _pem(ec_key, serialization.PrivateFormat.TraditionalOpenSSL)
    params = b"-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n"
    assert sec1.startswith(b"-----BEGIN EC PRIVATE KEY-----")
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pkcs1 = _pem(rsa_key, serialization.PrivateFormat.TraditionalOpenSSL)
    assert pkcs1.startswith(b"-----BEGIN RSA PRIVATE KEY-----")
    for text, alg in ((params + sec1, "ES256"), (pkcs1, "RS256"),
                      (_pem(ec_key, serialization.PrivateFormat.PKCS8), "ES256")):
        key = load_key(text, require="private")
        assert (key.alg, key.is_private) == (alg, True)
    assert load_key(sec1).thumbprint() == load_key(params + sec1).thumbprint()
    rsa_public = rsa_key.public_key().public_bytes(serialization.Encoding.PEM,
                                                   serialization.PublicFormat.PKCS1)
    assert load_key(rsa_public, require="public").thumbprint() == load_key(pkcs1).thumbprint()


def test_encrypted_pkcs8_is_read_with_its_password() -> None:
    """An encrypted PKCS#8 key loads with its password; a password for an unencrypted key is
    harmless."""
    ed = ed25519.Ed25519PrivateKey.generate()
    plain = _pem(ed, serialization.PrivateFormat.PKCS8)
    encrypted = _pem(ed, serialization.PrivateFormat.PKCS8, b"s3cret")
    assert encrypted.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    key = load_key(encrypted, password=b"s3cret", require="private")
    assert key.thumbprint() == load_key(plain).thumbprint()
    assert load_key(plain, password=b"unused").thumbprint() == key.thumbprint()


def test_a_jwks_gives_the_key_named_by_kid() -> None:
    """A JWKS gives its only key, or the one --kid names; otherwise the refusal lists kids."""
    one, two = generate("Ed25519", kid="one"), generate("ES256", kid="two")
    jwks = json.dumps({"keys": [one.private_jwk(), two.private_jwk()]})
    assert load_key(jwks, kid="two").thumbprint() == two.thumbprint()
    assert load_key(json.dumps({"keys": [one.private_jwk()]})).kid == "one"
    refusal(lambda: load_key(jwks), "choose one with --kid ('one', 'two')")
    refusal(lambda: load_key(jwks, kid="three"), "no key whose kid is")
    refusal(lambda: load_key(json.dumps({"keys": []})), "lists JWKs")


@pytest.mark.parametrize(("text", "hint"), [
    (b"\x30\x82\x01\x0a", "openssl pkey -inform DER"),
    (b"-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n",
     "ssh-keygen -p -m PKCS8"),
    (b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "openssl x509"),
    (b"PuTTY-User-Key-File-3: ssh-ed25519\n", "openssl pkey -in KEY -out key.pem"),
])
def test_an_unreadable_form_says_how_to_convert(text: bytes, hint: str) -> None:
    """Each refused key form names the command that converts it."""
    refusal(lambda: load_key(text), hint)


def _encodings_near_small_order() -> st.SearchStrategy[bytes]:
    """libsodium's small-order encodings with either sign bit, and y values near them."""
    def build(entry: str, sign: bool, delta: int) -> bytes:
        value = (int.from_bytes(bytes.fromhex(entry), "little") + delta) % (1 << 255)
        return (value | (sign << 255)).to_bytes(32, "little")
    return st.builds(build, st.sampled_from(SMALL_ORDER_ENCODINGS), st.booleans(),
                     st.sampled_from([0, 0, 0, 1, -1, ED25519_P, 19]))


def _real_keys() -> st.SearchStrategy[bytes]:
    """Encodings of real public keys, canonical and with y + p (non-canonical, same point)."""
    def build(seed: bytes, shift: bool) -> bytes:
        raw = ed25519.Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes_raw()
        value = int.from_bytes(raw, "little")
        y = value & ((1 << 255) - 1)
        if shift and y + ED25519_P < (1 << 255):
            value += ED25519_P
        return value.to_bytes(32, "little")
    return st.builds(build, st.binary(min_size=32, max_size=32), st.booleans())


@settings(max_examples=600)
@given(st.binary(min_size=32, max_size=32) | _encodings_near_small_order() | _real_keys())
def test_ed25519_point_check_equals_decoding_by_doubling(encoded: bytes) -> None:
    """The quick point check (a Jacobi symbol and the order-8 polynomial) gives the answer of
    decoding the point and multiplying it by the cofactor, for any 32 bytes."""
    from vc_im import _jwk

    assert (_jwk.ed25519_public_problem.__wrapped__(encoded)
            == _jwk.ed25519_public_problem_by_doubling(encoded))
