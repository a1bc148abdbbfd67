"""``vc-im conformance ...``: the adapters W3C conformance suites drive (their contracts in
:mod:`vc_im.conformance.vcdm11` and :mod:`vc_im.conformance.jose`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from vc_im.cli._app import app
from vc_im.cli._common import (
    EXIT_INVALID,
    EXIT_USAGE,
    emit_json,
    errors_to_exit,
    fail,
    read_input_bytes,
    read_text_file,
)

if TYPE_CHECKING:
    from vc_im.conformance.jose import Outcome

conformance_app = typer.Typer(help="Adapters for W3C conformance test suites.",
                              no_args_is_help=True)
app.add_typer(conformance_app, name="conformance")
jose_app = typer.Typer(help="The VC-JOSE-COSE test suite's issue and verify (vc+jwt, vp+jwt).",
                       no_args_is_help=True)
conformance_app.add_typer(jose_app, name="jose")

#: The largest input an adapter reads (a document or a token).
_MAX_INPUT = 65536


@conformance_app.command("vcdm11-generator")
def vcdm11_generator(
    file: Annotated[str, typer.Argument(metavar="FILE", help="A credential or presentation "
                                        "document, or with --jwt-decode a JWT ('-': stdin).")],
    jwt: Annotated[str | None, typer.Option("--jwt", metavar="B64", help="Base64 of "
                                            "{\"es256kPrivateKeyJwk\": JWK, "
                                            "\"rs256PrivateKeyJwk\": JWK}: print FILE as a "
                                            "signed VC 1.1 JWT.")] = None,
    jwt_aud: Annotated[str | None, typer.Option("--jwt-aud", metavar="AUD", help="The aud of "
                                                "a presentation JWT.")] = None,
    jwt_no_jws: Annotated[bool, typer.Option("--jwt-no-jws", help="An unsigned JWT (alg "
                                             "none); FILE must carry its proof.")] = False,
    jwt_presentation: Annotated[bool, typer.Option("--jwt-presentation", help="FILE is a "
                                                   "presentation: print a VP JWT.")] = False,
    jwt_decode: Annotated[bool, typer.Option("--jwt-decode", help="FILE is a JWT: print the "
                                             "document it encodes, unverified.")] = False,
) -> None:
    """The VC Data Model 1.1 test suite's generator (no validity-period checks).

    Checks FILE and prints it, signed as a VC 1.1 JWT with --jwt, or decodes a JWT with
    --jwt-decode.
    """
    from vc_im.conformance import documents, vcdm11

    if sum((jwt_no_jws, jwt_presentation, jwt_decode)) > 1:
        fail("give at most one of --jwt-no-jws, --jwt-presentation and --jwt-decode.")
    if jwt_presentation and jwt is None:
        fail("--jwt-presentation signs a presentation: give the keys with --jwt.")
    with errors_to_exit():
        key = None if jwt is None else vcdm11.suite_key(jwt)  # a bad --jwt is always an error
        data = read_input_bytes(file, limit=_MAX_INPUT, what="document")
        if len(data) > _MAX_INPUT:
            fail(f"the input is larger than {_MAX_INPUT} bytes.", EXIT_INVALID)
        if jwt_decode:
            emit_json(vcdm11.decode_jwt(_ascii(data)))
            return
        document = documents.read_document(data)
        if key is None and not jwt_no_jws:
            emit_json(vcdm11.generate(document))
            return
        typer.echo(vcdm11.encode_jwt(document, None if jwt_no_jws else key,
                                     presentation=jwt_presentation, audience=jwt_aud))


@jose_app.command("issue")
def jose_issue(
    input_: Annotated[Path, typer.Option("--input", help="The credential or presentation "
                                         "document (JSON).")],
    key: Annotated[Path, typer.Option("--key", help="A verification method with "
                                      "publicKeyJwk and secretKeyJwk.")],
    feature: Annotated[str, typer.Option("--feature", help="credential_jose or "
                                         "presentation_jose.")],
    output: Annotated[Path, typer.Option("--output", help="Where the result object goes.")],
) -> None:
    """Secure a document as a vc+jwt or vp+jwt; write {"result", "data"} to --output."""
    _run_jose("issue", input_, key, feature, output)


@jose_app.command("verify")
def jose_verify(
    input_: Annotated[Path, typer.Option("--input", help="The vc+jwt or vp+jwt (compact).")],
    key: Annotated[Path, typer.Option("--key", help="A verification method with "
                                      "publicKeyJwk.")],
    feature: Annotated[str, typer.Option("--feature", help="credential_jose or "
                                         "presentation_jose.")],
    output: Annotated[Path, typer.Option("--output", help="Where the result object goes.")],
) -> None:
    """Verify a vc+jwt or vp+jwt (no validity-period checks); write the result to --output."""
    _run_jose("verify", input_, key, feature, output)


def _run_jose(action: str, input_: Path, key: Path, feature: str, output: Path) -> None:
    """Run one suite step and write its result; exit 0 on success, 1 on failure or an
    unsupported feature, 2 when the input or key cannot be used (an ``error`` result)."""
    from vc_im.conformance import documents, jose
    from vc_im.errors import VcImError

    with errors_to_exit():
        _check_output(output)
    if feature not in set(jose.Feature):
        _write_result(output, jose.Outcome(jose.Result.INDETERMINATE,
                                           f"vc-im does not implement the feature {feature!r}."))
        raise typer.Exit(EXIT_INVALID)
    try:
        method = jose.read_verification_method(
            read_text_file(key, limit=_MAX_INPUT, what="key file").encode("utf-8"),
            private=action == "issue")
        text = read_text_file(input_, limit=_MAX_INPUT, what="input")
        if action == "issue":
            outcome = jose.issue(documents.read_document(text.encode("utf-8")), method,
                                 jose.Feature(feature))
        else:
            outcome = jose.verify(text, method, jose.Feature(feature))
    except VcImError as exc:
        _write_result(output, jose.Outcome(jose.Result.ERROR, exc.message))
        fail(exc.message, EXIT_USAGE)
    _write_result(output, outcome)
    if outcome.result is not jose.Result.SUCCESS:
        raise typer.Exit(EXIT_INVALID)


def _check_output(output: Path) -> None:
    """The output may be written: nothing there, or an earlier result of this adapter
    (a suite reruns into the same files). Anything else stays untouched."""
    from vc_im import files

    files.check_new_file(output, force=_is_earlier_result(output))


def _write_result(output: Path, outcome: Outcome) -> None:
    from vc_im import files

    with errors_to_exit():
        data = (json.dumps(outcome.to_json(), indent=2) + "\n").encode("utf-8")
        files.write_new_file(output, data, force=_is_earlier_result(output))


def _is_earlier_result(path: Path) -> bool:
    """A regular file (not a link) holding exactly an adapter result object."""
    try:
        if path.is_symlink() or not path.is_file() or path.stat().st_size > _MAX_INPUT:
            return False
        value = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return False
    return isinstance(value, dict) and set(value) == {"result", "data"}


def _ascii(data: bytes) -> str:
    try:
        return data.decode("ascii")
    except UnicodeDecodeError:
        fail("the JWT has characters outside base64url and '.'.", EXIT_INVALID)
