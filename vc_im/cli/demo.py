"""``vc-im demo``: the whole issuer -> holder -> verifier flow on the draft's example data."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from vc_im.cli._app import app
from vc_im.cli._common import errors_to_exit

if TYPE_CHECKING:
    from vc_im.report import Report

ISSUER = "https://im.example.com"
DEVICE = "im:SvPfLlwBQi-6oddVRrkqpw/04c7@example.com"
HANDLE = "im:%40alice_smith@example.com"
VERIFIER = "https://verifier.example.org"


def _step(text: str) -> None:
    typer.echo("")
    typer.echo(f"$ {text}")


#: The files the demo writes; the replay store's SQLite files come and go with it.
FILES = ("issuer.jwk", "device.jwk", "device.pub.jwk", "alice.vc.jwt", "trust.json",
         "alice.vp.jwt")
STORE = "replay.sqlite3"
STORE_FILES = (STORE, f"{STORE}-wal", f"{STORE}-shm", f"{STORE}-journal")


@app.command()
def demo(
    directory: Annotated[Path | None, typer.Option("--dir", help="Keep the demo's files here "
                                                   "(default: a temporary directory).")]
    = None,
    force: Annotated[bool, typer.Option("--force", help="Replace the demo's files (and start "
                                        "a new replay store) in an existing --dir.")] = False,
) -> None:
    """Run keygen, issue, verify, nonce, present and verify on the MIMI draft's Alice, and
    print a summary of each step (never a whole token or key)."""
    if directory is None:
        with tempfile.TemporaryDirectory(prefix="vc-im-demo-") as tmp:
            _run(Path(tmp), force=False, keep=False)
        return
    with errors_to_exit():
        _prepare(directory, force=force)
    _run(directory, force=force, keep=True)


def _prepare(directory: Path, *, force: bool) -> None:
    """Make ``directory``; refuse (before writing anything) if a demo file is already there,
    unless ``force``, which also removes the old replay store (its entries, never a
    symlink's target)."""
    from vc_im.errors import InputError
    from vc_im.files import check_new_file

    if directory.exists() and not directory.is_dir():
        raise InputError(f"--dir {directory} exists and is not a directory.")
    directory.mkdir(parents=True, exist_ok=True)
    for name in (*FILES, *STORE_FILES):
        check_new_file(directory / name, force=force)
    for name in STORE_FILES:
        (directory / name).unlink(missing_ok=True)


def _short(value: str, keep: int = 12) -> str:
    """A token or key id shortened for the summary: its start and its length."""
    return value if len(value) <= keep + 3 else f"{value[:keep]}... ({len(value)} chars)"


def _run(where: Path, *, force: bool, keep: bool) -> None:
    from vc_im import keys
    from vc_im.credentials import issue_credential
    from vc_im.files import write_new_file
    from vc_im.presentations import create_presentation
    from vc_im.replay import ReplayStore
    from vc_im.times import now_seconds
    from vc_im.trust import read_trust_file
    from vc_im.verify import verify_token

    with errors_to_exit():
        now = now_seconds()
        typer.echo(f"vc-im demo: files in {where}" if keep else
                   "vc-im demo: in a temporary directory, removed at the end (--dir keeps it)")
        _step("vc-im keygen --out issuer.jwk   # the IM provider's identity service")
        issuer_key = keys.generate("Ed25519")
        keys.write_private_key(where / "issuer.jwk", issuer_key, force=force)
        typer.echo(f"issuer key: Ed25519, kid {_short(issuer_key.kid)}")
        _step("vc-im keygen --out device.jwk --public-out device.pub.jwk   # Alice's device")
        device_key = keys.generate("Ed25519")
        keys.write_private_key(where / "device.jwk", device_key, force=force)
        keys.write_public_key(where / "device.pub.jwk", device_key, force=force)
        typer.echo(f"device key: Ed25519, kid {_short(device_key.kid)}")
        _step(f"vc-im issue --key issuer.jwk --issuer {ISSUER} --subject '{DEVICE}' "
              "--fn 'Alice M. Smith' --org 'Example Corp' --unit Engineering "
              f"--im '{HANDLE}' --holder-key device.pub.jwk > alice.vc.jwt")
        credential = issue_credential(
            issuer_key, issuer=ISSUER, subject=DEVICE, fn="Alice M. Smith", now=now,
            organization="Example Corp", unit="Engineering", instant_messages=[HANDLE],
            holder_key=device_key.public())
        write_new_file(where / "alice.vc.jwt", (credential + "\n").encode("ascii"), force=force)
        typer.echo(f"issued: ImDeviceCredential for {DEVICE} (Alice M. Smith), bound to the "
                   f"device key; token {_short(credential, 16)}")
        trust = {"issuers": [{"id": ISSUER, "keys": [dict(issuer_key.public_jwk)],
                              "domains": ["example.com"]}]}
        write_new_file(where / "trust.json", (json.dumps(trust, indent=2) + "\n").encode(),
                       force=force)
        typer.echo(f"trust.json: {ISSUER}, its key, for the domain example.com")
        trust_store = read_trust_file(where / "trust.json")
        store = where / STORE
        _step("vc-im verify alice.vc.jwt --trust trust.json")
        report = verify_token(credential, trust_store, now=now, store=store)
        _verdict(report)
        _step("vc-im nonce --store replay.sqlite3   # the verifier's challenge")
        with ReplayStore.open(store) as replay:
            nonce = replay.issue_nonce(now=now)
        typer.echo(f"nonce: {_short(nonce)}")
        _step(f"vc-im present --key device.jwk --credential alice.vc.jwt --audience {VERIFIER} "
              "--nonce NONCE > alice.vp.jwt")
        presentation = create_presentation(device_key, [credential], audience=VERIFIER,
                                           nonce=nonce, now=now)
        write_new_file(where / "alice.vp.jwt", (presentation + "\n").encode("ascii"),
                       force=force)
        typer.echo(f"presented: 1 credential to {VERIFIER}, signed by the device key; token "
                   f"{_short(presentation, 16)}")
        _step(f"vc-im verify alice.vp.jwt --trust trust.json --audience {VERIFIER} "
              "--nonce NONCE --store replay.sqlite3")
        shown = verify_token(presentation, trust_store, now=now, audience=VERIFIER,
                             nonce=nonce, store=store)
        _verdict(shown)
        _step("vc-im verify alice.vp.jwt ... (the same presentation again)")
        again = verify_token(presentation, trust_store, now=now, audience=VERIFIER,
                             nonce=nonce, store=store)
        typer.echo("valid" if again.ok else f"invalid: {again.code}   (replay is refused)")
    if not (report.ok and shown.ok) or again.ok:
        raise typer.Exit(1)


def _verdict(report: Report) -> None:
    """valid or invalid, who was verified, and how many checks ran."""
    passed = sum(check.status.value == "passed" for check in report.checks)
    typer.echo("valid" if report.ok else f"invalid: {report.code}")
    summary = report.summary_line()
    if summary is not None:
        typer.echo(f"verified: {summary}")
    typer.echo(f"{passed} of {len(report.checks)} checks passed")
