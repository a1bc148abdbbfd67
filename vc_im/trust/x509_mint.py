"""Minting test certificates for IM identifiers (the seed's §5.1): CAs and client leaves.

What ``vc-im x509 ca`` and ``vc-im x509 leaf`` make, and what tests use to build chains that
:func:`vc_im.trust.x509.verify_chain` then judges. CA keys are P-256, RSA or Ed25519 (never
secp256k1: no validator vc_im uses accepts it); a leaf's own key may be any key vc_im signs
with. A *user certificate* (``mint_ca(users=...)``) is the cascade's middle link: a CA that
names a user in its subjectAltName, is confined to the user's domain and issues only its
devices' certificates, each of which names it in ``issuerAltName``.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Final

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from vc_im import keys
from vc_im.errors import InputError, KeyFileError
from vc_im.identifiers import IdentifierError, IdType, ImId, normalize_domain, parse
from vc_im.times import MAX_NUMERIC_DATE
from vc_im.trust.x509 import _CA_KEY_RULE, _key_of, _read_certificates
from vc_im.trust.x509_names import (
    CertificateError,
    check_cascade,
    user_identifiers,
)
from vc_im.trust.x509_names import is_ca as _is_ca
from vc_im.trust.x509_names import shown as _shown
from vc_im.trust.x509_names import subject_text as _subject

__all__ = ["mint_ca", "mint_leaf"]

_DAY: Final = 86_400
#: The keys vc_im mints CAs with.
_CA_ALGS: Final = ("ES256", "RS256", "Ed25519")


def mint_ca(*, name: str, key: keys.Key | None = None, now: int, days: int = 3650,
            issuer_cert_pem: bytes | None = None, issuer_key: keys.Key | None = None,
            path_length: int | None = None, permitted_domains: Sequence[str] = (),
            excluded_domains: Sequence[str] = (), users: Sequence[str] = (),
            alg: str = "ES256") -> tuple[bytes, keys.Key]:
    """A CA certificate (PEM) and its private key, valid from ``now`` for ``days`` days.

    Self-signed (a root) unless ``issuer_cert_pem`` and ``issuer_key`` are given, which
    makes an intermediate CA: the seed's cascading model, where a user certificate may issue
    device certificates. A fresh ``alg`` key is made when ``key`` is None; a CA key must be
    ES256, RS256 or Ed25519. The subject is ``CN=<name>``.
    ``permitted_domains`` and ``excluded_domains`` become critical name constraints of
    dNSName subtrees, which :func:`vc_im.trust.x509.verify_chain` applies to the domains of
    the IM identifiers the CA's leaves certify.

    ``users`` (user or handle identifiers of one domain) makes a user certificate: an
    intermediate CA with path length 0, the identifiers as subjectAltName URIs, subject
    ``O=<domain>, CN=<name>``, and its domain as the only permitted dNSName subtree.
    """
    ca_key = keys.generate(alg) if key is None else key
    _require_ca_key(ca_key)
    names: list[ImId] = []
    if users:
        names = _user_names(users)
        if issuer_cert_pem is None:
            raise InputError("a user certificate is issued by its domain's CA: give the "
                             "issuing CA's certificate and key.")
        if path_length not in (None, 0) or excluded_domains or permitted_domains:
            raise InputError("a user certificate has path length 0 and its own domain as its "
                             "name constraint; neither can be chosen.")
        path_length, permitted_domains = 0, (names[0].domain,)
    subject = _name(common_name=name, organization=names[0].domain if names else None)
    if (issuer_cert_pem is None) != (issuer_key is None):
        raise InputError("an intermediate CA needs both the issuing CA's certificate and its "
                         "key.")
    if issuer_cert_pem is not None and issuer_key is not None:
        issuer = _issuing_ca(issuer_cert_pem, issuer_key)
        issuer_name, signer = issuer.subject, issuer_key
    else:
        issuer_name, signer = subject, ca_key
    if path_length is not None and path_length < 0:
        raise InputError("the CA path length must not be negative.")
    builder = (_builder(subject, issuer_name, ca_key, now, days)
               .add_extension(x509.BasicConstraints(ca=True, path_length=path_length),
                              critical=True)
               .add_extension(_key_usage(digital_signature=bool(names), key_cert_sign=True,
                                         crl_sign=True), critical=True))
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(
            [x509.UniformResourceIdentifier(str(identifier)) for identifier in names]),
            critical=False)
    if signer is not ca_key:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(_native_public(signer)),
            critical=False)
    if permitted_domains or excluded_domains:
        builder = builder.add_extension(x509.NameConstraints(
            permitted_subtrees=_dns_subtrees(permitted_domains),
            excluded_subtrees=_dns_subtrees(excluded_domains)), critical=True)
    return _sign(builder, signer), ca_key


def _user_names(users: Sequence[str]) -> list[ImId]:
    """The identifiers a user certificate names: users or handles, of one domain."""
    names: list[ImId] = []
    for user in users:
        try:
            identifier = parse(user)
        except IdentifierError as exc:
            raise InputError(f"the user {_shown(user)} is not a valid identifier: "
                             f"{exc.message}", code="bad_identifier") from exc
        if identifier.type not in (IdType.USER, IdType.HANDLE):
            raise InputError(f"a user certificate names users or handles, and {identifier} "
                             f"is a {identifier.type.value}.", code="bad_identifier")
        if identifier not in names:
            names.append(identifier)
    if len({identifier.domain for identifier in names}) != 1:
        raise InputError("the user identifiers name more than one domain; a user certificate "
                         "speaks for one user in one domain.", code="bad_identifier")
    return names


def _dns_subtrees(domains: Sequence[str]) -> list[x509.GeneralName] | None:
    """dNSName subtrees for ``domains`` (normalised as IM identifiers' domains are)."""
    try:
        return [x509.DNSName(normalize_domain(domain)) for domain in domains] or None
    except IdentifierError as exc:
        raise InputError(f"a name constraint must be a domain name: {exc.message}") from exc


def mint_leaf(*, ca_cert_pem: bytes, ca_key: keys.Key, subject_key: keys.Key,
              san_uris: Sequence[str], subject_name: str, now: int, days: int = 90) -> bytes:
    """An end-entity certificate (PEM) for ``subject_key``, shaped like the seed's mock-up.

    KeyUsage digitalSignature (critical), ExtendedKeyUsage clientAuth, BasicConstraints
    CA:FALSE (critical), subjectAltName URIs (critical, as in the seed), subject
    ``O=<domain>, CN=<subject_name>``. The URIs must be valid identifiers of one domain,
    which becomes ``O``; they are written in canonical form. The issuing CA is the first
    certificate of ``ca_cert_pem``; when it is a user certificate, the leaf names it in
    ``issuerAltName`` (its subjectAltName URIs) and may certify only the user's devices.
    Validity is inclusive (RFC 5280), so 90 days end one second before now + 90 days, as
    in the seed (Jul 6 06:41:50 to Oct 4 06:41:49).
    """
    _require_ca_key(ca_key)
    issuer = _issuing_ca(ca_cert_pem, ca_key)
    if not san_uris:
        raise InputError("a leaf certificate needs at least one subjectAltName URI.")
    identifiers: list[ImId] = []
    for uri in san_uris:
        try:
            identifiers.append(parse(uri))
        except IdentifierError as exc:
            raise InputError(f"the subjectAltName URI {_shown(uri)} is not a valid "
                             f"identifier: {exc.message}", code="bad_identifier") from exc
    domains = sorted({identifier.domain for identifier in identifiers})
    if len(domains) != 1:
        raise InputError("the subjectAltName identifiers name more than one domain ("
                         f"{', '.join(domains)}); a leaf certifies identifiers of one domain.",
                         code="bad_identifier")
    subject = _name(organization=domains[0], common_name=subject_name)
    issuer_names = user_identifiers(issuer)
    if issuer_names:
        try:
            check_cascade(issuer, issuer_names, identifiers)
        except CertificateError as exc:
            raise InputError(exc.message, code="untrusted_issuer") from exc
    public = subject_key.public()
    builder = (_builder(subject, issuer.subject, public, now, days)
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(_key_usage(digital_signature=True), critical=True)
               .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]),
                              critical=False)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                   _native_public(ca_key)), critical=False)
               .add_extension(x509.SubjectAlternativeName(
                   [x509.UniformResourceIdentifier(str(identifier))
                    for identifier in identifiers]), critical=True))
    if issuer_names:
        builder = builder.add_extension(_issuer_alt_name(issuer_names), critical=False)
    return _sign(builder, ca_key)


