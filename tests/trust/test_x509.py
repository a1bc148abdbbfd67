"""vc_im.trust.x509 and x509_mint: minting test certificates and validating x5c chains (the
seed's §5.1)."""

from __future__ import annotations

import base64
import datetime
import functools
from collections.abc import Sequence

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from cryptography.x509.verification import PolicyBuilder, Store, VerificationError
from hypothesis import given, settings
from hypothesis import strategies as st

from vc_im import keys
from vc_im.errors import InputError, KeyFileError
from vc_im.identifiers import parse
from vc_im.trust.x509 import (
    MAX_CERTIFICATE_BYTES,
    CertificateError,
    describe,
    load_roots,
    validate_path,
    verify_chain,
    x5c_of,
)
from vc_im.trust.x509_mint import mint_ca, mint_leaf

#: 2023-11-14T22:13:20Z.
NOW = 1_700_000_000
DAY = 86_400
#: The seed's mock-up certificate's subjectAltName URIs (draft -00).
SEED_DEVICE = "im:SvPfLlwBQi-6oddVRrkqpw/04c7@example.com"
SEED_HANDLE = "im:%40alice.smith@example.com"
SEED_SANS = (SEED_DEVICE, SEED_HANDLE)

NativePrivate = (ed25519.Ed25519PrivateKey | ed448.Ed448PrivateKey | ec.EllipticCurvePrivateKey
                 | rsa.RSAPrivateKey)
NativePublic = (ed25519.Ed25519PublicKey | ed448.Ed448PublicKey | ec.EllipticCurvePublicKey
                | rsa.RSAPublicKey)


# --------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def ca() -> tuple[bytes, keys.Key]:
    """A P-256 root CA, valid from NOW for ten years."""
    return mint_ca(name="acme.example.com", now=NOW)


@pytest.fixture(scope="module")
def roots(ca: tuple[bytes, keys.Key]) -> tuple[x509.Certificate, ...]:
    """The root CA, loaded as a verifier configures it."""
    return load_roots(ca[0])


@pytest.fixture(scope="module")
def alice() -> keys.Key:
    """Alice's device key (Ed25519, as in the seed's mock-up)."""
    return keys.generate("Ed25519")


@pytest.fixture(scope="module")
def seed_leaf(ca: tuple[bytes, keys.Key], alice: keys.Key) -> bytes:
    """The seed's mock-up certificate, minted for Alice's key by the root CA."""
    return mint_leaf(ca_cert_pem=ca[0], ca_key=ca[1], subject_key=alice.public(),
                     san_uris=SEED_SANS, subject_name="Alice M. Smith", now=NOW)


def native(key: keys.Key) -> NativePrivate:
    """The cryptography private key behind a vc_im Key."""
    loaded = serialization.load_pem_private_key(key.to_pem(private=True), password=None)
    assert isinstance(loaded, ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey
                      | rsa.RSAPrivateKey)
    return loaded


def cert(pem: bytes) -> x509.Certificate:
    """The first certificate of a PEM text."""
    return x509.load_pem_x509_certificate(pem)


def b64(certificate: x509.Certificate) -> str:
    """One x5c entry."""
    return base64.b64encode(certificate.public_bytes(serialization.Encoding.DER)).decode()


def when(seconds: int) -> datetime.datetime:
    """A UTC datetime."""
    return datetime.datetime.fromtimestamp(seconds, tz=datetime.UTC)


def usage(*, signing: bool = False, ca: bool = False) -> x509.KeyUsage:
    """A KeyUsage with digitalSignature and/or keyCertSign."""
    return x509.KeyUsage(digital_signature=signing, content_commitment=False,
                         key_encipherment=False, data_encipherment=False, key_agreement=False,
                         key_cert_sign=ca, crl_sign=ca, encipher_only=False,
                         decipher_only=False)


def build(subject_public: NativePublic, signer: NativePrivate, *, issuer: x509.Name | None = None,
          subject: x509.Name | None = None, is_ca: bool = False, path_length: int | None = None,
          sans: Sequence[x509.GeneralName] | None = None, san_critical: bool = True,
          key_usage: x509.KeyUsage | None = None,
          ekus: Sequence[x509.ObjectIdentifier] | None = (ExtendedKeyUsageOID.CLIENT_AUTH,),
          not_before: int = NOW, not_after: int = NOW + 90 * DAY) -> x509.Certificate:
    """A certificate built by hand, for the shapes vc_im's minting refuses to make."""
    name = subject if subject is not None else x509.Name(
        [x509.NameAttribute(NameOID.COMMON_NAME, "hand-made")])
    builder = (x509.CertificateBuilder()
               .subject_name(name).issuer_name(issuer if issuer is not None else name)
               .public_key(subject_public)
               .serial_number(x509.random_serial_number())
               .not_valid_before(when(not_before)).not_valid_after(when(not_after))
               .add_extension(x509.BasicConstraints(ca=is_ca, path_length=path_length),
                              critical=True)
               .add_extension(key_usage if key_usage is not None
                              else usage(signing=not is_ca, ca=is_ca), critical=True))
    if not is_ca:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(signer.public_key()),
            critical=False)
    if ekus is not None and not is_ca:
        builder = builder.add_extension(x509.ExtendedKeyUsage(list(ekus)), critical=False)
    if sans is not None:
        builder = builder.add_extension(x509.SubjectAlternativeName(list(sans)),
                                        critical=san_critical)
    algorithm = (None if isinstance(signer, ed25519.Ed25519PrivateKey | ed448.Ed448PrivateKey)
                 else hashes.SHA256())
    return builder.sign(signer, algorithm)


def uris(*values: str) -> list[x509.GeneralName]:
    """subjectAltName URI entries."""
    return [x509.UniformResourceIdentifier(value) for value in values]


