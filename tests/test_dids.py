"""did:key and did:jwk: the public vectors in both directions, round trips and refusals."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from tests.helpers.vectors import vector_json
from vc_im.errors import KeyFileError
from vc_im.keys import ALGORITHMS, generate, key_from_jwk, resolve_did

B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def b58decode(text: str) -> bytes:
    """An independent base58btc decoder, so the tests do not check the module with itself."""
    number = 0
    for char in text:
        number = number * 58 + B58.index(char)
    zeros = len(text) - len(text.lstrip("1"))
    return b"\0" * zeros + number.to_bytes((number.bit_length() + 7) // 8, "big")


def b58encode(data: bytes) -> str:
    number = int.from_bytes(data, "big")
    out = ""
    while number:
        number, digit = divmod(number, 58)
        out = B58[digit] + out
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + out


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def load_vector(*parts: str) -> Any:
    """A public vector from tests/vectors."""
    return vector_json(*parts)


def ec_private_jwk(curve: ec.EllipticCurve, crv: str, secret: int) -> dict[str, str]:
    native = ec.derive_private_key(secret, curve)
    point = native.public_key().public_numbers()
    return {"kty": "EC", "crv": crv, "x": b64u(point.x.to_bytes(32, "big")),
            "y": b64u(point.y.to_bytes(32, "big")), "d": b64u(secret.to_bytes(32, "big"))}


def refused(did: str, word: str) -> None:
    with pytest.raises(KeyFileError) as caught:
        resolve_did(did)
    assert type(caught.value) is KeyFileError
    assert caught.value.code == "bad_key"
    assert word in caught.value.message


# --------------------------------------------------------------------------------------
# did:key vectors (w3c-ccg/did-method-key test-vectors)
# --------------------------------------------------------------------------------------

def ed25519_cases() -> list[tuple[str, dict[str, Any]]]:
    return sorted(load_vector("did-key", "ed25519-x25519.json").items())


def test_did_key_ed25519_from_seed() -> None:
    """Each Ed25519 vector's seed gives a key whose did:key is the vector's DID."""
    cases = ed25519_cases()
    assert len(cases) == 5
    for did, vector in cases:
        native = ed25519.Ed25519PrivateKey.from_private_bytes(bytes.fromhex(vector["seed"]))
        raw = native.public_key().public_bytes(serialization.Encoding.Raw,
                                               serialization.PublicFormat.Raw)
        key = key_from_jwk({"kty": "OKP", "crv": "Ed25519", "x": b64u(raw),
                            "d": b64u(bytes.fromhex(vector["seed"]))})
        assert key.did_key() == did
        assert key.public().did_key() == did


def test_did_key_ed25519_resolves() -> None:
    """Each Ed25519 did:key resolves to the vector's public key, its kid the verification method."""
    for did, vector in ed25519_cases():
        pair = vector["verificationKeyPair"]
        if "publicKeyBase58" in pair:
            expected_x = b64u(b58decode(pair["publicKeyBase58"]))
        else:
            expected_x = pair["publicKeyJwk"]["x"]
        key = resolve_did(did)
        fragment = did.removeprefix("did:key:")
        assert key.is_private is False
        assert key.alg == "Ed25519"
        assert dict(key.public_jwk) == {"kty": "OKP", "crv": "Ed25519", "x": expected_x,
                                        "kid": f"{did}#{fragment}", "alg": "Ed25519"}
        assert vector["didDocument"]["verificationMethod"][0]["id"] == f"{did}#{fragment}"
        assert resolve_did(f"{did}#{fragment}") == key


def test_did_key_p256_vectors_both_ways() -> None:
    """The P-256 vectors: JWK (or compressed base58 key) to did:key and back."""
    cases = {did: v for did, v in load_vector("did-key", "nist-curves.json").items()
             if did.startswith("did:key:zDnae")}
    assert len(cases) == 3
    for did, vector in cases.items():
        method = vector["verificationMethod"]
        key = resolve_did(did)
        assert key.alg == "ES256"
        if "publicKeyJwk" in method:
            jwk = method["publicKeyJwk"]
            assert key_from_jwk(jwk).did_key() == did
            assert key_from_jwk(method["privateKeyJwk"], require="private").did_key() == did
            assert {k: key.public_jwk[k] for k in ("kty", "crv", "x", "y")} == jwk
        else:
            compressed = b58decode(method["publicKeyBase58"])
            assert len(compressed) == 33
            public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), compressed)
            point = public.public_numbers()
            assert key.public_jwk["x"] == b64u(point.x.to_bytes(32, "big"))
            assert key.public_jwk["y"] == b64u(point.y.to_bytes(32, "big"))
            secret = int.from_bytes(b58decode(method["privateKeyBase58"]), "big")
            assert key_from_jwk(ec_private_jwk(ec.SECP256R1(), "P-256", secret)).did_key() == did


