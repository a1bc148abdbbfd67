"""``vc-im issue --document`` and ``verify --profile`` / trust-file profiles, as a user runs them
(real processes)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers.cli import run_process
from tests.test_profiles import OTHER, agent_document, employee, write_agent_profile

NOW = "2026-06-01T00:00:00Z"


@pytest.fixture
def keyed(tmp_path: Path) -> Path:
    """A directory with an ES384 issuer key pair made by ``vc-im keygen``."""
    result = run_process("keygen", "--alg", "ES384", "--out", "k.jwk", "--public-out",
                         "k.pub.jwk", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    return tmp_path


def trust_file(directory: Path, name: str, **issuer: object) -> Path:
    """A trust file listing the issuer key of ``directory`` as OTHER, with ``issuer`` members
    (``profile_files`` goes to the top level)."""
    files = issuer.pop("profile_files", None)
    public = json.loads((directory / "k.pub.jwk").read_text())
    document: dict[str, object] = {"issuers": [{"id": OTHER, "keys": [public], **issuer}]}
    if files is not None:
        document["profile_files"] = files
    path = directory / name
    path.write_text(json.dumps(document))
    return path


def test_document_issued_and_verified_under_w3c_and_refused_im_only(keyed: Path) -> None:
    """A W3C credential document signed with issue --document verifies where the issuer may
    issue w3c (the JSON report names it) and is refused by an IM-only trust file, whose
    reason names the profile rule."""
    (keyed / "cred.json").write_text(json.dumps(employee()))
    issued = run_process("issue", "--document", "cred.json", "--key", "k.jwk", "--format",
                         "vc2", "--now", NOW, cwd=keyed)
    assert issued.returncode == 0, issued.stderr
    (keyed / "cred.jwt").write_text(issued.stdout)
    trust_file(keyed, "w3c.json", profiles=["w3c"])
    trust_file(keyed, "im.json")
    ok = run_process("verify", "cred.jwt", "--trust", "w3c.json", "--now", NOW, "--json",
                     cwd=keyed)
    assert ok.returncode == 0, ok.stdout
    report = json.loads(ok.stdout)
    assert (report["ok"], report["profile"]) == (True, "w3c")
    refused = run_process("verify", "cred.jwt", "--trust", "im.json", "--now", NOW, cwd=keyed)
    assert refused.returncode == 1
    assert refused.stdout.startswith("invalid: missing_claim\n")
    assert refused.stderr == (
        "vc-im: invalid (missing_claim): The 'exp' claim is missing (a rule of the profiles "
        "im-device, im-user, which this verifier applies to its issuer); the credential's "
        "types fit none of them.\n")
    forced = run_process("verify", "cred.jwt", "--trust", "im.json", "--now", NOW,
                         "--profile", "w3c", cwd=keyed)
    assert forced.returncode == 0, forced.stdout
    assert forced.stdout.startswith("valid\n")


def test_support_agent_through_profile_files(keyed: Path) -> None:
    """The draft's §5.3 credential: issued with --profile FILE, verified through the trust
    file's profile_files, and through verify --profile FILE."""
    write_agent_profile(keyed / "profiles")
    document = agent_document()
    document["credentialSubject"]["id"] = "mimi://sirius.example/d/agent-7/phone"
    (keyed / "agent.json").write_text(json.dumps(document))
    issued = run_process("issue", "--document", "agent.json", "--key", "k.jwk", "--profile",
                         "profiles/support-agent.json", "--now", NOW, cwd=keyed)
    assert issued.returncode == 0, issued.stderr
    (keyed / "agent.jwt").write_text(issued.stdout)
    trust_file(keyed, "trust.json", profiles=["support-agent"], domains=["sirius.example"],
               profile_files=["profiles/support-agent.json"])
    verified = run_process("verify", "agent.jwt", "--trust", "trust.json", "--now", NOW,
                           "--json", cwd=keyed)
    assert verified.returncode == 0, verified.stdout
    assert json.loads(verified.stdout)["profile"] == "support-agent"
    trust_file(keyed, "plain.json")
    forced = run_process("verify", "agent.jwt", "--trust", "plain.json", "--now", NOW,
                         "--profile", "profiles/support-agent.json", "--json", cwd=keyed)
    assert forced.returncode == 0, forced.stdout
    assert json.loads(forced.stdout)["profile"] == "support-agent"
    other = run_process("verify", "agent.jwt", "--trust", "plain.json", "--now", NOW, cwd=keyed)
    assert other.returncode == 1
    assert "(the types rule of the profiles im-device, im-user" in other.stderr


