"""``vc-im verify --batch`` and ``vc-im issue --batch`` through real processes: one JSON line
per input line in order, the report object of ``verify --json`` plus line and id, a summary
on stderr and no progress bar off a terminal, exit codes, and --jobs changing nothing."""

from __future__ import annotations

import json
import os
import pty
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import DEVICE, ISSUER, NOW, RFC8037_PRIVATE, VERIFIER
from tests.helpers.cli import TIMEOUT, process_env, run_process, vc_im_command
from vc_im import keys
from vc_im.presentations import create_presentation

pytestmark = pytest.mark.slow
AT = str(NOW + 10)


@pytest.fixture(scope="module")
def batch_dir(tmp_path_factory: pytest.TempPathFactory, make_credential: Callable[..., str],
              device_key: keys.Key, trust_file: Path) -> Path:
    """A directory with the trust file, an issuer key, a device key and a batch file of three
    presentations, a replay of the first, a bad line and a bare credential."""
    where = tmp_path_factory.mktemp("batch")
    (where / "trust.json").write_text(trust_file.read_text())
    (where / "issuer.jwk").write_text(json.dumps({**RFC8037_PRIVATE, "alg": "Ed25519"}))
    (where / "device.pub.jwk").write_text(json.dumps(dict(device_key.public_jwk)))
    credential = make_credential()
    vps = [create_presentation(device_key, [credential], audience=VERIFIER, nonce=f"n{i}",
                               now=NOW, valid_for=300) for i in range(3)]
    lines = [json.dumps({"token": vp, "nonce": f"n{i}", "id": f"login-{i}"})
             for i, vp in enumerate(vps)]
    lines += [lines[0], "{not json", vps[1]]
    (where / "batch.jsonl").write_text("\n".join(lines) + "\n")
    (where / "good.jsonl").write_text("\n".join(lines[:3]) + "\n")
    return where


def _verify(where: Path, *extra: str, source: str = "batch.jsonl", stdin: str | None = None,
            store: str = "replay.db") -> subprocess.CompletedProcess[str]:
    return run_process("verify", "--trust", "trust.json", "--audience", VERIFIER, "--now", AT,
                       "--store", store, "--batch", source, *extra, cwd=where, stdin=stdin)


def test_verify_batch_writes_one_report_per_line_in_order(batch_dir: Path) -> None:
    """Each output line is the verify --json report plus line and id; the replayed line fails
    replay, the unreadable one is malformed, the token without a nonce nonce_mismatch; the
    summary counts per code on stderr; exit 1."""
    result = _verify(batch_dir, store="mixed.db")
    assert result.returncode == 1, result.stderr
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [item["line"] for item in out] == [1, 2, 3, 4, 5, 6]
    assert [item["id"] for item in out] == ["login-0", "login-1", "login-2", "login-0", None,
                                            None]
    assert [item["ok"] for item in out] == [True, True, True, False, False, False]
    assert {"ok", "kind", "checks", "credentials"} <= set(out[0])
    assert out[3]["checks"][-1] == {"name": "replay", "status": "failed", "code": "replay",
                                    "reason": "This nonce or this presentation (iss, jti) was "
                                              "already used."}
    assert out[4]["checks"][0]["code"] == "malformed"
    assert out[5]["kind"] == "presentation"
    assert "nonce_mismatch" in json.dumps(out[5]["checks"])
    assert result.stderr.startswith("vc-im: verified 6 lines in ")
    assert result.stderr.endswith(": 3 valid, 3 invalid (malformed 1, nonce_mismatch 1, "
                                  "replay 1).\n")


def test_each_line_matches_verify_json_of_the_token_alone(batch_dir: Path) -> None:
    """A batch line is exactly what `vc-im verify --json` prints for that token, plus line and
    id."""
    token = json.loads((batch_dir / "good.jsonl").read_text().splitlines()[2])["token"]
    (batch_dir / "alone.jwt").write_text(token)
    alone = run_process("verify", "--trust", "trust.json", "--audience", VERIFIER, "--nonce",
                        "n2", "--now", AT, "--store", "alone.db", "--json", "alone.jwt",
                        cwd=batch_dir)
    assert alone.returncode == 0, alone.stderr
    batch = _verify(batch_dir, store="alone-batch.db", source="good.jsonl")
    third = json.loads(batch.stdout.splitlines()[2])
    assert third.pop("line") == 3
    assert third.pop("id") == "login-2"
    assert third == json.loads(alone.stdout)


