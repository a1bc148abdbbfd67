"""``vc-im keygen | issue | verify | inspect``: output, exit codes and refusals (CONTRACT.md)."""

from __future__ import annotations

import json
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import Result

import vc_im._jose.jws as jose
from tests.conftest import DEVICE, HANDLE, ISSUER, NOW, claims_of
from tests.helpers.cli import run_cli, run_process
from tests.helpers.vectors import vector_path
from vc_im import keys
from vc_im._checks.credential import CREDENTIAL_STEPS
from vc_im.model import Encoding
from vc_im.times import seconds_to_rfc3339 as rfc3339

SEED_VC = vector_path("seed", "vc-claims.json")
EXP = NOW + 90 * 86400
STEP_NAMES = [name for name, _ in CREDENTIAL_STEPS]
PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}



def assert_one_sentence_exit_2(result: Result) -> str:
    """Exit 2, nothing on stdout, and one sentence on one line of stderr."""
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert result.stdout == ""
    assert result.stderr.startswith("vc-im: ")
    assert result.stderr.endswith(".\n")
    assert result.stderr.count("\n") == 1
    return result.stderr


@pytest.fixture(scope="session")
def issuer_file(tmp_path_factory: pytest.TempPathFactory, issuer_key: keys.Key) -> Path:
    """The issuer's private key as a JWK file."""
    path = tmp_path_factory.mktemp("issuer") / "issuer.jwk"
    keys.write_private_key(path, issuer_key)
    return path


@pytest.fixture(scope="session")
def holder_files(tmp_path_factory: pytest.TempPathFactory,
                 device_key: keys.Key) -> tuple[Path, Path]:
    """The device's private and public key files."""
    directory = tmp_path_factory.mktemp("holder")
    keys.write_private_key(directory / "device.jwk", device_key)
    keys.write_public_key(directory / "device.pub.jwk", device_key)
    return directory / "device.jwk", directory / "device.pub.jwk"


@pytest.fixture(scope="session")
def issue_token(issuer_file: Path) -> Callable[..., str]:
    """Run vc-im issue for Alice's device with extra options (``--no-holder-key`` unless they
    bind a holder key); return the token."""
    def issue(*extra: object) -> str:
        unbound = () if "--holder-key" in extra else ("--no-holder-key",)
        result = run_cli("issue", "--key", issuer_file, "--issuer", ISSUER, "--subject", DEVICE,
                         "--fn", "Alice M. Smith", "--now", NOW, *unbound, *extra)
        assert result.exit_code == 0, result.stderr
        assert result.stdout.endswith("\n")
        assert result.stdout.count("\n") == 1
        return result.stdout.strip()
    return issue


@pytest.fixture
def token_file(tmp_path: Path, issue_token: Callable[..., str]) -> Path:
    """A credential for Alice's device, in a file with one trailing newline."""
    path = tmp_path / "vc.jwt"
    path.write_text(issue_token("--org", "Example Corp", "--unit", "Engineering",
                                "--im", HANDLE) + "\n")
    return path


def verify(token: Path | str, trust_file: Path, *extra: object,
           input: bytes | str | None = None) -> Result:
    """Run vc-im verify as of NOW."""
    return run_cli("verify", token, "--trust", trust_file, "--now", NOW, *extra, input=input)


# --- keygen ------------------------------------------------------------------------------------

@pytest.mark.parametrize("alg", ["Ed25519", "ES256", "ES256K", "ES384", "ES512", "RS256"])
def test_keygen_each_alg(alg: str, tmp_path: Path) -> None:
    """keygen writes a 0600 private JWK and prints its public JWK, kid the RFC 7638 thumbprint."""
    out = tmp_path / "key.jwk"
    result = run_cli("keygen", "--alg", alg, "--out", out)
    assert result.exit_code == 0
    public = json.loads(result.stdout)
    assert result.stdout.endswith("}\n")
    assert public["alg"] == alg
    assert not PRIVATE_MEMBERS & set(public)
    assert public["kid"] == keys.jwk_thumbprint(public)
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    private = json.loads(out.read_text())
    assert "d" in private
    assert {k: v for k, v in private.items() if k not in PRIVATE_MEMBERS} == public
    key = keys.read_key_file(out, require="private")
    assert (key.alg, dict(key.public_jwk)) == (alg, public)
    if alg == "RS256":
        assert len(jose.b64url_decode(public["n"], what="n")) * 8 >= 2048