@pytest.mark.parametrize(("prefix", "alg", "crv"), [("did:key:z82L", "ES384", "P-384"),
                                                     ("did:key:z2J9", "ES512", "P-521")])
def test_did_key_p384_p521_vectors_both_ways(prefix: str, alg: str, crv: str) -> None:
    """The P-384 and P-521 vectors: did:key to the vector's JWK, and the JWK back to did:key."""
    cases = {did: v for did, v in load_vector("did-key", "nist-curves.json").items()
             if did.startswith(prefix)}
    assert len(cases) == 2
    for did, vector in cases.items():
        method = vector["verificationMethod"]
        key = resolve_did(did)
        assert (key.alg, key.public_jwk["crv"]) == (alg, crv)
        assert {k: key.public_jwk[k] for k in ("kty", "crv", "x", "y")} == method["publicKeyJwk"]
        assert key_from_jwk(method["publicKeyJwk"]).did_key() == did
        assert key_from_jwk(method["privateKeyJwk"], require="private").did_key() == did


def test_did_key_secp256k1_vectors_both_ways() -> None:
    """The secp256k1 vectors: seed (private key) to did:key, and did:key to the compressed key."""
    cases = load_vector("did-key", "secp256k1.json")
    assert len(cases) == 6
    for did, vector in cases.items():
        pair = vector["verificationKeyPair"]
        key = resolve_did(did)
        assert key.alg == "ES256K"
        assert key.did_key() == did
        if "seed" in vector:
            jwk = ec_private_jwk(ec.SECP256K1(), "secp256k1", int(vector["seed"], 16))
            assert key_from_jwk(jwk).did_key() == did
            assert b58decode(pair["privateKeyBase58"]) == bytes.fromhex(vector["seed"])
            compressed = b58decode(pair["publicKeyBase58"])
            public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256K1(), compressed)
            assert key.public_jwk["x"] == b64u(public.public_numbers().x.to_bytes(32, "big"))
            assert key.public_jwk["y"] == b64u(public.public_numbers().y.to_bytes(32, "big"))
        else:
            assert {k: key.public_jwk[k] for k in ("kty", "crv", "x", "y")} == pair["publicKeyJwk"]
            assert key_from_jwk(pair["privateKeyJwk"]).did_key() == did


# --------------------------------------------------------------------------------------
# did:jwk vectors (quartzjer/did-jwk spec examples)
# --------------------------------------------------------------------------------------

def test_did_jwk_p256_example_both_ways() -> None:
    """The spec's P-256 example: the JWK gives the exact did:jwk, which resolves to the JWK."""
    example = load_vector("did-jwk", "did-jwk-examples.json")["examples"][0]
    assert example["name"] == "P-256"
    key = key_from_jwk(example["decoded_jwk"], require="public")
    assert key.did_jwk() == example["did"]
    resolved = resolve_did(example["did"])
    assert {k: resolved.public_jwk[k] for k in ("kty", "crv", "x", "y")} == example["decoded_jwk"]
    assert resolved.kid == example["did_url"]
    assert resolved.kid == example["didDocument"]["verificationMethod"][0]["id"]
    assert resolved.thumbprint() == key.thumbprint()
    assert resolve_did(example["did_url"]) == resolved


def test_did_jwk_x25519_example_refused() -> None:
    """The spec's X25519 example (an encryption key) is refused: it cannot sign."""
    example = load_vector("did-jwk", "did-jwk-examples.json")["examples"][1]
    assert example["name"] == "X25519"
    refused(example["did"], "the JWK \"use\" is 'enc', but vc_im keys sign")
    without_use = {k: v for k, v in example["decoded_jwk"].items() if k != "use"}
    refused("did:jwk:" + b64u(json.dumps(without_use).encode("utf-8")),
            "curve 'X25519' is not supported")


def test_did_jwk_with_extra_members_resolves() -> None:
    """A did:jwk whose JWK carries alg, use sig and a kid resolves; its kid is still #0."""
    jwk = {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
           "alg": "EdDSA", "use": "sig", "kid": "mine"}
    did = "did:jwk:" + b64u(json.dumps(jwk).encode("utf-8"))
    key = resolve_did(did)
    assert key.kid == f"{did}#0"
    assert key.alg == "Ed25519"
    assert key.thumbprint() == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
    # Our own did:jwk of the key is the canonical (RFC 7638 member) form.
    assert key.did_jwk() == "did:jwk:" + b64u(
        b'{"crv":"Ed25519","kty":"OKP","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}')


