"""What a certificate path says about IM identifiers, and the rules on those names.

Three rules apply to a validated path (leaf first, root last), whichever library validated
its signatures:

* **Identifiers.** The leaf's subjectAltName holds at least one ``im:`` or ``mimi://`` URI,
  and each is a valid identifier.
* **DNS subtrees.** cryptography applies a CA's name constraints to DNS and IP names only
  (and refuses URI-form constraints outright), so nothing would confine the IM URIs a
  sub-CA certifies. vc_im applies each CA's dNSName subtrees (RFC 5280 §4.2.1.10: a
  subtree is a domain and every name below it, label by label) to the domain of every IM
  identifier certified below that CA: each must lie in one of its permitted subtrees, when
  it has any, and in none of its excluded ones.
* **The cascade** (the draft's §4.1 "cascading certs" and §5.1): a *user certificate* is a
  CA certificate whose subjectAltName names a user or handle. It may issue device
  certificates only: it must directly issue the leaf (never another CA), every identifier
  the leaf certifies must be a device whose user the user certificate names (so the same
  domain), and the leaf must name its issuer as an ``im:``/``mimi://`` URI in
  ``issuerAltName`` equal to one of the user certificate's subjectAltName identifiers.
  Whatever the issuer, an IM URI in a leaf's ``issuerAltName`` must be one of its issuer's
  subjectAltName identifiers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from cryptography import x509

from vc_im.errors import TokenError
from vc_im.identifiers import IdentifierError, IdType, ImId, parse

__all__ = [
    "CertificateError",
    "check_names",
    "identifiers_of",
    "issuer_identifiers",
    "san_uris",
    "user_identifiers",
]

_IM_SCHEMES: Final = ("im", "mimi")


class CertificateError(TokenError):
    """A certificate chain vc_im does not accept; ``code`` is a stable failure code.

    ``malformed``: an x5c that is not a list of padded standard base64 DER certificates in
    chain order, or a chain file that is not PEM or DER certificates; ``too_large``: too many
    certificates or one too large; ``expired`` / ``not_yet_valid``: a certificate outside its
    validity at ``now``; ``untrusted_issuer``: no valid path to a configured root, or a name
    rule broken (name constraints, the cascade); ``bad_identifier``: a subjectAltName
    im:/mimi:// URI that is not a valid identifier, or none at all; ``bad_key``: a leaf key
    vc_im cannot verify with, or a leaf whose key usage forbids signing.
    """

    code = "untrusted_issuer"


def subject_text(certificate: x509.Certificate) -> str:
    """The certificate's subject (RFC 4514)."""
    return certificate.subject.rfc4514_string()


def shown(text: str, limit: int = 80) -> str:
    """A short, printable rendering of an untrusted value for a message."""
    text = text.encode("ascii", "backslashreplace").decode("ascii")
    return repr(text) if len(text) <= limit else repr(text[: limit - 3] + "...")


def is_ca(certificate: x509.Certificate) -> bool:
    """Whether basicConstraints says CA:TRUE."""
    try:
        return certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        return False


def san_uris(certificate: x509.Certificate) -> list[str]:
    """Every URI in the certificate's subjectAltName, as written."""
    try:
        san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return []
    return list(san.value.get_values_for_type(x509.UniformResourceIdentifier))


def _ian_uris(certificate: x509.Certificate) -> list[str]:
    try:
        ian = certificate.extensions.get_extension_for_class(x509.IssuerAlternativeName)
    except x509.ExtensionNotFound:
        return []
    return list(ian.value.get_values_for_type(x509.UniformResourceIdentifier))


def _parsed(uris: Sequence[str], where: str) -> tuple[ImId, ...]:
    """The im: and mimi:// URIs among ``uris``, parsed (duplicates removed)."""
    found: list[ImId] = []
    for uri in uris:
        if uri.partition(":")[0].lower() not in _IM_SCHEMES:
            continue
        try:
            identifier = parse(uri)
        except IdentifierError as exc:
            raise CertificateError(f"{where} URI {shown(uri)} is not a valid identifier: "
                                   f"{exc.message}", code="bad_identifier") from exc
        if identifier not in found:
            found.append(identifier)
    return tuple(found)


def identifiers_of(leaf: x509.Certificate) -> tuple[ImId, ...]:
    """The leaf's subjectAltName identifiers; at least one, each valid."""
    found = _parsed(san_uris(leaf), "the leaf certificate's subjectAltName")
    if not found:
        raise CertificateError(f"the leaf certificate {shown(subject_text(leaf))} names no im: "
                               "or mimi:// identifier in its subjectAltName.",
                               code="bad_identifier")
    return found