def test_keygen_defaults_and_options(tmp_path: Path) -> None:
    """The default alg is Ed25519; --kid names the key; --public-out also writes the public JWK."""
    result = run_cli("keygen", "--out", tmp_path / "a.jwk", "--kid", "issuer-key-1",
                     "--public-out", tmp_path / "a.pub.jwk")
    assert result.exit_code == 0
    public = json.loads(result.stdout)
    assert (public["kty"], public["crv"], public["alg"], public["kid"]) == (
        "OKP", "Ed25519", "Ed25519", "issuer-key-1")
    assert json.loads((tmp_path / "a.pub.jwk").read_text()) == public


def test_keygen_refuses_an_unknown_alg(tmp_path: Path) -> None:
    """An alg vc_im does not sign with is a usage error (exit 2), and no key file appears."""
    result = run_cli("keygen", "--alg", "HS256", "--out", tmp_path / "k.jwk")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert not (tmp_path / "k.jwk").exists()


def test_keygen_into_a_missing_directory(tmp_path: Path) -> None:
    """An unwritable --out is exit 2 with one sentence."""
    assert_one_sentence_exit_2(run_cli("keygen", "--out", tmp_path / "no" / "such" / "k.jwk"))


# --- issue -------------------------------------------------------------------------------------

def test_issue_then_verify(token_file: Path, trust_file: Path) -> None:
    """An issued credential verifies: exit 0, first line valid, then who was verified in one
    line, then one line per check."""
    result = verify(token_file, trust_file)
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "valid"
    assert lines[1].startswith("verified: id=im:")
    assert [line.split()[:2] for line in lines[2:]] == [["ok", name] for name in STEP_NAMES]


def test_issue_options_reach_the_credential(issue_token: Callable[..., str],
                                            holder_files: tuple[Path, Path],
                                            device_key: keys.Key, trust_file: Path,
                                            tmp_path: Path) -> None:
    """--org, --unit, --im (repeated), --holder-key, --id and --valid-for are all written."""
    token = issue_token("--org", "Example Corp", "--unit", "Engineering", "--im", HANDLE,
                        "--im", "im:%40alice.smith@example.com", "--holder-key", holder_files[1],
                        "--id", "urn:uuid:1b4e28ba-2fa1-41d2-883f-0016d3cca427",
                        "--valid-for", "12h")
    header, payload = claims_of(token)
    assert header["typ"] == "JWT"
    assert payload["jti"] == "urn:uuid:1b4e28ba-2fa1-41d2-883f-0016d3cca427"
    assert payload["exp"] - payload["nbf"] == 43200
    assert payload["cnf"] == {"jwk": dict(device_key.public_jwk)}
    assert payload["vc"]["credentialSubject"] == {
        "fn": "Alice M. Smith", "hasOrganizationName": "Example Corp",
        "hasOrganizationalUnit": "Engineering",
        "hasInstantMessage": [HANDLE, "im:%40alice.smith@example.com", DEVICE]}
    (tmp_path / "vc.jwt").write_text(token)
    assert verify(tmp_path / "vc.jwt", trust_file).stdout.startswith("valid\n")


@pytest.mark.parametrize("now", ["2023-11-14T22:13:20Z", "1700000000", "2023-11-14T23:13:20+01:00"])
def test_issue_now_forms(now: str, issuer_file: Path) -> None:
    """--now takes RFC 3339 (any offset) or epoch seconds; nbf and iat are that second."""
    result = run_cli("issue", "--key", issuer_file, "--issuer", ISSUER, "--subject", DEVICE,
                     "--fn", "Alice", "--now", now, "--no-holder-key")
    assert result.exit_code == 0
    _, payload = claims_of(result.stdout.strip())
    assert (payload["nbf"], payload["iat"], payload["exp"]) == (NOW, NOW, EXP)


def test_issue_vc2_and_user_credentials(issue_token: Callable[..., str], issuer_file: Path,
                                        trust_file: Path, tmp_path: Path) -> None:
    """--format vc2 issues a vc+jwt, --type user an ImUserCredential; both verify."""
    vc2 = issue_token("--format", "vc2")
    assert claims_of(vc2)[0]["typ"] == "vc+jwt"
    user = run_cli("issue", "--key", issuer_file, "--issuer", ISSUER, "--subject", HANDLE,
                   "--fn", "Alice", "--type", "user", "--now", NOW)
    assert user.exit_code == 0
    assert claims_of(user.stdout.strip())[1]["vc"]["type"] == [
        "VerifiableCredential", "ImUserCredential"]
    for name, token in (("vc2", vc2), ("user", user.stdout.strip())):
        (tmp_path / name).write_text(token)
        assert verify(tmp_path / name, trust_file).stdout.startswith("valid\n"), name