@pytest.mark.parametrize(("args", "words"), [
    (("issue", "--document", "cred.json", "--key", "k.jwk", "--issuer", "https://x.example"),
     "vc-im: --document signs the document as it is; --issuer does not apply to it.\n"),
    (("issue", "--key", "k.jwk", "--issuer", "https://x.example"),
     "vc-im: issue needs --subject and --fn (or --batch FILE, or --document CRED.json).\n"),
    (("issue", "--key", "k.jwk", "--issuer", "https://x.example", "--subject", "im:x@y.z",
      "--fn", "X", "--profile", "w3c"), "vc-im: --profile applies to --document"),
    (("issue", "--document", "missing.json", "--key", "k.jwk"),
     "vc-im: cannot use missing.json: No such file or directory.\n"),
    (("issue", "--document", "k.pub.jwk", "--key", "k.jwk", "--profile", "nope"),
     "vc-im: there is no profile named 'nope'"),
    (("verify", "--trust", "t.json", "--profile", "bad.json", "x.jwt"),
     "vc-im: the profile file bad.json is not a JSON object.\n"),
    (("issue", "--document", "cred.json", "--key", "k.jwk", "--format", "vc2", "--now",
      "2020-01-01T00:00:00Z"), "vc-im: refusing to issue an invalid credential under the "
     "profile w3c (not_yet_valid, time)"),
], ids=["document-and-issuer", "missing-options", "profile-without-document", "no-document",
        "unknown-profile", "bad-profile-file", "not-yet-valid"])
def test_usage_errors_exit_2_with_one_sentence(keyed: Path, args: tuple[str, ...],
                                               words: str) -> None:
    """Wrong combinations, unknown profiles, unusable profile files and documents the profile
    refuses exit 2 with one sentence on stderr, and print nothing."""
    (keyed / "cred.json").write_text(json.dumps(employee()))
    (keyed / "bad.json").write_text("[]")
    trust_file(keyed, "t.json")
    result = run_process(*args, cwd=keyed)
    assert result.returncode == 2, result.stdout
    assert result.stdout == ""
    assert result.stderr.startswith(words)
    assert result.stderr.count("\n") == 1


def test_present_document_through_a_real_process(keyed: Path) -> None:
    """present --document signs a holder's presentation document (no device credential);
    without a holder it exits 2 with one sentence."""
    from tests.test_profiles import presentation

    (keyed / "vp.json").write_text(json.dumps(presentation()))
    signed = run_process("present", "--document", "vp.json", "--key", "k.jwk", "--audience",
                         "https://v.example", "--nonce", "n-1", "--now", NOW, cwd=keyed)
    assert signed.returncode == 0, signed.stderr
    assert signed.stdout.count(".") == 2
    (keyed / "anon.json").write_text(json.dumps({**presentation(), "holder": 7}))
    refused = run_process("present", "--document", "anon.json", "--key", "k.jwk", cwd=keyed)
    assert refused.returncode == 2
    assert refused.stderr == ("vc-im: refusing to present an invalid presentation under the "
                              "profile w3c: holder: The holder must be a URI (data-model rule "
                              "holder-uri).\n")


# --- verifying a W3C presentation ---------------------------------------------------------------

AUDIENCE = "https://v.example"
PRESENT_NONCE = "n-0123456789abcdefghij"


@pytest.fixture
def presented(keyed: Path) -> Path:
    """Ford's own key (his holder id its did:key), his EmployeeCredential from the issuer of
    ``keyed`` binding that key (issue --document, vc2 with cnf), and his presentation of it
    made with present --document (ford-vp.jwt); trust files w3c.json and im.json."""
    assert run_process("keygen", "--out", "ford.jwk", "--public-out", "ford.pub.jwk",
                       cwd=keyed).returncode == 0
    shown = run_process("key", "show", "ford.pub.jwk", cwd=keyed)
    ford = json.loads(shown.stdout)["did_key"]
    public = json.loads((keyed / "ford.pub.jwk").read_text())
    document = employee()
    document["credentialSubject"]["id"] = ford
    document["cnf"] = {"jwk": public}
    (keyed / "badge.json").write_text(json.dumps(document))
    issued = run_process("issue", "--document", "badge.json", "--format", "vc2", "--key",
                         "k.jwk", "--now", NOW, cwd=keyed)
    assert issued.returncode == 0, issued.stderr
    (keyed / "ford-vp.json").write_text(json.dumps({
        "@context": ["https://www.w3.org/2018/credentials/v1"],
        "type": ["VerifiablePresentation"], "holder": ford,
        "verifiableCredential": [issued.stdout.strip()]}))
    signed = run_process("present", "--document", "ford-vp.json", "--key", "ford.jwk",
                         "--audience", AUDIENCE, "--nonce", PRESENT_NONCE, "--now", NOW,
                         cwd=keyed)
    assert signed.returncode == 0, signed.stderr
    (keyed / "ford-vp.jwt").write_text(signed.stdout)
    trust_file(keyed, "w3c.json", profiles=["w3c"])
    trust_file(keyed, "im.json")
    return keyed


def verify_vp(where: Path, trust: str, *options: str, vp: str = "ford-vp.jwt",
              store: str = "vp.sqlite3") -> tuple[int, str, str]:
    """``vc-im verify`` of a presentation at NOW, its exit code, stdout and stderr."""
    result = run_process("verify", vp, "--trust", trust, "--now", NOW, "--store", store,
                         *options, cwd=where)
    return result.returncode, result.stdout, result.stderr


