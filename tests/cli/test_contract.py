"""An executable audit of CONTRACT.md: every statement, run through real ``vc-im`` processes.

Each test quotes (or paraphrases) the contract statement it checks in its docstring and runs
the commands as the contract writes them. Every run is also checked against the rules that
hold for every command (see :class:`tests.helpers.contract.Cli`): exit code 0, 1 or 2, never a
traceback, nothing on stderr after a success, reports of the contract's shape, and stable
failure codes only.
"""

from __future__ import annotations

import json
import re
import stat
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.contract import (
    CONTRACT_CODES,
    PRIVATE_MEMBERS,
    STABLE_CODES,
    Call,
    Cli,
    Run,
    b64u,
    call,
    command_of,
    decode,
    one_sentence,
    pem_pair,
    public_members,
    sign,
    thumbprint,
    unb64u,
)
from tests.helpers.vectors import vector_text

pytestmark = pytest.mark.slow

#: 2023-11-14T22:13:20Z.
NOW = 1_700_000_000
DAY = 86_400
#: The world's credentials were issued a day before NOW, so NOW - a minute is inside them.
ISSUED = NOW - DAY
ISSUER = "https://im.example.com"
DEVICE = "im:SvPfLlwBQi-6oddVRrkqpw/04c7@example.com"
HANDLE = "im:%40alice_smith@example.com"
AUDIENCE = "https://verifier.example.org"
V1_CONTEXT = "https://www.w3.org/2018/credentials/v1"
V2_CONTEXT = "https://www.w3.org/ns/credentials/v2"
HTU = "https://server.example.com/token"
WXYZ_DEVICE = "im:wxyz=BFuVxW5BfqaMEfJDc8R7Qw/072b@example.com"
WXYZ_JSON = ('{"scheme": "im", "protocol": "wxyz", "type": "device", "parts": '
             '["BFuVxW5BfqaMEfJDc8R7Qw", "072b"], "domain": "example.com", "normalized": '
             '"im:wxyz=BFuVxW5BfqaMEfJDc8R7Qw/072b@example.com"}')
#: Encodings of Ed25519 small-order points (RFC 8032 §5.1.3 y, sign bit 0): the neutral
#: element (0, 1), the order-4 point y = 0, and an order-8 point.
SMALL_ORDER_X = {
    "identity": b64u(bytes([1]) + bytes(31)),
    "order 4": b64u(bytes(32)),
    "order 8": b64u(bytes.fromhex(
        "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05")),
}


@dataclass(frozen=True, slots=True)
class Keypair:
    """A key made by ``vc-im keygen``: its private JWK, the files, and the printed public JWK."""

    private: dict[str, Any]
    public: dict[str, Any]
    file: Path
    public_file: Path


@dataclass(frozen=True, slots=True)
class World:
    """Keys, a trust file and credentials that many tests share (made once, by vc-im)."""

    cli: Cli
    issuer: Keypair
    device: Keypair
    other: Keypair
    trust: Path
    vc1: str
    vc1_file: Path
    vc2: str
    vc2_file: Path
    user: str
    user_file: Path
    nocnf_file: Path
    expired_file: Path


# --- fixtures ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def codes_seen() -> set[str]:
    """Every failure code any report printed during this module."""
    return set()


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory, codes_seen: set[str]) -> Cli:
    """vc-im in a private directory, with XDG_STATE_HOME and HOME inside it."""
    return Cli(tmp_path_factory.mktemp("contract"), codes_seen)


def keygen(cli: Cli, *extra: object) -> Call:
    """``vc-im keygen --out P --public-out Q`` (the paths are the last two arguments)."""
    out = cli.path("key.jwk")
    return call("keygen", *extra, "--out", out, "--public-out", out.with_suffix(".pub.jwk"))


def keypair(run: Run) -> Keypair:
    """The key a successful keygen run made."""
    assert run.code == 0, run.describe()
    out = Path(run.args[run.args.index("--out") + 1])
    public_out = Path(run.args[run.args.index("--public-out") + 1])
    return Keypair(json.loads(out.read_text()), json.loads(run.stdout), out, public_out)


def trust_document(issuers: list[tuple[str, dict[str, Any], list[str] | None]]) -> str:
    """A trust file in the contract's format."""
    entries: list[dict[str, Any]] = []
    for issuer_id, public, domains in issuers:
        entry: dict[str, Any] = {"id": issuer_id, "keys": [public]}
        if domains is not None:
            entry["domains"] = domains
        entries.append(entry)
    return json.dumps({"issuers": entries})


def issue_call(key: Path, *extra: object, subject: str = DEVICE, issuer: str = ISSUER,
               now: int | str = ISSUED) -> Call:
    """``vc-im issue`` with the required options (and --now) first; ``--no-holder-key``
    unless ``extra`` binds a holder key, since a device credential needs one or the other."""
    unbound = () if "--holder-key" in extra else ("--no-holder-key",)
    return call("issue", "--key", key, "--issuer", issuer, "--subject", subject,
                "--fn", "Alice M. Smith", "--now", now, *unbound, *extra)