@pytest.mark.parametrize(("option", "value", "problem"), [
    ("--subject", "alice@example.com", "is not a valid IM identifier"),
    ("--subject", HANDLE, "device identifier"),
    ("--issuer", "im.example.com", "not an absolute URI"),
    ("--fn", " ", "must not be empty"),
    ("--im", "im:wxyz=#projectX@example.com", "fragment"),
    ("--valid-for", "90 days", "is not a duration"),
    ("--valid-for", "0d", "must be positive"),
    ("--now", "yesterday", "is not a time"),
    ("--now", "1700000000000", "milliseconds"),
    ("--id", "credential 1", "not an absolute URI"),
], ids=["subject", "handle-for-device", "issuer", "fn", "im", "duration", "zero-duration",
        "now", "now-ms", "id"])
def test_issue_refuses_bad_input(option: str, value: str, problem: str,
                                 issuer_file: Path) -> None:
    """Bad input exits 2 with one sentence naming the problem, and prints no token."""
    arguments: dict[str, str] = {"--key": str(issuer_file), "--issuer": ISSUER,
                                 "--subject": DEVICE, "--fn": "Alice", "--now": str(NOW)}
    arguments[option] = value
    result = run_cli("issue", *[x for pair in arguments.items() for x in pair],
                     "--no-holder-key")
    assert problem in assert_one_sentence_exit_2(result)


def test_issue_refuses_a_private_holder_key(issue_token: Callable[..., str], issuer_file: Path,
                                            holder_files: tuple[Path, Path],
                                            device_key: keys.Key) -> None:
    """--holder-key with a private key is exit 2, and the message shows no key material."""
    result = run_cli("issue", "--key", issuer_file, "--issuer", ISSUER, "--subject", DEVICE,
                     "--fn", "Alice", "--holder-key", holder_files[0])
    message = assert_one_sentence_exit_2(result)
    assert "private" in message
    assert device_key.private_jwk()["d"] not in message


@pytest.mark.parametrize(("content", "problem"), [
    ('{"kty": "OKP", "crv": "Ed25519", "x": "AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}',
     "small-order"),
    ('{"kty": "OKP", "crv": "Ed25519"}', ""),
    ("not a key", ""),
], ids=["small-order", "no-x", "garbage"])
def test_issue_refuses_an_unusable_holder_key(content: str, problem: str, issuer_file: Path,
                                              tmp_path: Path) -> None:
    """A --holder-key that is a small-order point or malformed is exit 2."""
    path = tmp_path / "holder.jwk"
    path.write_text(content)
    result = run_cli("issue", "--key", issuer_file, "--issuer", ISSUER, "--subject", DEVICE,
                     "--fn", "Alice", "--holder-key", path)
    assert problem in assert_one_sentence_exit_2(result)


def test_issue_refuses_a_public_issuer_key(holder_files: tuple[Path, Path]) -> None:
    """--key with a public key is exit 2: signing needs the private key."""
    result = run_cli("issue", "--key", holder_files[1], "--issuer", ISSUER, "--subject", DEVICE,
                     "--fn", "Alice")
    assert "private" in assert_one_sentence_exit_2(result)


def test_issue_refuses_a_missing_key_file(tmp_path: Path) -> None:
    """A --key file that does not exist is exit 2 with one sentence."""
    assert_one_sentence_exit_2(run_cli("issue", "--key", tmp_path / "none.jwk", "--issuer", ISSUER,
                                       "--subject", DEVICE, "--fn", "Alice"))


# --- verify ------------------------------------------------------------------------------------

def test_verify_json_report_shape(token_file: Path, trust_file: Path) -> None:
    """--json prints one object: ok, kind, checks [name, status, code, reason], credentials."""
    result = verify(token_file, trust_file, "--json")
    assert result.exit_code == 0
    report = json.loads(result.stdout)
    assert list(report)[:6] == ["ok", "kind", "code", "subject", "checks", "credentials"]
    assert (report["ok"], report["kind"], report["credentials"]) == (True, "credential", [])
    assert [c["name"] for c in report["checks"]] == STEP_NAMES
    for check in report["checks"]:
        assert list(check) == ["name", "status", "code", "reason"]
        assert (check["status"], check["code"]) == ("passed", None)
        assert isinstance(check["reason"], str)