def hand_leaf(ca: tuple[bytes, keys.Key], **options: object) -> x509.Certificate:
    """A hand-built Ed25519 leaf issued by ``ca`` (options as for :func:`build`)."""
    options.setdefault("sans", uris(*SEED_SANS))
    options.setdefault("subject", x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "example.com"),
        x509.NameAttribute(NameOID.COMMON_NAME, "Alice M. Smith")]))
    return build(ed25519.Ed25519PrivateKey.generate().public_key(), native(ca[1]),
                 issuer=cert(ca[0]).subject, **options)  # type: ignore[arg-type]


def failure(x5c: Sequence[str], roots: Sequence[x509.Certificate],
            now: int = NOW + DAY) -> tuple[str, str]:
    """The code and message ``verify_chain`` fails with."""
    with pytest.raises(CertificateError) as caught:
        verify_chain(x5c, roots, now=now)
    return caught.value.code, caught.value.message


# --------------------------------------------------------------------------------------
# The seed's certificate
# --------------------------------------------------------------------------------------

def test_seed_leaf_certifies_the_ed25519_key_and_both_identifiers(
        seed_leaf: bytes, roots: tuple[x509.Certificate, ...], alice: keys.Key) -> None:
    """A P-256 root's Ed25519 leaf with the seed's SANs gives Alice's key and both identifiers."""
    certified = verify_chain(x5c_of(seed_leaf), roots, now=NOW + DAY)
    assert certified.key == alice.public()
    assert certified.key.alg == "Ed25519"
    assert certified.identifiers == (parse(SEED_DEVICE), parse(SEED_HANDLE))
    assert certified.subject == "CN=Alice M. Smith,O=example.com"
    assert certified.chain == ("CN=Alice M. Smith,O=example.com", "CN=acme.example.com")


def test_minted_leaf_has_the_seed_mockup_shape(seed_leaf: bytes) -> None:
    """The leaf has the seed's extensions, criticality, subject and 90-day inclusive validity."""
    leaf = cert(seed_leaf)
    extensions = leaf.extensions
    key_usage = extensions.get_extension_for_class(x509.KeyUsage)
    constraints = extensions.get_extension_for_class(x509.BasicConstraints)
    san = extensions.get_extension_for_class(x509.SubjectAlternativeName)
    eku = extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    assert (key_usage.critical, key_usage.value) == (True, usage(signing=True))
    assert (constraints.critical, constraints.value.ca) == (True, False)
    assert (san.critical, san.value.get_values_for_type(x509.UniformResourceIdentifier)) == (
        True, list(SEED_SANS))
    assert (eku.critical, list(eku.value)) == (False, [ExtendedKeyUsageOID.CLIENT_AUTH])
    assert leaf.subject.rfc4514_string() == "CN=Alice M. Smith,O=example.com"
    assert leaf.issuer.rfc4514_string() == "CN=acme.example.com"
    assert leaf.not_valid_before_utc == when(NOW)
    assert leaf.not_valid_after_utc == when(NOW + 90 * DAY - 1)


def test_default_web_pki_policy_rejects_the_seed_critical_san(
        seed_leaf: bytes, roots: tuple[x509.Certificate, ...]) -> None:
    """cryptography's default policy refuses the seed's critical SAN; vc_im's policy accepts it."""
    verifier = (PolicyBuilder().store(Store(list(roots))).time(when(NOW + DAY))
                .build_client_verifier())
    with pytest.raises(VerificationError, match="MUST NOT be critical"):
        verifier.verify(cert(seed_leaf), [])
    assert verify_chain(x5c_of(seed_leaf), roots, now=NOW + DAY).identifiers


def test_empty_subject_still_needs_a_critical_san(ca: tuple[bytes, keys.Key],
                                                  roots: tuple[x509.Certificate, ...]) -> None:
    """RFC 5280's MUST stays: an empty subject with a non-critical SAN is refused."""
    loose = hand_leaf(ca, subject=x509.Name([]), san_critical=False)
    strict = hand_leaf(ca, subject=x509.Name([]), san_critical=True)
    code, message = failure([b64(loose)], roots)
    assert code == "untrusted_issuer"
    assert "subjectAltName MUST be critical when the subject is empty" in message
    assert verify_chain([b64(strict)], roots, now=NOW + DAY).subject == ""


def test_non_critical_san_is_accepted_too(ca: tuple[bytes, keys.Key],
                                          roots: tuple[x509.Certificate, ...]) -> None:
    """A SAN marked non-critical under a non-empty subject (the web PKI form) is accepted."""
    leaf = hand_leaf(ca, san_critical=False)
    certified = verify_chain([b64(leaf)], roots, now=NOW + DAY)
    assert certified.identifiers == (parse(SEED_DEVICE), parse(SEED_HANDLE))


# --------------------------------------------------------------------------------------
# Chains
# --------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def intermediate(ca: tuple[bytes, keys.Key]) -> tuple[bytes, keys.Key]:
    """Alice's user CA under the root: the seed's cascading model."""
    return mint_ca(name="alice.smith", now=NOW, issuer_cert_pem=ca[0], issuer_key=ca[1])


def test_chain_of_three_through_an_intermediate(
        intermediate: tuple[bytes, keys.Key], roots: tuple[x509.Certificate, ...],
        ca: tuple[bytes, keys.Key], alice: keys.Key) -> None:
    """Leaf, intermediate and root validate, with or without the root in x5c."""
    leaf = mint_leaf(ca_cert_pem=intermediate[0], ca_key=intermediate[1], subject_key=alice,
                     san_uris=["mimi://example.com/d/SvPfLlwBQi-6oddVRrkqpw/04c7"],
                     subject_name="phone", now=NOW)
    expected = ("CN=phone,O=example.com", "CN=alice.smith", "CN=acme.example.com")
    for pem in (leaf + intermediate[0], leaf + intermediate[0] + ca[0]):
        certified = verify_chain(x5c_of(pem), roots, now=NOW + DAY)
        assert certified.chain == expected
        assert certified.identifiers == (parse("mimi://example.com/d/SvPfLlwBQi-6oddVRrkqpw/04c7"),)
        assert certified.key == alice.public()