def token_of(run: Run) -> str:
    """The one compact JWS a successful issue/present/dpop create run printed."""
    assert run.code == 0, run.describe()
    assert run.stdout.endswith("\n")
    assert run.stdout.count("\n") == 1, "one compact JWS on stdout"
    token = run.stdout.strip()
    assert re.fullmatch(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+", token), token
    return token


@pytest.fixture(scope="module")
def world(cli: Cli) -> World:
    """An issuer, a device and another key; a trust file; credentials for the device."""
    issuer, device, other = (keypair(r) for r in cli.many([keygen(cli) for _ in range(3)]))
    trust = cli.write("trust.json", trust_document(
        [(ISSUER, issuer.public, ["example.com"])]))
    expired_at = NOW - 30 * DAY
    runs = cli.many([
        issue_call(issuer.file, "--holder-key", device.public_file, "--im", HANDLE,
                   "--org", "Example Corp", "--unit", "Engineering"),
        issue_call(issuer.file, "--holder-key", device.public_file, "--im", HANDLE,
                   "--format", "vc2"),
        issue_call(issuer.file, "--holder-key", device.public_file, "--type", "user",
                   subject=HANDLE),
        issue_call(issuer.file, "--im", HANDLE),
        issue_call(issuer.file, "--holder-key", device.public_file, "--valid-for", "1d",
                   now=expired_at),
    ])
    vc1, vc2, user, nocnf, expired = (token_of(r) for r in runs)
    return World(cli, issuer, device, other, trust, vc1, cli.write("vc1.jwt", vc1 + "\n"), vc2,
                 cli.write("vc2.jwt", vc2 + "\n"), user, cli.write("user.jwt", user + "\n"),
                 cli.write("nocnf.jwt", nocnf + "\n"), cli.write("expired.jwt", expired + "\n"))


# --- helpers over the world --------------------------------------------------------------------

def verify_call(world: World, token: str | Path, *extra: object, now: int = NOW,
                trust: Path | None = None, as_json: bool = True,
                store: Path | None = None) -> Call:
    """``vc-im verify FILE --trust T --now N [--json]``; a token string is written to a file."""
    path = token if isinstance(token, Path) else world.cli.write("token.jwt", token)
    return call("verify", path, "--trust", trust or world.trust, "--now", now,
                "--store", store or world.cli.store(), *(("--json",) if as_json else ()),
                *extra)


def present_call(world: World, *credentials: Path, nonce: str | None = None, now: int = NOW,
                 key: Path | None = None, audience: str = AUDIENCE, extra: tuple[object, ...] = (),
                 ) -> Call:
    """``vc-im present`` for AUDIENCE with a fresh nonce (or the given one)."""
    args: list[object] = ["present", "--key", key or world.device.file]
    for credential in credentials or (world.vc1_file,):
        args += ["--credential", credential]
    args += ["--audience", audience, "--nonce", nonce or uuid.uuid4().hex, "--now", now, *extra]
    return call(*args)


def vp_verify_call(world: World, token: str, *extra: object, now: int = NOW,
                   store: Path | None = None, as_json: bool = True) -> Call:
    """Verify a presentation for AUDIENCE and the nonce it carries."""
    _, payload = decode(token)
    nonce = payload.get("nonce")
    return verify_call(world, token, "--audience", AUDIENCE, "--nonce",
                       nonce if isinstance(nonce, str) else "n", *extra, now=now, store=store,
                       as_json=as_json)


def resign_vc(world: World, token: str,
              change: Callable[[dict[str, Any], dict[str, Any]], None]) -> str:
    """The credential with its header and payload changed, signed again by the issuer."""
    header, payload = decode(token)
    change(header, payload)
    return sign(header, payload, world.issuer.private)


def craft_vp(world: World, credentials: list[Any] | None = None,
             change: Callable[[dict[str, Any], dict[str, Any]], None] | None = None,
             signer: dict[str, Any] | None = None, now: int = NOW) -> str:
    """A VC Data Model 1.1 presentation built by hand, signed by the device unless told."""
    device_public = public_members(world.device.private)
    header: dict[str, Any] = {"alg": "Ed25519", "typ": "JWT",
                              "kid": thumbprint(device_public),
                              "jwk": {k: device_public[k] for k in ("kty", "crv", "x")}}
    payload: dict[str, Any] = {
        "iss": DEVICE, "aud": AUDIENCE, "nonce": uuid.uuid4().hex,
        "jti": f"urn:uuid:{uuid.uuid4()}", "iat": now, "nbf": now, "exp": now + 300,
        "vp": {"@context": [V1_CONTEXT], "type": ["VerifiablePresentation"],
               "verifiableCredential": credentials if credentials is not None else [world.vc1]},
    }
    if change is not None:
        change(header, payload)
    return sign(header, payload, signer or world.device.private)


def craft_proof(world: World, signer: Keypair | None = None, *, htm: str = "POST",
                htu: str = HTU, now: int = NOW, **claims: Any) -> Path:
    """An RFC 9449 DPoP proof built by hand (signed by the device unless told), in a file."""
    key = signer or world.device
    header = {"typ": "dpop+jwt", "alg": "Ed25519",
              "jwk": {name: key.private[name] for name in ("kty", "crv", "x")}}
    payload = {"jti": uuid.uuid4().hex, "htm": htm, "htu": htu, "iat": now, **claims}
    return world.cli.write("proof.jwt", sign(header, payload, key.private))


def setting(**claims: Any) -> Callable[[dict[str, Any], dict[str, Any]], None]:
    """A change for :func:`craft_vp` / :func:`resign_vc` that sets payload claims."""
    def change(_: dict[str, Any], payload: dict[str, Any]) -> None:
        payload.update(claims)
    return change


def assert_code(run: Run, code: str) -> None:
    """Exit 1 and the report's code is ``code``."""
    assert run.code == 1, run.describe()
    assert run.code_of_report == code, run.describe()


def assert_valid(run: Run) -> None:
    """Exit 0 and every check passed."""
    assert run.code == 0, run.describe()
    if run.stdout.lstrip().startswith("{"):
        assert run.report["ok"] is True
    else:
        assert run.first_line == "valid"


def assert_refused(run: Run) -> None:
    """Exit 2, nothing on stdout (nothing signed, no report), one sentence on stderr."""
    assert run.code == 2, run.describe()
    assert run.stdout == "", run.describe()
    assert one_sentence(run.stderr), run.describe()


def failed_check(report: dict[str, Any]) -> dict[str, Any]:
    """The first failed top-level check of a report."""
    return next(c for c in report["checks"] if c["status"] == "failed")


# === Exit codes (every command) ==================================================================

@dataclass(frozen=True, slots=True)
class Case:
    """One run of the exit-code batch: what it is and the exit code the contract gives it."""

    what: str
    expected: int | None
    run: Run


@pytest.fixture(scope="module")
def exit_cases(world: World) -> list[Case]:
    """One batch of runs for the exit-code rules (expected None: bad input, exit 1 or 2)."""
    cli = world.cli
    junk = cli.write("junk.bin", bytes(range(256)) * 4)
    missing = cli.root / "no-such-file.jwt"
    table: list[tuple[str, int | None, Call]] = [
        ("verify valid", 0, verify_call(world, world.vc1_file, as_json=False)),
        ("verify expired", 1, verify_call(world, world.expired_file)),
        ("compare unequal", 1, call("uri", "compare", HANDLE, DEVICE)),
        ("compare invalid 1", 2, call("uri", "compare", "im:alice", HANDLE)),
        ("compare invalid 2", 2, call("uri", "compare", HANDLE, "not an identifier")),
        ("parse invalid", 1, call("uri", "parse", "im:alice")),
        ("normalize invalid", 1, call("uri", "normalize", "im:alice@example.com?x")),
        ("convert invalid", 1, call("uri", "convert", "nonsense", "--to", "mimi")),
        ("convert not convertible", 1,
         call("uri", "convert", "mimi://a.example/p/crazykoala75", "--to", "im")),
        ("usage: missing options", 2, call("issue", "--key", world.issuer.file)),
        ("usage: verify without --trust", 2, call("verify", world.vc1_file)),
        ("usage: unknown alg", 2, call("keygen", "--alg", "HS256", "--out", cli.path("k"))),
        ("usage: unknown command", 2, call("no-such-command")),
        ("unreadable token", 2, call("verify", missing, "--trust", world.trust, "--json")),
        ("unreadable trust file", 2,
         call("verify", world.vc1_file, "--trust", cli.root / "no-trust.json")),
        ("malformed trust file", 2,
         call("verify", world.vc1_file, "--trust", cli.write("t.json", "{not json"), "--json")),
        ("bad key file", 2, issue_call(cli.write("bad.jwk", '{"kty": "OKP"}'))),
        ("unreadable credential", 2, present_call(world, missing)),
        ("issue invalid subject", 2, issue_call(world.issuer.file, subject="im:alice")),
        ("present vc2 of vc1", 2, present_call(world, extra=("--format", "vc2"))),
        ("binary token", None, call("verify", "-", "--trust", world.trust, "--json",
                                    stdin=bytes(range(256)))),
        ("JSON token", None, call("verify", "-", "--trust", world.trust, stdin=b"{}")),
        ("binary trust file", None, call("verify", world.vc1_file, "--trust", junk)),
        ("bad --now", None, call("verify", world.vc1_file, "--trust", world.trust, "--now",
                                 "yesterday")),
        ("store is not a database", None, verify_call(world, craft_vp(world), "--audience",
                                                      AUDIENCE, "--nonce", "n", store=junk)),
        ("binary key", None, issue_call(junk)),
        ("bad duration", None, issue_call(world.issuer.file, "--valid-for", "forever")),
        ("empty kid", None, call("keygen", "--kid", "", "--out", cli.path("k.jwk"))),
        ("ftp htu", None, call("dpop", "create", "--key", world.device.file, "--htm", "POST",
                               "--htu", "ftp://x")),
        ("control character", None, call("uri", "parse", "im:\u0001@example.com")),
    ]
    runs = cli.many([item for *_, item in table])
    return [Case(what, expected, run) for (what, expected, _), run in
            zip(table, runs, strict=True)]


def test_exit_codes_table(exit_cases: list[Case]) -> None:
    """"0 success ...; 1 verify ran and the input is not valid, uri compare not equal, uri
    parse/normalize/convert not a valid identifier or not convertible; 2 usage error,
    unreadable file, malformed configuration, and uri compare with an invalid argument"."""
    wrong = [f"{case.what}: {case.run.describe()}" for case in exit_cases
             if case.expected is not None and case.run.code != case.expected]
    assert not wrong, "\n".join(wrong)


def test_non_usage_errors_are_one_sentence(exit_cases: list[Case]) -> None:
    """"every other error [than a usage error] is one clear sentence on stderr" and "Exit 2
    prints no report, only the sentence on stderr"."""
    for case in exit_cases:
        if case.what.startswith("usage") or case.run.code == 0 or (case.run.code == 1 and (
                case.run.args[0] == "verify" or case.what == "compare unequal")):
            continue  # a failed verification: see the next test
        assert one_sentence(case.run.stderr), f"{case.what}: {case.run.describe()}"
        if case.run.code == 2:
            assert case.run.stdout == "", f"{case.what}: {case.run.describe()}"


def test_failed_verification_is_one_sentence_on_stderr(world: World) -> None:
    """"every other error is one clear sentence on stderr (plus the JSON report where --json was
    asked)": the only error that comes with a JSON report is a failed verification (exit 1;
    exit 2 prints no report), so a failed verify or dpop verify says one sentence on stderr."""
    runs = world.cli.many([
        verify_call(world, world.expired_file),
        verify_call(world, world.expired_file, as_json=False),
        call("dpop", "verify", craft_proof(world, htm="GET"), "--htm", "POST", "--htu", HTU,
             "--now", NOW, "--store", world.cli.store(), "--json"),
    ])
    for run in runs:
        assert run.code == 1, run.describe()
        assert one_sentence(run.stderr), run.describe()


def test_no_traceback_on_bad_input(exit_cases: list[Case]) -> None:
    """"No command ever ends in a Python traceback on bad input" (bad input exits 1 or 2)."""
    for case in exit_cases:
        assert "Traceback" not in case.run.stdout + case.run.stderr, case.run.describe()
        if case.expected is None:
            assert case.run.code in (1, 2), f"{case.what}: {case.run.describe()}"


# === Keys and algorithms =========================================================================

def test_keygen_defaults(world: World) -> None:
    """keygen "Writes the private JWK to PRIVATE.jwk [mode 0600] and prints the public JWK (one
    JSON object)"; "The default alg is Ed25519"; "kid defaults to the RFC 7638 thumbprint";
    "For Ed25519 keys the JWK alg ... [is] Ed25519"."""
    out = world.cli.path("default.jwk")
    run = world.cli("keygen", "--out", out)
    assert run.code == 0, run.describe()
    public = json.loads(run.stdout)
    assert isinstance(public, dict)
    assert (public["kty"], public["crv"], public["alg"]) == ("OKP", "Ed25519", "Ed25519")
    assert public["kid"] == thumbprint(public)
    assert not PRIVATE_MEMBERS & set(public)
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    private = json.loads(out.read_text())
    assert set(private) >= {"kty", "crv", "x", "d", "kid", "alg"}
    assert public_members(private) == public


ALGS = ("Ed25519", "ES256", "ES256K", "ES384", "ES512", "RS256")


@pytest.fixture(scope="module")
def alg_keys(world: World) -> dict[str, Keypair]:
    """One key per algorithm, made by ``vc-im keygen --alg ALG``."""
    runs = world.cli.many([keygen(world.cli, "--alg", alg) for alg in ALGS])
    return {alg: keypair(run) for alg, run in zip(ALGS, runs, strict=True)}


def test_keygen_each_alg(alg_keys: dict[str, Keypair]) -> None:
    """"Algorithms: Ed25519, ES256 (P-256), ES256K (secp256k1), ES384 (P-384), ES512 (P-521),
    RS256 (RSA of at least 2048 bits)", each made by ``keygen --alg``, kid its RFC 7638
    thumbprint, file mode 0600."""
    algs = list(ALGS)
    pairs = [alg_keys[alg] for alg in algs]
    expected = {"Ed25519": ("OKP", "Ed25519"), "ES256": ("EC", "P-256"),
                "ES256K": ("EC", "secp256k1"), "ES384": ("EC", "P-384"),
                "ES512": ("EC", "P-521"), "RS256": ("RSA", None)}
    for alg, pair in zip(algs, pairs, strict=True):
        assert pair.public["alg"] == alg
        assert (pair.public["kty"], pair.public.get("crv")) == expected[alg]
        assert pair.public["kid"] == thumbprint(pair.public)
        assert not PRIVATE_MEMBERS & set(pair.public)
        assert public_members(pair.private) == pair.public
        assert "d" in pair.private
        assert json.loads(pair.public_file.read_text()) == pair.public
        assert stat.S_IMODE(pair.file.stat().st_mode) == 0o600
    assert len(unb64u(alg_keys["RS256"].public["n"])) * 8 >= 2048


def test_keygen_kid_option(world: World) -> None:
    """``keygen --kid KID`` names the key KID in both the private file and the printed JWK."""
    pair = keypair(world.cli.run_call(keygen(world.cli, "--kid", "issuer-key-1")))
    assert pair.public["kid"] == pair.private["kid"] == "issuer-key-1"


def test_each_key_signs_and_verifies_with_its_own_alg(world: World,
                                                     alg_keys: dict[str, Keypair]) -> None:
    """"Each key signs and verifies with its own algorithm only": a credential from each
    algorithm's key carries that alg and verifies; a token claiming another alg fails."""
    cli = world.cli
    algs = ["ES256", "ES256K", "ES384", "ES512", "RS256"]
    pairs = [alg_keys[alg] for alg in algs]
    trust = cli.write("trust-algs.json", trust_document(
        [(f"https://{alg.lower()}.example", pair.public, ["example.com"])
         for alg, pair in zip(algs, pairs, strict=True)]))
    tokens = [token_of(r) for r in cli.many([
        issue_call(pair.file, issuer=f"https://{alg.lower()}.example")
        for alg, pair in zip(algs, pairs, strict=True)])]
    for alg, token in zip(algs, tokens, strict=True):
        assert decode(token)[0]["alg"] == alg
    mislabeled = resign_vc(world, world.vc1, lambda h, _: h.update(alg="ES256"))
    runs = cli.many([*(verify_call(world, t, trust=trust) for t in tokens),
                     verify_call(world, mislabeled)])
    for run in runs[:-1]:
        assert_valid(run)
    assert runs[-1].code == 1, runs[-1].describe()


def test_ed25519_jws_alg_and_eddsa_accepted(world: World) -> None:
    """"For Ed25519 keys ... the emitted JWS alg [is] Ed25519 (RFC 9864). verify accepts both
    Ed25519 and the older EdDSA for Ed25519 keys"."""
    assert decode(world.vc1)[0]["alg"] == "Ed25519"
    eddsa = resign_vc(world, world.vc1, lambda h, _: h.update(alg="EdDSA"))
    assert_valid(world.cli.run_call(verify_call(world, eddsa)))


def test_pem_accepted_wherever_a_key_file_is_read(world: World,
                                                  alg_keys: dict[str, Keypair]) -> None:
    """"PEM (PKCS#8 private, SubjectPublicKeyInfo public) is accepted wherever a key file is
    read": issue --key and --holder-key, present --key, dpop create --key."""
    cli = world.cli
    issuer_pem, _ = pem_pair(world.issuer.private)
    device_pem, device_spki = pem_pair(world.device.private)
    es256 = alg_keys["ES256"]
    es256_pem, _ = pem_pair(es256.private)
    issuer_file = cli.write("issuer.pem", issuer_pem)
    device_file = cli.write("device.pem", device_pem)
    spki_file = cli.write("device.pub.pem", device_spki)
    es_file = cli.write("es256.pem", es256_pem)
    runs = cli.many([
        issue_call(issuer_file, "--holder-key", spki_file),
        issue_call(es_file, "--holder-key", spki_file, issuer="https://es.example"),
        call("dpop", "create", "--key", device_file, "--htm", "GET", "--htu", HTU, "--now", NOW),
    ])
    credential, es_credential, proof = (token_of(r) for r in runs)
    assert decode(credential)[1]["cnf"]["jwk"]["x"] == world.device.public["x"]
    assert decode(es_credential)[0]["alg"] == "ES256"
    credential_file = cli.write("pem-vc.jwt", credential)
    presentation = token_of(cli.run_call(present_call(world, credential_file, key=device_file)))
    runs = cli.many([
        verify_call(world, credential, now=ISSUED + 60),
        vp_verify_call(world, presentation),
        call("dpop", "verify", cli.write("proof.jwt", proof), "--htm", "GET", "--htu", HTU,
             "--now", NOW, "--store", cli.store(), "--json"),
    ])
    for run in runs:
        assert_valid(run)


# === issue =======================================================================================

def test_issue_defaults(world: World) -> None:
    """issue "Prints one compact JWS"; --type device is the default (an ImDeviceCredential);
    the default --valid-for is 90d; --format vc1 is the default (the vc claim)."""
    token = token_of(world.cli.run_call(issue_call(world.issuer.file, now=NOW)))
    header, payload = decode(token)
    assert header["alg"] == "Ed25519"
    assert header.get("typ", "JWT") == "JWT"
    assert "vc" in payload
    assert payload["vc"]["type"] == ["VerifiableCredential", "ImDeviceCredential"]
    assert payload["vc"]["@context"][0] == V1_CONTEXT
    assert (payload["iss"], payload["sub"], payload["nbf"]) == (ISSUER, DEVICE, NOW)
    assert payload["exp"] - payload["nbf"] == 90 * DAY
    assert payload["vc"]["credentialSubject"]["fn"] == "Alice M. Smith"
    assert payload["vc"]["credentialSubject"]["hasInstantMessage"] == [DEVICE]


def test_issue_type_user(world: World) -> None:
    """"--type user is an ImUserCredential whose subject is a user or handle identifier"."""
    cli = world.cli
    runs = cli.many([issue_call(world.issuer.file, "--type", "user", subject=subject)
                     for subject in (HANDLE, "im:alice@example.com")])
    tokens = [token_of(r) for r in runs]
    for token, subject in zip(tokens, (HANDLE, "im:alice@example.com"), strict=True):
        payload = decode(token)[1]
        assert payload["vc"]["type"] == ["VerifiableCredential", "ImUserCredential"]
        assert payload["sub"] == subject
    assert_valid(cli.run_call(verify_call(world, tokens[0])))


def test_issue_im_repeats_and_subject_always_listed(world: World) -> None:
    """"--im repeats. The subject is always among the credential's hasInstantMessage values"."""
    cli = world.cli
    mimi = "mimi://example.com/u/alice_smith"
    runs = cli.many([
        issue_call(world.issuer.file, "--im", HANDLE, "--im", mimi),
        issue_call(world.issuer.file, "--im", HANDLE, "--format", "vc2"),
        issue_call(world.issuer.file, "--type", "user", subject=HANDLE),
    ])
    tokens = [token_of(r) for r in runs]
    subject0 = decode(tokens[0])[1]["vc"]["credentialSubject"]
    assert set(subject0["hasInstantMessage"]) == {HANDLE, mimi, DEVICE}
    assert len(subject0["hasInstantMessage"]) == 3
    assert DEVICE in decode(tokens[1])[1]["credentialSubject"]["hasInstantMessage"]
    assert decode(tokens[2])[1]["vc"]["credentialSubject"]["hasInstantMessage"] == [HANDLE]
    assert_valid(cli.run_call(verify_call(world, tokens[0])))


def test_issue_unit_written_as_has_organizational_unit(world: World) -> None:
    """"--unit is written as hasOrganizationalUnit, the seed's spelling ...
    hasOrganizationUnit is not a term of ours"; such a credential verifies."""
    subject = decode(world.vc1)[1]["vc"]["credentialSubject"]
    assert subject["hasOrganizationalUnit"] == "Engineering"
    assert "hasOrganizationUnit" not in subject
    assert "Example Corp" in subject.values()
    vc2 = token_of(world.cli.run_call(issue_call(world.issuer.file, "--unit", "R&D",
                                                 "--format", "vc2")))
    assert decode(vc2)[1]["credentialSubject"]["hasOrganizationalUnit"] == "R&D"
    assert_valid(world.cli.run_call(verify_call(world, vc2)))


def test_issue_duration_forms(world: World) -> None:
    """"DURATION is like 90d, 12h, 30m or 3600s" (90d: see the defaults)."""
    cli = world.cli
    forms = {"12h": 12 * 3600, "30m": 1800, "3600s": 3600}
    runs = cli.many([issue_call(world.issuer.file, "--valid-for", form, now=NOW)
                     for form in forms])
    for run, seconds in zip(runs, forms.values(), strict=True):
        payload = decode(token_of(run))[1]
        assert payload["exp"] - payload["nbf"] == seconds


def test_issue_time_forms(world: World) -> None:
    """"TIME is an RFC 3339 date-time or integer seconds since the epoch" (the other tests
    give integer seconds)."""
    cli = world.cli
    forms = ["2023-11-14T22:13:20Z", "2023-11-14T23:13:20+01:00"]
    runs = cli.many([issue_call(world.issuer.file, now=form) for form in forms])
    for run in runs:
        assert decode(token_of(run))[1]["nbf"] == NOW


def test_issue_format_vc2(world: World) -> None:
    """"vc2 is VC Data Model 2.0 secured with JOSE (typ: vc+jwt)"; verify accepts it."""
    header, payload = decode(world.vc2)
    assert header["typ"] == "vc+jwt"
    assert "vc" not in payload
    assert payload["@context"][0] == V2_CONTEXT
    assert payload["type"] == ["VerifiableCredential", "ImDeviceCredential"]
    assert payload["credentialSubject"]["id"] == DEVICE
    assert_valid(world.cli.run_call(verify_call(world, world.vc2_file)))


def test_issue_holder_key_bound_as_cnf_jwk(world: World) -> None:
    """"--holder-key binds the holder's key into the credential as cnf.jwk (both formats)"."""
    for token in (world.vc1, world.vc2):
        jwk = decode(token)[1]["cnf"]["jwk"]
        assert not PRIVATE_MEMBERS & set(jwk)
        assert thumbprint(jwk) == thumbprint(world.device.public)
    assert "cnf" not in decode(world.nocnf_file.read_text())[1]


def test_issuer_id_matched_exactly(world: World) -> None:
    """"ISSUER_ID is any absolute URI (https://…, did:key:…, did:jwk:…), matched exactly
    against the trust file's id"."""
    cli = world.cli
    did = "did:jwk:" + b64u(json.dumps(world.issuer.public).encode())
    did_trust = cli.write("did-trust.json", trust_document(
        [(did, world.issuer.public, ["example.com"])]))
    runs = cli.many([issue_call(world.issuer.file, issuer=ISSUER + "/"),
                     issue_call(world.issuer.file, issuer=did)])
    slash, by_did = (token_of(r) for r in runs)
    runs = cli.many([verify_call(world, slash), verify_call(world, by_did, trust=did_trust)])
    assert_code(runs[0], "untrusted_issuer")
    assert_valid(runs[1])


# === present =====================================================================================

def test_present_defaults(world: World) -> None:
    """present "Prints one compact JWS, a verifiable presentation signed by the holder key";
    by default the vp claim; iss is the device identifier; the header names the key (kid =
    RFC 7638 thumbprint and/or the public jwk); the default lifetime is 300 s."""
    token = token_of(world.cli.run_call(present_call(world, nonce="n-1")))
    header, payload = decode(token)
    assert "vp" in payload
    assert payload["iss"] == DEVICE
    assert payload["aud"] in (AUDIENCE, [AUDIENCE])
    assert payload["nonce"] == "n-1"
    assert payload["iat"] == NOW
    assert payload["exp"] - payload["iat"] == 300
    assert "kid" in header or "jwk" in header
    if "kid" in header:
        assert header["kid"] == thumbprint(world.device.public)
    if "jwk" in header:
        assert not PRIVATE_MEMBERS & set(header["jwk"])
        assert thumbprint(header["jwk"]) == thumbprint(world.device.public)
    assert header["alg"] == "Ed25519"
    assert_valid(world.cli.run_call(vp_verify_call(world, token)))


def test_present_format_vc2(world: World) -> None:
    """"--format vc2 uses the VC Data Model 2.0 encoding (typ: vp+jwt, enveloped
    credentials). verify accepts both"."""
    token = token_of(world.cli.run_call(present_call(world, world.vc2_file,
                                                     extra=("--format", "vc2"))))
    header, payload = decode(token)
    assert header["typ"] == "vp+jwt"
    assert "vp" not in payload
    assert payload["iss"] == DEVICE
    assert_valid(world.cli.run_call(vp_verify_call(world, token)))


def test_present_vc2_requires_vc2_credentials(world: World) -> None:
    """"--format vc2 requires vc2 credentials (exit 2 otherwise)"."""
    runs = world.cli.many([present_call(world, world.vc1_file, extra=("--format", "vc2")),
                           present_call(world, world.vc2_file, world.vc1_file,
                                        extra=("--format", "vc2"))])
    for run in runs:
        assert_refused(run)


def test_present_no_check_signs_what_it_is_given(world: World) -> None:
    """present refuses (exit 2) by default a credential bound to another key; with --no-check
    it signs what it is given, and verify says holder_binding."""
    refused = world.cli.run_call(present_call(world, key=world.other.file))
    assert (refused.code, refused.stdout) == (2, "")
    token = token_of(world.cli.run_call(present_call(world, key=world.other.file,
                                                     extra=("--no-check",))))
    assert_code(world.cli.run_call(vp_verify_call(world, token)), "holder_binding")


# === verify: output ==============================================================================

def test_verify_text_first_line(world: World) -> None:
    """"Without --json, the first line of stdout is valid or invalid: CODE"."""
    runs = world.cli.many([verify_call(world, world.vc1_file, as_json=False),
                           verify_call(world, world.expired_file, as_json=False)])
    assert runs[0].first_line == "valid"
    assert runs[1].first_line == "invalid: expired"


def test_verify_reads_stdin(world: World) -> None:
    """"verify [TOKEN_FILE | -]" reads "from the file or stdin"."""
    token = world.vc1 + "\n"
    runs = world.cli.many([
        call("verify", "-", "--trust", world.trust, "--now", NOW, "--json", stdin=token),
        call("verify", "--trust", world.trust, "--now", NOW, "--json", stdin=token),
    ])
    for run in runs:
        assert_valid(run)


def test_verify_json_report_shape(world: World) -> None:
    """"With --json, stdout is one JSON object, the report" with ok, kind, checks (name, status,
    code, reason) and credentials, "always present (empty for a credential)"; "code is null
    unless the check failed"."""
    run = world.cli.run_call(verify_call(world, world.vc1_file))
    report = run.report
    assert report["ok"] is True
    assert report["kind"] == "credential"
    assert report["credentials"] == []
    assert [c["status"] for c in report["checks"]] == ["passed"] * len(report["checks"])
    assert all(c["code"] is None for c in report["checks"])
    assert all(isinstance(c["reason"], str) for c in report["checks"])
    assert len({c["name"] for c in report["checks"]}) == len(report["checks"])


def test_verify_first_failure_ends_report(world: World) -> None:
    """"The first failure ends that report, and the checks after it are listed as skipped"."""
    report = world.cli.run_call(verify_call(world, world.expired_file)).report
    statuses = [c["status"] for c in report["checks"]]
    index = statuses.index("failed")
    assert report["ok"] is False
    assert failed_check(report)["code"] == "expired"
    assert statuses[:index] == ["passed"] * index
    assert index < len(statuses) - 1, "some checks come after the time check"
    assert statuses[index + 1:] == ["skipped"] * (len(statuses) - index - 1)
    assert all(c["code"] is None for c in report["checks"][index + 1:])


def test_nested_code_propagates(world: World) -> None:
    """"A presentation's check of its embedded credentials fails with the code of the first
    failing nested report"; "ok is true only when no check failed anywhere"; nested reports
    have the same shape."""
    token = craft_vp(world, [world.vc1, world.expired_file.read_text().strip()])
    runs = world.cli.many([vp_verify_call(world, token),
                           vp_verify_call(world, token, as_json=False)])
    report = runs[0].report
    assert report["kind"] == "presentation"
    assert report["ok"] is False
    assert failed_check(report)["code"] == "expired"
    assert [nested["ok"] for nested in report["credentials"]] == [True, False]
    assert failed_check(report["credentials"][1])["code"] == "expired"
    assert runs[1].first_line == "invalid: expired"


def test_presentation_report_nests_each_credential(world: World) -> None:
    """A valid presentation's report carries "one nested report per embedded credential"."""
    token = craft_vp(world, [world.vc1, world.user])
    report = world.cli.run_call(vp_verify_call(world, token)).report
    assert report["ok"] is True
    assert report["kind"] == "presentation"
    assert [nested["kind"] for nested in report["credentials"]] == ["credential"] * 2
    assert all(nested["ok"] for nested in report["credentials"])


# === verify: input ===============================================================================

def test_input_one_trailing_newline_only(world: World) -> None:
    """"Exactly one compact JWS ... One trailing newline is tolerated and nothing else: no
    leading space, no second newline"."""
    cli = world.cli
    token = world.vc1
    variants = {token + "\n": 0, token + "\n\n": 1, " " + token: 1, token + "\r\n": 1}
    runs = cli.many([verify_call(world, cli.write("variant.jwt", text)) for text in variants]
                    + [call("verify", "-", "--trust", world.trust, "--now", NOW, "--json",
                            stdin=text) for text in (token + "\n",)])
    assert [r.code for r in runs] == [*variants.values(), 0], "\n".join(
        r.describe() for r in runs)


def test_input_at_most_64_kib(world: World) -> None:
    """"Exactly one compact JWS, of at most 64 KiB"; "more than 64 KiB" fails too_large."""
    cli = world.cli
    big = "a" * 65537
    at_limit = "a" * 65536
    runs = cli.many([call("verify", "-", "--trust", world.trust, "--json", stdin=big + "\n"),
                     verify_call(world, at_limit)])
    assert_code(runs[0], "too_large")
    assert runs[1].code == 1
    assert runs[1].code_of_report != "too_large", runs[1].describe()


# === verify: credential content ==================================================================

def test_credential_needs_fn_and_has_instant_message(world: World) -> None:
    """"A credential has fn and hasInstantMessage"."""
    def without(name: str) -> Callable[[dict[str, Any], dict[str, Any]], None]:
        return lambda _, p: p["vc"]["credentialSubject"].pop(name)
    runs = world.cli.many([verify_call(world, resign_vc(world, world.vc1, without(name)))
                           for name in ("fn", "hasInstantMessage")])
    for run in runs:
        assert run.code == 1, run.describe()


def test_identifiers_are_im_or_mimi_without_query_or_fragment(world: World) -> None:
    """"Every hasInstantMessage value and the subject are im: or mimi:// identifiers, without a
    query or a fragment"."""
    def listing(value: str) -> Callable[[dict[str, Any], dict[str, Any]], None]:
        return lambda _, p: p["vc"]["credentialSubject"]["hasInstantMessage"].append(value)

    def subject(value: str) -> Callable[[dict[str, Any], dict[str, Any]], None]:
        def change(_: dict[str, Any], p: dict[str, Any]) -> None:
            p["sub"] = value
            p["vc"]["credentialSubject"]["hasInstantMessage"] = [value]
        return change
    bad = ["https://example.com/alice", "im:%40alice@example.com?x=1",
           "mimi://example.com/u/alice#f"]
    tokens = [resign_vc(world, world.vc1, listing(value)) for value in bad]
    tokens += [resign_vc(world, world.vc1, subject(DEVICE + "#f"))]
    ok = resign_vc(world, world.vc1, listing("mimi://example.com/u/alice_smith"))
    runs = world.cli.many([verify_call(world, t) for t in [*tokens, ok]])
    for run in runs[:-1]:
        assert run.code == 1, run.describe()
    assert_valid(runs[-1])


def test_undefined_term_rejected(world: World) -> None:
    """"A term that the credential's contexts do not define is rejected, never silently
    dropped": context_rejected (or schema_invalid where the schema check runs first)."""
    def add_vc1(_: dict[str, Any], payload: dict[str, Any]) -> None:
        payload["vc"]["credentialSubject"]["favouriteColour"] = "blue"

    def add_vc2(_: dict[str, Any], payload: dict[str, Any]) -> None:
        payload["credentialSubject"]["hasOrganisationUnit"] = "Engineering"
    tokens = [resign_vc(world, world.vc1, add_vc1), resign_vc(world, world.vc2, add_vc2)]
    for run in world.cli.many([verify_call(world, t) for t in tokens]):
        assert run.code == 1, run.describe()
        assert run.code_of_report in ("context_rejected", "schema_invalid"), run.describe()


# === verify: the condition | code table ==========================================================

def test_milliseconds_numericdates_malformed(world: World) -> None:
    """"NumericDates in milliseconds (the seed's example) | malformed, with a reason that says
    so"."""
    def to_ms(_: dict[str, Any], payload: dict[str, Any]) -> None:
        for claim in ("nbf", "iat", "exp"):
            payload[claim] *= 1000
    run = world.cli.run_call(verify_call(world, resign_vc(world, world.vc1, to_ms)))
    assert_code(run, "malformed")
    assert "millisecond" in failed_check(run.report)["reason"].lower()


def test_device_credential_subject_not_device(world: World) -> None:
    """"a device credential whose subject is not a device identifier | bad_identifier"."""
    def to_handle(_: dict[str, Any], payload: dict[str, Any]) -> None:
        payload["sub"] = HANDLE
        payload["vc"]["credentialSubject"]["hasInstantMessage"] = [HANDLE]
    run = world.cli.run_call(verify_call(world, resign_vc(world, world.vc1, to_handle)))
    assert_code(run, "bad_identifier")


def test_identifier_outside_domains(world: World) -> None:
    """"an identifier outside the issuer's domains | untrusted_issuer" (subject or any
    hasInstantMessage value)."""
    cli = world.cli
    tokens = [token_of(r) for r in cli.many([
        issue_call(world.issuer.file, subject="im:SvPfLlwBQi-6oddVRrkqpw/04c7@example.org"),
        issue_call(world.issuer.file, "--im", "im:%40alice@example.org"),
        issue_call(world.issuer.file, "--im", "mimi://example.net/u/alice"),
    ])]
    for run in cli.many([verify_call(world, t) for t in tokens]):
        assert_code(run, "untrusted_issuer")


def test_bare_credential_where_presentation_expected(world: World) -> None:
    """"When --nonce or --audience is given, the verifier is waiting for a presentation: a bare
    credential is not accepted" (bad_type)."""
    runs = world.cli.many([
        verify_call(world, world.vc1_file, "--audience", AUDIENCE),
        verify_call(world, world.vc1_file, "--nonce", "n"),
    ])
    for run in runs:
        assert_code(run, "bad_type")


def test_absent_issuer_and_unknown_kid(world: World) -> None:
    """"an issuer absent from the trust file / a kid the trusted issuer does not have |
    untrusted_issuer / unknown_key"; "An issuer is trusted only for the keys listed"."""
    cli = world.cli
    tokens = [token_of(r) for r in cli.many([
        issue_call(world.issuer.file, issuer="https://other.example"),
        issue_call(world.other.file),
    ])]
    runs = cli.many([verify_call(world, tokens[0]), verify_call(world, tokens[1])])
    assert_code(runs[0], "untrusted_issuer")
    assert_code(runs[1], "unknown_key")


def test_presentation_without_audience_or_nonce_option(world: World) -> None:
    """"a presentation verified without --audience (checked first) / without --nonce (exit 1) |
    audience_mismatch / nonce_mismatch"."""
    token = craft_vp(world)
    runs = world.cli.many([verify_call(world, token), verify_call(world, token, "--nonce", "n"),
                           verify_call(world, token, "--audience", AUDIENCE)])
    assert_code(runs[0], "audience_mismatch")
    assert_code(runs[1], "audience_mismatch")
    assert_code(runs[2], "nonce_mismatch")


def test_presentation_without_aud_or_nonce_claim(world: World) -> None:
    """"a presentation without an aud / a nonce claim | audience_mismatch / nonce_mismatch"."""
    no_aud = craft_vp(world, change=lambda _, p: p.pop("aud"))
    no_nonce = craft_vp(world, change=lambda _, p: p.pop("nonce"))
    runs = world.cli.many([verify_call(world, no_aud, "--audience", AUDIENCE, "--nonce", "n"),
                           verify_call(world, no_nonce, "--audience", AUDIENCE, "--nonce", "n")])
    assert_code(runs[0], "audience_mismatch")
    assert_code(runs[1], "nonce_mismatch")


def test_user_credential_not_listed_by_device(world: World) -> None:
    """"a user credential whose subject no presented device credential lists |
    holder_binding"."""
    cli = world.cli
    device_only = resign_vc(world, world.vc1, lambda _, p: p["vc"]["credentialSubject"].update(
        hasInstantMessage=[DEVICE]))
    token = craft_vp(world, [device_only, world.user])
    listed = craft_vp(world, [world.vc1, world.user])
    runs = cli.many([vp_verify_call(world, token), vp_verify_call(world, listed)])
    assert_code(runs[0], "holder_binding")
    assert_valid(runs[1])


def test_more_than_16_credentials_too_large(world: World) -> None:
    """"It holds at most 16 credentials"; "more than 16 credentials | too_large"."""
    sixteen = craft_vp(world, [world.vc1] * 16)
    seventeen = craft_vp(world, [world.vc1] * 17)
    runs = world.cli.many([vp_verify_call(world, sixteen), vp_verify_call(world, seventeen)])
    assert_valid(runs[0])
    assert_code(runs[1], "too_large")


def test_credential_not_binding_presenting_key(world: World) -> None:
    """"a credential that does not bind the presenting key | holder_binding" (another key, or
    no cnf at all)."""
    cli = world.cli
    other = public_members(world.other.private)

    def other_key(header: dict[str, Any], _: dict[str, Any]) -> None:
        header.update(kid=thumbprint(other), jwk={k: other[k] for k in ("kty", "crv", "x")})
    nocnf = world.nocnf_file.read_text().strip()
    tokens = [craft_vp(world, change=other_key, signer=world.other.private),
              craft_vp(world, [nocnf]), craft_vp(world, [world.vc1, nocnf])]
    for run in cli.many([vp_verify_call(world, t) for t in tokens]):
        assert_code(run, "holder_binding")


def test_dpop_mismatch_is_claim_mismatch(world: World) -> None:
    """"DPoP htm, htu or ath that does not match | claim_mismatch"."""
    cli = world.cli
    proof = cli.write("proof.jwt", token_of(cli(
        "dpop", "create", "--key", world.device.file, "--htm", "POST", "--htu", HTU,
        "--access-token", "token-A", "--now", NOW)))

    def dpop(htm: str, htu: str, token: str) -> Call:
        return call("dpop", "verify", proof, "--htm", htm, "--htu", htu, "--access-token",
                    token, "--now", NOW, "--store", cli.store(), "--json")
    runs = cli.many([dpop("POST", HTU, "token-A"), dpop("GET", HTU, "token-A"),
                     dpop("POST", "https://server.example.com/other", "token-A"),
                     dpop("POST", HTU, "token-B")])
    assert_valid(runs[0])
    for run in runs[1:]:
        assert_code(run, "claim_mismatch")


# === verify: time and leeway =====================================================================

def test_leeway_credential_exp_and_nbf(world: World) -> None:
    """"The leeway (--leeway, default 60 s) applies to every time check: nbf, exp ... for
    credentials"."""
    exp = NOW + 3600
    token = resign_vc(world, world.vc1, lambda _, p: p.update(nbf=NOW, iat=NOW, exp=exp))
    runs = world.cli.many([
        verify_call(world, token, now=exp + 59),
        verify_call(world, token, now=exp + 61),
        verify_call(world, token, "--leeway", "0", now=exp + 1),
        verify_call(world, token, "--leeway", "120", now=exp + 110),
        verify_call(world, token, now=NOW - 59),
        verify_call(world, token, now=NOW - 61),
    ])
    assert_valid(runs[0])
    assert_code(runs[1], "expired")
    assert_code(runs[2], "expired")
    assert_valid(runs[3])
    assert_valid(runs[4])
    assert runs[5].code == 1, runs[5].describe()
    assert runs[5].code_of_report in ("not_yet_valid", "bad_iat"), runs[5].describe()


def test_leeway_credential_iat(world: World) -> None:
    """The leeway applies to a credential's iat: issued in the future within the leeway is
    accepted, beyond it is not."""
    def iat_later(_: dict[str, Any], payload: dict[str, Any]) -> None:
        payload["nbf"] = NOW - 1000
        payload["iat"] = NOW + 100
    token = resign_vc(world, world.vc1, iat_later)
    runs = world.cli.many([verify_call(world, token, now=NOW + 41),
                           verify_call(world, token, now=NOW + 39)])
    assert_valid(runs[0])
    assert_code(runs[1], "bad_iat")


def test_leeway_valid_from_and_valid_until(world: World) -> None:
    """The leeway applies to validFrom and validUntil (VC Data Model 2.0 credentials)."""
    def rfc3339(seconds: int) -> str:
        return datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    def window(_: dict[str, Any], payload: dict[str, Any]) -> None:
        payload["iat"] = NOW - 1000
        payload["validFrom"] = rfc3339(NOW)
        payload["validUntil"] = rfc3339(NOW + 1000)
        payload["exp"] = NOW + 10 * DAY
    token = resign_vc(world, world.vc2, window)
    runs = world.cli.many([verify_call(world, token, now=NOW - 59),
                           verify_call(world, token, now=NOW - 61),
                           verify_call(world, token, now=NOW + 1059),
                           verify_call(world, token, now=NOW + 1061)])
    assert_valid(runs[0])
    assert_code(runs[1], "not_yet_valid")
    assert_valid(runs[2])
    assert_code(runs[3], "expired")


def test_leeway_presentation(world: World) -> None:
    """"Its iat is at most 300 s old (plus the leeway) and not in the future beyond the leeway,
    and it has an exp no more than 600 s after its iat"; the leeway applies to its exp too."""
    cli = world.cli
    long_lived = craft_vp(world, change=lambda _, p: p.update(exp=p["iat"] + 600))
    short_lived = craft_vp(world, change=lambda _, p: p.update(exp=p["iat"] + 60))
    too_long = craft_vp(world, change=lambda _, p: p.update(exp=p["iat"] + 601))
    no_exp = craft_vp(world, change=lambda _, p: p.pop("exp"))
    runs = cli.many([
        vp_verify_call(world, long_lived, now=NOW + 359),
        vp_verify_call(world, long_lived, now=NOW + 361),
        vp_verify_call(world, long_lived, "--leeway", "0", now=NOW + 301),
        vp_verify_call(world, long_lived, now=NOW - 59),
        vp_verify_call(world, long_lived, now=NOW - 61),
        vp_verify_call(world, short_lived, now=NOW + 121),
        vp_verify_call(world, too_long),
        vp_verify_call(world, no_exp),
    ])
    assert_valid(runs[0])
    assert_code(runs[1], "bad_iat")
    assert_code(runs[2], "bad_iat")
    assert_valid(runs[3])
    assert runs[4].code == 1, runs[4].describe()
    assert runs[4].code_of_report in ("bad_iat", "not_yet_valid"), runs[4].describe()
    assert_code(runs[5], "expired")
    for run in runs[6:]:
        assert run.code == 1, run.describe()


def test_leeway_dpop(world: World) -> None:
    """"verify applies RFC 9449's checks (it takes --leeway too; the iat window is the
    presentations' one)": 300 s plus the leeway, not in the future beyond it; exp with leeway."""
    cli = world.cli
    proof = token_of(cli("dpop", "create", "--key", world.device.file, "--htm", "POST",
                         "--htu", HTU, "--now", NOW))
    header, payload = decode(proof)
    payload["exp"] = NOW + 10
    with_exp = sign(header, payload, world.device.private)

    def dpop(token: str, now: int, *extra: object) -> Call:
        return call("dpop", "verify", cli.write("proof.jwt", token), "--htm", "POST", "--htu",
                    HTU, "--now", now, "--store", cli.store(), "--json", *extra)
    runs = cli.many([dpop(proof, NOW + 359), dpop(proof, NOW + 361),
                     dpop(proof, NOW + 301, "--leeway", "0"), dpop(proof, NOW - 59),
                     dpop(proof, NOW - 61), dpop(with_exp, NOW + 69), dpop(with_exp, NOW + 71)])
    assert_valid(runs[0])
    assert_code(runs[1], "bad_iat")
    assert_code(runs[2], "bad_iat")
    assert_valid(runs[3])
    assert_code(runs[4], "bad_iat")
    assert_valid(runs[5])
    assert_code(runs[6], "expired")


# === verify: domains =============================================================================

def test_domains_exact_case_insensitive_idna_no_subdomains(world: World) -> None:
    """"Domains match exactly: case-insensitive after IDNA normalisation, with no
    subdomains"."""
    cli = world.cli

    def trust(*domains: str) -> Path:
        return cli.write("trust.json", trust_document([(ISSUER, world.issuer.public,
                                                        list(domains))]))

    def at(domain: str) -> Callable[[dict[str, Any], dict[str, Any]], None]:
        def change(_: dict[str, Any], payload: dict[str, Any]) -> None:
            subject = f"im:SvPfLlwBQi-6oddVRrkqpw/04c7@{domain}"
            payload["sub"] = subject
            payload["vc"]["credentialSubject"]["hasInstantMessage"] = [subject]
        return change
    vc = world.vc1
    cases: list[tuple[Call, bool]] = [
        (verify_call(world, vc, trust=trust("EXAMPLE.com")), True),
        (verify_call(world, resign_vc(world, vc, at("chat.example.com"))), False),
        (verify_call(world, vc, trust=trust("chat.example.com")), False),
        (verify_call(world, resign_vc(world, vc, at("xn--bcher-kva.example")),
                     trust=trust("bücher.example")), True),
        (verify_call(world, resign_vc(world, vc, at("BÜCHER.example")),
                     trust=trust("xn--bcher-kva.example")), True),
        (verify_call(world, resign_vc(world, vc, at("xn--bcher-kva.example"))), False),
    ]
    runs = cli.many([case for case, _ in cases])
    for run, accepted in zip(runs, (ok for _, ok in cases), strict=True):
        if accepted:
            assert_valid(run)
        else:
            assert_code(run, "untrusted_issuer")


# === verify: presentations =======================================================================

def test_presentation_binding_by_cnf_jkt_with_header_jwk(world: World) -> None:
    """A presentation is accepted when every credential binds the presenting key by "cnf.jwk,
    or cnf.jkt when the header carries the jwk"."""
    def to_jkt(_: dict[str, Any], payload: dict[str, Any]) -> None:
        payload["cnf"] = {"jkt": thumbprint(world.device.public)}
    jkt = resign_vc(world, world.vc1, to_jkt)
    with_jwk = craft_vp(world, [jkt])
    kid_only = craft_vp(world, [jkt], change=lambda h, _: h.pop("jwk"))
    runs = world.cli.many([vp_verify_call(world, with_jwk), vp_verify_call(world, kid_only)])
    assert_valid(runs[0])
    assert runs[1].code == 1, runs[1].describe()


def test_presentation_iss_is_device_subject(world: World) -> None:
    """A presentation is accepted only when "its iss equals each device credential's
    subject"."""
    baseline = craft_vp(world)
    other = craft_vp(world, change=lambda _, p: p.update(iss="im:other/dev@example.com"))
    runs = world.cli.many([vp_verify_call(world, baseline), vp_verify_call(world, other)])
    assert_valid(runs[0])
    assert runs[1].code == 1, runs[1].describe()


def test_presentation_header_key_rules(world: World) -> None:
    """"A presentation whose header names a key other than the bound one, or which names none
    and does not verify with the bound key, fails with holder_binding; one that names the bound
    key but does not verify fails with bad_signature"."""
    other_public = public_members(world.other.private)

    def names_other_kid(header: dict[str, Any], _: dict[str, Any]) -> None:
        header["kid"] = thumbprint(other_public)
        header.pop("jwk")

    def names_other_jwk(header: dict[str, Any], _: dict[str, Any]) -> None:
        header["jwk"] = {k: other_public[k] for k in ("kty", "crv", "x")}
        header.pop("kid")

    def names_none(header: dict[str, Any], _: dict[str, Any]) -> None:
        header.pop("kid")
        header.pop("jwk")
    tokens = [
        craft_vp(world, change=names_other_kid),
        craft_vp(world, change=names_other_jwk, signer=world.other.private),
        craft_vp(world, change=names_none, signer=world.other.private),
        craft_vp(world, signer=world.other.private),
        craft_vp(world, change=names_none),
    ]
    runs = world.cli.many([vp_verify_call(world, t) for t in tokens])
    for run in runs[:3]:
        assert_code(run, "holder_binding")
    assert_code(runs[3], "bad_signature")
    assert_valid(runs[4])


def test_presentation_aud_forms(world: World) -> None:
    """"Its aud names exactly one audience, --audience: either a string or an array holding only
    that string"."""
    forms: list[tuple[Any, bool]] = [
        (AUDIENCE, True), ([AUDIENCE], True), ([AUDIENCE, "https://x.example"], False),
        ([], False), ("https://x.example", False),
    ]
    tokens = [craft_vp(world, change=setting(aud=aud)) for aud, _ in forms]
    runs = world.cli.many([vp_verify_call(world, t) for t in tokens])
    for run, (_, accepted) in zip(runs, forms, strict=True):
        if accepted:
            assert_valid(run)
        else:
            assert_code(run, "audience_mismatch")


def test_presentation_nonce_is_json_string(world: World) -> None:
    """"Its nonce is a JSON string equal to --nonce"."""
    cli = world.cli
    numeric = craft_vp(world, change=lambda _, p: p.update(nonce=12345))
    listed = craft_vp(world, change=lambda _, p: p.update(nonce=["12345"]))
    plain = craft_vp(world, change=lambda _, p: p.update(nonce="12345"))
    runs = cli.many([
        verify_call(world, numeric, "--audience", AUDIENCE, "--nonce", "12345"),
        verify_call(world, listed, "--audience", AUDIENCE, "--nonce", "12345"),
        verify_call(world, plain, "--audience", AUDIENCE, "--nonce", "12346"),
        verify_call(world, plain, "--audience", AUDIENCE, "--nonce", "12345"),
    ])
    for run in runs[:3]:
        assert_code(run, "nonce_mismatch")
    assert_valid(runs[3])


# === verify: replay ==============================================================================

def test_same_presentation_twice_is_replay(world: World) -> None:
    """"The same presentation verified a second time fails with replay"."""
    token = craft_vp(world)
    store = world.cli.store()
    assert_valid(world.cli.run_call(vp_verify_call(world, token, store=store)))
    assert_code(world.cli.run_call(vp_verify_call(world, token, store=store)), "replay")
    assert_code(world.cli.run_call(vp_verify_call(world, token, store=store, as_json=False)),
                "replay")


def test_accepting_consumes_caller_nonce(world: World) -> None:
    """"Accepting a presentation consumes its nonce, whether the nonce came from vc-im nonce or
    from the caller": a second presentation with the same nonce is refused."""
    cli = world.cli
    first, second = (craft_vp(world, change=lambda _, p: p.update(nonce="caller-1"))
                     for _ in range(2))
    store = cli.store()
    assert_valid(cli.run_call(vp_verify_call(world, first, store=store)))
    assert cli.run_call(vp_verify_call(world, second, store=store)).code == 1


def test_issued_nonce_consumed_and_ttl(world: World) -> None:
    """vc-im nonce records the nonce; "The default TTL is 300 s; a presentation bound to an
    issued nonce whose TTL has passed fails with nonce_mismatch"; accepting consumes it."""
    cli = world.cli
    store = cli.store()
    fresh, stale, short = (r.stdout.strip() for r in cli.many([
        call("nonce", "--now", NOW, "--store", store),
        call("nonce", "--now", NOW, "--store", store),
        call("nonce", "--now", NOW, "--ttl", "60s", "--store", store),
    ]))
    fresh_vp, again_vp, stale_vp, short_vp = (
        craft_vp(world, change=setting(nonce=nonce), now=at)
        for nonce, at in ((fresh, NOW + 290), (fresh, NOW + 291), (stale, NOW + 310),
                          (short, NOW + 100)))
    assert_valid(cli.run_call(vp_verify_call(world, fresh_vp, now=NOW + 290, store=store)))
    assert cli.run_call(vp_verify_call(world, again_vp, now=NOW + 291, store=store)).code == 1
    runs = cli.many([vp_verify_call(world, stale_vp, now=NOW + 310, store=store),
                     vp_verify_call(world, short_vp, now=NOW + 100, store=store)])
    for run in runs:
        assert_code(run, "nonce_mismatch")


def test_default_store_location(world: World) -> None:
    """"The default store is ${XDG_STATE_HOME:-$HOME/.local/state}/vc-im/replay.sqlite3"."""
    cli = world.cli
    xdg = cli.path("xdg")
    home = cli.path("home")
    home.mkdir()
    empty_home = cli.path("home-empty-xdg")
    empty_home.mkdir()
    envs: list[dict[str, str | None]] = [
        {"XDG_STATE_HOME": str(xdg)},
        {"XDG_STATE_HOME": None, "HOME": str(home)},
        {"XDG_STATE_HOME": "", "HOME": str(empty_home)},
    ]
    expected = [xdg / "vc-im" / "replay.sqlite3",
                home / ".local" / "state" / "vc-im" / "replay.sqlite3",
                empty_home / ".local" / "state" / "vc-im" / "replay.sqlite3"]
    calls = []
    for env in envs:
        token = craft_vp(world)
        calls.append(call("verify", cli.write("vp.jwt", token), "--trust", world.trust,
                          "--audience", AUDIENCE, "--nonce", decode(token)[1]["nonce"],
                          "--now", NOW, "--json", env=env))
    nonce_xdg = cli.path("xdg-nonce")
    runs = cli.many([*calls, call("nonce", env={"XDG_STATE_HOME": str(nonce_xdg)})])
    for run, path in zip(runs[:3], expected, strict=True):
        assert_valid(run)
        assert path.is_file(), path
    assert runs[-1].code == 0, runs[-1].describe()
    assert (nonce_xdg / "vc-im" / "replay.sqlite3").is_file()
    assert_code(cli.run_call(calls[0]), "replay")


# === refusing bad input ==========================================================================

def test_issue_refuses_invalid_subject(world: World) -> None:
    """"issue and present refuse bad input with exit 2 before signing anything: an invalid
    --subject"."""
    cli = world.cli
    subjects = ["im:alice", "https://example.com/alice", "im:%40alice@example.com?x"]
    runs = cli.many([issue_call(world.issuer.file, subject=s) for s in subjects]
                    + [issue_call(world.issuer.file, subject=HANDLE),
                       issue_call(world.issuer.file, "--type", "user", subject=DEVICE)])
    for run in runs:
        assert_refused(run)


def test_issue_refuses_bad_holder_key(world: World) -> None:
    """"... or a --holder-key that is private, malformed or an Ed25519 small-order point"."""
    cli = world.cli
    device_pkcs8, _ = pem_pair(world.device.private)
    public = {k: world.device.public[k] for k in ("kty", "crv", "x")}
    bad: dict[str, str | bytes] = {
        "private JWK": json.dumps(world.device.private),
        "private PEM": device_pkcs8,
        "not a key": "not a key",
        "no x": json.dumps({"kty": "OKP", "crv": "Ed25519"}),
        "short x": json.dumps({**public, "x": public["x"][:-2]}),
        **{f"small order ({name})": json.dumps({**public, "x": x})
           for name, x in SMALL_ORDER_X.items()},
    }
    runs = cli.many([issue_call(world.issuer.file, "--holder-key",
                                cli.write("holder.jwk", content)) for content in bad.values()])
    for name, run in zip(bad, runs, strict=True):
        assert run.code == 2, f"{name}: {run.describe()}"
        assert_refused(run)


def test_present_refuses_bad_input(world: World) -> None:
    """"issue and present refuse bad input with exit 2 before signing anything" (an unusable
    --key or --credential)."""
    cli = world.cli
    runs = cli.many([
        present_call(world, key=world.device.public_file),
        present_call(world, key=cli.write("bad.jwk", "{}")),
        present_call(world, cli.write("bad.jwt", "not a token")),
    ])
    for run in runs:
        assert_refused(run)


# === nonce =======================================================================================

def test_nonce_output(world: World) -> None:
    """nonce "Prints a fresh verifier nonce (at least 128 bits, base64url) on stdout"."""
    cli = world.cli
    store = cli.store()
    runs = cli.many([call("nonce", "--store", store), call("nonce", "--store", store),
                     call("nonce", "--ttl", "10m", "--now", NOW, "--store", store)])
    values = []
    for run in runs:
        assert run.code == 0, run.describe()
        assert run.stdout.count("\n") == 1
        value = run.stdout.strip()
        assert re.fullmatch(r"[A-Za-z0-9_-]+", value), value
        assert len(value) * 6 >= 128
        values.append(value)
    assert len(set(values)) == 3
    assert store.is_file()


# === dpop ========================================================================================

def test_dpop_create_and_verify(world: World) -> None:
    """"create prints an RFC 9449 DPoP proof"; dpop verify follows verify's output rules and
    "Its report has kind: dpop"."""
    cli = world.cli
    proof = token_of(cli("dpop", "create", "--key", world.device.file, "--htm", "POST",
                         "--htu", HTU, "--now", NOW, "--sub", DEVICE))
    header, payload = decode(proof)
    assert header["typ"] == "dpop+jwt"
    assert header["alg"] == "Ed25519"
    assert not PRIVATE_MEMBERS & set(header["jwk"])
    assert thumbprint(header["jwk"]) == thumbprint(world.device.public)
    assert (payload["htm"], payload["htu"], payload["iat"]) == ("POST", HTU, NOW)
    assert payload["sub"] == DEVICE
    assert isinstance(payload["jti"], str)
    assert payload["jti"]
    proof_file = cli.write("proof.jwt", proof + "\n")
    store = cli.store()
    args = ("dpop", "verify", proof_file, "--htm", "POST", "--htu", HTU, "--now", NOW)
    runs = cli.many([call(*args, "--store", store, "--json"),
                     call(*args, "--store", cli.store()),
                     call("dpop", "verify", "-", "--htm", "POST", "--htu", HTU, "--now", NOW,
                          "--store", cli.store(), stdin=proof)])
    report = runs[0].report
    assert report["ok"] is True
    assert report["kind"] == "dpop"
    assert runs[1].first_line == "valid"
    assert_valid(runs[2])
    assert cli(*args, "--store", store).code == 1


def test_dpop_nonce(world: World) -> None:
    """dpop verify applies RFC 9449's nonce check: a proof without the server's nonce fails."""
    cli = world.cli
    proof = craft_proof(world, nonce="server-nonce")
    runs = cli.many([
        call("dpop", "verify", proof, "--htm", "POST", "--htu", HTU, "--nonce", nonce,
             "--now", NOW, "--store", cli.store(), "--json")
        for nonce in ("server-nonce", "other-nonce")])
    assert_valid(runs[0])
    assert runs[1].code == 1, runs[1].describe()


def test_dpop_credential_binding(world: World) -> None:
    """"With --credential, it also requires the proof key to be the key that credential
    binds"."""
    cli = world.cli
    proofs = [craft_proof(world), craft_proof(world, world.other)]
    runs = cli.many([
        call("dpop", "verify", proof, "--htm", "POST", "--htu", HTU, "--credential",
             world.vc1_file, "--trust", world.trust, "--now", NOW, "--store", cli.store(),
             "--json")
        for proof in proofs])
    assert_valid(runs[0])
    assert runs[0].report["kind"] == "dpop"
    assert runs[1].code == 1, runs[1].describe()
    assert runs[1].report["kind"] == "dpop"


def test_dpop_verify_exit_2_prints_no_report(world: World) -> None:
    """"Exit 2 prints no report, only the sentence on stderr. dpop verify follows the same
    output and exit-code rules as verify"."""
    cli = world.cli
    proof = craft_proof(world)
    runs = cli.many([
        call("dpop", "verify", cli.root / "missing.jwt", "--htm", "POST", "--htu", HTU,
             "--json"),
        call("dpop", "verify", proof, "--htm", "POST", "--htu", HTU, "--credential",
             world.vc1_file, "--trust", cli.write("t.json", '{"issuers": [], "x": 1}'),
             "--json"),
    ])
    for run in runs:
        assert_refused(run)


# === uri =========================================================================================

def test_uri_parse_examples(world: World) -> None:
    """``uri parse`` prints "TYPE NORMALIZED", and with --json exactly the contract's example
    object for im:wxyz=BFuVxW5BfqaMEfJDc8R7Qw/072b@example.com."""
    runs = world.cli.many([call("uri", "parse", WXYZ_DEVICE),
                           call("uri", "parse", WXYZ_DEVICE, "--json")])
    assert runs[0].stdout == f"device {WXYZ_DEVICE}\n"
    assert runs[1].stdout == WXYZ_JSON + "\n"


PARSE_TABLE = [
    ("im:irc=irc.example.com", "domain", [], "irc.example.com"),
    ("im:irc=irc.example.com/juliet,isuser", "handle", ["juliet"], "irc.example.com"),
    ("im:irc=irc.example.com/%23projectX,ischannel", "channel", ["projectX"], "irc.example.com"),
    ("im:xmpp=juliet@example.com", "handle", ["juliet"], "example.com"),
    ("im:xmpp=juliet/balcony@example.com", "device", ["juliet", "balcony"], "example.com"),
    ("im:a%2Fb@example.com", "user", ["a/b"], "example.com"),
]


@pytest.fixture(scope="module")
def parse_table_runs(world: World) -> dict[str, Run]:
    """``vc-im uri parse URI --json`` for every row of the parse table, run together."""
    uris = [row[0] for row in PARSE_TABLE]
    runs = world.cli.many([call("uri", "parse", uri, "--json") for uri in uris])
    return dict(zip(uris, runs, strict=True))


@pytest.mark.parametrize(("uri", "type_", "parts", "domain"), PARSE_TABLE)
def test_uri_parse_table(parse_table_runs: dict[str, Run], uri: str, type_: str,
                         parts: list[str], domain: str) -> None:
    """The parse table: "input | type | parts | domain" rows, exactly."""
    parsed = parse_table_runs[uri].report
    assert (parsed["type"], parsed["parts"], parsed["domain"]) == (type_, parts, domain)
    assert parsed["scheme"] == "im"
    tag = uri[3:].split("=", 1)[0] if re.match(r"im:[a-z]+=", uri) else None
    assert parsed["protocol"] == tag


def test_uri_parse_types_and_protocol(world: World) -> None:
    """"type is one of domain, handle, user, device, channel, team, team_channel, group, room,
    pseudonym. A mimi:// provider is a domain"; "protocol is null for untagged forms"; "parts
    are percent-decoded and carry no sigils"."""
    cases = {
        "mimi://example.com": ("domain", []),
        "im:example.com": ("domain", []),
        "im:%40alice@example.com": ("handle", ["alice"]),
        "im:alice@example.com": ("user", ["alice"]),
        "im:alice/phone@example.com": ("device", ["alice", "phone"]),
        "im:%23projectX@example.com": ("channel", ["projectX"]),
        "im:%23%23engineering@example.com": ("team", ["engineering"]),
        "im:%23%23engineering/projX@example.com": ("team_channel", ["engineering", "projX"]),
        "im:$TII9t5viBrXiXc@example.com": ("group", ["TII9t5viBrXiXc"]),
        "mimi://a.example/r/clubhouse": ("room", ["clubhouse"]),
        "mimi://a.example/p/crazykoala75": ("pseudonym", ["crazykoala75"]),
        "im:%40alice@local.invalid": ("handle", ["alice"]),
    }
    runs = world.cli.many([call("uri", "parse", uri, "--json") for uri in cases])
    for (uri, (type_, parts)), run in zip(cases.items(), runs, strict=True):
        parsed = run.report
        assert (parsed["type"], parsed["parts"]) == (type_, parts), uri
        assert parsed["protocol"] is None, uri
        assert parsed["scheme"] == uri.split(":", 1)[0]
        assert run.report["normalized"] == uri


def test_uri_parse_contract_handle_example(world: World) -> None:
    """"parts are percent-decoded and carry no sigils (a handle im:%40alice@x has parts
    ["alice"])", run literally."""
    run = world.cli("uri", "parse", "im:%40alice@x", "--json")
    assert run.code == 0, run.describe()
    assert (run.report["type"], run.report["parts"]) == ("handle", ["alice"])


def test_uri_domain_always_explicit(world: World) -> None:
    """"A domain is always explicit: write @local.invalid for unscoped identifiers"."""
    runs = world.cli.many([call("uri", "parse", "im:%40alice"), call("uri", "parse", "im:alice"),
                           call("uri", "normalize", "im:alice/phone")])
    for run in runs:
        assert run.code == 1, run.describe()
        assert one_sentence(run.stderr), run.describe()


def test_uri_canonical_form(world: World) -> None:
    """"Canonical form": lower-case scheme and domain (IDNA A-labels); sigils as the seed
    writes them (also checked by the types test); xmpp and irc keep their syntax; every
    character of a part outside RFC 3986's unreserved set is percent-encoded with upper-case
    hex."""
    cases = {
        "IM:a%2fb@EXAMPLE.COM": "im:a%2Fb@example.com",
        "MIMI://EXAMPLE.COM/u/alice": "mimi://example.com/u/alice",
        "im:alice@BÜCHER.example": "im:alice@xn--bcher-kva.example",
        "im:wxyz=%40alice@example.com": "im:wxyz=%40alice@example.com",
        "im:xmpp=juliet@example.com": "im:xmpp=juliet@example.com",
        "im:xmpp=juliet/balcony@example.com": "im:xmpp=juliet/balcony@example.com",
        "im:irc=IRC.example.com/juliet,isuser": "im:irc=irc.example.com/juliet,isuser",
        "im:%61lice@example.com": "im:alice@example.com",
        "im:jürgen@example.com": "im:j%C3%BCrgen@example.com",
        "im:a,b@example.com": "im:a%2Cb@example.com",
        "im:a$b@example.com": "im:a%24b@example.com",
        "im:a%3fb@example.com": "im:a%3Fb@example.com",
        "im:a%40b@example.com": "im:a%40b@example.com",
        "im:a%23b@example.com": "im:a%23b@example.com",
    }
    parsed = ["IM:a%2fb@EXAMPLE.COM", "im:alice@BÜCHER.example", "im:a,b@example.com"]
    runs = world.cli.many([call("uri", "normalize", uri) for uri in cases]
                          + [call("uri", "parse", uri) for uri in parsed])
    normalized = [r.stdout for r in runs[:len(cases)]]
    assert normalized == [value + "\n" for value in cases.values()]
    for run, uri in zip(runs[len(cases):], parsed, strict=True):
        assert run.stdout == f"user {cases[uri]}\n"


def test_uri_compare(world: World) -> None:
    """compare "exits 0 when both name the same identifier in the same scheme with the same
    protocol tag. An im: and a mimi:// URI are never equal ..., nor are
    im:wxyz=%40alice@example.com and im:%40alice@example.com"; an invalid argument exits 2."""
    cases: list[tuple[str, str, int]] = [
        ("im:a%2fb@EXAMPLE.com", "IM:a%2Fb@example.com", 0),
        ("mimi://EXAMPLE.com/u/alice", "mimi://example.com/u/alice", 0),
        ("im:%40alice@example.com", "im:alice@example.com", 1),
        ("im:%40alice@example.com", "mimi://example.com/u/alice", 1),
        ("im:alice/phone@example.com", "mimi://example.com/d/alice/phone", 1),
        ("im:wxyz=%40alice@example.com", "im:%40alice@example.com", 1),
        ("im:alice", "im:alice@example.com", 2),
        ("im:alice@example.com", "mimi://example.com/x/alice", 2),
        ("im:alice@example.com?x", "im:alice@example.com", 2),
    ]
    runs = world.cli.many([call("uri", "compare", a, b) for a, b, _ in cases])
    assert [r.code for r in runs] == [code for *_, code in cases], "\n".join(
        r.describe() for r in runs)
    for run in runs:
        if run.code == 2:
            assert one_sentence(run.stderr), run.describe()


def test_uri_convert_mapping(world: World) -> None:
    """convert maps "user and handle → /u/, device → /d/user/device, channel → /r/, group →
    /g/, team → /t/, domain → provider. The reverse gives a user for /u/ ... The im: protocol
    tag ... is dropped; --to im writes untagged forms"."""
    cases: list[tuple[str, str, str]] = [
        ("im:alice@example.com", "mimi", "mimi://example.com/u/alice"),
        ("im:%40alice@example.com", "mimi", "mimi://example.com/u/alice"),
        ("im:alice/phone@example.com", "mimi", "mimi://example.com/d/alice/phone"),
        ("im:%23projectX@example.com", "mimi", "mimi://example.com/r/projectX"),
        ("im:$TII9t5viBrXiXc@example.com", "mimi", "mimi://example.com/g/TII9t5viBrXiXc"),
        ("im:%23%23engineering@example.com", "mimi", "mimi://example.com/t/engineering"),
        ("im:example.com", "mimi", "mimi://example.com"),
        (WXYZ_DEVICE, "mimi", "mimi://example.com/d/BFuVxW5BfqaMEfJDc8R7Qw/072b"),
        (WXYZ_DEVICE, "im", "im:BFuVxW5BfqaMEfJDc8R7Qw/072b@example.com"),
        ("im:xmpp=juliet/balcony@example.com", "im", "im:juliet/balcony@example.com"),
        ("mimi://example.com/u/alice", "im", "im:alice@example.com"),
        ("mimi://example.com/d/alice/phone", "im", "im:alice/phone@example.com"),
        ("mimi://example.com", "im", "im:example.com"),
    ]
    runs = world.cli.many([call("uri", "convert", value, "--to", to) for value, to, _ in cases])
    assert [r.stdout for r in runs] == [expected + "\n" for *_, expected in cases]


FROM_TABLE = [
    ("xmpp", "juliet@example.com", "im:%40juliet@example.com", "mimi://example.com/u/juliet"),
    ("xmpp", "juliet@example.com/balcony", "im:juliet/balcony@example.com",
     "mimi://example.com/d/juliet/balcony"),
    ("sip", "sip:juliet@example.com", "im:%40juliet@example.com",
     "mimi://example.com/u/juliet"),
    ("email", "juliet@example.com", "im:%40juliet@example.com", "mimi://example.com/u/juliet"),
    ("wire", "wireapp://SvPfLlwBQi-6oddVRrkqpw!04c7@example.com",
     "im:SvPfLlwBQi-6oddVRrkqpw/04c7@example.com",
     "mimi://example.com/d/SvPfLlwBQi-6oddVRrkqpw/04c7"),
    ("wire", "wireapp://%40alice_wire@example.com", "im:%40alice_wire@example.com",
     "mimi://example.com/u/alice_wire"),
    ("irc", "irc://irc.example.com/juliet,isuser", "im:irc=irc.example.com/juliet,isuser",
     "mimi://irc.example.com/u/juliet"),
]


@pytest.fixture(scope="module")
def from_table_runs(world: World) -> dict[tuple[str, str, str], Run]:
    """``vc-im uri convert VALUE --to im|mimi --from SOURCE`` for every row, run together."""
    keys = [(source, value, to) for source, value, *_ in FROM_TABLE for to in ("im", "mimi")]
    runs = world.cli.many([call("uri", "convert", value, "--to", to, "--from", source)
                           for source, value, to in keys])
    return dict(zip(keys, runs, strict=True))


@pytest.mark.parametrize(("source", "value", "to_im", "to_mimi"), FROM_TABLE)
def test_uri_convert_from_table(from_table_runs: dict[tuple[str, str, str], Run], source: str,
                                value: str, to_im: str, to_mimi: str) -> None:
    """The --from table: "--from value | --to im | --to mimi" rows, exactly."""
    assert from_table_runs[(source, value, "im")].stdout == to_im + "\n"
    assert from_table_runs[(source, value, "mimi")].stdout == to_mimi + "\n"


def test_uri_convert_not_convertible(world: World) -> None:
    """"Team channels, pseudonyms and mimi:// devices without exactly a user and a device
    segment are not convertible (exit 1)"."""
    runs = world.cli.many([
        call("uri", "convert", "im:%23%23engineering/projX@example.com", "--to", "mimi"),
        call("uri", "convert", "mimi://a.example/p/crazykoala75", "--to", "im"),
        call("uri", "convert", "mimi://a.example/d/ClientA1", "--to", "im"),
        call("uri", "convert", "mimi://a.example/d/a/b/c", "--to", "im"),
    ])
    for run in runs:
        assert run.code == 1, run.describe()
        assert run.stdout == ""
        assert one_sentence(run.stderr), run.describe()


# === trust file ==================================================================================

def test_trust_file_example_format(world: World) -> None:
    """The trust file of the contract's example (issuers with id, keys, domains) is accepted,
    with the issuer key as keygen printed it."""
    document = {"issuers": [{"id": ISSUER, "keys": [{k: world.issuer.public[k] for k in (
        "kty", "crv", "x", "kid", "alg")}], "domains": ["example.com"]}]}
    trust = world.cli.write("example-trust.json", json.dumps(document, indent=2))
    assert_valid(world.cli.run_call(verify_call(world, world.vc1_file, trust=trust)))


def test_trust_file_unknown_members_are_an_error(world: World) -> None:
    """"Unknown members are an error, not silently ignored" (exit 2, no report)."""
    cli = world.cli
    good = {"id": ISSUER, "keys": [world.issuer.public], "domains": ["example.com"]}
    documents = [
        {"issuers": [good], "comment": "x"},
        {"issuer": [good]},
        {"issuers": [{**good, "domain": ["example.com"]}]},
    ]
    runs = cli.many([verify_call(world, world.vc1_file, trust=cli.write("t.json", json.dumps(d)))
                     for d in documents])
    for run in runs:
        assert_refused(run)


# === stable failure codes ========================================================================

COMMANDS = ("keygen", "issue", "present", "verify", "nonce", "dpop create", "dpop verify",
            "uri parse", "uri normalize", "uri compare", "uri convert")


def test_success_writes_nothing_to_stderr(world: World) -> None:
    """"A command that succeeds writes nothing to stderr", for every command: all successful
    runs of this module so far, and one success of each command not yet run."""
    cli = world.cli
    seen = {command_of(run) for run in cli.runs if run.code == 0}
    proof = cli.write("proof.jwt", world.vc1)
    if "dpop verify" not in seen:
        proof = cli.write("proof.jwt", token_of(cli(
            "dpop", "create", "--key", world.device.file, "--htm", "GET", "--htu", HTU,
            "--now", NOW)))
    one_of_each = {
        "keygen": keygen(cli), "issue": issue_call(world.issuer.file),
        "present": present_call(world), "verify": verify_call(world, world.vc1_file),
        "nonce": call("nonce", "--store", cli.store()),
        "dpop create": call("dpop", "create", "--key", world.device.file, "--htm", "GET",
                            "--htu", HTU),
        "dpop verify": call("dpop", "verify", proof, "--htm", "GET", "--htu", HTU, "--now", NOW,
                            "--store", cli.store()),
        "uri parse": call("uri", "parse", HANDLE), "uri normalize": call("uri", "normalize",
                                                                       HANDLE),
        "uri compare": call("uri", "compare", HANDLE, HANDLE),
        "uri convert": call("uri", "convert", HANDLE, "--to", "mimi"),
    }
    cli.many([one_of_each[command] for command in COMMANDS if command not in seen])
    successes = [run for run in cli.runs if run.code == 0]
    assert {command_of(run) for run in successes} >= set(COMMANDS)
    for run in successes:
        assert run.stderr == "", run.describe()


def test_stable_codes_are_the_contracts() -> None:
    """The list of stable failure codes these tests accept is CONTRACT.md's, word for word."""
    text = vector_text("contract", "CONTRACT-stable-failure-codes.md")
    section = text.split("## Stable failure codes", 1)[1].split("Reserved", 1)[0]
    assert set(re.findall(r"`([a-z_]+)`", section)) == CONTRACT_CODES


def test_only_stable_codes_appear(world: World, codes_seen: set[str],
                                  request: pytest.FixtureRequest) -> None:
    """"A failed check's code is one of the stable codes": every code any report of this
    module printed is a contract code (or trust_contradiction, added by an issue). Run alone,
    it judges the report of an expired credential, which it makes itself."""
    world.cli.run_call(verify_call(world, world.expired_file))
    assert "expired" in codes_seen
    assert codes_seen <= STABLE_CODES, sorted(codes_seen - STABLE_CODES)
    ran = {item.originalname for item in request.session.items
           if isinstance(item, pytest.Function) and item.module is request.module}
    if ran != {name for name in globals() if name.startswith("test_")}:
        return  # only part of the module ran: not every code had its chance
    exercised = {"malformed", "too_large", "bad_type", "unknown_key", "untrusted_issuer",
                 "bad_signature", "expired", "not_yet_valid", "bad_iat", "claim_mismatch",
                 "bad_identifier", "holder_binding", "nonce_mismatch", "audience_mismatch",
                 "replay"}
    assert exercised <= codes_seen, sorted(exercised - codes_seen)
