"""``vc-im verify`` with the trust models: --parent (cascade), x5c chains (``vc-im x509``,
``issue --x5c``), --statement files (web of trust, well-known), --statement-url with
--ca-file over loopback HTTPS, and the trust file's policy."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import DEVICE, HANDLE, ISSUER, NOW
from tests.helpers.cli import run_cli
from tests.helpers.trust_models import (
    ALICE,
    B1,
    BOB,
    DAY,
    PROVIDER,
    USER,
    Figure2,
    block_network,
    issuer_entry,
    not_given,
    rule,
    short,
    trust_document,
)
from vc_im import keys
from vc_im.keys import Key
from vc_im.trust.statements import create_statement


def keygen(directory: Path, name: str) -> tuple[Path, Path, Key]:
    """``vc-im keygen``: (private JWK file, public JWK file, the key)."""
    private, public = directory / f"{name}.jwk", directory / f"{name}.pub.jwk"
    result = run_cli("keygen", "--out", private, "--public-out", public)
    assert result.exit_code == 0, result.stderr
    return private, public, keys.read_key_file(private, require="private")


def issue(out: Path, *args: object) -> Path:
    """``vc-im issue ARGS --now NOW`` into ``out``; it must succeed."""
    result = run_cli("issue", "--fn", "Alice M. Smith", "--now", NOW, *args)
    assert result.exit_code == 0, result.stderr
    out.write_text(result.stdout)
    return out


def write_json(path: Path, value: object) -> Path:
    """Write ``value`` as JSON to ``path``."""
    path.write_text(json.dumps(value))
    return path


def write_statement(path: Path, signer: Key, kind: str, issuer: str, **options: Any) -> Path:
    """A statement file, as ``vc-im statement create`` writes it."""
    path.write_text(create_statement(signer, kind, issuer=issuer, now=NOW, **options) + "\n")
    return path


def verify_json(token: Path, trust: Path, *extra: object, now: int = NOW,
                ) -> tuple[int, dict[str, Any]]:
    """``vc-im verify --json``: (exit code, the report)."""
    result = run_cli("verify", token, "--trust", trust, "--now", now, "--json", *extra)
    assert result.exit_code in (0, 1), result.stderr
    report = json.loads(result.stdout)
    assert isinstance(report, dict)
    return result.exit_code, report


def failed(report: dict[str, Any]) -> tuple[str, str, str]:
    """(name, code, reason) of the report's failed check."""
    (check,) = [c for c in report["checks"] if c["status"] == "failed"]
    return check["name"], check["code"], check["reason"]


def methods(report: dict[str, Any]) -> list[tuple[str, bool]]:
    """The report's trust paths as (method, ok)."""
    return [(path["method"], path["ok"]) for path in report["trust"]]


# --------------------------------------------------------------------------------------------
# Cascade: issue --type user --may-issue-devices, then issue with the user's key, verify --parent


@pytest.fixture
def issuer_file(tmp_path: Path, issuer_key: Key) -> Path:
    """The domain's private key file."""
    path = tmp_path / "issuer.jwk"
    keys.write_private_key(path, issuer_key)
    return path


def test_cli_cascade(tmp_path: Path, issuer_file: Path, issuer_key: Key) -> None:
    """The domain lets Alice's user key issue her device's credential; verify --parent
    accepts it (trust path cascade, the parent's report nested), and refuses it without."""
    user, user_public, user_key = keygen(tmp_path, "user")
    _, device_public, _ = keygen(tmp_path, "device")
    parent = issue(tmp_path / "parent.jwt", "--key", issuer_file, "--issuer", ISSUER,
                   "--type", "user", "--subject", USER, "--im", HANDLE, "--may-issue-devices",
                   "--holder-key", user_public)
    child = issue(tmp_path / "child.jwt", "--key", user, "--issuer", USER, "--subject", DEVICE,
                  "--im", HANDLE, "--holder-key", device_public)
    trust = write_json(tmp_path / "t.json", trust_document([issuer_entry(ISSUER, issuer_key)]))
    code, report = verify_json(child, trust, "--parent", parent)
    assert (code, report["ok"]) == (0, True)
    assert report["trust"] == [not_given("central"), {
        "method": "cascade", "ok": True, "reason": "", "contradiction": False,
        "steps": [f"{ISSUER} is trusted (central)",
                  f"{ISSUER} lets {USER} issue device credentials with key "
                  f"{user_key.thumbprint()}"]}]
    (nested,) = report["credentials"]
    assert nested["ok"] is True
    assert methods(nested) == [("central", True), ("cascade", False)]
    text = run_cli("verify", child, "--trust", trust, "--now", NOW, "--parent", parent)
    assert text.exit_code == 0
    assert text.stdout.startswith("valid\n")
    assert "\n  credential 1: valid\n" in text.stdout
    code, report = verify_json(child, trust)
    assert code == 1
    assert failed(report) == ("issuer_key", "untrusted_issuer",
                              f"The issuer {USER!r} is not in the trust file.")


