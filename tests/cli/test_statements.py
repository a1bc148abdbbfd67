"""``vc-im statement create | inspect | wot | wellknown``: output, exit codes and refusals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import Result

from tests.helpers.cli import run_cli, run_process
from vc_im import keys

NOW = "1700000000"
ALICE = "im:alice@example.com"
BOB = "im:bob@example.org"
B1 = "im:bob/B1@example.org"


def short(key: keys.Key) -> str:
    """How the CLI names a key in sentences."""
    return key.thumbprint()[:8]


class Keys:
    """Private and public JWK files for named keys in one directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.keys: dict[str, keys.Key] = {}

    def __getitem__(self, name: str) -> keys.Key:
        if name not in self.keys:
            key = keys.generate()
            keys.write_private_key(self.directory / f"{name}.jwk", key)
            keys.write_public_key(self.directory / f"{name}.pub.jwk", key)
            self.keys[name] = key
        return self.keys[name]

    def private(self, name: str) -> Path:
        """The private key file of ``name``."""
        self[name]
        return self.directory / f"{name}.jwk"

    def public(self, name: str) -> Path:
        """The public key file of ``name``."""
        self[name]
        return self.directory / f"{name}.pub.jwk"


@pytest.fixture
def k(tmp_path: Path) -> Keys:
    """Fresh keys for one test."""
    return Keys(tmp_path)


def create(out: Path, kind: str, signer: Path, issuer: str, *extra: object) -> Path:
    """``vc-im statement create`` into ``out``; it must succeed."""
    result = run_cli("statement", "create", "--kind", kind, "--key", signer, "--issuer", issuer,
                     "--now", NOW, *extra)
    assert result.exit_code == 0, result.stderr
    out.write_text(result.stdout)
    return out


def figure2(k: Keys, directory: Path) -> dict[str, Path]:
    """Figure 2's statements for Alice and Bob, plus Alice's user-signing key vouching for Bob."""
    files = {}
    for user, who in (("alice", ALICE), ("bob", BOB)):
        files[f"{user}-dsk"] = create(directory / f"{user}-dsk.jws", "dsk",
                                      k.private(f"{user}-master"), who,
                                      "--subject-key", k.public(f"{user}-dsk"))
        files[f"{user}-usk"] = create(directory / f"{user}-usk.jws", "usk",
                                      k.private(f"{user}-master"), who,
                                      "--subject-key", k.public(f"{user}-usk"))
    files["bob-b1"] = create(directory / "bob-b1.jws", "device", k.private("bob-dsk"), BOB,
                             "--subject", B1, "--subject-key", k.public("b1"))
    files["alice-bob"] = create(directory / "alice-bob.jws", "user", k.private("alice-usk"),
                                ALICE, "--subject", BOB,
                                "--subject-key", k.public("bob-master"))
    return files


def wot(k: Keys, statements: list[Path], *extra: object) -> Result:
    """``vc-im statement wot`` from Alice's master key to Bob's device B1."""
    args: list[object] = ["statement", "wot", "--me", ALICE, "--master-key",
                          k.public("alice-master"), "--device", B1, "--device-key",
                          k.public("b1"), "--now", NOW, *extra]
    for path in statements:
        args += ["--statement", path]
    return run_cli(*args)


# --------------------------------------------------------------------------------------------
# create and inspect


def test_create_and_inspect(k: Keys, tmp_path: Path) -> None:
    """Each statement created prints as one compact JWS and inspects as one line."""
    files = figure2(k, tmp_path)
    assert files["bob-b1"].read_text().count(".") == 2
    expected = {
        "alice-dsk": f"dsk: {ALICE}'s master key {short(k['alice-master'])} names its "
                     f"device-signing key {short(k['alice-dsk'])}\n",
        "bob-b1": f"device: {BOB}'s device-signing key {short(k['bob-dsk'])} binds device {B1} "
                  f"to key {short(k['b1'])}\n",
        "alice-bob": f"user: {ALICE}'s user-signing key {short(k['alice-usk'])} vouches for "
                     f"{BOB}'s master key {short(k['bob-master'])}\n",
    }
    for name, line in expected.items():
        result = run_cli("statement", "inspect", files[name], "--now", NOW)
        assert (result.exit_code, result.stdout) == (0, line)


