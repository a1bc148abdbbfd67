"""Re-create draft-mahy-mimi-identity's mock-up certificates (Figures 3 and 4) as PEM files.

Run from the repository root: ``python tests/vectors/x509-mockup/make_vectors.py``. Every
key is Ed25519, derived from a fixed seed, and Ed25519 signatures are deterministic, so the
output is the same byte for byte on every run (a test checks that the files are exactly
what this script makes).

* ``ca.pem``: the issuer of Figure 3, ``O = example.com, CN = acme.example.com``, as a
  self-signed root.
* ``figure3-leaf.pem``: Figure 3 of -00 field by field (serial number, validity, subject,
  key usage, extended key usage, basic constraints, authority information access, the
  critical subjectAltName ``im:SvPfLlwBQi-6oddVRrkqpw/04c7@example.com`` and
  ``im:%40alice.smith@example.com``); ``figure3-leaf-mimi.pem``: the same with the -03
  subjectAltName (``mimi://example.com/d/SvPfLlwBQi-6oddVRrkqpw/04c7``,
  ``mimi://example.com/u/alice.smith``).
* Figure 4 ("TBC" in the draft), the cascade: ``figure4-user.pem``, issued by the domain
  for Alice (a CA confined to example.com, path length 0, subjectAltName her handle and
  her user id, whose device the phone is); ``figure4-device.pem``, issued by the user
  certificate for the device URI, with the handle URI in ``issuerAltName``.
* Refusals: ``figure4-device-wrong-ian.pem`` (its issuerAltName names Bob, not Alice);
  ``bob-user.pem`` and ``bob-issues-alice-device.pem`` (Bob's user certificate issuing a
  certificate for Alice's device, with Bob's URI in issuerAltName).
"""

from __future__ import annotations

import datetime
import hashlib
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, NameOID

HERE = Path(__file__).resolve().parent
UTC = datetime.UTC
NOT_BEFORE = datetime.datetime(2022, 7, 6, 6, 41, 50, tzinfo=UTC)
NOT_AFTER = datetime.datetime(2022, 10, 4, 6, 41, 49, tzinfo=UTC)
SERIAL = 0x04DC7A4B89229832351F9184F7E94E5D24C4
DEVICE = "im:SvPfLlwBQi-6oddVRrkqpw/04c7@example.com"
HANDLE = "im:%40alice.smith@example.com"
USER = "im:SvPfLlwBQi-6oddVRrkqpw@example.com"
BOB = "im:%40bob@example.com"


def key(name: str) -> ed25519.Ed25519PrivateKey:
    """A fixed Ed25519 key per role."""
    seed = hashlib.sha256(f"vc_im x509 mock-up: {name}".encode()).digest()
    return ed25519.Ed25519PrivateKey.from_private_bytes(seed)


def name(common: str, organization: str | None = "example.com") -> x509.Name:
    attributes = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization)] if (
        organization) else []
    return x509.Name([*attributes, x509.NameAttribute(NameOID.COMMON_NAME, common)])


def serial(label: str) -> int:
    return int.from_bytes(hashlib.sha256(label.encode()).digest()[:16], "big") >> 1 | 1


def usage(*, signing: bool, agreement: bool = False, ca: bool = False) -> x509.KeyUsage:
    return x509.KeyUsage(digital_signature=signing, content_commitment=False,
                         key_encipherment=False, data_encipherment=False,
                         key_agreement=agreement, key_cert_sign=ca, crl_sign=ca,
                         encipher_only=False, decipher_only=False)


def uris(*values: str) -> list[x509.GeneralName]:
    return [x509.UniformResourceIdentifier(value) for value in values]


def pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