# --------------------------------------------------------------------------------------
# Round trips and refusals
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize("alg", ALGORITHMS)
def test_generated_keys_round_trip_through_dids(alg: str) -> None:
    """A generated key's did:key and did:jwk resolve to its public key, for every algorithm."""
    key = generate(alg)
    for did, kid_suffix in ((key.did_key(), "#" + key.did_key().removeprefix("did:key:")),
                            (key.did_jwk(), "#0")):
        resolved = resolve_did(did)
        assert resolved.thumbprint() == key.thumbprint()
        assert resolved.alg == alg
        assert resolved.is_private is False
        assert resolved.kid == did + kid_suffix
        assert resolved.did_key() == key.did_key()
        assert resolved.did_jwk() == key.did_jwk()
    prefixes = {"Ed25519": "did:key:z6Mk", "ES256": "did:key:zDna", "ES256K": "did:key:zQ3s",
                "ES384": "did:key:z82L", "ES512": "did:key:z2J9", "RS256": "did:key:z4MX"}
    assert key.did_key().startswith(prefixes[alg])


def test_resolve_did_is_cached() -> None:
    """Resolving the same DID twice returns the same Key object (parsed once)."""
    did = generate().did_key()
    assert resolve_did(did) is resolve_did(did)


def test_did_key_small_order_refused() -> None:
    """A did:key naming a small-order Ed25519 point is refused like the JWK would be."""
    raw = bytes.fromhex("0100000000000000000000000000000000000000000000000000000000000000")
    refused("did:key:z" + b58encode(b"\xed\x01" + raw), "small-order")


def test_did_jwk_private_key_refused() -> None:
    """A did:jwk that holds a private key is refused (the did:jwk spec requires it)."""
    jwk = {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
           "d": "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"}
    did = "did:jwk:" + b64u(json.dumps(jwk).encode("utf-8"))
    with pytest.raises(KeyFileError) as caught:
        resolve_did(did)
    assert caught.value.code == "bad_key"
    assert "holds a private key" in caught.value.message
    assert jwk["d"] not in caught.value.message


ED_X = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
P256_POINT = bytes.fromhex(
    "037fcdce2770f6c45d4183cbee6fdb4b7b580733357be9ef13bacf6e3c7bd15445")

BAD_DIDS = [
    ("did:web:example.com", "resolves no other method"),
    ("did:example:123", "resolves no other method"),
    ("did:key:", "must start with 'z'"),
    ("did:key:f" + ED_X.hex(), "must start with 'z'"),
    ("did:key:z6Mk0OIl", "not base58btc"),
    ("did:key:z" + b58encode(b"\xed\x01" + ED_X[:31]), "not 32 bytes"),
    ("did:key:z" + b58encode(b"\xed\x01" + ED_X + b"\0"), "not 32 bytes"),
    ("did:key:z" + b58encode(b"\xec\x01" + ED_X), "x25519-pub"),
    ("did:key:z" + b58encode(b"\x80\x24" + b"\x04" + bytes(64)), "compressed point"),
    ("did:key:z" + b58encode(b"\x80\x24" + b"\x02" + (1).to_bytes(32, "big")),
     "not a point on the curve"),
    ("did:key:z" + b58encode(b"\x85\x24" + b"\x30\x03\x02\x01\x03"), "RSAPublicKey"),
    ("did:key:z" + b58encode(b"\x99\x99" + ED_X), "multicodec"),
    ("did:key:z" + b58encode(b"\xed\x01" + ED_X) + "#other", "fragment"),
    ("did:jwk:" + b64u(b'{"kty":"OKP"') + "=", "unpadded base64url"),
    ("did:jwk:" + b64u(b'{"kty":"OKP"'), "not valid JSON"),
    ("did:jwk:" + b64u(b'["kty"]'), "not a JSON object"),
    ("did:jwk:" + b64u(b'{"kty":"oct","k":"AAAA"}'), "symmetric"),
    ("did:jwk:" + b64u(b'{"kty":"EC","kty":"EC"}'), "appears twice"),
    ("did:jwk:eyJ#1", "must be '0'"),
    ("did:jwk:" + "A" * 9000, "reasonable length"),
]


@pytest.mark.parametrize(("did", "word"), BAD_DIDS, ids=[str(i) for i in range(len(BAD_DIDS))])
def test_bad_dids_refused(did: str, word: str) -> None:
    """Malformed, unsupported or unsafe DIDs are refused with KeyFileError (bad_key)."""
    refused(did, word)


def test_compressed_p256_vector_point_is_valid() -> None:
    """The compressed P-256 point used above is the RFC 7515 A.3 key's and resolves."""
    key = resolve_did("did:key:z" + b58encode(b"\x80\x24" + P256_POINT))
    assert key.public_jwk["x"] == "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU"
    assert key.public_jwk["y"] == "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"