def test_inspect_json_and_stdin(k: Keys, tmp_path: Path) -> None:
    """--json prints the statement's public data; - reads stdin."""
    path = create(tmp_path / "w.jws", "wellknown", k.private("alice-device"), ALICE,
                  "--subject", "acct:alice@social.example", "--valid-for", "30d")
    result = run_cli("statement", "inspect", "-", "--json", "--now", NOW, input=path.read_text())
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["jti"].startswith("urn:uuid:")
    del data["jti"]
    assert data == {
        "kind": "wellknown", "typ": "im-wellknown+jwt", "issuer": ALICE,
        "subject": "acct:alice@social.example", "key": k["alice-device"].thumbprint(),
        "signer": k["alice-device"].thumbprint(), "issued_at": "2023-11-14T22:13:20Z",
        "expires_at": "2023-12-14T22:13:20Z", "revokes": None,
        "meaning": f"{ALICE} with key {short(k['alice-device'])} owns the service account "
                   "acct:alice@social.example",
    }


def test_inspect_refuses_an_invalid_statement(k: Keys, tmp_path: Path) -> None:
    """A tampered statement exits 1 with its code; an expired one too."""
    path = create(tmp_path / "d.jws", "dsk", k.private("m"), ALICE, "--subject-key",
                  k.public("d"), "--valid-for", "1h")
    header, payload, signature = path.read_text().strip().split(".")
    tampered = tmp_path / "t.jws"
    tampered.write_text(f"{header}.{payload}.{signature[:-4]}AAAA")
    result = run_cli("statement", "inspect", tampered, "--now", NOW)
    assert (result.exit_code, result.stdout, result.stderr) == (
        1, "", "vc-im: the statement is invalid (bad_signature): the statement's signature does "
               "not verify with the key its header names.\n")
    result = run_cli("statement", "inspect", path, "--now", "2024-01-01T00:00:00Z")
    assert (result.exit_code, result.stderr) == (
        1, "vc-im: the statement is invalid (expired): the statement expired at "
           "2023-11-14T23:13:20Z.\n")


@pytest.mark.parametrize(("args", "message"), [
    (["--kind", "cross"], "'cross' is not a statement kind; the kinds are dsk, usk, device, "
                          "user, revoke, wellknown."),
    (["--kind", "device", "--subject", B1], "device im:bob/B1@example.org belongs to "
     "im:bob@example.org, and a device statement issued by im:alice@example.com may only name "
     "im:alice@example.com's own devices."),
    (["--kind", "revoke"], "a revocation takes neither a subject nor a subject key; it names "
                           "the statement it withdraws with revokes."),
    (["--kind", "dsk", "--valid-for", "soon"], "'soon' is not a duration; write a number and a "
                                               "unit, like 90d, 12h, 30m or 3600s."),
])
def test_create_refusals_exit_2(k: Keys, args: list[str], message: str) -> None:
    """A statement readers would refuse is not created: exit 2 and one sentence."""
    result = run_cli("statement", "create", "--key", k.private("signer"), "--issuer", ALICE,
                     "--subject-key", k.public("bound"), "--now", NOW, *args)
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", f"vc-im: {message}\n")


def test_create_refuses_a_private_subject_key(k: Keys) -> None:
    """A private key given as the key to bind is refused, so it is never published."""
    result = run_cli("statement", "create", "--kind", "dsk", "--key", k.private("m"),
                     "--issuer", ALICE, "--subject-key", k.private("d"), "--now", NOW)
    assert result.exit_code == 2
    assert "holds a private key where a public key is expected" in result.stderr


# --------------------------------------------------------------------------------------------
# wot


def test_wot_trusts_bobs_device(k: Keys, tmp_path: Path) -> None:
    """Figure 2: Alice's verifier trusts Bob's device B1, exit 0, and prints the path."""
    result = wot(k, list(figure2(k, tmp_path).values()))
    assert result.exit_code == 0
    assert result.stdout == (
        f"trusted (web_of_trust): key {k['b1'].thumbprint()}\n"
        f"  your master key {short(k['alice-master'])} anchors {ALICE}\n"
        f"  {ALICE}'s master key {short(k['alice-master'])} signed its user-signing key "
        f"{short(k['alice-usk'])}\n"
        f"  {ALICE}'s user-signing key {short(k['alice-usk'])} signed {BOB}'s master key "
        f"{short(k['bob-master'])}\n"
        f"  {BOB}'s master key {short(k['bob-master'])} signed its device-signing key "
        f"{short(k['bob-dsk'])}\n"
        f"  {BOB}'s device-signing key {short(k['bob-dsk'])} signed device {B1}'s key "
        f"{short(k['b1'])}\n")


