"""The draft's mock-up certificates (tests/vectors/x509-mockup) and the cascade rule:
Ed25519-signed chains validate, and a user certificate issues only its own devices'
certificates, linked by issuerAltName."""

from __future__ import annotations

import importlib.util

import pytest
from cryptography import x509
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.helpers.trust_models import block_network
from tests.helpers.vectors import VECTORS, vector_path
from vc_im import keys
from vc_im.errors import InputError
from vc_im.identifiers import parse
from vc_im.report import Code, Status
from vc_im.trust.x509 import CertificateError, load_roots, verify_chain, x5c_of
from vc_im.trust.x509_chain import verify_certificate_chain
from vc_im.trust.x509_mint import mint_ca, mint_leaf
from vc_im.trust.x509_names import check_cascade

#: 2022-08-01T00:00:00Z: inside the mock-up's validity (Jul 6 to Oct 4 2022).
MOCKUP_NOW = 1_659_312_000
DEVICE = "im:SvPfLlwBQi-6oddVRrkqpw/04c7@example.com"
HANDLE = "im:%40alice.smith@example.com"
USER = "im:SvPfLlwBQi-6oddVRrkqpw@example.com"


def mockup(name: str) -> bytes:
    """One PEM file of the mock-up vectors."""
    return vector_path("x509-mockup", name).read_bytes()


def roots() -> tuple[x509.Certificate, ...]:
    """The mock-up's issuer, acme.example.com, as the only root."""
    return load_roots(mockup("ca.pem"))


def chain_failure(*names: str) -> tuple[str, str]:
    """The failed check's (code, reason) for a chain of mock-up files, leaf first."""
    report, certified = verify_certificate_chain(b"".join(map(mockup, names)), roots(),
                                                 now=MOCKUP_NOW)
    assert certified is None
    failure = report.failure
    assert failure is not None
    assert failure.code is not None
    return failure.code.value, failure.reason


