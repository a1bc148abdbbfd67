"""X.509 certificates for IM identifiers (the seed's §5.1): validate x5c chains.

A JWS may carry its signer's certificate chain in the ``x5c`` header (RFC 7515 §4.1.6:
standard base64 of DER, leaf first, each next certificate certifying the one before).
:func:`verify_chain` validates such a chain against configured CA roots with
cryptography's X.509 path validation, at an explicit ``now``, and returns the leaf's
public key as a :class:`vc_im.keys.Key` together with the IM identifiers (``im:`` and
``mimi://`` subjectAltName URIs) the chain certifies.

What cryptography's verifier (a web PKI profile, client-certificate flavour) decides, and
why vc_im keeps it:

* CA certificates must be signed with P-256, P-384, P-521 or RSA (2048 bits or more): it
  refuses Ed25519- and secp256k1-signed certificates, so vc_im mints CAs with P-256 (or
  RSA) keys only. The leaf's own key is never used to verify a certificate, so it may be
  any key vc_im signs with (Ed25519, ES256, ES256K, ES384, ES512, RS256).
* A leaf with an extended key usage must list clientAuth; leaves are never CAs; a CA needs
  basicConstraints CA:TRUE (critical) and keyCertSign.

One rule is added: cryptography applies a CA's name constraints to DNS and IP names only, and
refuses URI-form constraints outright, so nothing would confine the im: and mimi:// URIs a
sub-CA certifies. vc_im applies each CA's dNSName subtrees (RFC 5280 §4.2.1.10: a subtree is
a domain and every name below it, label by label) to the domains of the leaf's IM
identifiers: each must lie in one of a CA's permitted subtrees, when it has any, and in none
of its excluded ones.

One rule is replaced: the web PKI profile (CA/Browser Forum) forbids a critical
subjectAltName when the subject is not empty, but the seed's mock-up client certificate
has exactly that (``Subject: O = example.com, CN = Alice M. Smith`` and ``X509v3 Subject
Alternative Name: critical``), and RFC 5280 §4.2.1.6 only says SHOULD NOT. vc_im's
end-entity policy therefore accepts the SAN with either criticality while keeping RFC
5280's MUST (critical when the subject is empty); every other default stays.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import SignatureAlgorithmOID
from cryptography.x509.verification import (
    Criticality,
    ExtensionPolicy,
    Policy,
    PolicyBuilder,
    Store,
    VerificationError,
)

from vc_im import keys
from vc_im.errors import InputError, KeyFileError, TokenError
from vc_im.identifiers import IdentifierError, ImId, parse
from vc_im.times import seconds_to_rfc3339

__all__ = [
    "MAX_CERTIFICATE_BYTES",
    "MAX_CHAIN_CERTIFICATES",
    "CertificateError",
    "CertificateInfo",
    "CertifiedKey",
    "describe",
    "load_roots",
    "read_leaf",
    "verify_chain",
    "x5c_of",
]

#: At most this many certificates in an x5c chain (a leaf and up to four CAs).
MAX_CHAIN_CERTIFICATES: Final = 5
#: At most this many DER bytes per certificate.
MAX_CERTIFICATE_BYTES: Final = 16 * 1024
#: A roots file, or a PEM file to show, larger than this is refused unread.
MAX_PEM_BYTES: Final = 1 << 20
#: Base64 of MAX_CERTIFICATE_BYTES: a longer x5c entry is refused before decoding.
_MAX_X5C_CHARS: Final = 4 * -(-MAX_CERTIFICATE_BYTES // 3)
_BASE64: Final = re.compile(r"\A[A-Za-z0-9+/]+={0,2}\Z")
#: The signature algorithms cryptography's path validation never accepts (named early).
_EDWARDS_SIGNATURES: Final = frozenset({SignatureAlgorithmOID.ED25519,
                                        SignatureAlgorithmOID.ED448})
#: Curves whose keys cryptography's path validation accepts in CA certificates.
_CA_CURVES: Final = frozenset({"secp256r1", "secp384r1", "secp521r1"})
#: Why CA keys are limited (the end of a sentence).
_CA_KEY_RULE: Final = ("cryptography's X.509 path validation accepts certificates signed with "
                       "P-256, P-384, P-521 or RSA keys only (never Ed25519 or secp256k1)")
_IM_SCHEMES: Final = ("im", "mimi")


class CertificateError(TokenError):
    """An x5c chain vc_im does not accept; ``code`` is a stable failure code.

    ``malformed``: an x5c that is not a list of padded standard base64 DER certificates in
    chain order; ``too_large``: more than :data:`MAX_CHAIN_CERTIFICATES` certificates or one
    over :data:`MAX_CERTIFICATE_BYTES`; ``expired`` / ``not_yet_valid``: a certificate
    outside its validity at ``now``; ``untrusted_issuer``: no valid path to a configured
    root; ``bad_identifier``: a subjectAltName im:/mimi:// URI that is not a valid
    identifier, or none at all; ``bad_key``: a leaf key vc_im cannot verify with.
    """

    code = "untrusted_issuer"


@dataclass(frozen=True, slots=True)
class CertifiedKey:
    """What a validated chain certifies: a key, the identifiers it speaks for, and who says so."""

    #: The leaf's public key, with the one JWS alg that fits it.
    key: keys.Key
    #: The leaf's im: and mimi:// subjectAltName URIs, parsed (duplicates removed).
    identifiers: tuple[ImId, ...]
    #: The leaf's subject (RFC 4514).
    subject: str
    #: The subjects of the validated path, leaf first, root last (RFC 4514).
    chain: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CertificateInfo:
    """The fields of one certificate that ``vc-im x509 show`` prints."""

    subject: str
    issuer: str
    not_before: int
    not_after: int
    is_ca: bool
    #: The JWS alg of its key, or a short description when vc_im does not sign with it.
    key_type: str
    #: Every URI in its subjectAltName, as written.
    san_uris: tuple[str, ...]


# --------------------------------------------------------------------------------------
# Reading certificates
# --------------------------------------------------------------------------------------

def _read_certificates(data: bytes, what: str) -> tuple[x509.Certificate, ...]:
    """One or several PEM certificates, or one DER certificate; InputError otherwise."""
    if len(data) > MAX_PEM_BYTES:
        raise InputError(f"the {what} is larger than 1 MiB.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # cryptography warns about odd but parsable fields
            if b"-----BEGIN " in data:
                certificates = tuple(x509.load_pem_x509_certificates(data))
            else:
                certificates = (x509.load_der_x509_certificate(data),)
            for certificate in certificates:  # fields are decoded lazily: decode them now
                _ = (certificate.subject, certificate.issuer, certificate.extensions,
                     certificate.not_valid_before_utc, certificate.not_valid_after_utc,
                     certificate.serial_number)  # (an unknown key type is described, not read)
    except Exception as exc:  # any failure to decode a certificate file means it is unusable
        raise InputError(f"the {what} holds no readable PEM or DER X.509 certificate.") \
            from exc
    return certificates


def load_roots(pem_or_der: bytes) -> tuple[x509.Certificate, ...]:
    """CA roots to validate x5c chains against: one or several PEM certificates, or one DER.

    A certificate that cannot be a working root is a configuration error (``InputError``),
    reported now rather than as every chain failing later: one that is not a CA
    (basicConstraints CA:TRUE), or whose key cryptography's path validation refuses to
    verify certificates with (Ed25519, secp256k1 and other curves; see the module notes).
    """
    roots = _read_certificates(pem_or_der, "CA roots file")
    for root in roots:
        name = _subject(root)
        if not _is_ca(root):
            raise InputError(f"the CA root {_shown(name)} is not a CA certificate "
                             "(basicConstraints CA:TRUE).")
        if not _can_sign_certificates(root):
            raise InputError(f"the CA root {_shown(name)} cannot verify certificates: "
                             f"{_CA_KEY_RULE}.")
    return roots


def describe(pem_or_der: bytes) -> tuple[CertificateInfo, ...]:
    """The printable fields of each certificate in a PEM (or DER) file; InputError if none."""
    return tuple(_info(certificate)
                 for certificate in _read_certificates(pem_or_der, "certificate file"))


def _info(certificate: x509.Certificate) -> CertificateInfo:
    key_type: str
    try:
        key_type = _key_of(certificate).alg
    except CertificateError:
        try:
            public = certificate.public_key()
        except (UnsupportedAlgorithm, ValueError):
            key_type = "unknown"
        else:
            key_type = (f"EC {public.curve.name}" if isinstance(public, ec.EllipticCurvePublicKey)
                        else type(public).__name__.removesuffix("PublicKey") or "unknown")
        key_type += " (vc_im does not sign with it)"
    return CertificateInfo(
        subject=_subject(certificate), issuer=certificate.issuer.rfc4514_string(),
        not_before=int(certificate.not_valid_before_utc.timestamp()),
        not_after=int(certificate.not_valid_after_utc.timestamp()),
        is_ca=_is_ca(certificate), key_type=key_type,
        san_uris=tuple(_san_uris(certificate)))


def x5c_of(pem_chain: bytes) -> list[str]:
    """The x5c header value for PEM certificates (leaf first): padded standard base64 DER."""
    return [base64.b64encode(certificate.public_bytes(serialization.Encoding.DER))
            .decode("ascii")
            for certificate in _read_certificates(pem_chain, "certificate chain")]


# --------------------------------------------------------------------------------------
# Validating an x5c chain
# --------------------------------------------------------------------------------------

def verify_chain(x5c: Sequence[str], roots: Sequence[x509.Certificate], *,
                 now: int) -> CertifiedKey:
    """Validate an x5c header value against ``roots`` at ``now`` and say what it certifies.

    Raises :class:`CertificateError` with a stable code (see its docstring). The checks, in
    order: shape and size; DER; each certificate's validity at ``now``; no Ed25519- or
    Ed448-signed certificate (cryptography's path validation refuses them); path validation
    to one of ``roots`` (at most four intermediates); the x5c certificates must be the
    validated path's first certificates, in order (RFC 7515 §4.1.6); a leaf key usage, if
    present, allows digital signatures; the leaf's key is one vc_im verifies with; its
    subjectAltName holds at least one im: or mimi:// URI, each a valid identifier; and the
    domain of each lies within every CA's dNSName name constraints.
    """
    certificates = _decode_x5c(x5c)
    roles = ["leaf certificate", *(f"CA certificate x5c[{index}]"
                                   for index in range(1, len(certificates)))]
    _check_validity(certificates, roles, now)
    for index, certificate in enumerate(certificates):
        if certificate.signature_algorithm_oid in _EDWARDS_SIGNATURES:
            raise CertificateError(
                f"the {roles[index]} {_shown(_subject(certificate))} is signed with an "
                f"Edwards-curve key, but {_CA_KEY_RULE}.", code="untrusted_issuer")
    if not roots:
        raise CertificateError("no CA root is configured, so no x5c chain can be trusted.",
                               code="untrusted_issuer")
    leaf, intermediates = certificates[0], list(certificates[1:])
    verifier = (PolicyBuilder()
                .store(Store(list(roots)))
                .time(datetime.datetime.fromtimestamp(now, tz=datetime.UTC))
                .max_chain_depth(MAX_CHAIN_CERTIFICATES - 1)
                .extension_policies(ca_policy=ExtensionPolicy.webpki_defaults_ca(),
                                    ee_policy=_ee_policy())
                .build_client_verifier())
    try:
        path = verifier.verify(leaf, intermediates).chain
    except VerificationError as exc:
        _check_roots_validity(certificates, roots, now)
        raise CertificateError(
            f"the x5c chain does not lead to a configured CA root: "
            f"{_unsupported_constraints(certificates, roots) or _reason(exc)}",
            code="untrusted_issuer") from exc
    if len(path) < len(certificates) or any(
            path[index] != certificate for index, certificate in enumerate(certificates)):
        raise CertificateError("the x5c certificates are not a chain in order, each one "
                               "certifying the one before it (RFC 7515 section 4.1.6).",
                               code="malformed")
    _check_signing_usage(leaf)
    identifiers = _identifiers(leaf)
    for ca in path[1:]:
        _check_name_constraints(ca, identifiers)
    return CertifiedKey(key=_key_of(leaf), identifiers=identifiers,
                        subject=_subject(leaf), chain=tuple(_subject(c) for c in path))


def read_leaf(x5c: Sequence[str]) -> CertifiedKey:
    """What an x5c chain's leaf certifies, the chain NOT validated (no roots are needed).

    For an issuer checking its own chain before it signs; a verifier calls
    :func:`verify_chain`. Raises :class:`CertificateError` as that function does for an
    unreadable chain, a leaf key vc_im cannot verify with or SAN identifiers it refuses.
    """
    certificates = _decode_x5c(x5c)
    _check_signing_usage(certificates[0])
    return CertifiedKey(key=_key_of(certificates[0]), identifiers=_identifiers(certificates[0]),
                        subject=_subject(certificates[0]),
                        chain=tuple(_subject(c) for c in certificates))


def _decode_x5c(x5c: object) -> tuple[x509.Certificate, ...]:
    if isinstance(x5c, str | bytes) or not isinstance(x5c, Sequence):
        raise CertificateError("the x5c header is not an array of certificates.",
                               code="malformed")
    if not x5c:
        raise CertificateError("the x5c header holds no certificate.", code="malformed")
    if len(x5c) > MAX_CHAIN_CERTIFICATES:
        raise CertificateError(f"the x5c header holds {len(x5c)} certificates; vc_im accepts "
                               f"at most {MAX_CHAIN_CERTIFICATES}.", code="too_large")
    certificates = []
    for index, entry in enumerate(x5c):
        if not isinstance(entry, str):
            raise CertificateError(f"x5c entry {index} is not a string.", code="malformed")
        if len(entry) > _MAX_X5C_CHARS:
            raise CertificateError(f"x5c entry {index} is larger than "
                                   f"{MAX_CERTIFICATE_BYTES // 1024} KiB.", code="too_large")
        der = _strict_base64(entry)
        if der is None:
            raise CertificateError(f"x5c entry {index} is not padded standard base64 "
                                   "(RFC 7515 section 4.1.6).", code="malformed")
        if len(der) > MAX_CERTIFICATE_BYTES:
            raise CertificateError(f"x5c entry {index} is larger than "
                                   f"{MAX_CERTIFICATE_BYTES // 1024} KiB.", code="too_large")
        certificates.append(_load_der(der, index))
    return tuple(certificates)


def _load_der(der: bytes, index: int) -> x509.Certificate:
    """A certificate whose fields all decode: cryptography parses some of them lazily (the
    names, extensions and validity), so they are read here, where failure is ``malformed``."""
    try:
        with warnings.catch_warnings():
            # cryptography warns about odd but parsable fields (a negative serial number, a
            # short attribute); vc_im judges them itself or through the chain validation.
            warnings.simplefilter("ignore")
            certificate = x509.load_der_x509_certificate(der)
            _ = (certificate.subject, certificate.issuer, certificate.extensions,
                 certificate.not_valid_before_utc, certificate.not_valid_after_utc,
                 certificate.public_key())
            positive = certificate.serial_number > 0  # RFC 5280 section 4.1.2.2
    except Exception as exc:  # any failure to decode hostile DER means it is malformed
        raise CertificateError(f"x5c entry {index} is not a well-formed DER X.509 "
                               "certificate.", code="malformed") from exc
    if not positive:
        raise CertificateError(f"x5c entry {index} is not a well-formed DER X.509 certificate: "
                               "its serial number is not positive.", code="malformed")
    return certificate


def _strict_base64(text: str) -> bytes | None:
    """Padded standard base64 with one spelling (no whitespace, zero padding bits)."""
    if len(text) % 4 or _BASE64.match(text) is None:
        return None
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
    return data if base64.b64encode(data).decode("ascii") == text else None


def _check_validity(certificates: Sequence[x509.Certificate], roles: Sequence[str],
                    now: int) -> None:
    for certificate, role in zip(certificates, roles, strict=True):
        not_before = int(certificate.not_valid_before_utc.timestamp())
        not_after = int(certificate.not_valid_after_utc.timestamp())
        name = _shown(_subject(certificate))
        if now < not_before:
            raise CertificateError(f"the {role} {name} is not valid before "
                                   f"{seconds_to_rfc3339(not_before)}.", code="not_yet_valid")
        if now > not_after:
            raise CertificateError(f"the {role} {name} expired at "
                                   f"{seconds_to_rfc3339(not_after)}.", code="expired")


def _check_roots_validity(certificates: Sequence[x509.Certificate],
                          roots: Sequence[x509.Certificate], now: int) -> None:
    """After a failed validation: name a root that issued part of the chain but is out of date."""
    issuers = {certificate.issuer for certificate in certificates}
    relevant = [root for root in roots if root.subject in issuers]
    _check_validity(relevant, ["CA root"] * len(relevant), now)


def _reason(exc: VerificationError) -> str:
    """cryptography's reason, as one clause without certificate dumps."""
    text = str(exc)
    text = re.sub(r" \(encountered processing <Certificate.*\Z", "", text, flags=re.DOTALL)
    text = text.removeprefix("validation failed: ").removeprefix("candidates exhausted: ")
    if "Forbidden public key algorithm" in text or "Forbidden signature algorithm" in text:
        return f"a CA key is of a type it refuses: {_CA_KEY_RULE}."
    if "signature does not match" in text:
        return "a certificate's signature does not verify under its issuer's key."
    if "no interior errors" in text:
        return "no configured CA root issued the chain, directly or through its x5c CAs."
    if "exceeds max depth" in text:
        return (f"the path has more than {MAX_CHAIN_CERTIFICATES - 1} intermediate CA "
                "certificates.")
    text = text.encode("ascii", "backslashreplace").decode("ascii").rstrip(".")
    return (text if len(text) <= 200 else text[:197] + "...") + "."


def _name_constraints(certificate: x509.Certificate) -> x509.NameConstraints | None:
    try:
        return certificate.extensions.get_extension_for_class(x509.NameConstraints).value
    except x509.ExtensionNotFound:
        return None


def _dns_subtrees(subtrees: Sequence[x509.GeneralName] | None) -> tuple[str, ...]:
    """The dNSName subtrees among ``subtrees``, lower-case, without a final dot."""
    return tuple(name.value.lower().removesuffix(".") for name in subtrees or ()
                 if isinstance(name, x509.DNSName))


def _within(domain: str, subtree: str) -> bool:
    """RFC 5280 §4.2.1.10 for dNSName: the subtree's name with zero or more labels added on
    the left (a leading dot, as some CAs write it, admits only the names below)."""
    if not subtree:
        return True
    if subtree.startswith("."):
        return domain.endswith(subtree)
    return domain == subtree or domain.endswith("." + subtree)


def _check_name_constraints(ca: x509.Certificate, identifiers: Sequence[ImId]) -> None:
    """Each identifier's domain lies in one of the CA's permitted dNSName subtrees (when it
    has any) and in none of its excluded ones."""
    constraints = _name_constraints(ca)
    if constraints is None:
        return
    permitted = _dns_subtrees(constraints.permitted_subtrees)
    excluded = _dns_subtrees(constraints.excluded_subtrees)
    for identifier in identifiers:
        domain = identifier.domain
        if permitted and not any(_within(domain, subtree) for subtree in permitted):
            raise CertificateError(
                f"the CA certificate {_shown(_subject(ca))} permits only names in "
                f"{', '.join(permitted)} (name constraints), and the leaf certifies "
                f"{identifier} in {domain}.", code="untrusted_issuer")
        barred = next((subtree for subtree in excluded if _within(domain, subtree)), None)
        if barred is not None:
            raise CertificateError(
                f"the CA certificate {_shown(_subject(ca))} excludes names in {barred} (name "
                f"constraints), and the leaf certifies {identifier} in "
                f"{domain}.", code="untrusted_issuer")


#: The name forms whose constraints cryptography's path validation applies.
_SUPPORTED_CONSTRAINTS: Final = (x509.DNSName, x509.IPAddress)
_FORM_NAMES: Final[dict[type[x509.GeneralName], str]] = {
    x509.UniformResourceIdentifier: "URI", x509.RFC822Name: "email",
    x509.DirectoryName: "directory name", x509.OtherName: "other name",
    x509.RegisteredID: "registered ID"}


def _unsupported_constraints(certificates: Sequence[x509.Certificate],
                             roots: Sequence[x509.Certificate]) -> str | None:
    """After a failed validation: name a CA whose name constraints have a form
    cryptography refuses (it fails the whole chain with "unsupported name constraint")."""
    for ca in (*certificates[1:], *roots):
        constraints = _name_constraints(ca)
        if constraints is None:
            continue
        forms = sorted({_FORM_NAMES.get(type(name), type(name).__name__)
                        for name in (*(constraints.permitted_subtrees or ()),
                                     *(constraints.excluded_subtrees or ()))
                        if not isinstance(name, _SUPPORTED_CONSTRAINTS)})
        if forms:
            return (f"the CA certificate {_shown(_subject(ca))} has name constraints of a form "
                    f"cryptography's path validation refuses ({', '.join(forms)}); constrain "
                    "the IM identifiers' domains with dNSName subtrees instead.")
    return None


def _ee_policy() -> ExtensionPolicy:
    """The web PKI end-entity policy, with the seed's critical subjectAltName allowed."""
    return ExtensionPolicy.webpki_defaults_ee().require_present(
        x509.SubjectAlternativeName, Criticality.AGNOSTIC, _san_criticality)


def _san_criticality(_policy: Policy, certificate: x509.Certificate,
                     _san: x509.SubjectAlternativeName) -> None:
    """RFC 5280 §4.2.1.6: with an empty subject, the subjectAltName MUST be critical."""
    extension = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    if len(certificate.subject) == 0 and not extension.critical:
        raise ValueError("subjectAltName MUST be critical when the subject is empty")


def _check_signing_usage(leaf: x509.Certificate) -> None:
    try:
        usage = leaf.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return
    if not usage.digital_signature:
        raise CertificateError(f"the leaf certificate {_shown(_subject(leaf))} does not allow "
                               "its key to make digital signatures (key usage).",
                               code="bad_key")


def _key_of(certificate: x509.Certificate) -> keys.Key:
    """The certificate's public key as a vc_im Key (through its SubjectPublicKeyInfo)."""
    try:
        spki = certificate.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        return keys.load_key(spki, require="public")
    except (KeyFileError, ValueError, TypeError, UnsupportedAlgorithm) as exc:
        detail = exc.message if isinstance(exc, KeyFileError) else "its type is not supported."
        raise CertificateError(f"the certificate {_shown(_subject(certificate))} holds a key "
                               f"vc_im cannot verify with: {detail}", code="bad_key") from exc


def _identifiers(leaf: x509.Certificate) -> tuple[ImId, ...]:
    found: list[ImId] = []
    for uri in _san_uris(leaf):
        if uri.partition(":")[0].lower() not in _IM_SCHEMES:
            continue
        try:
            identifier = parse(uri)
        except IdentifierError as exc:
            raise CertificateError(f"the leaf certificate's subjectAltName URI {_shown(uri)} "
                                   f"is not a valid identifier: {exc.message}",
                                   code="bad_identifier") from exc
        if identifier not in found:
            found.append(identifier)
    if not found:
        raise CertificateError(f"the leaf certificate {_shown(_subject(leaf))} names no im: or "
                               "mimi:// identifier in its subjectAltName.",
                               code="bad_identifier")
    return tuple(found)


def _san_uris(certificate: x509.Certificate) -> list[str]:
    try:
        san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return []
    return list(san.value.get_values_for_type(x509.UniformResourceIdentifier))


# --------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------

def _is_ca(certificate: x509.Certificate) -> bool:
    try:
        return certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        return False


def _can_sign_certificates(certificate: x509.Certificate) -> bool:
    """Whether cryptography's path validation verifies certificates with this one's key."""
    try:
        public = certificate.public_key()
    except UnsupportedAlgorithm:
        return False
    if isinstance(public, rsa.RSAPublicKey):
        return public.key_size >= keys.MIN_RSA_BITS
    return isinstance(public, ec.EllipticCurvePublicKey) and public.curve.name in _CA_CURVES


def _subject(certificate: x509.Certificate) -> str:
    return certificate.subject.rfc4514_string()


def _shown(text: str, limit: int = 80) -> str:
    """A short, printable rendering of an untrusted value for a message."""
    text = text.encode("ascii", "backslashreplace").decode("ascii")
    return repr(text) if len(text) <= limit else repr(text[: limit - 3] + "...")
