"""``vc-im status ...``, ``vc-im issued list`` and ``vc-im renew``: the issuer's registry of
what it issued, revocation and suspension lists, and their publication."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from vc_im.cli._app import app
from vc_im.cli._common import emit_json, errors_to_exit, read_private_key, resolve_now
from vc_im.cli.credentials import Format

if TYPE_CHECKING:
    from vc_im.status import IssuedCredential, Registry

status_app = typer.Typer(no_args_is_help=True, help="Status lists: create, revoke, suspend, "
                         "reinstate, publish.")
issued_app = typer.Typer(no_args_is_help=True, help="What the registry recorded as issued.")
app.add_typer(status_app, name="status")
app.add_typer(issued_app, name="issued")

RegistryOption = Annotated[Path, typer.Option("--registry", help="The issuer's registry "
                                              "(SQLite).")]


@status_app.command("init")
def init(
    registry: RegistryOption,
    key: Annotated[Path, typer.Option("--key", help="The issuer's private key (checked "
                                      "only: publish signs).")],
    issuer: Annotated[str, typer.Option("--issuer", help="The issuer's id.")],
    url: Annotated[str, typer.Option("--url", help="Where the list will be served (https://; "
                                     "its last path segment is the published file's name).")],
    purpose: Annotated[str, typer.Option("--purpose", help="revocation or suspension.")],
    format_: Annotated[Format, typer.Option("--format", help="vc1: StatusList2021; vc2: "
                                            "Bitstring Status List.")] = Format.VC1,
    size: Annotated[int, typer.Option("--size", help="Entries (at least 131072).")] = 131072,
) -> None:
    """Create a status list in the registry (the registry is created when missing)."""
    from vc_im.errors import InputError
    from vc_im.model import Encoding
    from vc_im.status import Purpose, Registry

    with errors_to_exit():
        read_private_key(key)
        if purpose not in ("revocation", "suspension"):
            raise InputError("--purpose is revocation or suspension.")
        with Registry.open(registry, create=True) as reg:
            info = reg.create_list(url=url, purpose=Purpose(purpose),
                                   encoding=Encoding(format_.value), issuer=issuer, size=size)
        typer.echo(f"created the {info.purpose.value} list {info.url} ({info.size} entries, "
                   f"{info.encoding.value})")


def _targets(reg: Registry, credential: str | None, subject: str | None,
             user: str | None, now: int) -> tuple[IssuedCredential, ...]:
    from vc_im import identifiers
    from vc_im.errors import InputError

    if sum(x is not None for x in (credential, subject, user)) != 1:
        raise InputError("name exactly one of --credential, --subject or --user.")
    if subject is not None:
        subject = str(identifiers.parse(subject))
        found = reg.select(subject=subject, now=now)
    elif user is not None:
        found = reg.select(user=str(identifiers.parse(user)), now=now)
    else:
        found = reg.select(credential=credential)
    if not found:
        raise InputError("no current credential in the registry matches.")
    return found


def _change(registry: Path, purpose: str, value: bool, credential: str | None,
            subject: str | None, user: str | None, now: str | None) -> None:
    from vc_im.status import Purpose, Registry

    with errors_to_exit(), Registry.open(registry) as reg:
        targets = _targets(reg, credential, subject, user, resolve_now(now))
        changed = reg.set_status(targets, Purpose(purpose), value)
        verb = {("revocation", True): "revoked", ("suspension", True): "suspended",
                ("suspension", False): "reinstated"}[(purpose, value)]
        typer.echo(f"{verb} {changed} of {len(targets)} credential(s); run vc-im status "
                   "publish to serve the change")


_CRED = Annotated[str | None, typer.Option("--credential", help="A credential id.")]
_SUBJ = Annotated[str | None, typer.Option("--subject", help="A device: its current "
                                           "credentials.")]
_USER = Annotated[str | None, typer.Option("--user", help="A user: every current device "
                                           "credential.")]
_NOW = Annotated[str | None, typer.Option("--now", help="As of this time.")]


@status_app.command("revoke")
def revoke(registry: RegistryOption, credential: _CRED = None, subject: _SUBJ = None,
           user: _USER = None, now: _NOW = None) -> None:
    """Revoke for good: by credential, by device, or every current device of a user."""
    _change(registry, "revocation", True, credential, subject, user, now)


@status_app.command("suspend")
def suspend(registry: RegistryOption, credential: _CRED = None, subject: _SUBJ = None,
            user: _USER = None, now: _NOW = None) -> None:
    """Suspend (reversible with reinstate)."""
    _change(registry, "suspension", True, credential, subject, user, now)


@status_app.command("reinstate")
def reinstate(registry: RegistryOption, credential: _CRED = None, subject: _SUBJ = None,
              user: _USER = None, now: _NOW = None) -> None:
    """Lift a suspension (a revocation stays)."""
    _change(registry, "suspension", False, credential, subject, user, now)


def replace_list_file(path: Path, data: bytes, *, list_id: str) -> None:
    """Write ``data`` to ``path`` atomically (new temp file with O_EXCL, then rename).

    An existing ``path`` is replaced only when it is a regular file (not a symlink) holding
    the list credential ``list_id``: publish never clobbers anything else.
    """
    from vc_im.errors import InputError
    from vc_im.status.lists import peek_list_id

    try:
        st = path.lstat()
    except FileNotFoundError:
        pass
    else:
        import stat

        if not stat.S_ISREG(st.st_mode) or st.st_size > 1 << 20 or peek_list_id(
                path.read_bytes().strip()) != list_id:
            raise InputError(f"{path} exists and is not the list {list_id}; refusing to "
                             "replace it.")
    temp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


@status_app.command("publish")
def publish(
    registry: RegistryOption,
    key: Annotated[Path, typer.Option("--key", help="The issuer's private key.")],
    out_dir: Annotated[Path, typer.Option("--out-dir", help="Where to write the list files.")],
    valid_for: Annotated[str, typer.Option("--valid-for", help="List lifetime.")] = "1d",
    now: _NOW = None,
) -> None:
    """Sign every list and write it to DIR/<last URL segment>, replacing only list files."""
    from vc_im.errors import InputError
    from vc_im.status import Registry
    from vc_im.status.registry import file_name
    from vc_im.times import parse_duration

    with errors_to_exit(), Registry.open(registry) as reg:
        signer = read_private_key(key)
        if not out_dir.is_dir():
            raise InputError(f"{out_dir} is not a directory.")
        at, lifetime = resolve_now(now), parse_duration(valid_for)
        for info in reg.lists():
            token = reg.sign_list(info, signer, now=at, valid_for=lifetime)
            target = out_dir / file_name(info.url)
            replace_list_file(target, (token + "\n").encode("ascii"), list_id=info.url)
            typer.echo(f"wrote {target} ({info.purpose.value}, {info.url})")


@issued_app.command("list")
def issued_list(
    registry: RegistryOption,
    user: Annotated[str | None, typer.Option("--user", help="Only this user's.")] = None,
    subject: Annotated[str | None, typer.Option("--subject", help="Only this device's.")]
    = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    now: _NOW = None,
) -> None:
    """What was issued to whom, and its status now."""
    from vc_im import identifiers
    from vc_im.status import Registry

    with errors_to_exit(), Registry.open(registry) as reg:
        at = resolve_now(now)
        found = reg.select(user=str(identifiers.parse(user)) if user else None,
                           subject=str(identifiers.parse(subject)) if subject else None)
    if as_json:
        emit_json([item.to_json(at) for item in found])
        return
    for item in found:
        typer.echo(f"{item.status(at):9} {item.subject}  {item.id}")


@app.command()
def renew(
    registry: RegistryOption,
    credential: Annotated[str, typer.Option("--credential", help="The credential to renew.")],
    key: Annotated[Path, typer.Option("--key", help="The issuer's private key.")],
    valid_for: Annotated[str, typer.Option("--valid-for", help="New lifetime.")] = "90d",
    now: _NOW = None,
) -> None:
    """Re-issue with the same subject, claims and holder key; new validity and indexes."""
    from vc_im import keys
    from vc_im.errors import InputError
    from vc_im.model import CredentialType, Encoding, data_model
    from vc_im.status import Registry
    from vc_im.times import parse_duration

    with errors_to_exit(), Registry.open(registry) as reg:
        old = reg.select(credential=credential)
        if not old:
            raise InputError(f"the registry has no credential {credential}.")
        if old[0].status(0) == "revoked":
            raise InputError(f"the credential {credential} is revoked; it is not renewed.")
        payload = reg.token(credential)
        encoding = old[0].encoding
        model = data_model(payload, encoding)
        subject = model["credentialSubject"]
        cnf = payload.get("cnf") or {}
        if "jkt" in cnf:
            raise InputError("a credential bound by cnf.jkt cannot be renewed (no holder key).")
        holder = keys.key_from_jwk(cnf["jwk"], require="public") if "jwk" in cnf else None
        kind = next(t for t in model["type"] if t != "VerifiableCredential")
        token = reg.issue(
            read_private_key(key), issuer=old[0].issuer,
            encoding=Encoding(encoding), now=resolve_now(now), renews=credential,
            subject=subject["id"], fn=subject["fn"], credential_type=CredentialType(kind),
            organization=subject.get("hasOrganizationName"),
            unit=subject.get("hasOrganizationalUnit", subject.get("hasOrganizationUnit")),
            instant_messages=subject.get("hasInstantMessage", ()), holder_key=holder,
            valid_for=parse_duration(valid_for),
            may_issue_devices=subject.get("mayIssueDeviceCredentials") is True)
        typer.echo(token)