def _issuer_alt_name(names: Sequence[ImId]) -> x509.IssuerAlternativeName:
    return x509.IssuerAlternativeName([x509.UniformResourceIdentifier(str(identifier))
                                       for identifier in names])



def _require_ca_key(key: keys.Key) -> None:
    if key.alg not in _CA_ALGS:
        raise KeyFileError(f"the CA key is an {key.alg} key, but {_CA_KEY_RULE}; vc_im "
                           f"mints CAs with {', '.join(_CA_ALGS)} keys.")
    if not key.is_private:
        raise KeyFileError("the CA key is public only, but signing certificates needs its "
                           "private key.")


def _issuing_ca(ca_cert_pem: bytes, ca_key: keys.Key) -> x509.Certificate:
    """The first certificate of ``ca_cert_pem``, checked to be a CA matching ``ca_key``."""
    issuer = _read_certificates(ca_cert_pem, "CA certificate")[0]
    if not _is_ca(issuer):
        raise InputError(f"the certificate {_shown(_subject(issuer))} is not a CA "
                         "(basicConstraints CA:TRUE), so it cannot issue certificates.")
    try:
        issuer_key = _key_of(issuer)
    except CertificateError as exc:
        raise KeyFileError(f"the CA certificate's key cannot be used: {exc.message}") from exc
    if issuer_key.thumbprint() != ca_key.thumbprint():
        raise KeyFileError("the CA key does not belong to the CA certificate.")
    return issuer