def test_the_script_makes_exactly_the_committed_files() -> None:
    """make_vectors.py is deterministic and the committed files are its output."""
    path = VECTORS / "x509-mockup" / "make_vectors.py"
    spec = importlib.util.spec_from_file_location("make_vectors", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    made = module.vectors()
    assert sorted(made) == sorted(p.name for p in path.parent.glob("*.pem"))
    for name, data in made.items():
        assert data == mockup(name), name


def test_figure3_has_the_drafts_fields() -> None:
    """Serial, issuer, subject, validity and SAN are the draft's Figure 3, Ed25519-signed."""
    leaf = x509.load_pem_x509_certificate(mockup("figure3-leaf.pem"))
    assert f"{leaf.serial_number:x}" == "4dc7a4b89229832351f9184f7e94e5d24c4"
    assert leaf.issuer.rfc4514_string() == "CN=acme.example.com,O=example.com"
    assert leaf.subject.rfc4514_string() == "CN=Alice M. Smith,O=example.com"
    assert leaf.not_valid_before_utc.isoformat() == "2022-07-06T06:41:50+00:00"
    assert leaf.not_valid_after_utc.isoformat() == "2022-10-04T06:41:49+00:00"
    assert leaf.signature_algorithm_oid == x509.oid.SignatureAlgorithmOID.ED25519
    san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    assert san.critical
    assert san.value.get_values_for_type(x509.UniformResourceIdentifier) == [DEVICE, HANDLE]


def test_figure3_validates_and_certifies_device_and_handle(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The Ed25519-signed mock-up validates (through pyhanko) without fetching its AIA URLs."""
    attempts = block_network(monkeypatch)
    report, certified = verify_certificate_chain(mockup("figure3-leaf.pem"), roots(),
                                                 now=MOCKUP_NOW, identifier=parse(HANDLE))
    assert report.ok, report.to_json()
    assert certified is not None
    assert [(str(i), i.type.value) for i in certified.identifiers] == [
        (DEVICE, "device"), (HANDLE, "handle")]
    assert certified.key_type == "Ed25519"
    assert attempts == []
    # The same chain as an x5c header gives the leaf's Ed25519 key.
    assert verify_chain(x5c_of(mockup("figure3-leaf.pem")), roots(),
                        now=MOCKUP_NOW).key.alg == "Ed25519"


def test_figure3_with_the_mimi_san_of_later_drafts() -> None:
    """The -03 SAN (mimi:// URIs) certifies the device and the user."""
    report, certified = verify_certificate_chain(mockup("figure3-leaf-mimi.pem"), roots(),
                                                 now=MOCKUP_NOW)
    assert report.ok
    assert certified is not None
    assert [i.type.value for i in certified.identifiers] == ["device", "user"]


def test_figure3_after_its_validity_is_expired() -> None:
    """On 2023-01-01 the mock-up has expired (validity fails before the path is built)."""
    report, _ = verify_certificate_chain(mockup("figure3-leaf.pem"), roots(),
                                         now=1_672_531_200)
    assert report.code is Code.EXPIRED
    assert report.check("path").status is Status.SKIPPED


def test_figure4_cascade_validates() -> None:
    """The device certificate, issued by Alice's user certificate, certifies her device."""
    report, certified = verify_certificate_chain(
        mockup("figure4-device.pem") + mockup("figure4-user.pem"), roots(), now=MOCKUP_NOW)
    assert report.ok, report.to_json()
    assert certified is not None
    assert certified.identifiers == (parse(DEVICE),)
    assert certified.chain == ("CN=Alice's phone,O=example.com",
                               "CN=Alice M. Smith,O=example.com",
                               "CN=acme.example.com,O=example.com")


def test_issuer_alt_name_that_does_not_match_is_refused() -> None:
    """A device certificate whose issuerAltName names Bob, under Alice's user certificate."""
    assert chain_failure("figure4-device-wrong-ian.pem", "figure4-user.pem") == (
        "untrusted_issuer",
        f"The leaf's issuerAltName names im:%40bob@example.com, but its issuer "
        f"'CN=Alice M. Smith,O=example.com' certifies {HANDLE}, {USER} in its "
        "subjectAltName.")


def test_device_certificate_issued_by_another_users_certificate_is_refused() -> None:
    """Bob's user certificate issuing a certificate for Alice's device."""
    assert chain_failure("bob-issues-alice-device.pem", "bob-user.pem") == (
        "untrusted_issuer",
        "The user certificate for im:%40bob@example.com may issue certificates only for its "
        f"own devices, and the leaf certifies {DEVICE}, a device of another user.")


def test_device_certificate_with_another_users_certificate_leads_nowhere() -> None:
    """Alice's device certificate followed by Bob's user certificate is no chain."""
    code, reason = chain_failure("figure4-device.pem", "bob-user.pem")
    assert code == "untrusted_issuer"
    assert reason.startswith("The certificate chain does not lead to a configured CA root")


# --------------------------------------------------------------------------------------
# The cascade through vc_im's own minting (P-256, cryptography's validator)
# --------------------------------------------------------------------------------------

NOW = 1_700_000_000


@pytest.fixture(scope="module")
def domain_ca() -> tuple[bytes, keys.Key]:
    """A P-256 domain CA."""
    return mint_ca(name="acme.example.com", now=NOW)


@pytest.fixture(scope="module")
def alice_ca(domain_ca: tuple[bytes, keys.Key]) -> tuple[bytes, keys.Key]:
    """Alice's user certificate (her handle and her user id), P-256."""
    return mint_ca(name="Alice", now=NOW, issuer_cert_pem=domain_ca[0],
                   issuer_key=domain_ca[1], users=[HANDLE, USER])


def test_minted_user_certificate_shape(alice_ca: tuple[bytes, keys.Key]) -> None:
    """A user certificate: CA with path length 0, SAN the user, confined to its domain."""
    certificate = x509.load_pem_x509_certificate(alice_ca[0])
    constraints = certificate.extensions.get_extension_for_class(x509.BasicConstraints).value
    assert (constraints.ca, constraints.path_length) == (True, 0)
    names = certificate.extensions.get_extension_for_class(x509.NameConstraints)
    assert names.critical
    assert names.value.permitted_subtrees == [x509.DNSName("example.com")]
    san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.UniformResourceIdentifier) == [HANDLE, USER]
    assert certificate.subject.rfc4514_string() == "CN=Alice,O=example.com"


def test_minted_device_certificate_names_its_user_in_issuer_alt_name(
        domain_ca: tuple[bytes, keys.Key], alice_ca: tuple[bytes, keys.Key]) -> None:
    """x509 leaf from a user certificate writes issuerAltName, and the chain validates."""
    leaf = mint_leaf(ca_cert_pem=alice_ca[0], ca_key=alice_ca[1],
                     subject_key=keys.generate("Ed25519"), san_uris=[DEVICE],
                     subject_name="phone", now=NOW)
    ian = x509.load_pem_x509_certificate(leaf).extensions.get_extension_for_class(
        x509.IssuerAlternativeName)
    assert not ian.critical
    assert ian.value.get_values_for_type(x509.UniformResourceIdentifier) == [HANDLE, USER]
    certified = verify_chain(x5c_of(leaf + alice_ca[0]), load_roots(domain_ca[0]), now=NOW)
    assert certified.identifiers == (parse(DEVICE),)


@pytest.mark.parametrize(("san", "what"), [
    ("im:bob/1@example.com", "a device of another user"),
    (HANDLE, "a handle"),
    ("im:SvPfLlwBQi-6oddVRrkqpw/04c7@example.org", "a device of another user"),
])
def test_user_certificate_refuses_to_mint_for_others(alice_ca: tuple[bytes, keys.Key],
                                                     san: str, what: str) -> None:
    """Minting checks the cascade rule before signing: only the user's own devices."""
    with pytest.raises(InputError, match=what) as caught:
        mint_leaf(ca_cert_pem=alice_ca[0], ca_key=alice_ca[1],
                  subject_key=keys.generate("Ed25519"), san_uris=[san], subject_name="x",
                  now=NOW)
    assert caught.value.code == "untrusted_issuer"


def test_user_certificate_cannot_issue_a_ca(domain_ca: tuple[bytes, keys.Key],
                                            alice_ca: tuple[bytes, keys.Key]) -> None:
    """A CA below a user certificate is refused (path length 0, and the cascade rule)."""
    with pytest.raises(InputError, match="path length"):
        mint_ca(name="sub", now=NOW, issuer_cert_pem=alice_ca[0], issuer_key=alice_ca[1],
                users=[HANDLE], path_length=1)
    sub, sub_key = mint_ca(name="sub", now=NOW, issuer_cert_pem=alice_ca[0],
                           issuer_key=alice_ca[1])
    leaf = mint_leaf(ca_cert_pem=sub, ca_key=sub_key, subject_key=keys.generate("Ed25519"),
                     san_uris=[DEVICE], subject_name="phone", now=NOW)
    with pytest.raises(CertificateError) as caught:
        verify_chain(x5c_of(leaf + sub + alice_ca[0]), load_roots(domain_ca[0]), now=NOW)
    assert caught.value.code == "untrusted_issuer"


@pytest.mark.parametrize(("users", "message"), [
    ([DEVICE], "is a device"),
    ([HANDLE, "im:%40bob@example.org"], "more than one domain"),
    (["im:"], "not a valid identifier"),
])
def test_user_certificate_needs_users_of_one_domain(domain_ca: tuple[bytes, keys.Key],
                                                    users: list[str], message: str) -> None:
    """--user names users or handles, all in one domain."""
    with pytest.raises(InputError, match=message):
        mint_ca(name="u", now=NOW, issuer_cert_pem=domain_ca[0], issuer_key=domain_ca[1],
                users=users)


def test_user_certificate_is_issued_by_a_ca() -> None:
    """A self-signed user certificate is refused: the domain vouches for the user."""
    with pytest.raises(InputError, match="issued by its domain's CA"):
        mint_ca(name="u", now=NOW, users=[HANDLE])


def test_leaf_without_issuer_alt_name_under_a_user_certificate_is_refused(
        domain_ca: tuple[bytes, keys.Key], alice_ca: tuple[bytes, keys.Key]) -> None:
    """A device certificate under a user certificate must name it in issuerAltName."""
    import datetime

    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID

    user = x509.load_pem_x509_certificate(alice_ca[0])
    signer = serialization.load_pem_private_key(alice_ca[1].to_pem(private=True), None)
    assert isinstance(signer, ec.EllipticCurvePrivateKey)
    public = ec.generate_private_key(ec.SECP256R1()).public_key()
    at = datetime.datetime.fromtimestamp(NOW, tz=datetime.UTC)
    leaf = (x509.CertificateBuilder().subject_name(x509.Name([])).issuer_name(user.subject)
            .public_key(public).serial_number(7)
            .not_valid_before(at).not_valid_after(at + datetime.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]),
                           critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                signer.public_key()), critical=False)
            .add_extension(x509.SubjectAlternativeName([x509.UniformResourceIdentifier(DEVICE)]),
                           critical=True)
            .sign(signer, hashes.SHA256()))
    pem = leaf.public_bytes(serialization.Encoding.PEM)
    with pytest.raises(CertificateError) as caught:
        verify_chain(x5c_of(pem + alice_ca[0]), load_roots(domain_ca[0]), now=NOW)
    assert caught.value.code == "untrusted_issuer"
    assert caught.value.message == (
        f"the leaf was issued by the user certificate for {HANDLE}, {USER}, but names no "
        "issuer URI in its issuerAltName to link it to that user.")