def test_cli_may_issue_devices_needs_holder_key(issuer_file: Path) -> None:
    """--may-issue-devices without --holder-key is a usage error: exit 2, one sentence."""
    result = run_cli("issue", "--fn", "Alice", "--key", issuer_file, "--issuer", ISSUER,
                     "--type", "user", "--subject", USER, "--may-issue-devices")
    assert (result.exit_code, result.stdout, result.stderr) == (
        2, "", "vc-im: only an ImUserCredential that binds the user's key (--holder-key) may "
               "let it issue device credentials.\n")


# --------------------------------------------------------------------------------------------
# X.509: x509 ca, x509 leaf, issue --x5c, verify


def test_cli_x509(tmp_path: Path, issuer_key: Key) -> None:
    """A CA and a provider leaf minted by vc-im, a credential issued with --x5c: verify trusts
    it through the configured root, and refuses it without x509_roots or once the leaf
    expired."""
    ca, ca_key = tmp_path / "ca.pem", tmp_path / "ca.jwk"
    yesterday = NOW - DAY
    assert run_cli("x509", "ca", "--out-cert", ca, "--out-key", ca_key, "--name", "vc-im test CA",
                   "--now", yesterday).exit_code == 0
    provider, provider_public, provider_key = keygen(tmp_path, "provider")
    _, device_public, _ = keygen(tmp_path, "device")
    leaf = tmp_path / "leaf.pem"
    made = run_cli("x509", "leaf", "--ca-cert", ca, "--ca-key", ca_key, "--key", provider_public,
                   "--san", PROVIDER, "--name", "Example IM", "--out", leaf, "--now", yesterday)
    assert made.exit_code == 0, made.stderr
    token = issue(tmp_path / "vc.jwt", "--key", provider, "--issuer", PROVIDER,
                  "--subject", DEVICE, "--im", HANDLE, "--holder-key", device_public,
                  "--x5c", leaf)
    trust = write_json(tmp_path / "t.json", trust_document(x509_roots=[ca.read_text()]))
    code, report = verify_json(token, trust)
    assert (code, report["ok"]) == (0, True)
    assert report["trust"] == [{
        "method": "x509", "ok": True, "reason": "", "contradiction": False,
        "steps": ["CN=Example IM,O=example.com is certified by CN=vc-im test CA",
                  "CN=vc-im test CA is a configured root",
                  f"the leaf certifies {PROVIDER} for key {provider_key.thumbprint()}"]}]
    no_roots = write_json(tmp_path / "central.json",
                          trust_document([issuer_entry(ISSUER, issuer_key)]))
    code, report = verify_json(token, no_roots)
    assert (code, failed(report)[:2]) == (1, ("header", "bad_header"))
    # The leaf (90 days from yesterday) has expired; the credential (90 days from now) has not.
    code, report = verify_json(token, trust, now=NOW + 89 * DAY + 3600)
    assert (code, failed(report)) == (1, (
        "issuer_key", "expired",
        "The leaf certificate 'CN=Example IM,O=example.com' expired at 2024-02-11T22:13:19Z."))


# --------------------------------------------------------------------------------------------
# Web of trust: --statement files