def test_verify_invalid_json_report(token_file: Path, trust_file: Path) -> None:
    """An expired credential: exit 1, ok false, the failed check's code, later checks skipped."""
    result = verify(token_file, trust_file, "--json", "--now", EXP + 60)
    assert result.exit_code == 1
    assert result.stderr == ("vc-im: invalid (expired): The credential expired at "
                             f"{rfc3339(EXP)}.\n")
    report = json.loads(result.stdout)
    assert report["ok"] is False
    statuses = [(c["name"], c["status"], c["code"]) for c in report["checks"]]
    index = STEP_NAMES.index("time")
    assert statuses[:index] == [(name, "passed", None) for name in STEP_NAMES[:index]]
    assert statuses[index] == ("time", "failed", "expired")
    assert statuses[index + 1:] == [(name, "skipped", None) for name in STEP_NAMES[index + 1:]]
    assert "2024-02-12T22:13:20Z" in report["checks"][index]["reason"]
    for check in report["checks"]:
        assert set(check) - {"path"} == {"name", "status", "code", "reason"}


@pytest.mark.parametrize(("now", "leeway", "first_line"), [
    (EXP + 59, None, "valid"), (EXP + 60, None, "invalid: expired"),
    ("2024-02-12T22:13:19Z", "0", "valid"), ("2024-02-12T22:13:20Z", "0", "invalid: expired"),
    (NOW - 60, None, "valid"), (NOW - 61, None, "invalid: not_yet_valid"),
    (NOW - 61, "61", "valid"), ("2023-11-14T22:12:19Z", "60", "invalid: not_yet_valid"),
], ids=["exp+59", "exp+60", "rfc3339-exp-1", "rfc3339-exp", "nbf-60", "nbf-61",
        "leeway-61", "rfc3339-nbf-61"])
def test_verify_now_and_leeway(now: object, leeway: str | None, first_line: str,
                               token_file: Path, trust_file: Path) -> None:
    """--now (epoch seconds or RFC 3339) and --leeway decide the time check, to the second."""
    extra = ["--leeway", leeway] if leeway is not None else []
    result = verify(token_file, trust_file, "--now", now, *extra)
    assert result.stdout.splitlines()[0] == first_line
    assert result.exit_code == (0 if first_line == "valid" else 1)


@pytest.mark.parametrize(("option", "value"), [
    ("--now", "tomorrow"), ("--now", "1700000000000"), ("--leeway", "-1"),
    ("--leeway", "soon")], ids=["now-word", "now-ms", "leeway-negative", "leeway-word"])
def test_verify_refuses_bad_options(option: str, value: str, token_file: Path,
                                    trust_file: Path) -> None:
    """A --now that is not a time, or a --leeway that is not a non-negative integer, is exit 2."""
    result = run_cli("verify", token_file, "--trust", trust_file, option, value)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr != ""


@pytest.mark.parametrize(("suffix", "prefix", "first_line"), [
    ("", "", "valid"), ("\n", "", "valid"), ("\n\n", "", "invalid: malformed"),
    ("\r\n", "", "invalid: malformed"), (" ", "", "invalid: malformed"),
    ("", " ", "invalid: malformed"), ("", "\n", "invalid: malformed")],
    ids=["bare", "one-newline", "two-newlines", "crlf", "trailing-space", "leading-space",
         "leading-newline"])
def test_verify_tolerates_exactly_one_trailing_newline(
        suffix: str, prefix: str, first_line: str, issue_token: Callable[..., str],
        trust_file: Path, tmp_path: Path) -> None:
    """One trailing newline is tolerated; anything else around the token is malformed."""
    data = prefix + issue_token() + suffix
    path = tmp_path / "vc.jwt"
    path.write_bytes(data.encode())
    for result in (verify(path, trust_file), verify("-", trust_file, input=data.encode())):
        assert result.stdout.splitlines()[0] == first_line
        assert result.exit_code == (0 if first_line == "valid" else 1)