def test_missing_intermediate_is_untrusted(intermediate: tuple[bytes, keys.Key],
                                           roots: tuple[x509.Certificate, ...],
                                           alice: keys.Key) -> None:
    """A leaf whose intermediate is not in x5c leads to no root."""
    leaf = mint_leaf(ca_cert_pem=intermediate[0], ca_key=intermediate[1], subject_key=alice,
                     san_uris=[SEED_DEVICE], subject_name="phone", now=NOW)
    code, message = failure(x5c_of(leaf), roots)
    assert code == "untrusted_issuer"
    assert message == ("the x5c chain does not lead to a configured CA root: no configured CA "
                       "root issued the chain, directly or through its x5c CAs.")


def test_x5c_out_of_order_or_with_strangers_is_malformed(
        intermediate: tuple[bytes, keys.Key], ca: tuple[bytes, keys.Key],
        roots: tuple[x509.Certificate, ...], seed_leaf: bytes, alice: keys.Key) -> None:
    """RFC 7515 §4.1.6: x5c must list the path in order; a valid path in another order fails."""
    leaf = mint_leaf(ca_cert_pem=intermediate[0], ca_key=intermediate[1], subject_key=alice,
                     san_uris=[SEED_DEVICE], subject_name="phone", now=NOW)
    stranger = mint_ca(name="stranger", now=NOW)[0]
    for pem in (leaf + ca[0] + intermediate[0], seed_leaf + stranger):
        code, message = failure(x5c_of(pem), roots)
        assert code == "malformed"
        assert message == ("the x5c certificates are not a chain in order, each one certifying "
                           "the one before it (RFC 7515 section 4.1.6).")


def test_path_length_constraint_is_enforced(ca: tuple[bytes, keys.Key],
                                            roots: tuple[x509.Certificate, ...],
                                            alice: keys.Key) -> None:
    """A CA with path length 0 may issue leaves but not another CA."""
    user_ca = mint_ca(name="alice.smith", now=NOW, issuer_cert_pem=ca[0], issuer_key=ca[1],
                      path_length=0)
    device_ca = mint_ca(name="device-ca", now=NOW, issuer_cert_pem=user_ca[0],
                        issuer_key=user_ca[1])
    direct = mint_leaf(ca_cert_pem=user_ca[0], ca_key=user_ca[1], subject_key=alice,
                       san_uris=[SEED_DEVICE], subject_name="phone", now=NOW)
    too_deep = mint_leaf(ca_cert_pem=device_ca[0], ca_key=device_ca[1], subject_key=alice,
                         san_uris=[SEED_DEVICE], subject_name="phone", now=NOW)
    assert len(verify_chain(x5c_of(direct + user_ca[0]), roots, now=NOW + DAY).chain) == 3
    assert failure(x5c_of(too_deep + device_ca[0] + user_ca[0]), roots)[0] == "untrusted_issuer"


# Name constraints (RFC 5280 section 4.2.1.10): a CA's dNSName subtrees confine the domains
# of the IM identifiers its leaves certify.


def constrained_leaf(ca: tuple[bytes, keys.Key], alice: keys.Key, san: str,
                     **constraints: list[str]) -> list[str]:
    """x5c of a leaf naming ``san``, issued by a sub-CA of ``ca`` with ``constraints``
    (permitted_domains, excluded_domains), the sub-CA included."""
    sub = mint_ca(name="sub-ca", now=NOW, issuer_cert_pem=ca[0], issuer_key=ca[1],
                  **constraints)  # type: ignore[arg-type]
    leaf = mint_leaf(ca_cert_pem=sub[0], ca_key=sub[1], subject_key=alice, san_uris=[san],
                     subject_name="phone", now=NOW)
    return x5c_of(leaf + sub[0])


@pytest.mark.parametrize("san", [
    "im:alice@a.example", "im:%40alice@a.example", "mimi://a.example/u/alice",
    "im:alice/phone@x.a.example", "mimi://x.y.a.example",
])
def test_a_permitted_subtree_admits_its_domain_and_subdomains(
        san: str, ca: tuple[bytes, keys.Key], roots: tuple[x509.Certificate, ...],
        alice: keys.Key) -> None:
    """A sub-CA permitted DNS a.example certifies IM identifiers in a.example and below."""
    certified = verify_chain(constrained_leaf(ca, alice, san, permitted_domains=["a.example"]),
                             roots, now=NOW + DAY)
    assert certified.identifiers == (parse(san),)


@pytest.mark.parametrize("san", ["im:alice@b.example", "mimi://b.example/u/alice",
                                 "im:alice@ba.example", "im:alice@example"])
def test_a_domain_outside_the_permitted_subtrees_is_refused(
        san: str, ca: tuple[bytes, keys.Key], roots: tuple[x509.Certificate, ...],
        alice: keys.Key) -> None:
    """Attack: a sub-CA constrained to DNS a.example certified an IM URI in b.example. Its
    leaf's identifiers outside a.example (ba.example included: subtrees end at a label) are
    refused, untrusted_issuer."""
    domain = parse(san).domain
    assert failure(constrained_leaf(ca, alice, san, permitted_domains=["a.example"]),
                   roots) == (
        "untrusted_issuer", f"the CA certificate 'CN=sub-ca' permits only names in a.example "
                            f"(name constraints), and the leaf certifies {san} in {domain}.")


