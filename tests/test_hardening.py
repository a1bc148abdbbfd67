"""Regression tests for the attacks a security review found, one per finding: each pins the
exact code (or exit status) the verifier now answers the attack with."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import socket
import ssl
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509 as cx509
from cryptography.hazmat.primitives import serialization
from typer.testing import Result

import vc_im._jose.jws as jose
from tests.conftest import DEVICE, HANDLE, ISSUER, NOW, VERIFIER, claims_of
from tests.helpers.cli import run_cli, run_process
from tests.helpers.presentations import (
    HTM,
    HTU,
    NONCE,
    SignRaw,
    assert_fails_at,
    assert_valid,
    dpop_claims,
    dpop_header,
    envelope,
    holder_header,
    vp1_payload,
    vp2_payload,
)
from tests.helpers.trust_models import (
    USER,
    Pki,
    issuer_entry,
    paths,
    rule,
    short,
    store_of,
    trust_document,
    wellknown,
)
from vc_im import keys
from vc_im._checks.credential import Evidence, verify_credential
from vc_im._checks.presentation import verify_presentation
from vc_im.credentials import issue_credential
from vc_im.identifiers import parse
from vc_im.keys import Key
from vc_im.lint import inspect
from vc_im.model import CredentialType
from vc_im.report import Report
from vc_im.trust import TrustStore
from vc_im.trust.statements import Statement, StatementError, create_statement, read_statement
from vc_im.trust.wellknown import FetchedStatement, evaluate_well_known, fetch_statements

MakeCredential = Callable[..., str]
#: Two services a well-known statement can name an account on.
ACCOUNTS = ("https://social.example/alice", "https://forge.example/alice")
#: What the policy says of a method nobody gave evidence for.
NO_EVIDENCE = "no evidence was given for it"
#: A real process shows every warning on its stderr.
SHOW_WARNINGS = {"PYTHONWARNINGS": "default"}


def verify(token: str, trust: TrustStore, *, parents: tuple[str, ...] = (),
           statements: tuple[Statement, ...] = ()) -> Report:
    """Verify ``token`` as a bare credential at NOW with the evidence given."""
    return verify_credential(token, trust, now=NOW, evidence=Evidence(parents, statements))


def self_issued(key: Key, subject: str, ims: tuple[str, ...] = ()) -> str:
    """A device credential its subject issues about itself, signed by ``key``."""
    return issue_credential(key, issuer=subject, subject=subject, fn="Alice", now=NOW,
                            instant_messages=ims, holder_key=key.public())


def vouch(key: Key, *identities: str) -> tuple[Statement, ...]:
    """Well-known statements binding each identity to ``key`` on both ACCOUNTS."""
    return tuple(wellknown(key, identity, account) for identity in identities
                 for account in ACCOUNTS)


@pytest.fixture(scope="module")
def wk_trust() -> TrustStore:
    """Well-known services are the only anchor; two must agree."""
    return store_of(trust_document(well_known={"threshold": 2}))


# --------------------------------------------------------------------------------------------
# (a) well-known statements must vouch for the subject itself


def test_foreign_device_listing_the_attackers_vouched_handle(attacker_key: Key,
                                                             wk_trust: TrustStore) -> None:
    """Attack: Mallory self-issues a credential for Alice's device, lists her own handle, and
    brings two services vouching for that handle with her key; untrusted_issuer, because no
    service binds Alice's user identity to Mallory's key."""
    mallory = "im:%40mallory@example.com"
    token = self_issued(attacker_key, DEVICE, (mallory,))
    report = verify(token, wk_trust, statements=vouch(attacker_key, mallory))
    assert_fails_at(report, "trust_path", "untrusted_issuer")
    assert report.check("trust_path").reason == (
        f"0 of 1 trust methods vouch for it, 1 needed: well_known: only 0 independent services "
        f"bind {USER} to key {short(attacker_key)}, and at least 2 must.")
    # The same statements for Mallory's own device do make it trusted: the key is hers.
    own = self_issued(attacker_key, "im:mallory/laptop@example.com", (mallory,))
    assert_valid(verify(own, wk_trust, statements=vouch(attacker_key, "im:mallory@example.com",
                                                        mallory)))


# --------------------------------------------------------------------------------------------
# (b) every domain a credential names meets its own policy rule


def test_listed_identity_in_a_stricter_domain(issuer_key: Key) -> None:
    """Attack: a credential for a device in a lax domain lists a handle in bank.example, whose
    rule requires central AND x509; the bank's rule fails it (untrusted_issuer)."""
    pki = Pki.mint("Bank CA")
    trust = store_of(trust_document(
        [issuer_entry(ISSUER, issuer_key, None)], x509_roots=[pki.root],
        policy=[rule(["central", "x509"], "all", domains=["bank.example"]),
                rule(["central"])]))

    def credential(subject: str, ims: list[str]) -> str:
        return issue_credential(issuer_key, issuer=ISSUER, subject=subject, fn="CEO", now=NOW,
                                instant_messages=ims)

    lax = verify(credential("im:ceo/phone@other.example", ["im:%40ceo@other.example"]), trust)
    assert_valid(lax)
    for subject in ("im:ceo/phone@other.example", "im:ceo/phone@bank.example"):
        report = verify(credential(subject, ["im:%40ceo@bank.example"]), trust)
        assert_fails_at(report, "trust_path", "untrusted_issuer")
        where = "For bank.example, 1" if subject.endswith("other.example") else "1"
        assert report.check("trust_path").reason == (
            f"{where} of 2 trust methods vouch for it, 2 needed: x509: {NO_EVIDENCE}.")


