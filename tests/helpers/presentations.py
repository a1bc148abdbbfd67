"""Helpers for the presentation, DPoP and end-to-end tests: claim sets to craft tokens that
fail exactly one check, exact assertions on reports, and readers of what the real command
printed."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Mapping, Sequence
from typing import Any, Final, Protocol

import vc_im._jose.jws as jose
from tests.conftest import DEVICE, HANDLE, ISSUER, NOW, VERIFIER
from vc_im import identifiers
from vc_im._linked.pinned import V1_CONTEXT, V2_CONTEXT, VCIM_CONTEXT
from vc_im.keys import Key
from vc_im.model import Credential, CredentialType, Encoding, Subject
from vc_im.report import Report, Status

#: The nonce of SPEC-NOTES §6.3.
NONCE = "n-0S6_WzA2Mj"
JTI = "urn:uuid:3978344f-8596-4c3a-a978-8fcaba3903c5"
#: The request of SPEC-NOTES §6.4.
HTM = "POST"
HTU = "https://im.example.com/client/token"
#: RFC 9449 §7.1's access token and the ``ath`` of its DPoP proof example.
RFC9449_ACCESS_TOKEN = "Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"
RFC9449_ATH = "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo"
#: Another device of Alice's, not the one the credential names.
OTHER_DEVICE = "im:SvPfLlwBQi-6oddVRrkqpw/9999@example.com"
#: Pass as a claim override to remove the claim.
DROP: Final = object()

PRESENTATION_CHECKS = ("format", "header", "alg", "claims", "audience", "nonce", "time",
                       "credentials", "holder_binding", "signature", "replay")
DPOP_CHECKS = ("format", "header", "alg", "signature", "claims", "method", "uri", "nonce",
               "time", "ath", "credential", "replay")


class SignRaw(Protocol):
    """The ``sign_raw`` fixture: sign any header and payload, unchecked."""

    def __call__(self, header: Mapping[str, Any], payload: Mapping[str, Any],
                 key: Key | None = None) -> str: ...


def public_members(key: Key) -> dict[str, str]:
    """The key's public JWK without ``kid`` and ``alg``, as a JOSE header carries it."""
    return {name: value for name, value in key.public_jwk.items() if name not in ("kid", "alg")}