@pytest.mark.parametrize(("san", "allowed"), [
    ("im:alice@a.example", True), ("im:alice@b.example", False),
    ("mimi://x.b.example/u/bob", False), ("im:alice@xb.example", True),
])
def test_an_excluded_subtree_refuses_its_domain_and_subdomains(
        san: str, allowed: bool, ca: tuple[bytes, keys.Key],
        roots: tuple[x509.Certificate, ...], alice: keys.Key) -> None:
    """A sub-CA with DNS b.example excluded certifies anything but b.example and below."""
    x5c = constrained_leaf(ca, alice, san, excluded_domains=["b.example"])
    if allowed:
        assert verify_chain(x5c, roots, now=NOW + DAY).identifiers == (parse(san),)
    else:
        assert failure(x5c, roots) == (
            "untrusted_issuer", f"the CA certificate 'CN=sub-ca' excludes names in b.example "
                                f"(name constraints), and the leaf certifies {san} in "
                                f"{parse(san).domain}.")


def test_every_ca_of_the_path_constrains(ca: tuple[bytes, keys.Key],
                                         roots: tuple[x509.Certificate, ...],
                                         alice: keys.Key) -> None:
    """A constraint on the first sub-CA binds the CAs below it too: a second-level CA without
    constraints cannot certify outside them."""
    outer = mint_ca(name="outer", now=NOW, issuer_cert_pem=ca[0], issuer_key=ca[1],
                    permitted_domains=["a.example"])
    inner = mint_ca(name="inner", now=NOW, issuer_cert_pem=outer[0], issuer_key=outer[1])
    leaf = mint_leaf(ca_cert_pem=inner[0], ca_key=inner[1], subject_key=alice,
                     san_uris=["im:alice@b.example"], subject_name="phone", now=NOW)
    assert failure(x5c_of(leaf + inner[0] + outer[0]), roots) == (
        "untrusted_issuer", "the CA certificate 'CN=outer' permits only names in a.example "
                            "(name constraints), and the leaf certifies im:alice@b.example in "
                            "b.example.")


def test_a_uri_name_constraint_is_named_not_a_broken_chain(
        ca: tuple[bytes, keys.Key], roots: tuple[x509.Certificate, ...],
        alice: keys.Key) -> None:
    """A sub-CA constrained by URI subtrees (which cryptography's path validation refuses)
    fails with a reason that names the CA and says to use dNSName subtrees."""
    sub_key = keys.generate("ES256")
    issuer = x509.load_pem_x509_certificate(ca[0])
    public = native(sub_key).public_key()
    sub = (x509.CertificateBuilder()
           .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "uri-ca")]))
           .issuer_name(issuer.subject).public_key(public)
           .serial_number(x509.random_serial_number())
           .not_valid_before(datetime.datetime.fromtimestamp(NOW, tz=datetime.UTC))
           .not_valid_after(datetime.datetime.fromtimestamp(NOW + 30 * DAY, tz=datetime.UTC))
           .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
           .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False,
                                        False), critical=True)
           .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
           .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
               native(ca[1]).public_key()), critical=False)  # type: ignore[arg-type]
           .add_extension(x509.NameConstraints(
               permitted_subtrees=[x509.UniformResourceIdentifier(".a.example")],
               excluded_subtrees=None), critical=True)
           .sign(native(ca[1]), hashes.SHA256())  # type: ignore[arg-type]
           .public_bytes(serialization.Encoding.PEM))
    leaf = mint_leaf(ca_cert_pem=sub, ca_key=sub_key, subject_key=alice,
                     san_uris=["im:alice@a.example"], subject_name="phone", now=NOW)
    assert failure(x5c_of(leaf + sub), roots) == (
        "untrusted_issuer", "the x5c chain does not lead to a configured CA root: the CA "
                            "certificate 'CN=uri-ca' has name constraints of a form "
                            "cryptography's path validation refuses (URI); constrain the IM "
                            "identifiers' domains with dNSName subtrees instead.")


def test_name_constraints_must_be_domains(ca: tuple[bytes, keys.Key]) -> None:
    """mint_ca refuses a name constraint that is not a domain name."""
    with pytest.raises(InputError) as caught:
        mint_ca(name="sub", now=NOW, issuer_cert_pem=ca[0], issuer_key=ca[1],
                permitted_domains=["not a domain"])
    assert caught.value.message.startswith("a name constraint must be a domain name: ")


def test_chain_to_another_root_is_untrusted(seed_leaf: bytes) -> None:
    """A chain validated against a root that did not issue it (same name, other key) fails."""
    other_roots = load_roots(mint_ca(name="acme.example.com", now=NOW)[0])
    code, message = failure(x5c_of(seed_leaf), other_roots)
    assert code == "untrusted_issuer"
    assert message == ("the x5c chain does not lead to a configured CA root: a certificate's "
                       "signature does not verify under its issuer's key.")


def test_no_roots_trusts_nothing(seed_leaf: bytes) -> None:
    """With no configured root nothing validates."""
    assert failure(x5c_of(seed_leaf), ()) == (
        "untrusted_issuer", "no CA root is configured, so no x5c chain can be trusted.")


def test_leaf_that_is_a_ca_is_refused(ca: tuple[bytes, keys.Key],
                                      intermediate: tuple[bytes, keys.Key],
                                      roots: tuple[x509.Certificate, ...]) -> None:
    """A CA certificate presented as the signer's certificate is not accepted."""
    code, message = failure(x5c_of(intermediate[0]), roots)
    assert code == "untrusted_issuer"
    assert "basicConstraints.cA must not be asserted in an EE certificate" in message


def test_server_only_eku_is_refused(ca: tuple[bytes, keys.Key],
                                    roots: tuple[x509.Certificate, ...]) -> None:
    """A leaf whose extended key usage lacks clientAuth is refused by the client verifier."""
    leaf = hand_leaf(ca, ekus=(ExtendedKeyUsageOID.SERVER_AUTH,))
    code, message = failure([b64(leaf)], roots)
    assert (code, "required EKU not found" in message) == ("untrusted_issuer", True)


