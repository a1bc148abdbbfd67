"""A client certificate chain judged on its own (``vc-im x509 verify``), as MLS carries it.

MLS puts X.509 credentials directly in LeafNodes and KeyPackages, so a verifier must judge a
client's chain without a JWT around it. The steps are those of an ``x5c`` chain
(:func:`vc_im.trust.x509.verify_chain`), reported one by one like a credential's checks:

``format`` (one to five PEM or DER certificates, leaf first, each at most 16 KiB),
``validity`` (each certificate at ``now``), ``path`` (to one of the roots, by cryptography
or, for Edwards-signed chains, pyhanko-certvalidator), ``usage`` (a leaf key usage allows
signatures), ``names`` (the leaf's IM identifiers; dNSName subtrees; the cascade rule) and
``identifier`` (the chain certifies the identifier asked about, when one is). A
:class:`~vc_im.trust.x509.CertificateError` fails its step with the error's stable code.

The leaf's key need not be one vc_im signs with: an MLS client may use any key its cipher
suite allows, so it is described, not loaded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from vc_im.errors import InputError
from vc_im.identifiers import ImId
from vc_im.report import CheckFailed, Report, run_checks
from vc_im.trust.x509 import (
    MAX_CERTIFICATE_BYTES,
    MAX_CHAIN_CERTIFICATES,
    MAX_PEM_BYTES,
    certified_identifiers,
    check_signing_usage,
    check_validity,
    describe,
    validate_path,
)
from vc_im.trust.x509 import _read_certificates as read_certificates
from vc_im.trust.x509_names import subject_text

__all__ = ["CertifiedChain", "verify_certificate_chain"]


@dataclass(frozen=True, slots=True)
class CertifiedChain:
    """What a valid chain vouches for: the leaf's identifiers, its key, and the path."""

    #: The leaf's im: and mimi:// subjectAltName identifiers, each with its type.
    identifiers: tuple[ImId, ...]
    #: The leaf's key: its JWS alg, or a description when vc_im does not sign with it.
    key_type: str
    #: The subjects of the validated path, leaf first, root last (RFC 4514).
    chain: tuple[str, ...]


@dataclass(slots=True)
class _State:
    data: bytes
    roots: Sequence[x509.Certificate]
    now: int
    identifier: ImId | None
    certificates: tuple[x509.Certificate, ...] = ()
    path: tuple[x509.Certificate, ...] = ()
    identifiers: tuple[ImId, ...] = field(default_factory=tuple)


def _format(state: _State) -> str:
    if len(state.data) > MAX_PEM_BYTES:
        raise CheckFailed("too_large", "the certificate chain is larger than 1 MiB")
    try:
        certificates = read_certificates(state.data, "certificate chain")
    except InputError as exc:
        raise CheckFailed("malformed", exc.message) from exc
    if len(certificates) > MAX_CHAIN_CERTIFICATES:
        raise CheckFailed("too_large", f"the chain holds {len(certificates)} certificates; "
                          f"vc_im accepts at most {MAX_CHAIN_CERTIFICATES}")
    for index, certificate in enumerate(certificates, start=1):
        if len(certificate.public_bytes(Encoding.DER)) > MAX_CERTIFICATE_BYTES:
            raise CheckFailed("too_large", f"certificate {index} of the chain is larger than "
                              f"{MAX_CERTIFICATE_BYTES // 1024} KiB")
        if certificate.serial_number <= 0:  # RFC 5280 section 4.1.2.2
            raise CheckFailed("malformed", f"certificate {index} of the chain has a serial "
                              "number that is not positive")
    state.certificates = certificates
    return f"{len(certificates)} certificate(s), leaf first"


def _validity(state: _State) -> str:
    check_validity(state.certificates, state.now, x5c=False)  # a CertificateError fails it
    return "every certificate is valid now"


def _path(state: _State) -> str:
    state.path = validate_path(state.certificates, state.roots, now=state.now, x5c=False)
    *below, root = map(subject_text, state.path)
    cas = below[1:]
    return f"leads to the configured root {root}" + (
        f" through {'; '.join(cas)}" if cas else "")


def _usage(state: _State) -> str:
    check_signing_usage(state.path[0])
    return "the leaf's key may sign"


def _names(state: _State) -> str:
    state.identifiers = certified_identifiers(state.path)
    return "certifies " + ", ".join(f"{identifier.type.value} {identifier}"
                                    for identifier in state.identifiers)


def _identifier(state: _State) -> str:
    wanted = state.identifier
    if wanted is None:
        return "no identifier asked about"
    if wanted not in state.identifiers:
        raise CheckFailed("claim_mismatch", f"the chain does not certify {wanted}; it "
                          f"certifies {', '.join(map(str, state.identifiers))}")
    return f"certifies {wanted} as a {wanted.type.value}"


_STEPS = (("format", _format), ("validity", _validity), ("path", _path), ("usage", _usage),
          ("names", _names), ("identifier", _identifier))


def verify_certificate_chain(data: bytes, roots: Sequence[x509.Certificate], *, now: int,
                             identifier: ImId | None = None,
                             ) -> tuple[Report, CertifiedChain | None]:
    """Judge a PEM (or DER) client certificate chain against ``roots`` at ``now``.

    Returns the report of every check and, when it is valid, what the chain certifies;
    never raises for a bad chain. ``identifier``, when given, must be one the leaf
    certifies (compared as identifiers, so any spelling of it will do).
    """
    state = _State(data, roots, now, identifier)
    report = Report("certificate", run_checks(_STEPS, state))
    if not report.ok:
        return report, None
    (leaf_info,) = describe(state.path[0].public_bytes(Encoding.DER))
    return report, CertifiedChain(state.identifiers, leaf_info.key_type,
                                  tuple(map(subject_text, state.path)))