def test_w3c_presentation_verifies_then_is_a_replay(presented: Path) -> None:
    """present --document's presentation of a w3c credential verifies where its issuer may
    issue w3c; the JSON report and its nested one name the profile; the same presentation a
    second time is a replay."""
    code, out, err = verify_vp(presented, "w3c.json", "--audience", AUDIENCE, "--nonce",
                               PRESENT_NONCE, "--json")
    assert code == 0, out + err
    report = json.loads(out)
    assert (report["ok"], report["profile"]) == (True, "w3c")
    assert [nested["profile"] for nested in report["credentials"]] == ["w3c"]
    code, out, err = verify_vp(presented, "w3c.json", "--audience", AUDIENCE, "--nonce",
                               PRESENT_NONCE)
    assert (code, out.splitlines()[0]) == (1, "invalid: replay")
    assert err == "vc-im: invalid (replay): This nonce or this presentation was already used.\n"


def test_w3c_presentation_refused_by_an_im_only_trust_file(presented: Path) -> None:
    """An IM-only trust file applies the IM presentation rules: refused, with a reason that
    names the profile rule; --profile w3c verifies it under the w3c rules."""
    code, out, err = verify_vp(presented, "im.json", "--audience", AUDIENCE, "--nonce",
                               PRESENT_NONCE)
    assert (code, out.splitlines()[0]) == (1, "invalid: bad_identifier")
    assert err.startswith("vc-im: invalid (bad_identifier): The presentation's iss 'did:key:")
    assert err.endswith("(the IM presentation rules applied; the w3c presentation rules apply "
                        "only with --profile w3c, or when the trust file's issuer profiles let "
                        "every presented credential's issuer issue a profile besides im-device "
                        "and im-user).\n")
    code, out, err = verify_vp(presented, "im.json", "--audience", AUDIENCE, "--nonce",
                               PRESENT_NONCE, "--profile", "w3c")
    assert code == 0, out + err
    assert out.startswith("valid\n")


@pytest.mark.parametrize(("options", "verdict"), [
    (("--audience", "https://other.example", "--nonce", PRESENT_NONCE),
     "invalid: audience_mismatch"),
    (("--audience", AUDIENCE, "--nonce", "another-nonce"), "invalid: nonce_mismatch"),
], ids=["audience", "nonce"])
def test_w3c_presentation_for_another_verifier_or_nonce(presented: Path,
                                                         options: tuple[str, ...],
                                                         verdict: str) -> None:
    """A verifier whose audience or nonce is not the presentation's refuses it (exit 1)."""
    code, out, _ = verify_vp(presented, "w3c.json", *options)
    assert (code, out.splitlines()[0]) == (1, verdict)


def test_w3c_presentation_signed_with_another_key(presented: Path) -> None:
    """Someone who copied Ford's credential presents it with their own key under an https
    holder name: the credential binds Ford's key, so holder_binding."""
    document = json.loads((presented / "ford-vp.json").read_text())
    document["holder"] = "https://ford.example"
    (presented / "stolen.json").write_text(json.dumps(document))
    signed = run_process("present", "--document", "stolen.json", "--key", "k.jwk", "--now",
                         NOW, cwd=presented)
    assert signed.returncode == 0, signed.stderr
    (presented / "stolen.jwt").write_text(signed.stdout)
    code, out, err = verify_vp(presented, "w3c.json", vp="stolen.jwt")
    assert (code, out.splitlines()[0]) == (1, "invalid: holder_binding")
    assert err.startswith("vc-im: invalid (holder_binding): Credential 1 binds the key ")


def test_present_document_refuses_a_did_holder_of_another_key(presented: Path) -> None:
    """present --document with a did:key holder that names another key than --key exits 2
    before signing anything."""
    result = run_process("present", "--document", "ford-vp.json", "--key", "k.jwk", "--now",
                         NOW, cwd=presented)
    assert (result.returncode, result.stdout) == (2, "")
    assert "names another key than the signing one" in result.stderr


def test_w3c_presentation_breaking_a_data_model_must(presented: Path) -> None:
    """A presentation (signed by another implementation) whose holder is not a URI fails
    schema_invalid, naming the data-model rule; exit 1."""
    from vc_im import _jose as jose
    from vc_im.keys import read_key_file
    from vc_im.times import parse_time

    ford = read_key_file(presented / "ford.jwk")
    at = parse_time(NOW)
    payload = {"iat": at, "exp": at + 60, "vp": {
        "@context": ["https://www.w3.org/2018/credentials/v1"],
        "type": ["VerifiablePresentation"], "holder": "Ford Prefect"}}
    (presented / "bad.jwt").write_text(
        jose.sign({"typ": "JWT", "jwk": ford.header_jwk()}, payload, ford))
    code, out, err = verify_vp(presented, "w3c.json", "--profile", "w3c", vp="bad.jwt")
    assert (code, out.splitlines()[0]) == (1, "invalid: schema_invalid")
    assert err == ("vc-im: invalid (schema_invalid): The holder must be a URI (data-model rule "
                   "holder-uri).\n")