def test_leaf_without_digital_signature_usage_is_refused(
        ca: tuple[bytes, keys.Key], roots: tuple[x509.Certificate, ...]) -> None:
    """A leaf whose key usage does not allow signatures cannot certify a JWS key."""
    agreement_only = x509.KeyUsage(
        digital_signature=False, content_commitment=True, key_encipherment=False,
        data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
        encipher_only=False, decipher_only=False)
    code, message = failure([b64(hand_leaf(ca, key_usage=agreement_only))], roots)
    assert code == "bad_key"
    assert message == ("the leaf certificate 'CN=Alice M. Smith,O=example.com' does not allow "
                       "its key to make digital signatures (key usage).")


# --------------------------------------------------------------------------------------
# Time
# --------------------------------------------------------------------------------------

def test_expired_and_not_yet_valid_leaf(seed_leaf: bytes,
                                        roots: tuple[x509.Certificate, ...]) -> None:
    """Validity is inclusive: the last second and the first second pass, one beyond fails."""
    x5c = x5c_of(seed_leaf)
    last = NOW + 90 * DAY - 1
    assert verify_chain(x5c, roots, now=NOW).subject == "CN=Alice M. Smith,O=example.com"
    assert verify_chain(x5c, roots, now=last).subject == "CN=Alice M. Smith,O=example.com"
    assert failure(x5c, roots, now=last + 1) == (
        "expired", "the leaf certificate 'CN=Alice M. Smith,O=example.com' expired at "
                   "2024-02-12T22:13:19Z.")
    assert failure(x5c, roots, now=NOW - 1) == (
        "not_yet_valid", "the leaf certificate 'CN=Alice M. Smith,O=example.com' is not valid "
                         "before 2023-11-14T22:13:20Z.")


def test_expired_intermediate(ca: tuple[bytes, keys.Key], roots: tuple[x509.Certificate, ...],
                              alice: keys.Key) -> None:
    """An intermediate that has expired while its leaf has not fails with expired."""
    short = mint_ca(name="short-lived", now=NOW, days=1, issuer_cert_pem=ca[0],
                    issuer_key=ca[1])
    leaf = mint_leaf(ca_cert_pem=short[0], ca_key=short[1], subject_key=alice,
                     san_uris=[SEED_DEVICE], subject_name="phone", now=NOW)
    assert failure(x5c_of(leaf + short[0]), roots, now=NOW + 2 * DAY) == (
        "expired", "the CA certificate x5c[1] 'CN=short-lived' expired at "
                   "2023-11-15T22:13:19Z.")


def test_expired_root(alice: keys.Key) -> None:
    """A configured root that has expired makes its chains fail with expired."""
    root = mint_ca(name="old-root", now=NOW - 400 * DAY, days=365)
    leaf = mint_leaf(ca_cert_pem=root[0], ca_key=root[1], subject_key=alice,
                     san_uris=[SEED_DEVICE], subject_name="phone", now=NOW - DAY)
    assert failure(x5c_of(leaf), load_roots(root[0])) == (
        "expired", "the CA root 'CN=old-root' expired at 2023-10-10T22:13:19Z.")


@settings(max_examples=40, deadline=None)
@given(offset=st.integers(min_value=-10 * DAY, max_value=100 * DAY))
def test_validity_rule_holds_for_every_now(offset: int) -> None:
    """For every now, the leaf is accepted exactly within [notBefore, notAfter]."""
    window_roots, x5c = _window_chain()
    now = NOW + offset
    if 0 <= offset <= 90 * DAY - 1:
        assert verify_chain(x5c, window_roots, now=now).identifiers == (parse(SEED_HANDLE),)
    else:
        expected = "not_yet_valid" if offset < 0 else "expired"
        assert failure(x5c, window_roots, now=now)[0] == expected


@functools.cache
def _window_chain() -> tuple[tuple[x509.Certificate, ...], list[str]]:
    """A root valid long before and after a 90-day leaf from NOW (built once)."""
    pem, root_key = mint_ca(name="root", now=NOW - 100 * DAY, days=1000)
    leaf = mint_leaf(ca_cert_pem=pem, ca_key=root_key, subject_key=keys.generate("Ed25519"),
                     san_uris=[SEED_HANDLE], subject_name="Alice", now=NOW)
    return load_roots(pem), x5c_of(leaf)


# --------------------------------------------------------------------------------------
# What cryptography's verifier refuses
# --------------------------------------------------------------------------------------

def test_ed25519_signed_chain_is_validated_by_pyhanko() -> None:
    """An Ed25519 CA works: cryptography's web PKI verifier refuses Ed25519 signatures, so
    such chains are validated by pyhanko-certvalidator; load_roots and mint_ca accept it."""
    root_key = ed25519.Ed25519PrivateKey.generate()
    root = build(root_key.public_key(), root_key, is_ca=True)
    leaf = build(ed25519.Ed25519PrivateKey.generate().public_key(), root_key,
                 issuer=root.subject, sans=uris(SEED_DEVICE))
    plain = build(ed25519.Ed25519PrivateKey.generate().public_key(), root_key,
                  issuer=root.subject, sans=uris(SEED_DEVICE), san_critical=False)
    with pytest.raises(VerificationError, match="Forbidden public key algorithm"):
        PolicyBuilder().store(Store([root])).time(when(NOW)).build_client_verifier().verify(
            plain, [])
    roots = load_roots(root.public_bytes(serialization.Encoding.PEM))
    certified = verify_chain([b64(leaf)], roots, now=NOW)
    assert certified.identifiers == (parse(SEED_DEVICE),)
    assert certified.chain == ("CN=hand-made", "CN=hand-made")
    pem, key = mint_ca(name="ed", key=keys.generate("Ed25519"), now=NOW)
    assert cert(pem).signature_algorithm_oid == x509.oid.SignatureAlgorithmOID.ED25519
    leaf_pem = mint_leaf(ca_cert_pem=pem, ca_key=key, subject_key=keys.generate("ES256"),
                         san_uris=[SEED_HANDLE], subject_name="Alice", now=NOW)
    assert verify_chain(x5c_of(leaf_pem), load_roots(pem), now=NOW).key.alg == "ES256"