def _apply(payload: dict[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    for name, value in overrides.items():
        if value is DROP:
            payload.pop(name, None)
        else:
            payload[name] = value
    return payload


def vp1_payload(credentials: Sequence[Any], **overrides: Any) -> dict[str, Any]:
    """A VC Data Model 1.1 presentation payload (``vp`` claim) answering NONCE for VERIFIER."""
    payload: dict[str, Any] = {
        "iss": DEVICE, "aud": VERIFIER, "nonce": NONCE, "jti": JTI,
        "iat": NOW, "nbf": NOW, "exp": NOW + 300,
        "vp": {"@context": [V1_CONTEXT], "type": ["VerifiablePresentation"],
               "verifiableCredential": list(credentials)},
    }
    return _apply(payload, overrides)


def envelope(token: str, media_type: str = "application/vc+jwt") -> dict[str, Any]:
    """An EnvelopedVerifiableCredential holding ``token`` in a data: URL."""
    return {"@context": [V2_CONTEXT], "type": ["EnvelopedVerifiableCredential"],
            "id": f"data:{media_type},{token}"}


def vp2_payload(credentials: Sequence[Any], **overrides: Any) -> dict[str, Any]:
    """A VC Data Model 2.0 presentation payload; string credentials are enveloped."""
    payload: dict[str, Any] = {
        "@context": [V2_CONTEXT, VCIM_CONTEXT], "type": ["VerifiablePresentation"],
        "holder": DEVICE,
        "verifiableCredential": [envelope(c) if isinstance(c, str) else c for c in credentials],
        "iss": DEVICE, "aud": VERIFIER, "nonce": NONCE, "jti": JTI, "iat": NOW,
        "exp": NOW + 300,
    }
    return _apply(payload, overrides)


def holder_header(key: Key, *, typ: str = "JWT", kid: bool = True,
                  jwk: bool = True) -> dict[str, Any]:
    """The header ``vc-im present`` writes: typ, the key's thumbprint as kid, its public jwk."""
    header: dict[str, Any] = {"typ": typ}
    if kid:
        header["kid"] = key.thumbprint()
    if jwk:
        header["jwk"] = public_members(key)
    return header


def dpop_claims(**overrides: Any) -> dict[str, Any]:
    """The claims of SPEC-NOTES §6.4's proof, created at NOW, without nonce and ath."""
    return _apply({"jti": "-BwC3ESc6acc2lTc", "htm": HTM, "htu": HTU, "iat": NOW}, overrides)


def dpop_header(key: Key, **overrides: Any) -> dict[str, Any]:
    """An RFC 9449 header: typ dpop+jwt and the public jwk of ``key``."""
    return _apply({"typ": "dpop+jwt", "jwk": public_members(key)}, overrides)


def jkt_credential(issuer_key: Key, holder: Key, *, encoding: Encoding = Encoding.VC1) -> str:
    """Alice's device credential binding ``holder`` by thumbprint (``cnf.jkt``, RFC 9449 §6.1)."""
    device = identifiers.parse(DEVICE)
    credential = Credential(
        type=CredentialType.DEVICE, id="urn:uuid:0d5b1c4e-4f0e-4d6b-9a51-2f6f3c1b7a10",
        issuer=ISSUER,
        subject=Subject(device, "Alice M. Smith", (identifiers.parse(HANDLE), device)),
        issued_at=NOW, expires_at=NOW + 90 * 86400, holder_jkt=holder.thumbprint())
    return jose.sign({"typ": encoding.typ, "kid": issuer_key.kid},
                     credential.payload(encoding), issuer_key)


def with_bad_signature(token: str) -> str:
    """``token`` with an all-zero signature of the same length (valid base64url, wrong bytes)."""
    head, payload, signature = token.split(".")
    length = len(jose.b64url_decode(signature, what="signature"))
    return f"{head}.{payload}.{jose.b64url_encode(bytes(length))}"


def statuses(report: Report) -> list[tuple[str, str, str | None]]:
    """Every check of ``report`` as (name, status, code)."""
    return [(check.name, check.status.value, check.code) for check in report.checks]


def assert_valid(report: Report) -> None:
    """Every check passed, here and in every nested report."""
    found = statuses(report)
    assert found == [(check.name, "passed", None) for check in report.checks], _show(report)
    assert (report.ok, report.code) == (True, None), _show(report)
    for nested in report.credentials:
        assert_valid(nested)


def assert_fails_at(report: Report, check: str, code: str) -> None:
    """``check`` failed with ``code``; the checks before it passed and those after were skipped."""
    names = [item.name for item in report.checks]
    index = names.index(check)
    expected = ([(name, "passed", None) for name in names[:index]] + [(check, "failed", code)]
                + [(name, "skipped", None) for name in names[index + 1:]])
    assert statuses(report) == expected, _show(report)
    assert (report.ok, report.code) == (False, code), _show(report)
    failure = report.failure
    assert failure is not None
    assert failure.status is Status.FAILED
    assert failure.reason.endswith("."), failure.reason


def _show(report: Report) -> str:
    """The report's checks that did not pass, with their reasons, for assertion messages."""
    lines = [f"{check.name}: {check.status.value} {check.code} {check.reason}"
             for check in report.checks if check.status is not Status.PASSED]
    lines += [f"credential {number}: {_show(nested)}"
              for number, nested in enumerate(report.credentials, start=1) if not nested.ok]
    return "; ".join(lines) or "every check passed"


# --- what the real command printed (run it with tests.helpers.cli.run_process) ---------------

def first_line(result: subprocess.CompletedProcess[str]) -> str:
    """The verdict line of a ``verify`` run."""
    return result.stdout.splitlines()[0] if result.stdout else ""


def json_report(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    """The one JSON object ``--json`` prints."""
    value = json.loads(result.stdout)
    assert isinstance(value, dict)
    return value