def figure2_files(fig: Figure2, directory: Path) -> dict[str, Path]:
    """Figure 2's four statements as files."""
    return {
        "usk": write_statement(directory / "usk.jws", fig["alice-master"], "usk", ALICE,
                               key=fig["alice-usk"].public()),
        "cross": write_statement(directory / "cross.jws", fig["alice-usk"], "user", ALICE,
                                 subject=BOB, key=fig["bob-master"].public()),
        "dsk": write_statement(directory / "dsk.jws", fig["bob-master"], "dsk", BOB,
                               key=fig["bob-dsk"].public()),
        "device": write_statement(directory / "device.jws", fig["bob-dsk"], "device", BOB,
                                  subject=B1, key=fig["b1"].public()),
    }


@pytest.fixture
def bob(tmp_path: Path) -> tuple[Figure2, Path, Path]:
    """Figure 2's keys, B1's self-issued credential (issued by the CLI), and Alice's trust
    file: (keys, credential, trust file)."""
    fig = Figure2()
    b1 = tmp_path / "b1.jwk"
    keys.write_private_key(b1, fig["b1"])
    keys.write_public_key(tmp_path / "b1.pub.jwk", fig["b1"])
    token = issue(tmp_path / "b1.jwt", "--key", b1, "--issuer", B1, "--subject", B1,
                  "--holder-key", tmp_path / "b1.pub.jwk")
    trust = write_json(tmp_path / "t.json", trust_document(web_of_trust=fig.anchor()))
    return fig, token, trust


def statement_args(files: list[Path]) -> list[object]:
    """--statement FILE for each file."""
    return [item for path in files for item in ("--statement", path)]


def test_cli_wot(bob: tuple[Figure2, Path, Path], tmp_path: Path) -> None:
    """verify --statement with Figure 2's statements trusts B1's self-issued credential and
    prints the path; without the cross-signature, or with it revoked, exit 1 and say why."""
    fig, token, trust = bob
    files = figure2_files(fig, tmp_path)
    code, report = verify_json(token, trust, *statement_args(list(files.values())))
    assert (code, methods(report)) == (0, [("web_of_trust", True)])
    assert report["trust"][0]["steps"][-1] == (
        f"{BOB}'s device-signing key {short(fig['bob-dsk'])} signed device {B1}'s key "
        f"{short(fig['b1'])}")
    missing = [path for name, path in files.items() if name != "cross"]
    code, report = verify_json(token, trust, *statement_args(missing))
    assert (code, failed(report)[:2]) == (1, ("trust_path", "untrusted_issuer"))
    assert report["trust"][0]["reason"] == (
        f"no user you trust vouched for {BOB}'s master key: no user-signing link leads to "
        f"{BOB}.")
    cross_jti = json.loads(run_cli("statement", "inspect", files["cross"], "--json", "--now",
                                   NOW).stdout)["jti"]
    revoke = write_statement(tmp_path / "revoke.jws", fig["alice-usk"], "revoke", ALICE,
                             revokes=cross_jti)
    code, report = verify_json(token, trust, *statement_args([*files.values(), revoke]))
    assert (code, failed(report)[:2]) == (1, ("trust_path", "untrusted_issuer"))
    assert report["trust"][0]["reason"].endswith(
        f"but key {short(fig['alice-usk'])} of {ALICE} revoked that statement ({cross_jti}).")


def test_cli_unusable_statement_file(bob: tuple[Figure2, Path, Path], tmp_path: Path) -> None:
    """A statement file whose signature does not verify is a usage error, exit 2."""
    fig, token, trust = bob
    path = figure2_files(fig, tmp_path)["device"]
    head, payload, signature = path.read_text().strip().split(".")
    path.write_text(f"{head}.{payload}.{signature[:-4]}AAAA")
    result = run_cli("verify", token, "--trust", trust, "--now", NOW, "--statement", path)
    assert (result.exit_code, result.stdout, result.stderr) == (
        2, "", f"vc-im: the statement {path} is not usable: the statement's signature does not "
               "verify with the key its header names.\n")