def test_ed25519_chain_with_a_wrong_signature_is_untrusted() -> None:
    """An Ed25519-signed leaf whose signature is not its root's fails path validation."""
    root_key, other_key = ed25519.Ed25519PrivateKey.generate(), ed25519.Ed25519PrivateKey.generate()
    root = build(root_key.public_key(), root_key, is_ca=True)
    leaf = build(ed25519.Ed25519PrivateKey.generate().public_key(), other_key,
                 issuer=root.subject, sans=uris(SEED_DEVICE))
    code, message = failure([b64(leaf)], [root])
    assert code == "untrusted_issuer"
    assert message.startswith("the x5c chain does not lead to a configured CA root: ")


def test_ed448_signed_chain_is_validated() -> None:
    """Ed448 chains validate too (pyhanko); the Ed448 leaf key is one vc_im cannot sign with,
    so an x5c chain with it fails as bad_key after the path was validated."""
    root_key = ed448.Ed448PrivateKey.generate()
    root = build(root_key.public_key(), root_key, is_ca=True)
    leaf = build(ed448.Ed448PrivateKey.generate().public_key(), root_key,
                 issuer=root.subject, sans=uris(SEED_DEVICE))
    roots = load_roots(root.public_bytes(serialization.Encoding.PEM))
    assert failure([b64(leaf)], roots)[0] == "bad_key"
    assert validate_path([leaf], roots, now=NOW) == (leaf, root)


def test_ed448_leaf_under_an_ed25519_root_is_untrusted() -> None:
    """A signature made with another algorithm than the issuer's key is refused, not a crash."""
    root_key = ed25519.Ed25519PrivateKey.generate()
    root = build(root_key.public_key(), root_key, is_ca=True)
    stranger = ed448.Ed448PrivateKey.generate()
    leaf = build(ed25519.Ed25519PrivateKey.generate().public_key(), stranger,
                 issuer=root.subject, sans=uris(SEED_DEVICE))
    code, message = failure([b64(leaf)], [root])
    assert code == "untrusted_issuer"
    assert message == ("the x5c chain does not lead to a configured CA root: a certificate's "
                       "signature does not verify under its issuer's key.")


def test_secp256k1_signed_ca_is_refused() -> None:
    """A secp256k1 CA is refused by cryptography's path validation (forbidden key type)."""
    root_key = ec.generate_private_key(ec.SECP256K1())
    root = build(root_key.public_key(), root_key, is_ca=True)
    leaf = build(ed25519.Ed25519PrivateKey.generate().public_key(), root_key,
                 issuer=root.subject, sans=uris(SEED_DEVICE))
    code, message = failure([b64(leaf)], [root])
    assert code == "untrusted_issuer"
    assert message == ("the x5c chain does not lead to a configured CA root: a CA key is of a "
                       "type it refuses: vc_im validates certificates signed with P-256, P-384, "
                       "P-521, RSA, Ed25519 or Ed448 keys only (never secp256k1).")
    with pytest.raises(KeyFileError, match="the CA key is an ES256K key"):
        mint_ca(name="k1", key=keys.generate("ES256K"), now=NOW)


def test_rsa_ca_works(alice: keys.Key) -> None:
    """A CA with an RS256 key issues leaves that validate."""
    root = mint_ca(name="rsa-root", key=keys.generate("RS256"), now=NOW)
    leaf = mint_leaf(ca_cert_pem=root[0], ca_key=root[1], subject_key=alice,
                     san_uris=[SEED_HANDLE], subject_name="Alice", now=NOW)
    assert verify_chain(x5c_of(leaf), load_roots(root[0]), now=NOW).chain == (
        "CN=Alice,O=example.com", "CN=rsa-root")


@pytest.mark.parametrize("alg", ["RS256", "ES256K", "ES256", "ES384", "ES512"])
def test_other_leaf_key_types_work(alg: str, ca: tuple[bytes, keys.Key],
                                   roots: tuple[x509.Certificate, ...]) -> None:
    """RSA 2048, secp256k1, P-256, P-384 and P-521 leaf keys come back with their JWS alg."""
    subject = keys.generate(alg)
    leaf = mint_leaf(ca_cert_pem=ca[0], ca_key=ca[1], subject_key=subject,
                     san_uris=SEED_SANS, subject_name="Alice", now=NOW)
    certified = verify_chain(x5c_of(leaf), roots, now=NOW + DAY)
    assert (certified.key.alg, certified.key) == (alg, subject.public())


def test_leaf_key_vc_im_does_not_use_is_bad_key(ca: tuple[bytes, keys.Key],
                                                roots: tuple[x509.Certificate, ...]) -> None:
    """A P-224 leaf validates as X.509 but its key is not one vc_im verifies JWS with."""
    leaf = build(ec.generate_private_key(ec.SECP224R1()).public_key(), native(ca[1]),
                 issuer=cert(ca[0]).subject, sans=uris(SEED_DEVICE))
    code, message = failure([b64(leaf)], roots)
    assert code == "bad_key"
    assert message.startswith("the certificate 'CN=hand-made' holds a key vc_im cannot verify "
                              "with: the elliptic curve 'secp224r1' is not supported")


# --------------------------------------------------------------------------------------
# Identifiers
# --------------------------------------------------------------------------------------

def test_san_that_is_not_a_valid_identifier(ca: tuple[bytes, keys.Key],
                                            roots: tuple[x509.Certificate, ...]) -> None:
    """An im: URI that does not parse as an identifier fails with bad_identifier."""
    leaf = hand_leaf(ca, sans=uris(SEED_DEVICE, "im:#projectX@example.com"))
    code, message = failure([b64(leaf)], roots)
    assert code == "bad_identifier"
    assert message.startswith("the leaf certificate's subjectAltName URI "
                              "'im:#projectX@example.com' is not a valid identifier: ")


