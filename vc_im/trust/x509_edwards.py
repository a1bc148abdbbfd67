"""Path validation for Edwards-curve-signed certificate chains, through pyhanko-certvalidator.

cryptography's X.509 verifier follows the web PKI profile, which forbids Ed25519 and Ed448
signatures; the draft's own mock-up client certificate is Ed25519-signed. For chains where
any certificate carries an Ed25519 or Ed448 signature, vc_im validates the path with
pyhanko-certvalidator (a maintained RFC 5280 implementation) instead: signatures, validity
at ``now``, basicConstraints and path length, key usage keyCertSign on CAs, name
constraints, unknown critical extensions. Nothing is fetched: no OCSP, CRL or AIA look-up
(``allow_fetching`` off, revocation soft-fail with no revocation data).

This is the only module that imports pyhanko-certvalidator (and asn1crypto); its
exceptions, whatever they are, become :class:`CertificateError` ``untrusted_issuer``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import datetime
from collections.abc import Coroutine, Sequence
from typing import Any, TypeVar

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from vc_im.trust.x509_names import CertificateError, is_ca, shown, subject_text

__all__ = ["validate_edwards_path"]

_T = TypeVar("_T")


def _run(coroutine: Coroutine[Any, Any, _T]) -> _T:
    """Run a coroutine to completion, also from a thread where an event loop is running."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def validate_edwards_path(leaf: x509.Certificate, intermediates: Sequence[x509.Certificate],
                          roots: Sequence[x509.Certificate], *, now: int,
                          max_intermediates: int) -> tuple[x509.Certificate, ...]:
    """The validated path, leaf first and root last, for a client certificate ``leaf``.

    The leaf must not be a CA; an extended key usage, when present, must list clientAuth;
    with an empty subject its subjectAltName must be critical (RFC 5280 §4.2.1.6), as
    vc_im's cryptography policy requires too.
    """
    from asn1crypto import x509 as asn1_x509
    from pyhanko_certvalidator import CertificateValidator, ValidationContext

    if is_ca(leaf):
        raise CertificateError(f"the leaf certificate {shown(subject_text(leaf))} is a CA "
                               "certificate, not a client certificate.",
                               code="untrusted_issuer")
    try:
        san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        san = None
    if len(leaf.subject) == 0 and (san is None or not san.critical):
        raise CertificateError("the leaf certificate has an empty subject, so its "
                               "subjectAltName MUST be critical (RFC 5280 section 4.2.1.6).",
                               code="untrusted_issuer")

    def der(certificate: x509.Certificate) -> bytes:
        return certificate.public_bytes(serialization.Encoding.DER)

    by_der = {der(certificate): certificate for certificate in (leaf, *intermediates, *roots)}

    async def validate() -> Any:  # pyhanko's ValidationPath
        context = ValidationContext(
            trust_roots=[asn1_x509.Certificate.load(der(root)) for root in roots],
            moment=datetime.datetime.fromtimestamp(now, tz=datetime.UTC),
            allow_fetching=False, revocation_mode="soft-fail")
        validator = CertificateValidator(
            asn1_x509.Certificate.load(der(leaf)),
            [asn1_x509.Certificate.load(der(certificate)) for certificate in intermediates],
            validation_context=context)
        return await validator.async_validate_usage(  # type: ignore[no-untyped-call]
            set(), {"client_auth"}, extended_optional=True)

    try:
        path = _run(validate())
        chain = tuple(by_der[certificate.dump()] for certificate in path)
    except Exception as exc:  # pyhanko raises its own errors, and asserts on odd keys
        raise CertificateError(_reason(exc), code="untrusted_issuer") from exc
    if len(chain) - 2 > max_intermediates:
        raise CertificateError(f"the path has more than {max_intermediates} intermediate CA "
                               "certificates.", code="untrusted_issuer")
    return tuple(reversed(chain))


def _reason(exc: Exception) -> str:
    """pyhanko's reason, as one clause (its own wording), or a generic one."""
    from cryptography.exceptions import InvalidSignature
    from pyhanko_certvalidator import errors

    if isinstance(exc, errors.PathBuildingError):
        return "no configured CA root issued the chain, directly or through its CAs."
    if isinstance(exc, InvalidSignature | AssertionError):
        return "a certificate's signature does not verify under its issuer's key."
    text = str(exc).encode("ascii", "backslashreplace").decode("ascii").strip().rstrip(".")
    if not text:
        return "the path validation failed."
    text = text[:1].lower() + text[1:]
    return (text if len(text) <= 200 else text[:197] + "...") + "."