# --------------------------------------------------------------------------------------------
# (c) a cascade parent comes from a trust-file issuer


@pytest.mark.parametrize("listed", [False, True], ids=["no-issuer", "another-issuer"])
def test_cascade_parent_self_signed_by_the_user(listed: bool, issuer_key: Key,
                                                device_key: Key) -> None:
    """Attack: a user certified by an end-entity certificate signs her own ImUserCredential
    granting herself mayIssueDeviceCredentials, then issues device credentials under it;
    untrusted_issuer, whether or not the trust file lists some other issuer."""
    pki = Pki.mint("Example CA")
    user_key = keys.generate()
    trust = store_of(trust_document([issuer_entry(ISSUER, issuer_key)] if listed else [],
                                    x509_roots=[pki.root]))
    parent = issue_credential(user_key, issuer=USER, subject=USER, fn="Alice", now=NOW,
                              credential_type=CredentialType.USER,
                              holder_key=user_key.public(), may_issue_devices=True,
                              x5c=pki.x5c(user_key, [USER]))
    assert_valid(verify(parent, trust))  # the certificate does vouch for the user herself
    child = issue_credential(user_key, issuer=USER, subject=DEVICE, fn="Alice", now=NOW,
                             holder_key=device_key.public())
    report = verify(child, trust, parents=(parent,))
    assert_fails_at(report, "issuer_key", "untrusted_issuer")
    assert report.check("issuer_key").reason == (
        f"The parent credential of {USER} comes from {USER}, which the trust file does not "
        "list as an issuer.")


# --------------------------------------------------------------------------------------------
# (d) hostile x5c certificates are malformed, never an exception


@pytest.fixture(scope="module")
def leaf_der() -> tuple[Pki, bytes]:
    """A CA and the DER of a leaf it signed for mimi://example.com, its subject CN "leaf"."""
    pki = Pki.mint("Example CA")
    pem = pki.leaf(keys.generate(), ["mimi://example.com"], name="leaf")
    return pki, cx509.load_pem_x509_certificate(pem).public_bytes(serialization.Encoding.DER)


def _version_99(der: bytes) -> bytes:
    """The version field [0] INTEGER 2 (v3) made 99: cryptography raises InvalidVersion."""
    at = der.index(bytes.fromhex("a003020102")) + 4
    return der[:at] + b"\x63" + der[at + 1:]


def _bad_name(der: bytes) -> bytes:
    """The subject CN's UTF8String tag (0x0c) made 0x0b: the certificate loads, and its Name
    fails only when read."""
    cn = bytes.fromhex("06035504030c046c656166")  # id-at-commonName, UTF8String "leaf"
    assert der.count(cn) == 1
    return der.replace(cn, cn[:5] + b"\x0b" + cn[6:])


def _duplicate_extension(der: bytes) -> bytes:
    """The authorityKeyIdentifier's OID made subjectKeyIdentifier's: two SKI extensions."""
    aki, ski = bytes.fromhex("0603551d23"), bytes.fromhex("0603551d0e")
    assert der.count(aki) == 1
    return der.replace(aki, ski)


def _negative_serial(der: bytes) -> bytes:
    """The serial number's first byte with its sign bit set: a negative serial."""
    at = der.index(bytes.fromhex("a003020102")) + 5
    assert der[at] == 0x02  # INTEGER
    return der[:at + 2] + bytes([der[at + 2] | 0x80]) + der[at + 3:]