def test_leaf_without_im_identifiers_is_refused(ca: tuple[bytes, keys.Key],
                                                roots: tuple[x509.Certificate, ...]) -> None:
    """A leaf whose SAN names no im: or mimi:// URI certifies no identifier."""
    leaf = hand_leaf(ca, sans=[*uris("https://example.com/alice"),
                               x509.DNSName("example.com")])
    assert failure([b64(leaf)], roots) == (
        "bad_identifier", "the leaf certificate 'CN=Alice M. Smith,O=example.com' names no im: "
                          "or mimi:// identifier in its subjectAltName.")


def test_identifiers_are_compared_as_values(ca: tuple[bytes, keys.Key],
                                            roots: tuple[x509.Certificate, ...]) -> None:
    """Other URIs are skipped, case and escapes normalise, and duplicates collapse."""
    leaf = hand_leaf(ca, sans=[*uris("https://example.com/alice", "IM:%40alice.smith@EXAMPLE.com",
                                     SEED_HANDLE, "mimi://Example.COM/u/alice.smith"),
                               x509.DNSName("example.com")])
    certified = verify_chain([b64(leaf)], roots, now=NOW + DAY)
    assert certified.identifiers == (parse(SEED_HANDLE),
                                      parse("mimi://example.com/u/alice.smith"))


# --------------------------------------------------------------------------------------
# Tampering and malformed x5c
# --------------------------------------------------------------------------------------

def test_tampered_signature_is_untrusted(seed_leaf: bytes,
                                         roots: tuple[x509.Certificate, ...]) -> None:
    """Flipping one bit of the leaf's signature breaks the chain."""
    der = bytearray(cert(seed_leaf).public_bytes(serialization.Encoding.DER))
    der[-1] ^= 0x01
    code, message = failure([base64.b64encode(bytes(der)).decode()], roots)
    assert code == "untrusted_issuer"
    assert message.endswith("a certificate's signature does not verify under its issuer's key.")


def test_tampered_identifier_is_untrusted(seed_leaf: bytes,
                                          roots: tuple[x509.Certificate, ...]) -> None:
    """Rewriting a SAN identifier in the signed part (same length) breaks the signature."""
    der = cert(seed_leaf).public_bytes(serialization.Encoding.DER)
    forged = der.replace(b"%40alice.smith", b"%40mallory.xyz")
    assert forged != der
    assert failure([base64.b64encode(forged).decode()], roots)[0] == "untrusted_issuer"


def test_too_many_certificates(seed_leaf: bytes, roots: tuple[x509.Certificate, ...]) -> None:
    """More than five certificates are refused before any is decoded."""
    assert failure(x5c_of(seed_leaf) * 6, roots) == (
        "too_large", "the x5c header holds 6 certificates; vc_im accepts at most 5.")


def test_oversized_certificate(roots: tuple[x509.Certificate, ...]) -> None:
    """An entry decoding to more than 16 KiB is refused, before or after decoding."""
    big = base64.b64encode(b"\0" * (MAX_CERTIFICATE_BYTES + 1)).decode()
    assert failure([big], roots) == ("too_large", "x5c entry 0 is larger than 16 KiB.")
    assert failure(["A" * 30_000], roots)[0] == "too_large"


@pytest.mark.parametrize("entry", [
    "not base64!",
    "MIIB-_",  # base64url alphabet
    "MIIB",  # valid base64, not DER
    "TWFu\n",  # whitespace
    "TWE",  # unpadded
    "TWF=",  # non-zero padding bits
    "",
])
def test_malformed_entries(entry: str, roots: tuple[x509.Certificate, ...]) -> None:
    """Anything but padded standard base64 of a DER certificate is malformed."""
    assert failure([entry], roots)[0] == "malformed"


@pytest.mark.parametrize("x5c", ["MIIB", [], [1], None, {"0": "MIIB"}])
def test_malformed_header_values(x5c: object, roots: tuple[x509.Certificate, ...]) -> None:
    """An x5c that is not a non-empty array of strings is malformed."""
    assert failure(x5c, roots)[0] == "malformed"  # type: ignore[arg-type]


@settings(max_examples=60, deadline=None)
@given(x5c=st.lists(st.one_of(st.text(max_size=40),
                              st.binary(max_size=60).map(lambda b: base64.b64encode(b).decode())),
                    max_size=7))
def test_arbitrary_x5c_only_ever_raises_certificate_error(x5c: list[str]) -> None:
    """No x5c value, however odd, escapes as anything but a CertificateError."""
    with pytest.raises(CertificateError) as caught:
        verify_chain(x5c, (), now=NOW)
    assert caught.value.code in {"malformed", "too_large"}


# --------------------------------------------------------------------------------------
# Roots, x5c_of, describe, minting refusals
# --------------------------------------------------------------------------------------

def test_load_roots_reads_pem_bundles_and_der(ca: tuple[bytes, keys.Key]) -> None:
    """Several PEM roots load in order; one DER root loads too."""
    other = mint_ca(name="other", now=NOW, key=keys.generate("RS256"))[0]
    assert [r.subject.rfc4514_string() for r in load_roots(ca[0] + other)] == [
        "CN=acme.example.com", "CN=other"]
    der = cert(ca[0]).public_bytes(serialization.Encoding.DER)
    assert load_roots(der) == (cert(ca[0]),)


@pytest.mark.parametrize(("data", "message"), [
    (b"hello", "the CA roots file holds no readable PEM or DER X.509 certificate."),
    (b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
     "the CA roots file holds no readable PEM or DER X.509 certificate."),
    (b"x" * ((1 << 20) + 1), "the CA roots file is larger than 1 MiB."),
])
def test_load_roots_refuses_unreadable_input(data: bytes, message: str) -> None:
    """Unreadable roots are a configuration error (exit 2), with one sentence."""
    with pytest.raises(InputError) as caught:
        load_roots(data)
    assert (caught.value.message, caught.value.exit_code) == (message, 2)