def test_all_valid_from_stdin_exits_zero_and_jobs_change_nothing(batch_dir: Path) -> None:
    """From stdin, every line valid: exit 0, the summary is stderr's only line (no progress
    bar off a terminal); --jobs 2 and --jobs 0 print the very same lines as --jobs 1."""
    lines = (batch_dir / "good.jsonl").read_text()
    outputs = []
    for jobs in ("1", "2", "0"):
        result = _verify(batch_dir, "--jobs", jobs, source="-", stdin=lines,
                         store=f"stdin-{jobs}.db")
        assert result.returncode == 0, result.stderr
        assert result.stderr.count("\n") == 1
        assert ": 3 valid, 0 invalid." in result.stderr
        outputs.append(result.stdout)
    assert outputs[0] == outputs[1] == outputs[2]
    again = _verify(batch_dir, source="-", stdin=lines, store="stdin-1.db")
    assert again.returncode == 1
    assert ": 0 valid, 3 invalid (replay 3)." in again.stderr


def test_progress_bar_only_on_a_terminal(batch_dir: Path) -> None:
    """With stderr on a terminal, the progress bar draws there; stdout stays the reports."""
    primary, secondary = pty.openpty()
    try:
        argv = [*vc_im_command(), "verify", "--trust", "trust.json", "--audience", VERIFIER,
                "--now", AT, "--store", "tty.db", "--batch", "good.jsonl"]
        process = subprocess.run(argv, cwd=batch_dir, stdout=subprocess.PIPE,
                                 stderr=secondary, stdin=subprocess.DEVNULL, timeout=TIMEOUT,
                                 env=process_env(batch_dir, {"TERM": "xterm"}), check=False)
        os.close(secondary)
        secondary = -1
        drawn = b""
        while True:
            try:
                chunk = os.read(primary, 65536)
            except OSError:
                break
            if not chunk:
                break
            drawn += chunk
    finally:
        os.close(primary)
        if secondary >= 0:
            os.close(secondary)
    assert process.returncode == 0
    assert len(process.stdout.splitlines()) == 3
    assert b"verifying" in drawn
    assert b"vc-im: verified 3 lines" in drawn


@pytest.fixture(scope="module")
def chunks_file(batch_dir: Path, make_credential: Callable[..., str],
                device_key: keys.Key) -> str:
    """Three chunks of lines: every nonce used again 100 lines later (another chunk), a line
    repeated right after itself (same chunk), unreadable lines and a hostile id."""
    credential = make_credential()
    lines = [json.dumps({"token": create_presentation(
        device_key, [credential], audience=VERIFIER, nonce=f"c{i % 100}", now=NOW,
        valid_for=300), "nonce": f"c{i % 100}", "id": f"\x1b]0;{i}\u2028"}) for i in range(150)]
    lines.insert(11, lines[10])
    lines[40:40] = ["{not json", '{"token": 1}', "", "x" * 100]
    (batch_dir / "chunks.jsonl").write_text("\n".join(lines) + "\n")
    return "chunks.jsonl"


def test_jobs_one_and_two_write_the_same_bytes(batch_dir: Path, chunks_file: str) -> None:
    """Over several chunks, with replays inside a chunk and across chunks and unreadable
    lines, --jobs 2 writes byte for byte what --jobs 1 writes, and the same summary counts;
    every line is JSON with its line number, the replays failing the replay check last."""
    runs = []
    for jobs in ("1", "2"):
        runs.append(_verify(batch_dir, "--jobs", jobs, source=chunks_file,
                            store=f"chunks-{jobs}.db"))
    assert runs[0].stdout == runs[1].stdout
    assert [run.returncode for run in runs] == [1, 1]
    counts = [run.stderr.split(": ", 1)[1].split(" in ")[0] for run in runs]
    assert counts[0] == counts[1]
    assert ": 100 valid, 55 invalid (malformed 4, replay 51)." in runs[1].stderr
    out = [json.loads(line) for line in runs[1].stdout.splitlines()]
    assert [item["line"] for item in out] == list(range(1, 156))
    assert out[11]["checks"][-1]["code"] == "replay"
    assert out[11]["subject"] is None
    assert out[10]["subject"] is not None
    assert "\x1b" not in runs[1].stdout