@settings(max_examples=60, deadline=None)
@given(user=st.sampled_from(["SvPfLlwBQi-6oddVRrkqpw", "bob", "alice"]),
       device=st.text(alphabet="abcdef0123456789", min_size=1, max_size=8),
       domain=st.sampled_from(["example.com", "example.org", "sub.example.com"]),
       claimed=st.sampled_from([HANDLE, USER, "im:%40bob@example.com"]))
def test_cascade_rule_holds_for_any_device(user: str, device: str, domain: str,
                                           claimed: str) -> None:
    """For every device identifier and issuerAltName: Alice's user certificate (Figure 4) may
    issue it exactly when the issuerAltName is one of hers and the device's user is hers."""
    issuer = x509.load_pem_x509_certificate(mockup("figure4-user.pem"))
    identifier = parse(f"im:{user}/{device}@{domain}")
    expected = claimed in (HANDLE, USER) and identifier.owner() == parse(USER)
    if expected:
        check_cascade(issuer, (parse(claimed),), (identifier,))
    else:
        with pytest.raises(CertificateError) as caught:
            check_cascade(issuer, (parse(claimed),), (identifier,))
        assert caught.value.code == "untrusted_issuer"


def test_edwards_chain_validates_inside_a_running_event_loop() -> None:
    """pyhanko's validator is asynchronous: called from code already inside an event loop
    (the verifier service), the chain still validates (in a worker thread)."""
    import asyncio

    async def inside() -> tuple[str, ...]:
        return verify_chain(x5c_of(mockup("figure3-leaf.pem")), roots(),
                            now=MOCKUP_NOW).chain

    assert asyncio.run(inside()) == ("CN=Alice M. Smith,O=example.com",
                                     "CN=acme.example.com,O=example.com")