def test_load_roots_refuses_a_leaf(seed_leaf: bytes) -> None:
    """A non-CA certificate configured as a root is refused."""
    with pytest.raises(InputError) as caught:
        load_roots(seed_leaf)
    assert caught.value.message == ("the CA root 'CN=Alice M. Smith,O=example.com' is not a CA "
                                    "certificate (basicConstraints CA:TRUE).")


def test_x5c_of_is_padded_standard_base64_der(seed_leaf: bytes,
                                              ca: tuple[bytes, keys.Key]) -> None:
    """x5c_of gives one entry per PEM certificate, each the padded base64 of its DER."""
    x5c = x5c_of(seed_leaf + ca[0])
    assert len(x5c) == 2
    assert base64.b64decode(x5c[0], validate=True) == cert(seed_leaf).public_bytes(
        serialization.Encoding.DER)
    assert all(len(entry) % 4 == 0 for entry in x5c)


def test_describe_lists_the_printable_fields(seed_leaf: bytes) -> None:
    """describe gives subject, issuer, validity, CA flag, key type and SAN URIs."""
    (info,) = describe(seed_leaf)
    assert (info.subject, info.issuer, info.not_before, info.not_after, info.is_ca,
            info.key_type, info.san_uris) == (
        "CN=Alice M. Smith,O=example.com", "CN=acme.example.com", NOW, NOW + 90 * DAY - 1,
        False, "Ed25519", SEED_SANS)


def test_describe_names_unsupported_keys(ca: tuple[bytes, keys.Key]) -> None:
    """A key vc_im does not sign with is described, not refused."""
    leaf = build(ec.generate_private_key(ec.SECP224R1()).public_key(), native(ca[1]),
                 issuer=cert(ca[0]).subject, sans=uris(SEED_DEVICE))
    (info,) = describe(leaf.public_bytes(serialization.Encoding.PEM))
    assert info.key_type == "EC secp224r1 (vc_im does not sign with it)"


@pytest.mark.parametrize(("sans", "code", "start"), [
    (["im:#x@example.com"], "bad_identifier",
     "the subjectAltName URI 'im:#x@example.com' is not a valid identifier: "),
    ([SEED_DEVICE, "im:bob@example.org"], "bad_identifier",
     "the subjectAltName identifiers name more than one domain (example.com, example.org)"),
    ([], "bad_input", "a leaf certificate needs at least one subjectAltName URI."),
])
def test_mint_leaf_refuses_bad_sans(sans: list[str], code: str, start: str,
                                    ca: tuple[bytes, keys.Key], alice: keys.Key) -> None:
    """The CA refuses to certify identifiers that are invalid or span domains."""
    with pytest.raises(InputError) as caught:
        mint_leaf(ca_cert_pem=ca[0], ca_key=ca[1], subject_key=alice, san_uris=sans,
                  subject_name="Alice", now=NOW)
    assert caught.value.code == code
    assert caught.value.message.startswith(start)


def test_mint_leaf_refuses_a_ca_key_of_another_certificate(ca: tuple[bytes, keys.Key],
                                                           alice: keys.Key,
                                                           seed_leaf: bytes) -> None:
    """The CA key must belong to the CA certificate, which must be a CA."""
    with pytest.raises(KeyFileError, match="does not belong to the CA certificate"):
        mint_leaf(ca_cert_pem=ca[0], ca_key=keys.generate("ES256"), subject_key=alice,
                  san_uris=SEED_SANS, subject_name="Alice", now=NOW)
    with pytest.raises(InputError, match="is not a CA"):
        mint_leaf(ca_cert_pem=seed_leaf, ca_key=ca[1], subject_key=alice,
                  san_uris=SEED_SANS, subject_name="Alice", now=NOW)
    with pytest.raises(KeyFileError, match="public only"):
        mint_leaf(ca_cert_pem=ca[0], ca_key=ca[1].public(), subject_key=alice,
                  san_uris=SEED_SANS, subject_name="Alice", now=NOW)


@pytest.mark.parametrize(("options", "message"), [
    ({"days": 0}, "a certificate must be valid for at least one day."),
    ({"name": ""}, "a certificate name must be 1 to 64 characters."),
    ({"name": "x" * 65}, "a certificate name must be 1 to 64 characters."),
    ({"now": 253_402_300_000}, "the certificate's validity must lie between 1970 and 9999."),
    ({"path_length": -1}, "the CA path length must not be negative."),
])
def test_mint_ca_refuses_bad_options(options: dict[str, object], message: str) -> None:
    """Impossible names, lifetimes and path lengths are input errors."""
    arguments: dict[str, object] = {"name": "root", "now": NOW, **options}
    with pytest.raises(InputError) as caught:
        mint_ca(**arguments)  # type: ignore[arg-type]
    assert caught.value.message == message


def test_describe_survives_an_unknown_key_algorithm(seed_leaf: bytes) -> None:
    """A certificate whose key algorithm cryptography does not know is still described."""
    der = cert(seed_leaf).public_bytes(serialization.Encoding.DER)
    ed25519_oid, unknown_oid = bytes.fromhex("06032b6570"), bytes.fromhex("06032b657f")
    assert der.count(ed25519_oid) == 1
    (info,) = describe(der.replace(ed25519_oid, unknown_oid))
    assert info.key_type == "unknown (vc_im does not sign with it)"


def test_load_roots_skips_text_around_pem_blocks(ca: tuple[bytes, keys.Key]) -> None:
    """PEM with explanatory text before the block (as openssl writes it) loads."""
    assert load_roots(b"Bag Attributes\n    friendlyName: acme\n" + ca[0]) == (cert(ca[0]),)