def test_a_store_that_refuses_fails_every_presentation_the_same_way(
        batch_dir: Path, chunks_file: str) -> None:
    """A replay store that cannot be reached: with --jobs 1 and --jobs 2, every presentation
    fails store_unavailable, the same bytes either way, and the batch goes to the end."""
    runs = [_verify(batch_dir, "--jobs", jobs, source=chunks_file,
                    store="postgresql://postgres@127.0.0.1:1/test") for jobs in ("1", "2")]
    assert runs[0].stdout == runs[1].stdout
    assert ": 0 valid, 155 invalid (malformed 4, store_unavailable 151)." in runs[0].stderr
    last = json.loads(runs[0].stdout.splitlines()[-1])
    assert last["line"] == 155
    assert last["checks"][-1]["code"] == "store_unavailable"


@pytest.mark.parametrize(("args", "message"), [
    (("--jobs", "2", "token.jwt"), "--jobs applies to --batch only"),
    (("--batch", "good.jsonl", "token.jwt"), "drop TOKEN_FILE"),
    (("--batch", "missing.jsonl"), "missing.jsonl"),
    (("--batch", "good.jsonl", "--jobs", "-1"), "--jobs"),
])
def test_batch_usage_errors(batch_dir: Path, args: tuple[str, ...], message: str) -> None:
    """Options that do not fit together, or an input that cannot be read: exit 2, one
    sentence."""
    result = run_process("verify", "--trust", "trust.json", "--store", "u.db", *args,
                         cwd=batch_dir)
    assert result.returncode == 2
    assert message in result.stderr
    assert result.stdout == ""


def test_issue_batch_issues_what_verifies(batch_dir: Path) -> None:
    """issue --batch --jobs 2: one line out per line in, credentials that verify, bad lines
    reported with exit 2; the same lines through --jobs 1 give the same subjects and errors."""
    holder = json.loads((batch_dir / "device.pub.jwk").read_text())
    lines = [json.dumps({"subject": DEVICE, "fn": "Alice", "holder_key": holder}),
             json.dumps({"subject": DEVICE, "fn": "", "no_holder_key": True}),
             json.dumps({"subject": DEVICE, "fn": "Alice", "id": "urn:uuid:1", "org": "Ex",
                         "no_holder_key": True})]
    runs = []
    for jobs in ("1", "2"):
        result = run_process("issue", "--key", "issuer.jwk", "--issuer", ISSUER, "--now",
                             str(NOW), "--batch", "-", "--jobs", jobs, cwd=batch_dir,
                             stdin="\n".join(lines) + "\n")
        assert result.returncode == 2
        assert result.stderr.endswith(": 2 issued, 1 refused.\n")
        runs.append([json.loads(line) for line in result.stdout.splitlines()])
    for run in runs:
        assert [item["line"] for item in run] == [1, 2, 3]
        assert set(run[1]) == {"line", "error"}
        assert "formatted name" in run[1]["error"]
        assert run[0]["subject"] == DEVICE
    (batch_dir / "issued.jwt").write_text(runs[1][2]["token"])
    verified = run_process("verify", "--trust", "trust.json", "--now", str(NOW), "--json",
                           "issued.jwt", cwd=batch_dir)
    assert verified.returncode == 0, verified.stdout


def test_issue_batch_all_good_exits_zero(batch_dir: Path) -> None:
    """Every line issued: exit 0 and only the summary on stderr."""
    result = run_process("issue", "--key", "issuer.jwk", "--issuer", ISSUER, "--batch", "-",
                         cwd=batch_dir, stdin=json.dumps({"subject": DEVICE, "fn": "A",
                                                           "no_holder_key": True}) + "\n")
    assert result.returncode == 0
    assert json.loads(result.stdout)["token"].count(".") == 2


def test_issue_without_subject_or_batch_is_a_usage_error(batch_dir: Path) -> None:
    """Without --batch, --subject and --fn stay required; with it, they are refused."""
    missing = run_process("issue", "--key", "issuer.jwk", "--issuer", ISSUER, cwd=batch_dir)
    assert missing.returncode == 2
    assert "issue needs --subject and --fn (or --batch FILE" in missing.stderr
    both = run_process("issue", "--key", "issuer.jwk", "--issuer", ISSUER, "--subject",
                       DEVICE, "--batch", "-", cwd=batch_dir)
    assert both.returncode == 2
    assert "drop --subject" in both.stderr