MALFORMED_X5C = "x5c entry 0 is not a well-formed DER X.509 certificate"


def _x5c_token(der: bytes) -> str:
    """A credential naming a provider, with ``der`` as its x5c (never signed: the key check
    comes first)."""
    header = {"alg": "Ed25519", "typ": "JWT", "x5c": [base64.b64encode(der).decode()]}
    payload = {"iss": "mimi://example.com", "sub": DEVICE, "nbf": NOW, "exp": NOW + 3600,
               "vc": {}}
    return (f"{jose.b64url_encode(json.dumps(header).encode())}."
            f"{jose.b64url_encode(json.dumps(payload).encode())}.AAAA")


@pytest.mark.parametrize("mutate", [
    _version_99, _bad_name, _duplicate_extension,
    _negative_serial,
], ids=["InvalidVersion", "lazy-Name", "duplicate-extension", "negative-serial"])
def test_hostile_x5c_is_malformed(mutate: Callable[[bytes], bytes],
                                  leaf_der: tuple[Pki, bytes], tmp_path: Path) -> None:
    """Attack: an x5c certificate that cryptography fails to decode (or decodes lazily) used
    to raise out of the verifier; it is a malformed report, and `vc-im verify` exits 1 with
    at most its one-sentence verdict on stderr (no warning, no internal error)."""
    pki, der = leaf_der
    document = trust_document(x509_roots=[pki.root])
    token = _x5c_token(mutate(der))
    report = verify(token, store_of(document))
    assert_fails_at(report, "issuer_key", "malformed")
    assert report.check("issuer_key").reason.startswith(MALFORMED_X5C)
    (tmp_path / "t.json").write_text(json.dumps(document))
    (tmp_path / "c.jwt").write_text(token)
    result = run_process("verify", tmp_path / "c.jwt", "--trust", tmp_path / "t.json", "--now",
                         str(NOW), cwd=tmp_path, env=SHOW_WARNINGS, text=False)
    assert (result.returncode, result.stdout.splitlines()[0]) == (1, b"invalid: malformed")
    assert result.stderr.startswith(f"vc-im: invalid (malformed): {MALFORMED_X5C}".encode())
    assert result.stderr.count(b"\n") == 1


def test_negative_serial_is_refused_quietly(leaf_der: tuple[Pki, bytes],
                                            tmp_path: Path) -> None:
    """Attack: a negative serial number made cryptography warn on stderr; the credential is
    refused, nothing raises and no warning is printed."""
    pki, der = leaf_der
    document = trust_document(x509_roots=[pki.root])
    token = _x5c_token(_negative_serial(der))
    report = verify(token, store_of(document))
    assert (report.ok, report.check("issuer_key").status.value) == (False, "failed")
    (tmp_path / "t.json").write_text(json.dumps(document))
    (tmp_path / "c.jwt").write_text(token)
    result = run_process("verify", tmp_path / "c.jwt", "--trust", tmp_path / "t.json", "--now",
                         str(NOW), cwd=tmp_path, env=SHOW_WARNINGS, text=False)
    assert result.returncode == 1
    assert result.stderr.count(b"\n") <= 1
    assert b"Warning" not in result.stderr
    assert b"internal error" not in result.stderr


# --------------------------------------------------------------------------------------------
# (e) statement NumericDates beyond year 9999


def _statement_with(key: Key, **claims: int) -> str:
    """A well-known statement by ``key`` with ``claims`` replacing its times, re-signed."""
    header, payload = claims_of(create_statement(key, "wellknown", issuer=USER,
                                                 subject=ACCOUNTS[0], now=NOW))
    del header["alg"]
    return jose.sign(header, {**payload, **claims}, key)