def test_verify_reads_stdin_without_an_argument(issue_token: Callable[..., str],
                                                trust_file: Path) -> None:
    """Without TOKEN_FILE the token is read from stdin."""
    result = run_cli("verify", "--trust", trust_file, "--now", NOW, input=issue_token() + "\n")
    assert (result.exit_code, result.stdout.splitlines()[0]) == (0, "valid")


def test_verify_oversized_input(trust_file: Path, tmp_path: Path) -> None:
    """More than 64 KiB (plus the tolerated newline) is invalid: too_large."""
    for size in (65537, 65538, 1 << 20):
        path = tmp_path / "big.jwt"
        path.write_bytes(b"a" * size)
        result = verify(path, trust_file)
        assert (result.exit_code, result.stdout.splitlines()[0]) == (1, "invalid: too_large")


@pytest.mark.parametrize("option", [("--audience", "https://verifier.example.org"),
                                    ("--nonce", "n-0S6_WzA2Mj")], ids=["audience", "nonce"])
def test_verify_bare_credential_where_a_presentation_is_expected(
        option: tuple[str, str], token_file: Path, trust_file: Path) -> None:
    """--audience or --nonce on a bare credential: exit 1, invalid: bad_type."""
    result = verify(token_file, trust_file, *option)
    assert (result.exit_code, result.stdout.splitlines()[0]) == (1, "invalid: bad_type")


def test_verify_other_issuer_domains(issuer_file: Path, trust_file: Path,
                                     tmp_path: Path) -> None:
    """A credential naming an identifier outside the issuer's domains: invalid: untrusted_issuer."""
    result = run_cli("issue", "--key", issuer_file, "--issuer", ISSUER, "--subject", DEVICE,
                     "--fn", "Alice", "--im", "im:%40alice@other.example", "--now", NOW,
                     "--no-holder-key")
    (tmp_path / "vc.jwt").write_text(result.stdout)
    assert verify(tmp_path / "vc.jwt", trust_file).stdout.startswith(
        "invalid: untrusted_issuer\n")


@pytest.mark.parametrize("content", [
    b"", b"{", b"[]", b'{"issuers": [], "extra": true}', b'{"issuers": [{"id": "x"}]}',
    b'{"issuers": [{"id": "https://a.example", "keys": [{"kty": "OKP"}]}]}',
    b'{"issuers": [], "issuers": []}', b"\xff\xfe"],
    ids=["empty", "truncated", "array", "unknown-member", "relative-id", "bad-key",
         "duplicate", "binary"])
def test_verify_bad_trust_file(content: bytes, token_file: Path, tmp_path: Path) -> None:
    """A malformed trust file is exit 2: one sentence on stderr, no report on stdout."""
    trust = tmp_path / "trust.json"
    trust.write_bytes(content)
    assert_one_sentence_exit_2(verify(token_file, trust))
    assert_one_sentence_exit_2(verify(token_file, trust, "--json"))


def test_verify_trust_file_with_a_private_key(token_file: Path, issuer_key: keys.Key,
                                              tmp_path: Path) -> None:
    """A private key in the trust file is exit 2, and its d never appears."""
    trust = tmp_path / "trust.json"
    trust.write_text(json.dumps({"issuers": [{"id": ISSUER,
                                              "keys": [issuer_key.private_jwk()]}]}))
    message = assert_one_sentence_exit_2(verify(token_file, trust))
    assert issuer_key.private_jwk()["d"] not in message


def test_verify_missing_files(token_file: Path, trust_file: Path, tmp_path: Path) -> None:
    """A missing token file or trust file is exit 2 with one sentence naming it."""
    missing = tmp_path / "missing.jwt"
    assert "missing.jwt" in assert_one_sentence_exit_2(verify(missing, trust_file))
    assert "nowhere.json" in assert_one_sentence_exit_2(
        verify(token_file, tmp_path / "nowhere.json"))
    assert_one_sentence_exit_2(verify(tmp_path, trust_file))


def test_verify_without_trust_is_a_usage_error(token_file: Path) -> None:
    """--trust is required: exit 2, nothing on stdout."""
    result = run_cli("verify", token_file)
    assert (result.exit_code, result.stdout) == (2, "")
    assert "--trust" in result.stderr


@pytest.mark.parametrize(("token", "code"), [
    ("not-a-token", "malformed"), ("a.b.c.d.e", "malformed"),
    ('{"payload": "e30", "signature": "AA"}', "malformed")],
    ids=["words", "jwe", "json"])