def user_identifiers(ca: x509.Certificate) -> tuple[ImId, ...]:
    """The users and handles a CA certificate's subjectAltName names: a user certificate's
    (empty for any other CA)."""
    where = f"the CA certificate {shown(subject_text(ca))}'s subjectAltName"
    return tuple(identifier for identifier in _parsed(san_uris(ca), where)
                 if identifier.type in (IdType.USER, IdType.HANDLE))


def issuer_identifiers(certificate: x509.Certificate) -> tuple[ImId, ...]:
    """The im: and mimi:// URIs of the certificate's issuerAltName, parsed."""
    return _parsed(_ian_uris(certificate), "the issuerAltName")


def check_names(path: Sequence[x509.Certificate], identifiers: Sequence[ImId]) -> None:
    """Apply the DNS-subtree and cascade rules to a validated ``path`` (leaf first) whose
    leaf certifies ``identifiers``; :class:`CertificateError` (``untrusted_issuer``) when
    one is broken."""
    leaf = path[0]
    for index, ca in enumerate(path[1:], start=1):
        users = user_identifiers(ca)
        if users and index != 1:
            raise CertificateError(
                f"the user certificate {shown(subject_text(ca))} may issue device "
                f"certificates only, and it issued the CA certificate "
                f"{shown(subject_text(path[index - 1]))}.", code="untrusted_issuer")
        below = [*identifiers, *(user for certificate in path[1:index]
                                 for user in user_identifiers(certificate))]
        _check_name_constraints(ca, below)
    if len(path) > 1:
        check_cascade(path[1], issuer_identifiers(leaf), identifiers)


def check_cascade(issuer: x509.Certificate, claimed: Sequence[ImId],
                  identifiers: Sequence[ImId]) -> None:
    """A leaf whose issuerAltName names ``claimed`` and which certifies ``identifiers`` may
    come from ``issuer``: the names are the issuer's, and a user certificate issues only for
    its own devices (see the module notes)."""
    issuer_names = _parsed(san_uris(issuer), f"the CA certificate "
                                             f"{shown(subject_text(issuer))}'s subjectAltName")
    for name in claimed:
        if name not in issuer_names:
            held = ", ".join(map(str, issuer_names)) or "no IM identifier"
            raise CertificateError(
                f"the leaf's issuerAltName names {name}, but its issuer "
                f"{shown(subject_text(issuer))} certifies {held} in its subjectAltName.",
                code="untrusted_issuer")
    users = tuple(name for name in issuer_names if name.type in (IdType.USER, IdType.HANDLE))
    if not users:
        return
    owners = ", ".join(map(str, users))
    if not claimed:
        raise CertificateError(
            f"the leaf was issued by the user certificate for {owners}, but names no issuer "
            "URI in its issuerAltName to link it to that user.", code="untrusted_issuer")
    for identifier in identifiers:
        owner = identifier.owner() if identifier.type is IdType.DEVICE else None
        if owner is None or owner not in users:
            what = ("a device of another user" if owner is not None
                    else f"a {identifier.type.value}" if identifier.type is not IdType.DEVICE
                    else "a device that names no user")
            raise CertificateError(
                f"the user certificate for {owners} may issue certificates only for its own "
                f"devices, and the leaf certifies {identifier}, {what}.",
                code="untrusted_issuer")


# --------------------------------------------------------------------------------------
# dNSName name constraints
# --------------------------------------------------------------------------------------

def name_constraints(certificate: x509.Certificate) -> x509.NameConstraints | None:
    """The certificate's name constraints, if it has any."""
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
    constraints = name_constraints(ca)
    if constraints is None:
        return
    permitted = _dns_subtrees(constraints.permitted_subtrees)
    excluded = _dns_subtrees(constraints.excluded_subtrees)
    for identifier in identifiers:
        domain = identifier.domain
        if permitted and not any(_within(domain, subtree) for subtree in permitted):
            raise CertificateError(
                f"the CA certificate {shown(subject_text(ca))} permits only names in "
                f"{', '.join(permitted)} (name constraints), and the leaf certifies "
                f"{identifier} in {domain}.", code="untrusted_issuer")
        barred = next((subtree for subtree in excluded if _within(domain, subtree)), None)
        if barred is not None:
            raise CertificateError(
                f"the CA certificate {shown(subject_text(ca))} excludes names in {barred} (name "
                f"constraints), and the leaf certifies {identifier} in "
                f"{domain}.", code="untrusted_issuer")