def test_wot_revoked_and_ignored(k: Keys, tmp_path: Path) -> None:
    """A revoked cross-signature exits 1 with the reason; an invalid file is listed as ignored."""
    files = figure2(k, tmp_path)
    jti = json.loads(run_cli("statement", "inspect", files["alice-bob"], "--json",
                             "--now", NOW).stdout)["jti"]
    revoke = create(tmp_path / "revoke.jws", "revoke", k.private("alice-usk"), ALICE,
                    "--revokes", jti)
    junk = tmp_path / "junk.jws"
    junk.write_text("junk\n")
    result = wot(k, [*files.values(), revoke, junk], "--json")
    assert result.exit_code == 1
    assert json.loads(result.stdout) == {
        "ok": False, "method": "web_of_trust", "key": None, "steps": [], "contradiction": False,
        "reason": f"{ALICE}'s user-signing key {short(k['alice-usk'])} signed {BOB}'s master "
                  f"key {short(k['bob-master'])}, but key {short(k['alice-usk'])} of {ALICE} "
                  f"revoked that statement ({jti}).",
        "ignored": [{"file": str(junk), "code": "malformed",
                     "reason": "a compact JWS has three parts separated by '.', not 1."}],
    }
    text = wot(k, [*files.values(), revoke, junk])
    assert text.stdout.startswith("not trusted (web_of_trust): ")
    assert text.stdout.endswith(f"  ignored {junk} (malformed): a compact JWS has three parts "
                                "separated by '.', not 1.\n")


def test_wot_max_hops_zero(k: Keys, tmp_path: Path) -> None:
    """--max-hops 0 trusts only Alice's own devices."""
    result = wot(k, list(figure2(k, tmp_path).values()), "--max-hops", "0")
    assert (result.exit_code, result.stdout) == (
        1, f"not trusted (web_of_trust): {BOB} is 1 hop from you, more than max_hops 0 "
           "allows.\n")


def test_wot_usage_errors(k: Keys, tmp_path: Path) -> None:
    """A bad identifier or a missing statement file exits 2 with one sentence."""
    result = run_cli("statement", "wot", "--me", "alice", "--master-key", k.public("m"),
                     "--device", B1, "--device-key", k.public("b1"))
    assert result.exit_code == 2
    assert result.stderr.startswith("vc-im: --me 'alice' is not an IM identifier: ")
    missing = tmp_path / "missing.jws"
    result = wot(k, [missing])
    assert (result.exit_code, result.stderr) == (
        2, f"vc-im: cannot read the statement file {missing}: No such file or directory.\n")


# --------------------------------------------------------------------------------------------
# wellknown


def wellknown_files(k: Keys, tmp_path: Path, accounts: list[tuple[str, str]]) -> list[str]:
    """--statement options for well-known statements: (key name, account) each."""
    args: list[str] = []
    for index, (name, account) in enumerate(accounts):
        path = create(tmp_path / f"wk{index}.jws", "wellknown", k.private(name), ALICE,
                      "--subject", account)
        args += ["--statement", str(path)]
    return args


def test_wellknown_two_of_three(k: Keys, tmp_path: Path) -> None:
    """Two services agreeing meet the default threshold of 2: exit 0."""
    args = wellknown_files(k, tmp_path, [("dev", "https://code.example.net/alice"),
                                         ("dev", "acct:alice@social.example")])
    result = run_cli("statement", "wellknown", "--identity", ALICE, "--key", k.public("dev"),
                     "--now", NOW, *args)
    assert result.exit_code == 0
    assert result.stdout == (
        f"trusted (well_known): key {k['dev'].thumbprint()}\n"
        f"  example.net: https://code.example.net/alice binds {ALICE} to key "
        f"{short(k['dev'])}\n"
        f"  social.example: acct:alice@social.example binds {ALICE} to key {short(k['dev'])}\n")