def _builder(subject: x509.Name, issuer: x509.Name, key: keys.Key, now: int,
             days: int) -> x509.CertificateBuilder:
    if days < 1:
        raise InputError("a certificate must be valid for at least one day.")
    not_after = now + days * _DAY - 1
    if now < 0 or not_after > MAX_NUMERIC_DATE:
        raise InputError("the certificate's validity must lie between 1970 and 9999.")
    public = _native_public(key)
    return (x509.CertificateBuilder()
            .subject_name(subject).issuer_name(issuer).public_key(public)
            .serial_number(x509.random_serial_number())
            .not_valid_before(datetime.datetime.fromtimestamp(now, tz=datetime.UTC))
            .not_valid_after(datetime.datetime.fromtimestamp(not_after, tz=datetime.UTC))
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False))


def _sign(builder: x509.CertificateBuilder, signer: keys.Key) -> bytes:
    native = serialization.load_pem_private_key(signer.to_pem(private=True), password=None)
    if isinstance(native, ed25519.Ed25519PrivateKey):
        certificate = builder.sign(native, None)  # EdDSA hashes internally (RFC 8410)
    elif isinstance(native, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        certificate = builder.sign(native, hashes.SHA256())
    else:  # pragma: no cover
        raise KeyFileError("the CA key is not an EC, RSA or Ed25519 key.")
    return certificate.public_bytes(serialization.Encoding.PEM)


def _native_public(
        key: keys.Key) -> ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey | rsa.RSAPublicKey:
    native = serialization.load_pem_public_key(key.to_pem(private=False))
    if not isinstance(native, ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey
                      | rsa.RSAPublicKey):  # pragma: no cover
        raise KeyFileError("the key cannot be put in a certificate.")
    return native


def _name(*, common_name: str, organization: str | None = None) -> x509.Name:
    attributes = []
    try:
        if organization is not None:
            attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
        attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    except ValueError as exc:
        raise InputError("a certificate name must be 1 to 64 characters.") from exc
    return x509.Name(attributes)


def _key_usage(*, digital_signature: bool = False, key_cert_sign: bool = False,
               crl_sign: bool = False) -> x509.KeyUsage:
    return x509.KeyUsage(digital_signature=digital_signature, content_commitment=False,
                         key_encipherment=False, data_encipherment=False, key_agreement=False,
                         key_cert_sign=key_cert_sign, crl_sign=crl_sign, encipher_only=False,
                         decipher_only=False)