@pytest.mark.parametrize(("claims", "claim", "value"), [
    ({"iat": 253_402_300_800}, "iat", 253_402_300_800),
    ({"iat": 999_999_999_999}, "iat", 999_999_999_999),
    ({"exp": 253_402_300_800}, "exp", 253_402_300_800),
    ({"exp": 999_999_999_999}, "exp", 999_999_999_999),
], ids=["iat-10000", "iat-max", "exp-10000", "exp-max"])
def test_statement_times_beyond_9999(claims: dict[str, int], claim: str, value: int,
                                     device_key: Key, tmp_path: Path) -> None:
    """Attack: a statement (a file, or served by a hostile service) with iat or exp between
    year 9999 and the millisecond threshold raised ValueError; it is malformed, in the
    library, in a fetched statement and in `vc-im statement inspect`."""
    token = _statement_with(device_key, **claims)
    message = (f"{claim} is {value}, outside the NumericDates a token can carry (0 to "
               "9999-12-31T23:59:59Z).")
    with pytest.raises(StatementError) as caught:
        read_statement(token, now=NOW)
    assert (caught.value.code, caught.value.message) == ("malformed", message)
    url = "https://social.example/alice"
    path = evaluate_well_known(identity=parse(USER), key=device_key,
                               statements=[FetchedStatement(url, "social.example", token)],
                               threshold=1, now=NOW)
    assert (path.ok, path.steps) == (False, (f"not counted: {url}: malformed: "
                                             f"{message.rstrip('.')}",))
    file = tmp_path / "s.jws"
    file.write_text(token)
    result = run_cli("statement", "inspect", file, "--now", NOW)
    assert (result.exit_code, result.stdout, result.stderr) == (
        1, "", f"vc-im: the statement is invalid (malformed): {message}\n")


# --------------------------------------------------------------------------------------------
# (f) replay records outlive the largest leeway


def _checks(result: Result) -> list[tuple[str, str, str | None]]:
    """(name, status, code) of each check of a --json report."""
    return [(c["name"], c["status"], c["code"]) for c in json.loads(result.stdout)["checks"]]


def test_presentation_replayed_with_a_looser_leeway(make_credential: MakeCredential,
                                                    device_key: Key, trust_file: Path,
                                                    tmp_path: Path) -> None:
    """Attack: a presentation verified with --leeway 0 was forgotten when it expired, so
    320 s later a verifier with --leeway 60 accepted it again; it is a replay."""
    from vc_im._checks.presenting import create_presentation

    token = tmp_path / "vp.jwt"
    token.write_text(create_presentation(device_key, [make_credential()], audience=VERIFIER,
                                         nonce=NONCE, now=NOW, valid_for=300))
    common = ("verify", token, "--trust", trust_file, "--audience", VERIFIER, "--nonce", NONCE,
              "--store", tmp_path / "replay.sqlite3", "--json")
    first = run_cli(*common, "--now", NOW + 10, "--leeway", 0)
    assert first.exit_code == 0, first.stdout
    again = run_cli(*common, "--now", NOW + 330, "--leeway", 60)
    assert again.exit_code == 1
    assert _checks(again)[-2:] == [("signature", "passed", None), ("replay", "failed", "replay")]


def test_dpop_proof_replayed_with_a_looser_leeway(device_key: Key, tmp_path: Path) -> None:
    """Attack: a DPoP proof verified with --leeway 0 was forgotten after 301 s, so 330 s
    after its iat a verifier with --leeway 60 accepted it again; it is a replay."""
    from vc_im._checks.dpop import create_proof

    token = tmp_path / "proof.jwt"
    token.write_text(create_proof(device_key, htm=HTM, htu=HTU, now=NOW))
    common = ("dpop", "verify", token, "--htm", HTM, "--htu", HTU,
              "--store", tmp_path / "replay.sqlite3", "--json")
    first = run_cli(*common, "--now", NOW, "--leeway", 0)
    assert first.exit_code == 0, first.stdout
    again = run_cli(*common, "--now", NOW + 330, "--leeway", 60)
    assert again.exit_code == 1
    assert _checks(again)[-1] == ("replay", "failed", "replay")
    assert [status for _, status, _ in _checks(again)[:-1]] == ["passed"] * 11


# --------------------------------------------------------------------------------------------
# (g) a dripping service cannot hold a fetch past its timeout


@contextlib.contextmanager
def dripping_https(head: bytes, drip: bytes, interval: float) -> Iterator[tuple[str, Path]]:
    """A loopback HTTPS service (test_wellknown's CA) that answers one request with ``head``
    at once, then ``drip`` one byte every ``interval`` seconds: yields (URL, CA file)."""
    from tests.trust.test_wellknown import mint_tls

    stop = threading.Event()
    with tempfile.TemporaryDirectory() as directory, socket.socket() as listener:
        ca, cert, key = mint_tls(Path(directory))
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        listener.settimeout(10)

        def serve() -> None:
            with contextlib.suppress(OSError):
                connection, _ = listener.accept()
                with context.wrap_socket(connection, server_side=True) as tls:
                    tls.recv(65536)
                    tls.sendall(head)
                    for byte in drip:
                        if stop.wait(interval):
                            break
                        tls.sendall(bytes([byte]))

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        try:
            yield f"https://127.0.0.1:{listener.getsockname()[1]}/alice", ca
        finally:
            stop.set()
            thread.join(timeout=10)