def test_wellknown_contradiction(k: Keys, tmp_path: Path) -> None:
    """A service naming another key is a contradiction: exit 1, contradiction true."""
    args = wellknown_files(k, tmp_path, [("dev", "https://code.example.net/alice"),
                                         ("dev", "acct:alice@social.example"),
                                         ("evil", "https://photos.example/alice")])
    result = run_cli("statement", "wellknown", "--identity", ALICE, "--key", k.public("dev"),
                     "--now", NOW, "--json", *args)
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert (data["ok"], data["contradiction"], data["key"], data["reason"]) == (
        False, True, None, f"a contradiction: photos.example names key {short(k['evil'])}, not "
                           f"key {short(k['dev'])}, for {ALICE}.")


def test_wellknown_fetches_from_loopback(k: Keys) -> None:
    """--url fetches over HTTPS with --ca-file and --allow-private-network (the loopback
    server); one service meets --threshold 1. Without the flag the loopback URL is a usage
    error."""
    from tests.trust.test_wellknown import loopback_https

    routes: dict[str, tuple[int, dict[str, str], bytes]] = {}
    with loopback_https(routes) as (base, ca):
        token = run_cli("statement", "create", "--kind", "wellknown", "--key", k.private("dev"),
                        "--issuer", ALICE, "--subject", f"{base}/alice", "--now", NOW).stdout
        routes["/alice"] = (200, {}, token.encode())
        result = run_cli("statement", "wellknown", "--identity", ALICE, "--key", k.public("dev"),
                     "--url", f"{base}/alice", "--ca-file", ca, "--threshold", "1",
                     "--now", NOW, "--allow-private-network")
        refused = run_cli("statement", "wellknown", "--identity", ALICE, "--key", k.public("dev"),
                      "--url", f"{base}/alice", "--now", NOW, "--threshold", "1",
                      "--allow-private-network")
        private = run_cli("statement", "wellknown", "--identity", ALICE, "--key", k.public("dev"),
                      "--url", f"{base}/alice", "--ca-file", ca, "--threshold", "1",
                      "--now", NOW)
    assert result.exit_code == 0, result.stdout
    assert result.stdout.endswith(f"  localhost: {base}/alice binds {ALICE} to key "
                                  f"{short(k['dev'])} (fetched from {base}/alice)\n")
    assert refused.exit_code == 1
    assert f"  not counted: the statement at {base}/alice could not be fetched\n" in (
        refused.stdout)
    assert (private.exit_code, private.stdout, private.stderr) == (
        2, "", f"vc-im: the statement URL '{base}/alice' is unusable: an IP address is not a "
               "well-known service.\n")


@pytest.mark.parametrize(("args", "message"), [
    (["--url", "http://127.0.0.1/alice"],
     "statements are fetched over HTTPS only, and 'http://127.0.0.1/alice' uses http."),
    ([], "give at least one --statement or --url."),
])
def test_wellknown_usage_errors(k: Keys, args: list[str], message: str) -> None:
    """A non-https URL, or no evidence at all, exits 2 before any fetch."""
    result = run_cli("statement", "wellknown", "--identity", ALICE, "--key", k.public("dev"),
                     *args)
    assert (result.exit_code, result.stderr) == (2, f"vc-im: {message}\n")


# --------------------------------------------------------------------------------------------
# A real process


def test_real_process(k: Keys, tmp_path: Path) -> None:
    """The commands run in a fresh interpreter: create, then inspect from stdin."""
    created = run_process("statement", "create", "--kind", "usk", "--key", k.private("m"),
                          "--issuer", ALICE, "--subject-key", k.public("u"), "--now", NOW,
                          cwd=tmp_path, text=False)
    assert (created.returncode, created.stderr) == (0, b"")
    inspected = run_process("statement", "inspect", "-", "--now", NOW, stdin=created.stdout,
                            cwd=tmp_path, text=False)
    assert (inspected.returncode, inspected.stderr) == (0, b"")
    assert inspected.stdout.decode() == (f"usk: {ALICE}'s master key {short(k['m'])} names its "
                                         f"user-signing key {short(k['u'])}\n")