def test_verify_garbage_is_invalid_not_an_error(token: str, code: str, trust_file: Path,
                                                tmp_path: Path) -> None:
    """Input that is not a compact JWS is a failed verification (exit 1), not a crash."""
    path = tmp_path / "t.jwt"
    path.write_text(token)
    result = verify(path, trust_file, "--json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert (report["ok"], report["checks"][0]["code"]) == (False, code)


# --- inspect -----------------------------------------------------------------------------------

def test_inspect_seed_example() -> None:
    """inspect on the seed's VC example prints UNVERIFIED and every pitfall, exit 0."""
    result = run_cli("inspect", SEED_VC)
    assert result.exit_code == 0
    out = result.stdout
    assert out.startswith("UNVERIFIED")
    assert "payload (UNVERIFIED):" in out
    assert "6 problem(s) that verification would reject:" in out
    for part in ("milliseconds", "write 1653455836 (2022-05-25T05:17:16Z)",
                 "is the vCard namespace, not a JSON-LD context", "appears more than once",
                 "hasInstantMessage is a string"):
        assert part in out, part


def test_inspect_json() -> None:
    """inspect --json: verified false, the header, the payload, the pitfalls and the notes."""
    result = run_cli("inspect", "--json", input=SEED_VC.read_bytes())
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    assert document["verified"] is False
    assert document["header"] is None
    assert document["payload"]["iss"] == "https://im.example.com/keys/issuer.jwk"
    assert sorted(p["code"] for p in document["pitfalls"]) == [
        "duplicate_member", "milliseconds", "milliseconds", "milliseconds", "not_array",
        "vcard_namespace_context"]
    assert [(n["code"], n["path"]) for n in document["notes"]] == [
        ("draft_spelling", "$.vc.credentialSubject.hasOrganizationalUnit")]


def test_inspect_clean_credential(token_file: Path) -> None:
    """inspect on an issued credential shows its header, UNVERIFIED, and no pitfalls; --unit's
    draft spelling gets a note after them."""
    result = run_cli("inspect", token_file)
    assert result.exit_code == 0
    assert "header (UNVERIFIED):" in result.stdout
    lines = result.stdout.splitlines()
    assert lines[-2] == "no known pitfalls found."
    assert lines[-1].startswith("note: $.vc.credentialSubject.hasOrganizationalUnit: ")


def test_inspect_notes_the_draft_spelling() -> None:
    """inspect prints a note line for the draft's hasOrganizationalUnit, after the pitfalls."""
    result = run_cli("inspect", input=SEED_VC.read_bytes())
    assert result.exit_code == 0
    assert result.stdout.splitlines()[-1].startswith(
        "note: $.vc.credentialSubject.hasOrganizationalUnit: hasOrganizationalUnit is the MIMI "
        "draft's spelling")


def test_inspect_undecodable_input(tmp_path: Path) -> None:
    """inspect on input it cannot decode exits 1 (a token error) with one sentence on stderr."""
    path = tmp_path / "x"
    path.write_text("not a token")
    result = run_cli("inspect", path)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith("vc-im: ")
    assert result.stderr.count("\n") == 1


def _surrogate_token(sign_raw: Callable[..., str], make_credential: Callable[..., str],
                     encoding: Encoding) -> str:
    """A credential, signed by the trusted issuer, with a term name holding a lone surrogate."""
    header, payload = claims_of(make_credential(encoding=encoding))
    subject = (payload["vc"] if encoding is Encoding.VC1 else payload)["credentialSubject"]
    subject["x\ud800"] = "y"
    return sign_raw(header, payload)


def test_verify_lone_surrogate_is_invalid_not_a_crash(
        sign_raw: Callable[..., str], make_credential: Callable[..., str], trust_file: Path,
        tmp_path: Path) -> None:
    """A signed credential with a lone surrogate in a member name: invalid: malformed, exit 1."""
    path = tmp_path / "vc.jwt"
    path.write_text(_surrogate_token(sign_raw, make_credential, Encoding.VC1))
    for extra in ((), ("--json",)):
        result = run_cli("verify", path, "--trust", trust_file, "--now", NOW, *extra)
        assert result.exit_code == 1
    assert run_cli("verify", path, "--trust", trust_file, "--now", NOW).stdout.startswith(
        "invalid: malformed\n")


def test_inspect_lone_surrogate_is_not_a_crash(tmp_path: Path) -> None:
    """inspect on a payload with an escaped lone surrogate prints it escaped, exit 0."""
    path = tmp_path / "t.jwt"
    path.write_bytes(b"eyJhbGciOiJFZDI1NTE5In0." + jose.b64url_encode(
        b'{"fn":"\\ud800"}').encode() + b".AAAA")
    result = run_cli("inspect", path)
    assert result.exit_code == 0
    assert '"fn": "\\ud800"' in result.stdout


# --- real processes ----------------------------------------------------------------------------

@pytest.mark.slow
def test_end_to_end_in_real_processes(tmp_path: Path) -> None:
    """keygen, issue, verify and inspect as separate python -m vc_im processes, from another cwd."""
    generated = run_process("keygen", "--alg", "ES256", "--out", "issuer.jwk", cwd=tmp_path,
                            text=False)
    assert (generated.returncode, generated.stderr) == (0, b"")
    public = json.loads(generated.stdout)
    assert stat.S_IMODE((tmp_path / "issuer.jwk").stat().st_mode) == 0o600
    (tmp_path / "trust.json").write_text(json.dumps(
        {"issuers": [{"id": ISSUER, "keys": [public], "domains": ["example.com"]}]}))

    issued = run_process("issue", "--key", "issuer.jwk", "--issuer", ISSUER, "--subject",
                         DEVICE, "--fn", "Alice M. Smith", "--im", HANDLE, "--format", "vc2",
                         "--no-holder-key", cwd=tmp_path, text=False)
    assert (issued.returncode, issued.stderr) == (0, b"")
    (tmp_path / "vc.jwt").write_bytes(issued.stdout)

    verified = run_process("verify", "vc.jwt", "--trust", "trust.json", "--json", cwd=tmp_path,
                           text=False)
    assert (verified.returncode, verified.stderr) == (0, b"")
    assert json.loads(verified.stdout)["ok"] is True

    piped = run_process("verify", "-", "--trust", "trust.json", cwd=tmp_path,
                        stdin=issued.stdout, text=False)
    assert (piped.returncode, piped.stdout.splitlines()[0]) == (0, b"valid")

    inspected = run_process("inspect", str(SEED_VC), cwd=tmp_path, text=False)
    assert inspected.returncode == 0
    assert inspected.stdout.startswith(b"UNVERIFIED")


@pytest.mark.slow
def test_failures_in_real_processes(tmp_path: Path, token_file: Path, trust_file: Path) -> None:
    """Bad trust file (exit 2), missing token (exit 2), expired credential (exit 1), for real."""
    (tmp_path / "bad.json").write_text('{"issuers": [], "trust_model": "pkix"}')
    bad_trust = run_process("verify", token_file, "--trust", "bad.json", cwd=tmp_path, text=False)
    assert (bad_trust.returncode, bad_trust.stdout) == (2, b"")
    assert bad_trust.stderr.startswith(b"vc-im: ")
    assert bad_trust.stderr.count(b"\n") == 1
    assert b"trust_model" in bad_trust.stderr

    missing = run_process("verify", "missing.jwt", "--trust", trust_file, cwd=tmp_path, text=False)
    assert (missing.returncode, missing.stdout) == (2, b"")
    assert missing.stderr.startswith(b"vc-im: ")
    assert missing.stderr.count(b"\n") == 1

    expired = run_process("verify", token_file, "--trust", trust_file, "--now", EXP + 60,
                          cwd=tmp_path, text=False)
    assert expired.returncode == 1
    assert expired.stderr.startswith(b"vc-im: invalid (expired): ")
    assert expired.stderr.count(b"\n") == 1
    assert expired.stdout.splitlines()[0] == b"invalid: expired"


def test_verify_non_object_subject_is_invalid_not_a_crash(
        sign_raw: Callable[..., str], make_credential: Callable[..., str], trust_file: Path,
        tmp_path: Path) -> None:
    """A signed vc1 credential whose credentialSubject is a string: exit 1, no traceback."""
    header, payload = claims_of(make_credential())
    payload["vc"]["credentialSubject"] = "alice"
    path = tmp_path / "vc.jwt"
    path.write_text(sign_raw(header, payload))
    result = run_cli("verify", path, "--trust", trust_file, "--now", NOW)
    assert result.exit_code == 1
    assert result.stdout.startswith("invalid: context_rejected\n")