def test_dripping_body_cannot_hold_the_fetch() -> None:
    """Attack: a service sending its body one byte every 0.25 s kept a fetch with a 1 s
    timeout waiting 25 s; the fetch gives up within about 3 s."""
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\nConnection: close\r\n\r\n"
    with dripping_https(head, b"A" * 100, 0.25) as (url, ca):
        started = time.monotonic()
        (fetched,) = fetch_statements([url], ca_file=ca, timeout=1, allow_private_network=True)
        elapsed = time.monotonic() - started
    assert elapsed < 3
    assert (fetched.token, fetched.failure) == (None, f"the statement at {url} could not be "
                                                      "fetched")


def test_dripping_headers_cannot_hold_the_fetch() -> None:
    """Attack: a service sending its headers one byte every 0.25 s; the fetch with a 1 s
    timeout must give up within about 3 s, as it does for a dripping body."""
    head = b"HTTP/1.1 200 OK\r\n"
    with dripping_https(head, b"X-Drip: " + b"a" * 12, 0.25) as (url, ca):
        started = time.monotonic()
        (fetched,) = fetch_statements([url], ca_file=ca, timeout=1, allow_private_network=True)
        elapsed = time.monotonic() - started
    assert elapsed < 3
    assert (fetched.token, fetched.failure) == (None, f"the statement at {url} could not be "
                                                      "fetched")


# --------------------------------------------------------------------------------------------
# (h) reasons escape control characters


def test_reason_quoting_terminal_escapes_is_escaped(device_key: Key, sign_raw: SignRaw,
                                                    tmp_path: Path) -> None:
    """Attack: a proof whose htu holds ESC, C1 (CSI) and DEL characters had its reason print
    them raw, rewriting the terminal; text and --json output show them escaped."""
    hostile = "https://im.example.com/\x1b[2J\x9b31mvalid\x7f"
    token = tmp_path / "proof.jwt"
    token.write_text(sign_raw(dpop_header(device_key), dpop_claims(htu=hostile), device_key))
    escaped = "https://im.example.com/\\x1b[2J\\x9b31mvalid\\x7f"
    common = ("dpop", "verify", token, "--htm", HTM, "--htu", HTU, "--now", NOW,
              "--store", tmp_path / "replay.sqlite3")
    text, as_json = run_cli(*common), run_cli(*common, "--json")
    for result in (text, as_json):
        assert result.exit_code == 1
        output = result.stdout + result.stderr
        assert not any(char in output for char in "\x1b\x9b\x7f"), output
    reason = f"htu is {escaped}, the request is {HTU}."
    assert f"  FAIL uri [claim_mismatch] {reason}\n" in text.stdout
    (uri,) = [c for c in json.loads(as_json.stdout)["checks"] if c["name"] == "uri"]
    assert (uri["code"], uri["reason"]) == ("claim_mismatch", reason)


def test_inspect_json_of_terminal_escapes_stays_json(device_key: Key) -> None:
    """Attack: a token whose claims hold DEL and C1 characters; `vc-im inspect --json` must
    print them escaped, as JSON that still parses to the exact value."""
    hostile = "a\x7fb\x9bc\x1bd"
    token = jose.sign({"typ": "JWT"}, {"iss": hostile}, device_key)
    result = run_cli("inspect", "-", "--json", input=token)
    assert result.exit_code == 0
    assert not any(char in result.stdout for char in "\x1b\x9b\x7f"), result.stdout
    assert json.loads(result.stdout)["payload"] == {"iss": hostile}


# --------------------------------------------------------------------------------------------
# (i) bounds on the work one verification does


@pytest.mark.parametrize(("count", "code"), [(32, None), (33, "too_large")])
def test_has_instant_message_bound(count: int, code: str | None, make_credential: MakeCredential,
                                   sign_raw: SignRaw, trust: TrustStore) -> None:
    """Attack: a credential listing thousands of identifiers costs a verifier seconds of
    work; more than 32 is too_large at the claims check, 32 pass it."""
    header, payload = claims_of(make_credential())
    payload["vc"]["credentialSubject"]["hasInstantMessage"] = [
        DEVICE, *(f"im:%40alice{n}@example.com" for n in range(count - 1))]
    report = verify(sign_raw(header, payload), trust)
    if code is None:
        assert report.check("claims").status.value == "passed"
    else:
        assert_fails_at(report, "claims", code)
        assert report.check("claims").reason == (
            "hasInstantMessage holds 33 identifiers; at most 32 are accepted.")