def ca_certificate(label: str, subject: x509.Name, issuer: x509.Name,
                   issuer_key: ed25519.Ed25519PrivateKey, *, users: tuple[str, ...] = (),
                   not_before: datetime.datetime, not_after: datetime.datetime,
                   ) -> x509.Certificate:
    public = key(label).public_key()
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer)
               .public_key(public).serial_number(serial(label))
               .not_valid_before(not_before).not_valid_after(not_after)
               .add_extension(x509.BasicConstraints(ca=True, path_length=0 if users else None),
                              critical=True)
               .add_extension(usage(signing=bool(users), ca=True), critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(public),
                              critical=False))
    if users:
        builder = (builder
                   .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                       issuer_key.public_key()), critical=False)
                   .add_extension(x509.SubjectAlternativeName(uris(*users)), critical=False)
                   .add_extension(x509.NameConstraints(
                       permitted_subtrees=[x509.DNSName("example.com")],
                       excluded_subtrees=None), critical=True))
    return builder.sign(issuer_key, None)


def leaf_certificate(label: str, subject: x509.Name, issuer: x509.Certificate,
                     issuer_key: ed25519.Ed25519PrivateKey, sans: tuple[str, ...], *,
                     serial_number: int | None = None, ian: tuple[str, ...] = (),
                     access: bool = False) -> x509.Certificate:
    public = key(label).public_key()
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer.subject)
               .public_key(public)
               .serial_number(serial_number if serial_number is not None else serial(label))
               .not_valid_before(NOT_BEFORE).not_valid_after(NOT_AFTER)
               .add_extension(usage(signing=True, agreement=True), critical=True)
               .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]),
                              critical=False)
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                   issuer_key.public_key()), critical=False))
    if access:
        builder = builder.add_extension(x509.AuthorityInformationAccess([
            x509.AccessDescription(AuthorityInformationAccessOID.OCSP,
                                   x509.UniformResourceIdentifier("http://oscp.acme.example.com")),
            x509.AccessDescription(AuthorityInformationAccessOID.CA_ISSUERS,
                                   x509.UniformResourceIdentifier("http://acme.example.com/")),
        ]), critical=False)
    builder = builder.add_extension(x509.SubjectAlternativeName(uris(*sans)), critical=True)
    if ian:
        builder = builder.add_extension(x509.IssuerAlternativeName(uris(*ian)), critical=False)
    return builder.sign(issuer_key, None)


def vectors() -> dict[str, bytes]:
    """Every file this script writes, by name."""
    ca_name = name("acme.example.com")
    ca_key = key("ca")
    ca = ca_certificate("ca", ca_name, ca_name, ca_key,
                        not_before=datetime.datetime(2022, 1, 1, tzinfo=UTC),
                        not_after=datetime.datetime(2031, 12, 31, 23, 59, 59, tzinfo=UTC))
    alice_name = name("Alice M. Smith")
    user_window = {"not_before": NOT_BEFORE,
                   "not_after": datetime.datetime(2023, 7, 6, 6, 41, 49, tzinfo=UTC)}
    user = ca_certificate("alice-user", alice_name, ca_name, ca_key, users=(HANDLE, USER),
                          **user_window)
    bob = ca_certificate("bob-user", name("Bob"), ca_name, ca_key, users=(BOB,), **user_window)
    return {
        "ca.pem": pem(ca),
        "figure3-leaf.pem": pem(leaf_certificate(
            "figure3", alice_name, ca, ca_key, (DEVICE, HANDLE), serial_number=SERIAL,
            access=True)),
        "figure3-leaf-mimi.pem": pem(leaf_certificate(
            "figure3", alice_name, ca, ca_key,
            ("mimi://example.com/d/SvPfLlwBQi-6oddVRrkqpw/04c7",
             "mimi://example.com/u/alice.smith"), serial_number=SERIAL, access=True)),
        "figure4-user.pem": pem(user),
        "figure4-device.pem": pem(leaf_certificate(
            "figure4-device", name("Alice's phone"), user, key("alice-user"), (DEVICE,),
            ian=(HANDLE,))),
        "figure4-device-wrong-ian.pem": pem(leaf_certificate(
            "figure4-device", name("Alice's phone"), user, key("alice-user"), (DEVICE,),
            ian=(BOB,))),
        "bob-user.pem": pem(bob),
        "bob-issues-alice-device.pem": pem(leaf_certificate(
            "bob-device", name("Alice's phone"), bob, key("bob-user"), (DEVICE,),
            ian=(BOB,))),
    }


def main() -> None:
    for file_name, data in vectors().items():
        (HERE / file_name).write_bytes(data)


if __name__ == "__main__":
    main()
