"""vc_im.trust.wellknown: well-known service cross-signing (the MIMI identity draft's §4.3), with
statements from files and fetched over HTTPS from a loopback server; independent services
counted by registrable domain, and fetches kept off the private network."""

from __future__ import annotations

import contextlib
import datetime
import http.server
import ipaddress
import socket
import ssl
import tempfile
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from vc_im import keys
from vc_im.errors import InputError
from vc_im.identifiers import parse
from vc_im.trust.statements import Statement, create_statement, read_statement
from vc_im.trust.wellknown import (
    MAX_BODY_BYTES,
    FetchedStatement,
    evaluate_well_known,
    fetch_statements,
)

NOW = 1_700_000_000
ALICE = "im:alice@example.com"
#: A DNS name the tests resolve to the loopback server (see ``resolve_to_loopback``).
NAME = "wk.example"

#: path -> (status, headers, body) served by the loopback server.
Routes = Mapping[str, tuple[int, Mapping[str, str], bytes]]


# --------------------------------------------------------------------------------------------
# A loopback HTTPS server with a CA minted here


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def mint_tls(directory: Path) -> tuple[Path, Path, Path]:
    """A P-256 CA and a server certificate for IP 127.0.0.1 and the name wk.example:
    (ca.pem, cert.pem, key.pem)."""
    now = datetime.datetime.now(tz=datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca = (x509.CertificateBuilder().subject_name(_name("vc-im test CA"))
          .issuer_name(_name("vc-im test CA")).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(hours=1))
          .not_valid_after(now + datetime.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False,
                                       key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, key_cert_sign=True, crl_sign=True,
                                       encipher_only=False, decipher_only=False), critical=True)
          .add_extension(ca_ski, critical=False)
          .sign(ca_key, hashes.SHA256()))
    server_key = ec.generate_private_key(ec.SECP256R1())
    server = (x509.CertificateBuilder().subject_name(_name("127.0.0.1"))
              .issuer_name(ca.subject).public_key(server_key.public_key())
              .serial_number(x509.random_serial_number())
              .not_valid_before(now - datetime.timedelta(hours=1))
              .not_valid_after(now + datetime.timedelta(days=1))
              .add_extension(x509.SubjectAlternativeName(
                  [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName(NAME)]),
                  critical=False)
              .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
              .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                           key_encipherment=False, data_encipherment=False,
                                           key_agreement=False, key_cert_sign=False,
                                           crl_sign=False, encipher_only=False,
                                           decipher_only=False), critical=True)
              .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                             critical=False)
              .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(
                  ca_ski), critical=False)
              .add_extension(x509.SubjectKeyIdentifier.from_public_key(
                  server_key.public_key()), critical=False)
              .sign(ca_key, hashes.SHA256()))
    paths = directory / "ca.pem", directory / "cert.pem", directory / "key.pem"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(server.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(server_key.private_bytes(serialization.Encoding.PEM,
                                                  serialization.PrivateFormat.PKCS8,
                                                  serialization.NoEncryption()))
    return paths


@contextlib.contextmanager
def loopback_https(routes: Routes) -> Iterator[tuple[str, Path]]:
    """Serve ``routes`` over HTTPS on 127.0.0.1: yields (base URL, CA file)."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status, headers, body = routes.get(self.path, (404, {}, b"not found"))
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value.replace("{base}", base))
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    with tempfile.TemporaryDirectory() as directory:
        ca, cert, key = mint_tls(Path(directory))
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        base = f"https://127.0.0.1:{server.server_address[1]}"
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield base, ca
        finally:
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)


# --------------------------------------------------------------------------------------------
# Fixtures


@pytest.fixture(scope="module")
def device_key() -> keys.Key:
    """The key Alice binds to her identity on every service."""
    return keys.generate()


@pytest.fixture(scope="module")
def mallory_key() -> keys.Key:
    """Another key, which one compromised service binds to Alice's identity."""
    return keys.generate()


def published(key: keys.Key, account: str, identity: str = ALICE) -> Statement:
    """A well-known statement binding ``identity`` and ``key`` to ``account``."""
    return read_statement(create_statement(key, "wellknown", issuer=identity, subject=account,
                                           now=NOW), now=NOW)


def short(key: keys.Key) -> str:
    """How the explanations name a key."""
    return key.thumbprint()[:8]


@pytest.fixture(scope="module")
def server(device_key: keys.Key) -> Iterator[tuple[str, Path]]:
    """A loopback service publishing Alice's statement, plus redirects, a 404 and a huge body."""
    routes: dict[str, tuple[int, Mapping[str, str], bytes]] = {}
    with loopback_https(routes) as (base, ca):
        token = create_statement(device_key, "wellknown", issuer=ALICE,
                                 subject=f"{base}/alice", now=NOW)
        foreign = create_statement(device_key, "wellknown", issuer=ALICE,
                                   subject="https://code.example.net/alice", now=NOW)
        routes.update({
            "/alice": (200, {"Content-Type": "application/jwt"}, token.encode() + b"\n"),
            "/moved": (302, {"Location": "{base}/alice"}, b""),
            "/relative": (302, {"Location": "/alice"}, b""),
            "/elsewhere": (302, {"Location": "https://other.example/alice"}, b""),
            "/downgrade": (301, {"Location": "http://127.0.0.1/alice"}, b""),
            "/foreign": (200, {}, foreign.encode()),
            "/huge": (200, {}, b"a" * (MAX_BODY_BYTES + 1)),
            "/binary": (200, {}, b"\xff\xfe"),
        })
        yield base, ca


# --------------------------------------------------------------------------------------------
# Evaluating statements


def test_two_of_three_services_agree(device_key: keys.Key) -> None:
    """Two independent services binding Alice to her key meet a threshold of 2."""
    statements = [published(device_key, "https://code.example.net/alice"),
                  published(device_key, "acct:alice@social.example"),
                  published(keys.generate(), "https://photos.example/alice", "im:bob@example.org")]
    path = evaluate_well_known(identity=parse(ALICE), key=device_key.public(),
                               statements=statements, threshold=2, now=NOW)
    assert (path.ok, path.method, path.contradiction, path.reason) == (
        True, "well_known", False, "")
    assert path.key is not None
    assert path.key.thumbprint() == device_key.thumbprint()
    assert path.steps[:2] == (
        f"example.net: https://code.example.net/alice binds {ALICE} to key "
        f"{short(device_key)}",
        f"social.example: acct:alice@social.example binds {ALICE} to key {short(device_key)}",
    )
    assert path.steps[2] == ("not counted: https://photos.example/alice: the statement is for "
                             f"im:bob@example.org, not {ALICE}")


def test_one_of_three_is_not_enough(device_key: keys.Key) -> None:
    """One agreeing service out of three does not meet a threshold of 2."""
    other = keys.generate()
    statements = [published(device_key, "https://code.example.net/alice"),
                  published(other, "https://photos.example/alice", "im:bob@example.org"),
                  published(other, "acct:bob@social.example", "im:bob@example.org")]
    path = evaluate_well_known(identity=parse(ALICE), key=device_key, statements=statements,
                               threshold=2, now=NOW)
    assert (path.ok, path.contradiction, path.key, path.reason) == (
        False, False, None, f"only 1 independent service (example.net) binds {ALICE} "
                            f"to key {short(device_key)}, and at least 2 must.")


def test_a_service_naming_another_key_is_a_contradiction(device_key: keys.Key,
                                                         mallory_key: keys.Key) -> None:
    """Two services agree, but a third binds Alice to another key: not ok, a contradiction."""
    statements = [published(device_key, "https://code.example.net/alice"),
                  published(device_key, "acct:alice@social.example"),
                  published(mallory_key, "https://photos.example/alice")]
    path = evaluate_well_known(identity=parse(ALICE), key=device_key, statements=statements,
                               threshold=2, now=NOW)
    assert (path.ok, path.contradiction) == (False, True)
    assert path.reason == (f"a contradiction: photos.example names key {short(mallory_key)}, not "
                           f"key {short(device_key)}, for {ALICE}.")
    assert path.steps[2] == (f"photos.example: https://photos.example/alice binds {ALICE} to "
                             f"another key, {short(mallory_key)}")


def test_same_host_counts_once(device_key: keys.Key) -> None:
    """Two accounts on one host (other port, other form) are one service."""
    statements = [published(device_key, "https://code.example.net/alice"),
                  published(device_key, "https://CODE.example.net:8443/alice-too"),
                  published(device_key, "acct:alice@code.example.net")]
    path = evaluate_well_known(identity=parse(ALICE), key=device_key, statements=statements,
                               threshold=2, now=NOW)
    assert (path.ok, path.reason) == (
        False, f"only 1 independent service (example.net) binds {ALICE} to key "
               f"{short(device_key)}, and at least 2 must.")
    assert path.steps[1] == ("example.net again: https://CODE.example.net:8443/alice-too "
                             "counts once with https://code.example.net/alice, as the same "
                             "service")
    one = evaluate_well_known(identity=parse(ALICE), key=device_key, statements=statements,
                              threshold=1, now=NOW)
    assert one.ok


def test_subdomains_of_one_domain_are_one_service(device_key: keys.Key) -> None:
    """Attack: one operator with statements on a.example.com, b.example.com and
    c.b.example.com met a threshold of 2 (host names counted). They are one service, the
    registrable domain example.com."""
    statements = [published(device_key, "https://a.example.com/alice"),
                  published(device_key, "https://b.example.com/alice"),
                  published(device_key, "acct:alice@c.b.example.com")]
    path = evaluate_well_known(identity=parse(ALICE), key=device_key, statements=statements,
                               threshold=2, now=NOW)
    assert (path.ok, path.reason) == (
        False, f"only 1 independent service (example.com) binds {ALICE} to key "
               f"{short(device_key)}, and at least 2 must.")
    assert path.steps[1:] == (
        "example.com again: https://b.example.com/alice counts once with "
        "https://a.example.com/alice, as the same service",
        "example.com again: acct:alice@c.b.example.com counts once with "
        "https://a.example.com/alice, as the same service")


@pytest.mark.parametrize(("accounts", "services"), [
    (("https://a.example.co.uk/alice", "https://b.example.co.uk/alice"), ["example.co.uk"]),
    (("https://example.co.uk/alice", "https://other.co.uk/alice"),
     ["example.co.uk", "other.co.uk"]),
    (("https://alice.github.io/", "https://alice-too.github.io/"), ["github.io"]),
    (("https://xn--fsqu00a.xn--fiqs8s/alice", "https://www.例子.中国/alice"),
     ["xn--fsqu00a.xn--fiqs8s"]),
], ids=["under-a-public-suffix", "two-domains", "private-suffix-section", "idn"])
def test_services_follow_the_public_suffix_list(accounts: tuple[str, str],
                                                services: list[str],
                                                device_key: keys.Key) -> None:
    """A service is a registrable domain from the Public Suffix List's ICANN section: two
    names under co.uk are two services, two under example.co.uk one; the private section
    (github.io, where anyone gets a name) is not used, and IDNs count as their A-labels."""
    path = evaluate_well_known(identity=parse(ALICE), key=device_key, threshold=2, now=NOW,
                               statements=[published(device_key, a) for a in accounts])
    assert path.ok is (len(services) == 2)
    assert [step.split(":", 1)[0].removesuffix(" again") for step in path.steps] == (
        services if len(services) == 2 else services * 2)


LOOPBACK_ALIASES = ("https://127.0.0.1/alice", "https://127.1/alice", "https://2130706433/alice",
                    "https://0x7f.1/alice", "https://[::ffff:127.0.0.1]/alice",
                    "https://[::1]/alice", "https://localhost:8443/alice",
                    "acct:alice@app.localhost")


def test_aliases_of_one_address_are_no_service(device_key: keys.Key) -> None:
    """Attack: 127.0.0.1, 127.1, 2130706433, 0x7f.1, ::ffff:127.0.0.1, ::1 and localhost
    each counted as a service of their own. IP literals and this machine's names are no
    well-known service at all."""
    statements = [published(device_key, account) for account in LOOPBACK_ALIASES]
    path = evaluate_well_known(identity=parse(ALICE), key=device_key, statements=statements,
                               threshold=1, now=NOW)
    assert not path.ok
    assert path.steps == (
        *(f"not counted: {account}: an IP address is not a well-known service"
          for account in LOOPBACK_ALIASES[:6]),
        "not counted: https://localhost:8443/alice: localhost is this machine, not a well-known "
        "service",
        "not counted: acct:alice@app.localhost: app.localhost is this machine, not a well-known "
        "service")


def test_with_the_private_network_allowed_loopback_is_one_service(device_key: keys.Key) -> None:
    """With allow_private_network (for tests), every loopback alias is the one service
    localhost: it meets a threshold of 1, never 2."""
    statements = [published(device_key, account) for account in LOOPBACK_ALIASES]
    one, two = (evaluate_well_known(identity=parse(ALICE), key=device_key,
                                    statements=statements, threshold=threshold, now=NOW,
                                    allow_private_network=True) for threshold in (1, 2))
    assert one.ok
    assert one.steps[0] == (f"localhost: https://127.0.0.1/alice binds {ALICE} to key "
                            f"{short(device_key)}")
    assert all(step.startswith("localhost again: ") for step in one.steps[1:])
    assert (two.ok, two.reason) == (
        False, f"only 1 independent service (localhost) binds {ALICE} to key "
               f"{short(device_key)}, and at least 2 must.")


@pytest.mark.parametrize(("account", "why"), [
    ("https://93.184.216.34/alice", "an IP address is not a well-known service"),
    ("https://[2606:2800:220:1::1]/alice", "an IP address is not a well-known service"),
    ("https://10.0.0.7/alice", "an IP address is not a well-known service"),
    ("https://intranet/alice", "a single-label host (intranet) is not a well-known service"),
    ("acct:alice@co.uk", "co.uk is a public suffix, not a well-known service"),
])
def test_ip_literals_single_labels_and_public_suffixes_never_count(
        account: str, why: str, device_key: keys.Key) -> None:
    """A public or private IP literal, a single-label host and a public suffix are no
    service, even with the private network allowed."""
    path = evaluate_well_known(identity=parse(ALICE), key=device_key, threshold=1, now=NOW,
                               statements=[published(device_key, account)],
                               allow_private_network=True)
    assert (path.ok, path.steps) == (False, (f"not counted: {account}: {why}",))


def test_other_kinds_and_expired_statements_do_not_count(device_key: keys.Key) -> None:
    """A statement of another kind, or one expired by the time of judging, does not count."""
    dsk = read_statement(create_statement(keys.generate(), "dsk", issuer=ALICE,
                                          key=device_key.public(), now=NOW), now=NOW)
    expiring = read_statement(create_statement(device_key, "wellknown", issuer=ALICE,
                                               subject="acct:alice@social.example", now=NOW,
                                               valid_for=60), now=NOW)
    path = evaluate_well_known(identity=parse(ALICE), key=device_key,
                               statements=[dsk, expiring], threshold=1, now=NOW + 3600)
    assert not path.ok
    assert path.steps == (
        f"not counted: {ALICE}: a dsk statement, not a well-known one",
        "not counted: acct:alice@social.example: the statement expired at 2023-11-14T22:14:20Z",
    )


def test_fetched_statement_counts_only_for_its_own_host(device_key: keys.Key) -> None:
    """A statement fetched from one host naming an account on another does not count."""
    token = create_statement(device_key, "wellknown", issuer=ALICE,
                             subject="https://code.example.net/alice", now=NOW)
    fetched = FetchedStatement("https://mirror.example/alice", "mirror.example", token)
    path = evaluate_well_known(identity=parse(ALICE), key=device_key, statements=[fetched],
                               threshold=1, now=NOW)
    assert not path.ok
    assert path.steps == (
        "not counted: https://mirror.example/alice: it names the account "
        "https://code.example.net/alice on code.example.net, and a statement counts only for "
        "the host it was fetched from, mirror.example",)


def test_invalid_fetched_statement_does_not_count(device_key: keys.Key) -> None:
    """A fetched body that is not a valid statement, or a failed fetch, is recorded."""
    path = evaluate_well_known(
        identity=parse(ALICE), key=device_key, threshold=1, now=NOW,
        statements=[FetchedStatement("https://a.example/x", "a.example", "not-a-jws"),
                    FetchedStatement("https://b.example/x", "b.example", None,
                                     "the statement at https://b.example/x could not be "
                                     "fetched")])
    assert path.steps == (
        "not counted: https://a.example/x: malformed: a compact JWS has three parts separated "
        "by '.', not 1",
        "not counted: the statement at https://b.example/x could not be fetched",
    )
    assert path.reason == (f"only 0 independent services bind {ALICE} to key "
                           f"{short(device_key)}, and at least 1 must.")


def test_threshold_must_be_positive(device_key: keys.Key) -> None:
    """A threshold below 1 is an input error."""
    with pytest.raises(InputError) as caught:
        evaluate_well_known(identity=parse(ALICE), key=device_key, statements=[], threshold=0,
                            now=NOW)
    assert caught.value.message == "the well-known threshold must be at least 1."


# --------------------------------------------------------------------------------------------
# Fetching over HTTPS from the loopback server


def test_fetch_and_accept(server: tuple[str, Path], device_key: keys.Key) -> None:
    """A statement fetched from the service it names counts for that host."""
    base, ca = server
    (fetched,) = fetch_statements([f"{base}/alice"], ca_file=ca, allow_private_network=True)
    assert (fetched.url, fetched.host, fetched.failure) == (f"{base}/alice", "127.0.0.1", "")
    assert fetched.allow_private_network
    path = evaluate_well_known(identity=parse(ALICE), key=device_key, statements=[fetched],
                               threshold=1, now=NOW)
    assert path.ok
    assert path.steps == (f"localhost: {base}/alice binds {ALICE} to key {short(device_key)} "
                          f"(fetched from {base}/alice)",)


def test_same_host_redirect_is_followed(server: tuple[str, Path]) -> None:
    """A redirect to the same host is followed."""
    base, ca = server
    (fetched,) = fetch_statements([f"{base}/moved"], ca_file=ca, allow_private_network=True)
    assert fetched.failure == ""
    assert fetched.token is not None


@pytest.mark.parametrize(("path", "failure"), [
    ("/elsewhere", "the service redirected (HTTP 302) to other.example, and redirects are "
                   "followed only to https:// on the same host"),
    ("/downgrade", "the service redirected (HTTP 301) to 127.0.0.1, and redirects are followed "
                   "only to https:// on the same host"),
    ("/huge", f"the response is larger than {MAX_BODY_BYTES} bytes"),
    ("/binary", "the response is not a compact JWS (it is not ASCII)"),
    ("/missing", "the service answered HTTP 404"),
])
def test_fetch_failures_are_recorded(server: tuple[str, Path], path: str,
                                     failure: str) -> None:
    """Redirects to another host or to http, oversized or binary bodies and HTTP errors
    become recorded failures, and the other URLs are still fetched."""
    base, ca = server
    failed, fine = fetch_statements([f"{base}{path}", f"{base}/alice"], ca_file=ca,
                                    allow_private_network=True)
    assert (failed.token, failed.failure) == (
        None, f"the statement at {base}{path} could not be fetched: {failure}")
    assert fine.failure == ""


def test_untrusted_certificate_is_a_failure(server: tuple[str, Path]) -> None:
    """Without the test CA, the loopback server's certificate does not verify: the fetch
    fails, and says only that."""
    base, _ca = server
    (fetched,) = fetch_statements([f"{base}/alice"], ca_file=None, allow_private_network=True)
    assert (fetched.token, fetched.failure) == (
        None, f"the statement at {base}/alice could not be fetched")


def test_unreachable_service_is_a_failure(tmp_path: Path) -> None:
    """A closed loopback port is recorded as a failure, not raised."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    ca, _cert, _key = mint_tls(tmp_path)
    (fetched,) = fetch_statements([f"https://127.0.0.1:{port}/alice"], ca_file=ca, timeout=2,
                                  allow_private_network=True)
    assert (fetched.token, fetched.failure) == (
        None, f"the statement at https://127.0.0.1:{port}/alice could not be fetched")


def test_fetched_account_on_another_host(server: tuple[str, Path],
                                         device_key: keys.Key) -> None:
    """The loopback service serving a statement for an account elsewhere does not count."""
    base, ca = server
    fetched = fetch_statements([f"{base}/foreign"], ca_file=ca, allow_private_network=True)
    path = evaluate_well_known(identity=parse(ALICE), key=device_key, statements=fetched,
                               threshold=1, now=NOW)
    assert not path.ok
    assert path.steps == (
        f"not counted: {base}/foreign: it names the account https://code.example.net/alice on "
        "code.example.net, and a statement counts only for the host it was fetched from, "
        "127.0.0.1",)


@pytest.fixture
def resolved(monkeypatch: pytest.MonkeyPatch) -> tuple[list[str], list[object]]:
    """Name resolution for wk.example under the test's control (the only name a test
    cannot resolve for real without a network): yields (the addresses it resolves to, set
    by the test; the sockaddrs of every connection attempted)."""
    answers: list[str] = ["127.0.0.1"]
    attempts: list[object] = []
    real_getaddrinfo, real_connect = socket.getaddrinfo, socket.socket.connect

    def getaddrinfo(host: str, port: object, *args: object, **kwargs: object) -> list[
            tuple[socket.AddressFamily, socket.SocketKind, int, str, tuple[object, ...]]]:
        if host != NAME:
            return real_getaddrinfo(host, port, *args, **kwargs)  # type: ignore[arg-type]
        return [info for address in answers
                for info in real_getaddrinfo(address, port, type=socket.SOCK_STREAM)]

    def connect(sock: socket.socket, address: object) -> None:
        attempts.append(address)
        real_connect(sock, address)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", connect)
    return answers, attempts


@pytest.mark.parametrize("addresses", [
    ["127.0.0.1"], ["10.0.0.1"], ["169.254.169.254"], ["100.64.0.1"], ["0.0.0.0"],  # noqa: S104
    ["::1"], ["fe80::1"], ["::ffff:169.254.169.254"], ["fc00::1"],
    ["93.184.216.34", "127.0.0.1"],
], ids=str)
def test_a_name_resolving_off_the_public_internet_is_never_connected_to(
        addresses: list[str], resolved: tuple[list[str], list[object]]) -> None:
    """Attack: --statement-url with a name resolving to 169.254.169.254 (cloud metadata) or
    another loopback, private or link-local address completed a TLS handshake there. Every
    address a name resolves to must be public; nothing is connected to, and the failure
    reads like any other."""
    answers, attempts = resolved
    answers[:] = addresses
    (fetched,) = fetch_statements([f"https://{NAME}/alice"], ca_file=None, timeout=1)
    assert (fetched.token, fetched.failure, attempts) == (
        None, f"the statement at https://{NAME}/alice could not be fetched", [])


def test_with_the_private_network_allowed_every_connection_is_still_resolved(
        server: tuple[str, Path], resolved: tuple[list[str], list[object]]) -> None:
    """With allow_private_network a name resolving to the loopback server is fetched, and a
    redirect opens a new connection, resolved and checked again; without it, nothing is
    connected to."""
    base, ca = server
    _answers, attempts = resolved
    port = base.rpartition(":")[2]
    url = f"https://{NAME}:{port}/relative"
    (fetched,) = fetch_statements([url], ca_file=ca, allow_private_network=True)
    assert (fetched.failure, fetched.host) == ("", NAME)
    assert attempts == [("127.0.0.1", int(port))] * 2  # the redirect, then its target
    attempts.clear()
    (refused,) = fetch_statements([url], ca_file=ca)
    assert (refused.failure, attempts) == (f"the statement at {url} could not be fetched", [])


@contextlib.contextmanager
def raw_listener(behaviour: str) -> Iterator[int]:
    """A loopback port that accepts a connection and then resets it ("reset") or says
    nothing ("silent"): yields the port."""
    stop = threading.Event()
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        listener.settimeout(10)

        def serve() -> None:
            with contextlib.suppress(OSError):
                connection, _ = listener.accept()
                with connection:
                    if behaviour == "reset":
                        connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                              b"\x01\x00\x00\x00\x00\x00\x00\x00")
                    else:
                        stop.wait(10)

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        try:
            yield listener.getsockname()[1]
        finally:
            stop.set()
            thread.join(timeout=10)


@pytest.mark.parametrize("behaviour", ["refused", "reset", "silent", "untrusted TLS"])
def test_every_network_failure_reads_the_same(behaviour: str, server: tuple[str, Path],
                                              tmp_path: Path) -> None:
    """Attack: "connection refused" was reported differently from a TLS failure, which made
    fetching a port scanner. Refused, reset, silent and untrusted-TLS services all give the
    one failure "could not be fetched"."""
    ca, _cert, _key = mint_tls(tmp_path)
    with contextlib.ExitStack() as stack:
        if behaviour == "refused":
            with socket.socket() as probe:
                probe.bind(("127.0.0.1", 0))
                url = f"https://127.0.0.1:{probe.getsockname()[1]}/alice"
        elif behaviour == "untrusted TLS":
            url = f"{server[0]}/alice"
        else:
            url = f"https://127.0.0.1:{stack.enter_context(raw_listener(behaviour))}/alice"
        (fetched,) = fetch_statements([url], ca_file=ca, timeout=1, allow_private_network=True)
    assert (fetched.token, fetched.failure) == (None, f"the statement at {url} could not be "
                                                      "fetched")


@pytest.mark.parametrize(("url", "message"), [
    ("http://127.0.0.1/alice",
     "statements are fetched over HTTPS only, and 'http://127.0.0.1/alice' uses http."),
    ("file:///etc/passwd",
     "statements are fetched over HTTPS only, and 'file:///etc/passwd' uses file."),
    ("127.0.0.1/alice",
     "statements are fetched over HTTPS only, and '127.0.0.1/alice' uses no scheme."),
    ("https://eve@127.0.0.1/alice",
     "the statement URL 'https://eve@127.0.0.1/alice' is unusable: the URL carries user "
     "information."),
    ("https:///alice", "the statement URL 'https:///alice' is unusable: the URL names no host."),
    ("https://169.254.169.254/latest/meta-data",
     "the statement URL 'https://169.254.169.254/latest/meta-data' is unusable: an IP address "
     "is not a well-known service."),
    ("https://127.0.0.1:9/alice",
     "the statement URL 'https://127.0.0.1:9/alice' is unusable: an IP address is not a "
     "well-known service."),
    ("https://localhost/alice",
     "the statement URL 'https://localhost/alice' is unusable: localhost is this machine, not "
     "a well-known service."),
    ("https://intranet/alice",
     "the statement URL 'https://intranet/alice' is unusable: a single-label host (intranet) "
     "is not a well-known service."),
])
def test_non_https_urls_are_input_errors(url: str, message: str) -> None:
    """Anything but an https:// URL whose host is a well-known service (not an IP literal,
    this machine or a single label) is refused before anything is fetched."""
    with pytest.raises(InputError) as caught:
        fetch_statements(["https://wk.example:9/never-fetched", url], ca_file=None)
    assert caught.value.message == message


def test_missing_ca_file_is_an_input_error(tmp_path: Path) -> None:
    """A CA file that does not exist, or holds no certificate, is an input error."""
    with pytest.raises(InputError) as caught:
        fetch_statements([f"https://{NAME}:9/alice"], ca_file=tmp_path / "none.pem")
    assert caught.value.message == f"the CA file {tmp_path / 'none.pem'} does not exist."
    empty = tmp_path / "empty.pem"
    empty.write_text("not a certificate\n")
    with pytest.raises(InputError) as caught:
        fetch_statements([f"https://{NAME}:9/alice"], ca_file=empty)
    assert caught.value.message == f"the CA file {empty} holds no usable PEM certificates."