@pytest.mark.parametrize("option", ["--statement", "--statement-url", "--parent"])
def test_more_than_64_statements_or_parents(option: str, device_key: Key, tmp_path: Path,
                                            trust_file: Path) -> None:
    """Attack: hundreds of --statement files (or URLs, or parents) cost a signature check
    each; 65 are a usage error, exit 2, before anything is read or fetched."""
    file = tmp_path / "s.jws"
    file.write_text(create_statement(device_key, "wellknown", issuer=USER, subject=ACCOUNTS[0],
                                     now=NOW))
    value = "https://127.0.0.1:9/alice" if option == "--statement-url" else file
    token = tmp_path / "c.jwt"
    token.write_text(self_issued(device_key, DEVICE))
    many = [item for _ in range(65) for item in (option, value)]
    result = run_cli("verify", token, "--trust", trust_file, "--now", NOW, *many)
    assert (result.exit_code, result.stdout, result.stderr) == (
        2, "", "vc-im: at most 64 parent credentials and 64 statements are accepted.\n")


# --------------------------------------------------------------------------------------------
# (j) arguments that are not UTF-8


@pytest.mark.skipif(os.name != "posix", reason="needs POSIX byte arguments")
def test_arguments_that_are_not_utf8(tmp_path: Path, trust_file: Path) -> None:
    """Attack: a --nonce of invalid UTF-8 ended in an internal error (UnicodeEncodeError); it
    is a usage error, exit 2 with one sentence, while `uri parse` still judges such an
    identifier as data, exit 1."""
    token = tmp_path / "vp.jwt"
    token.write_text("x")
    result = run_process("verify", token, "--trust", trust_file, "--audience", VERIFIER,
                         "--nonce", b"\xff", "--store", tmp_path / "replay.sqlite3",
                         cwd=tmp_path, env=SHOW_WARNINGS, text=False)
    assert (result.returncode, result.stdout, result.stderr) == (
        2, b"", b"vc-im: every argument must be UTF-8 text.\n")
    parsed = run_process("uri", "parse", b"im:\xff@example.com", cwd=tmp_path,
                         env=SHOW_WARNINGS, text=False)
    assert (parsed.returncode, parsed.stdout) == (1, b"")
    assert parsed.stderr.startswith(b"vc-im: the identifier contains ")
    assert parsed.stderr.count(b"\n") == 1


# --------------------------------------------------------------------------------------------
# (k) inspect never shows private key material


def test_inspect_redacts_a_private_header_jwk(device_key: Key, tmp_path: Path) -> None:
    """Attack (on the user): a token whose header jwk carries the private `d` had inspect
    print the key; it prints REDACTED and a private_key_exposed pitfall, text and JSON."""
    private = device_key.private_jwk()
    secret = private["d"]
    header = {"typ": "dpop+jwt", "jwk": {k: v for k, v in private.items()
                                         if k not in ("kid", "alg")}}
    token = jose.sign(header, dpop_claims(), device_key)
    found = inspect(token.encode())
    assert found.header is not None
    assert found.header["jwk"]["d"] == "REDACTED"
    assert [(p.code, p.path) for p in found.pitfalls
            if p.code == "private_key_exposed"] == [("private_key_exposed", "$header.jwk.d")]
    text = run_cli("inspect", "-", input=token)
    as_json = run_cli("inspect", "-", "--json", input=token)
    for result in (text, as_json):
        assert result.exit_code == 0
        assert secret not in result.stdout + result.stderr
        assert "REDACTED" in result.stdout
    assert ("  - $header.jwk.d: this JWK carries private key material (shown as REDACTED): "
            "the key is compromised; replace it\n") in text.stdout
    report = json.loads(as_json.stdout)
    assert report["header"]["jwk"]["d"] == "REDACTED"
    assert [(p["code"], p["path"]) for p in report["pitfalls"]
            if p["code"] == "private_key_exposed"] == [("private_key_exposed",
                                                        "$header.jwk.d")]
    # Verifying the token refuses the private key without quoting it either.
    file = tmp_path / "proof.jwt"
    file.write_text(token)
    verified = run_cli("dpop", "verify", file, "--htm", HTM, "--htu", HTU, "--now", NOW,
                       "--store", tmp_path / "replay.sqlite3", "--json")
    assert verified.exit_code == 1
    assert secret not in verified.stdout + verified.stderr
    assert ("header", "failed", "bad_key") in _checks(verified)