def test_cli_verify_is_offline_without_statement_url(bob: tuple[Figure2, Path, Path],
                                                     tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """verify with --statement files and no --statement-url opens no socket."""
    fig, token, trust = bob
    attempts = block_network(monkeypatch)
    code, _ = verify_json(token, trust, *statement_args(list(figure2_files(fig, tmp_path)
                                                               .values())))
    assert (code, attempts) == (0, [])


# --------------------------------------------------------------------------------------------
# Well-known: --statement and --statement-url over loopback HTTPS


def test_cli_wellknown_statement_url(tmp_path: Path) -> None:
    """One statement from a file and one fetched with --statement-url (trusting --ca-file,
    and --allow-private-network for the loopback server) make two services for the device's
    user and for the handle it lists: ok. Without --ca-file the fetches fail, each reported
    as a warning, and one service is not enough."""
    from tests.trust.test_wellknown import loopback_https

    device, device_public, device_key = keygen(tmp_path, "device")
    token = issue(tmp_path / "self.jwt", "--key", device, "--issuer", DEVICE,
                  "--subject", DEVICE, "--im", HANDLE, "--holder-key", device_public)
    social = "https://social.example/alice"
    files = [write_statement(tmp_path / f"social-{n}.jws", device_key, "wellknown", identity,
                             subject=social) for n, identity in enumerate((USER, HANDLE))]
    trust = write_json(tmp_path / "t.json", trust_document(well_known={"threshold": 2}))
    routes: dict[str, tuple[int, dict[str, str], bytes]] = {}
    with loopback_https(routes) as (base, ca):
        urls = [f"{base}/alice", f"{base}/alice-handle"]
        for url, identity in zip(urls, (USER, HANDLE), strict=True):
            routes[url[len(base):]] = (200, {}, create_statement(
                device_key, "wellknown", issuer=identity, subject=url, now=NOW).encode())
        given = [*statement_args(files), "--statement-url", urls[0], "--statement-url", urls[1],
                 "--allow-private-network"]
        code, report = verify_json(token, trust, *given, "--ca-file", ca)
        refused_code, refused = verify_json(token, trust, *given)
        text = run_cli("verify", token, "--trust", trust, "--now", NOW, *given)
    assert (code, methods(report)) == (0, [("well_known", True)])
    assert report["trust"][0]["steps"] == [
        f"social.example: {social} binds {USER} to key {short(device_key)}",
        f"not counted: {social}: the statement is for {HANDLE}, not {USER}",
        f"localhost: {urls[0]} binds {USER} to key {short(device_key)} (fetched from "
        f"{urls[0]})",
        f"not counted: {urls[1]}: the statement is for {HANDLE}, not {USER}"]
    assert "warnings" not in report
    assert (refused_code, failed(refused)[:2]) == (1, ("trust_path", "untrusted_issuer"))
    failures = [f"the statement at {url} could not be fetched" for url in urls]
    assert refused["trust"][0]["steps"][2:] == [f"not counted: {f}" for f in failures]
    assert refused["warnings"] == failures
    assert text.stdout.startswith("invalid: untrusted_issuer\n" + "".join(
        f"warning: {f}\n" for f in failures))


def test_cli_statement_url_on_the_private_network_needs_the_flag(tmp_path: Path) -> None:
    """--statement-url naming a loopback address is a usage error, unless
    --allow-private-network is given."""
    trust = write_json(tmp_path / "t.json", trust_document(well_known={"threshold": 1}))
    token = tmp_path / "token.jwt"
    token.write_text("x")
    result = run_cli("verify", token, "--trust", trust, "--statement-url",
                 "https://127.0.0.1:9/alice")
    assert (result.exit_code, result.stdout, result.stderr) == (
        2, "", "vc-im: the statement URL 'https://127.0.0.1:9/alice' is unusable: an IP "
               "address is not a well-known service.\n")


def test_cli_failed_fetch_is_reported_even_when_no_model_uses_it(
        tmp_path: Path, issuer_file: Path, issuer_key: Key) -> None:
    """A --statement-url that cannot be fetched used to leave no trace when the trust file has
    no well-known services; it is now a warning of the report (text and JSON), and the
    credential's verdict is unchanged."""
    import socket

    _, device_public, _ = keygen(tmp_path, "device")
    token = issue(tmp_path / "vc.jwt", "--key", issuer_file, "--issuer", ISSUER,
                  "--subject", DEVICE, "--holder-key", device_public)
    trust = write_json(tmp_path / "t.json", trust_document([issuer_entry(ISSUER, issuer_key)]))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        url = f"https://127.0.0.1:{probe.getsockname()[1]}/alice"
    given = ("--statement-url", url, "--allow-private-network")
    code, report = verify_json(token, trust, *given)
    text = run_cli("verify", token, "--trust", trust, "--now", NOW, *given)
    warning = f"the statement at {url} could not be fetched"
    assert (code, report["ok"], report["warnings"]) == (0, True, [warning])
    lines = text.stdout.splitlines()
    assert (lines[0], lines[2]) == ("valid", f"warning: {warning}")
    assert lines[1].startswith("verified: id=")
    assert lines[3].startswith("  ok   format ")


def test_cli_statement_url_must_be_https(tmp_path: Path) -> None:
    """--statement-url with http:// is a usage error before anything is fetched."""
    trust = write_json(tmp_path / "t.json", trust_document(well_known={"threshold": 1}))
    token = tmp_path / "token.jwt"
    token.write_text("x")
    result = run_cli("verify", token, "--trust", trust, "--statement-url", "http://127.0.0.1/alice")
    assert (result.exit_code, result.stdout, result.stderr) == (
        2, "", "vc-im: statements are fetched over HTTPS only, and 'http://127.0.0.1/alice' "
               "uses http.\n")


# --------------------------------------------------------------------------------------------
# Policy


@pytest.mark.parametrize(("contradiction", "exit_code"), [("fail", 1), ("report", 0)])
def test_cli_policy_contradiction(contradiction: str, exit_code: int, tmp_path: Path,
                                  issuer_file: Path, issuer_key: Key) -> None:
    """Two services binding the handle to another key than the issuer's credential: exit 1
    with trust_contradiction, or exit 0 with "contradiction": "report", flagged either way."""
    _, device_public, _ = keygen(tmp_path, "device")
    other = keys.generate()
    token = issue(tmp_path / "vc.jwt", "--key", issuer_file, "--issuer", ISSUER,
                  "--subject", DEVICE, "--im", HANDLE, "--holder-key", device_public)
    files = [write_statement(tmp_path / f"{n}.jws", other, "wellknown", HANDLE,
                             subject=f"https://{n}.example/alice") for n in ("a", "b")]
    trust = write_json(tmp_path / "t.json", trust_document(
        [issuer_entry(ISSUER, issuer_key)], well_known={"threshold": 2},
        policy=[rule(["central", "well_known"], contradiction=contradiction)]))
    code, report = verify_json(token, trust, *statement_args(files))
    assert code == exit_code
    assert methods(report) == [("central", True), ("well_known", False)]
    assert report["trust"][1]["contradiction"] is True
    text = run_cli("verify", token, "--trust", trust, "--now", NOW, *statement_args(files))
    if contradiction == "fail":
        assert failed(report)[:2] == ("trust_path", "trust_contradiction")
        assert text.stdout.startswith("invalid: trust_contradiction\n")
        assert "warnings" not in report
    else:
        warning = ("trust methods contradict each other: a contradiction: a.example names key "
                   f"{short(other)}, b.example names key {short(other)}, not key "
                   f"{short(keys.read_key_file(device_public, require='public'))}, for {HANDLE}.")
        assert report["warnings"] == [warning]
        first = text.stdout.splitlines()[:4]
        assert first[0] == "valid"
        assert first[1].startswith("verified: id=")
        assert first[2:] == [f"warning: {warning}", first[3]]
        assert first[3].startswith("  ok   format ")


def test_cli_policy_without_anchor_is_a_usage_error(tmp_path: Path, issuer_key: Key) -> None:
    """A policy naming a method the trust file gives no anchor for: exit 2, one sentence."""
    trust = write_json(tmp_path / "t.json", trust_document(
        [issuer_entry(ISSUER, issuer_key)], policy=[rule(["x509"])]))
    token = tmp_path / "token.jwt"
    token.write_text("x")
    result = run_cli("verify", token, "--trust", trust)
    assert (result.exit_code, result.stdout, result.stderr) == (
        2, "", f"vc-im: trust file {trust}: policy[0] uses the method 'x509', but the trust "
               "file configures no anchor for it.\n")