# --------------------------------------------------------------------------------------------
# (l) a VC DM 2.0 presentation holds exactly what VC DM 2.0 secures


def _vp2(sign_raw: SignRaw, device_key: Key, credentials: list[Any], **header: Any) -> str:
    """A vp+jwt presentation of ``credentials`` by Alice's device, header members added."""
    return sign_raw({**holder_header(device_key, typ="vp+jwt"), **header},
                    vp2_payload(credentials), device_key)


def _verify_vp(token: str, trust: TrustStore, store: Path) -> Report:
    return verify_presentation(token, trust, now=NOW, audience=VERIFIER, nonce=NONCE,
                               store=store)


def test_vp2_envelope_holding_a_vc1_credential(make_credential: MakeCredential,
                                               device_key: Key, sign_raw: SignRaw,
                                               trust: TrustStore, tmp_path: Path) -> None:
    """Attack: a VC DM 2.0 presentation smuggled a VC DM 1.1 credential (typ JWT) in an
    application/vc+jwt envelope; credential_not_secured. The same envelope around a vc+jwt
    credential verifies."""
    from vc_im.model import Encoding

    store = tmp_path / "replay.sqlite3"
    report = _verify_vp(_vp2(sign_raw, device_key, [make_credential()]), trust, store)
    assert_fails_at(report, "claims", "credential_not_secured")
    assert report.check("claims").reason == (
        "verifiableCredential[0] is enveloped as application/vc+jwt, but its typ is 'JWT'.")
    assert_valid(_verify_vp(_vp2(sign_raw, device_key,
                                 [make_credential(encoding=Encoding.VC2)]), trust, store))


@pytest.mark.parametrize("change", [
    {"undefinedTerm": 1},
    {"@context": "https://evil.example/context"},
    {"@context": ["https://www.w3.org/ns/credentials/v2", "https://evil.example/context"]},
], ids=["extra-member", "other-context", "added-context"])
def test_vp2_envelope_with_more_than_its_three_members(
        change: dict[str, Any], make_credential: MakeCredential, device_key: Key,
        sign_raw: SignRaw, trust: TrustStore, tmp_path: Path) -> None:
    """Attack: an envelope carrying an undefined member or another @context slipped JSON-LD
    terms past the verifier; credential_not_secured."""
    from vc_im.model import Encoding

    item = {**envelope(make_credential(encoding=Encoding.VC2)), **change}
    report = _verify_vp(_vp2(sign_raw, device_key, [item]), trust, tmp_path / "r.sqlite3")
    assert_fails_at(report, "claims", "credential_not_secured")
    assert report.check("claims").reason.startswith(
        "verifiableCredential[0] is not a secured credential (")


@pytest.mark.parametrize(("typ", "cty"), [("vp+jwt", "vc"), ("vp+jwt", "JWT"), ("JWT", "vp")])
def test_presentation_cty_must_be_vp_under_vp_jwt(typ: str, cty: str,
                                                  make_credential: MakeCredential,
                                                  device_key: Key, sign_raw: SignRaw,
                                                  trust: TrustStore, tmp_path: Path) -> None:
    """Attack: a presentation whose cty says it holds something else (or a VC DM 1.1
    presentation claiming cty vp) is bad_header; typ vp+jwt with cty vp verifies."""
    from vc_im.model import Encoding

    store = tmp_path / "replay.sqlite3"
    if typ == "vp+jwt":
        token = _vp2(sign_raw, device_key, [make_credential(encoding=Encoding.VC2)], cty=cty)
    else:
        token = sign_raw({**holder_header(device_key), "cty": cty},
                         vp1_payload([make_credential()]), device_key)
    report = _verify_vp(token, trust, store)
    assert_fails_at(report, "header", "bad_header")
    assert report.check("header").reason == (
        f"The header's cty {cty!r} does not fit typ {typ!r}.")
    fine = _vp2(sign_raw, device_key, [make_credential(encoding=Encoding.VC2)], cty="vp")
    assert_valid(_verify_vp(fine, trust, store))


# --------------------------------------------------------------------------------------------
# (m) --parent does not stop a self-issued credential from being judged by statements


def test_self_issued_with_an_unrelated_parent(device_key: Key, wk_trust: TrustStore,
                                              make_credential: MakeCredential) -> None:
    """Attack surface: any --parent made a self-issued credential be judged as a cascade
    child (and refused); with an unrelated parent it is still judged by its statements:
    valid when they vouch, untrusted_issuer when they do not."""
    unrelated = make_credential(credential_type=CredentialType.USER,
                                subject="im:bob@example.com", instant_messages=[])
    token = self_issued(device_key, DEVICE, (HANDLE,))
    report = verify(token, wk_trust, parents=(unrelated,),
                    statements=vouch(device_key, USER, HANDLE))
    assert_valid(report)
    assert paths(report) == [("well_known", True)]
    refused = verify(token, wk_trust, parents=(unrelated,),
                     statements=vouch(device_key, HANDLE))
    assert_fails_at(refused, "trust_path", "untrusted_issuer")


# --- second review ---------------------------------------------------------------------------

def test_statements_about_the_subject_do_not_satisfy_another_domains_rule() -> None:
    """Attack: a credential lists im:%40ceo@bank.example, whose rule needs well-known proof,
    and offers a statement only for its own user in other.example: bank.example's rule fails."""
    from vc_im._checks.credential import Evidence
    from vc_im.trust import parse_trust
    from vc_im.trust.statements import create_statement, read_statement

    now = 1_900_000_000
    issuer, mallory = keys.generate(), keys.generate()
    trust = parse_trust(json.dumps({
        "issuers": [{"id": "https://im.example.com", "keys": [dict(issuer.public().public_jwk)]}],
        "well_known": {"threshold": 1},
        "policy": [{"domains": ["bank.example"], "methods": ["well_known"]},
                   {"domains": ["*"], "methods": ["central"]}]}).encode())
    statement = read_statement(create_statement(
        mallory, "wellknown", issuer="im:m@other.example", subject="https://social.example/@m",
        now=now), now=now)
    for listed, expected in ((["im:%40ceo@bank.example"], (False, "untrusted_issuer")),
                             ([], (True, None))):
        token = issue_credential(issuer, issuer="https://im.example.com",
                                 subject="im:m/phone@other.example", fn="M", now=now,
                                 holder_key=mallory.public(), instant_messages=listed)
        report = verify_credential(token, trust, now=now,
                                   evidence=Evidence((), (statement,)))
        assert (report.ok, report.code) == expected


def test_any_valid_parent_will_do_whatever_their_order() -> None:
    """With an expired and a valid parent for the same user, the child verifies in either
    order, and only the parent relied on is nested."""
    from vc_im._checks.credential import Evidence
    from vc_im.model import CredentialType
    from vc_im.trust import parse_trust

    now = 1_900_000_000
    issuer, alice, laptop = keys.generate(), keys.generate(), keys.generate()
    trust = parse_trust(json.dumps({"issuers": [{
        "id": "https://im.example.com", "keys": [dict(issuer.public().public_jwk)]}]}).encode())

    def parent(at: int, valid_for: int) -> str:
        return issue_credential(issuer, issuer="https://im.example.com",
                                subject="im:alice@example.com", fn="A", now=at,
                                credential_type=CredentialType.USER,
                                holder_key=alice.public(), valid_for=valid_for,
                                may_issue_devices=True)

    stale, good = parent(now - 10_000, 1000), parent(now - 10, 100_000)
    child = issue_credential(alice, issuer="im:alice@example.com",
                             subject="im:alice/laptop@example.com", fn="A", now=now,
                             holder_key=laptop.public())
    for parents in ((good, stale), (stale, good)):
        report = verify_credential(child, trust, now=now, evidence=Evidence(parents, ()))
        assert (report.ok, report.code) == (True, None)
        assert len(report.credentials) == 1
        assert report.credentials[0].ok


def test_failed_verification_sentence_is_the_deciding_checks_own(
        make_credential: Any, trust_file: Path, tmp_path: Path) -> None:
    """The stderr sentence pairs the report's code with the reason of the check that failed
    at the top level (which quotes any nested reason), never a nested check's alone."""
    token = tmp_path / "vc.jwt"
    token.write_text(make_credential(now=NOW - 100 * 86400))
    result = run_process("verify", token, "--trust", trust_file, "--now", NOW, cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith("vc-im: invalid (expired): The credential expired at ")
    assert result.stderr.count("\n") == 1
