"""Drive ``vc-im`` in real processes and judge what it prints by CONTRACT.md alone.

Nothing here imports vc_im: tokens are decoded, crafted and signed with ``cryptography``
directly, thumbprints are computed from RFC 7638, so a test can only pass when the command
line does what the contract says. The processes start through
:func:`tests.helpers.cli.run_process`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from tests.helpers.cli import run_process

#: The stable failure codes of CONTRACT.md, plus the reserved revocation codes and
#: ``trust_contradiction``, which the trust-models issue added.
CONTRACT_CODES = frozenset({
    "malformed", "too_large", "unsupported_alg", "bad_header", "bad_type", "unknown_key",
    "untrusted_issuer", "bad_key", "bad_signature", "expired", "not_yet_valid", "bad_iat",
    "missing_claim", "claim_mismatch", "bad_identifier", "schema_invalid", "context_rejected",
    "holder_binding", "nonce_mismatch", "audience_mismatch", "replay", "credential_not_secured",
})
RESERVED_CODES = frozenset({"revoked", "suspended"})
ADDED_CODES = frozenset({"trust_contradiction"})
STABLE_CODES = CONTRACT_CODES | RESERVED_CODES | ADDED_CODES
STATUSES = frozenset({"passed", "failed", "skipped"})
KINDS = frozenset({"credential", "presentation", "dpop"})
PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})


# --- base64url, JSON, thumbprints ------------------------------------------------------------

def b64u(data: bytes) -> str:
    """Unpadded base64url."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64u(text: str) -> bytes:
    """Decode unpadded base64url."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def decode(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """A compact JWS's header and payload (not verified)."""
    header_b64, payload_b64, _ = token.strip().split(".")
    header: dict[str, Any] = json.loads(unb64u(header_b64))
    payload: dict[str, Any] = json.loads(unb64u(payload_b64))
    return header, payload


def thumbprint(jwk: Mapping[str, Any]) -> str:
    """RFC 7638 §3: SHA-256 over the required members, sorted, without whitespace."""
    required = {"OKP": ("crv", "kty", "x"), "EC": ("crv", "kty", "x", "y"),
                "RSA": ("e", "kty", "n")}[str(jwk["kty"])]
    canonical = json.dumps({name: jwk[name] for name in required}, sort_keys=True,
                           separators=(",", ":"))
    return b64u(hashlib.sha256(canonical.encode("utf-8")).digest())


def public_members(jwk: Mapping[str, Any]) -> dict[str, Any]:
    """The JWK without its private members."""
    return {name: value for name, value in jwk.items() if name not in PRIVATE_MEMBERS}


# --- keys and signing, with cryptography only --------------------------------------------------

_CURVES: dict[str, type[ec.EllipticCurve]] = {"P-256": ec.SECP256R1, "secp256k1": ec.SECP256K1}


def private_key_of(jwk: Mapping[str, Any]) -> ed25519.Ed25519PrivateKey | \
        ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey:
    """The ``cryptography`` private key a private JWK holds."""
    if jwk["kty"] == "OKP":
        return ed25519.Ed25519PrivateKey.from_private_bytes(unb64u(jwk["d"]))
    if jwk["kty"] == "EC":
        return ec.derive_private_key(int.from_bytes(unb64u(jwk["d"]), "big"),
                                     _CURVES[jwk["crv"]]())
    public = rsa.RSAPublicNumbers(int.from_bytes(unb64u(jwk["e"]), "big"),
                                  int.from_bytes(unb64u(jwk["n"]), "big"))
    p, q, d, dp, dq, qi = (int.from_bytes(unb64u(jwk[name]), "big")
                           for name in ("p", "q", "d", "dp", "dq", "qi"))
    return rsa.RSAPrivateNumbers(p, q, d, dp, dq, qi, public).private_key()


def pem_pair(jwk: Mapping[str, Any]) -> tuple[bytes, bytes]:
    """(PKCS#8 private PEM, SubjectPublicKeyInfo public PEM) of a private JWK."""
    key = private_key_of(jwk)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    return private, public


def raw_signature(jwk: Mapping[str, Any], data: bytes) -> bytes:
    """A JWS signature over ``data`` with the key's own algorithm (RFC 7518 / RFC 8037)."""
    key = private_key_of(jwk)
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key.sign(data)
    if isinstance(key, ec.EllipticCurvePrivateKey):
        r, s = decode_dss_signature(key.sign(data, ec.ECDSA(hashes.SHA256())))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")
    return key.sign(data, padding.PKCS1v15(), hashes.SHA256())


def sign(header: Mapping[str, Any], payload: Mapping[str, Any], jwk: Mapping[str, Any]) -> str:
    """Sign any header and payload with a private JWK, unchecked, to craft test tokens."""
    signing_input = (b64u(json.dumps(header, separators=(",", ":")).encode()) + "."
                     + b64u(json.dumps(payload, separators=(",", ":")).encode()))
    return signing_input + "." + b64u(raw_signature(jwk, signing_input.encode("ascii")))


# --- running vc-im ---------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Run:
    """One finished ``vc-im`` process."""

    args: tuple[str, ...]
    code: int
    stdout: str
    stderr: str

    @property
    def first_line(self) -> str:
        """The first line of stdout."""
        return self.stdout.split("\n", 1)[0]

    @property
    def report(self) -> dict[str, Any]:
        """stdout as the one JSON object ``--json`` prints."""
        value = json.loads(self.stdout)
        assert isinstance(value, dict), self.stdout
        return value

    @property
    def code_of_report(self) -> str | None:
        """CODE of ``invalid: CODE`` (text output), or the JSON report's top-level code."""
        if self.stdout.lstrip().startswith("{"):
            return report_code(self.report)
        line = self.first_line
        return line.removeprefix("invalid: ") if line.startswith("invalid: ") else None

    def describe(self) -> str:
        """The command and its output, for assertion messages."""
        return (f"vc-im {' '.join(self.args)} -> exit {self.code}\n"
                f"stdout: {self.stdout[:2000]}\nstderr: {self.stderr[:2000]}")


@dataclass(frozen=True, slots=True)
class Call:
    """One ``vc-im`` invocation to run, possibly alongside others."""

    args: tuple[str, ...]
    stdin: bytes | None = None
    env: Mapping[str, str | None] = field(default_factory=dict)


def call(*args: object, stdin: bytes | str | None = None,
         env: Mapping[str, str | None] | None = None) -> Call:
    """A :class:`Call` from any printable arguments."""
    data = stdin.encode("utf-8") if isinstance(stdin, str) else stdin
    return Call(tuple(str(a) for a in args), data, dict(env or {}))


class Cli:
    """Runs ``vc-im`` in a private directory, with its home and state under that directory.

    Every run is checked against the rules that hold for every command (CONTRACT.md, "Exit
    codes"): the exit code is 0, 1 or 2; no traceback; a success writes nothing to stderr;
    every report (JSON or text) has the contract's shape and only stable failure codes.
    Every failure code seen is recorded in :attr:`codes_seen`.
    """

    def __init__(self, root: Path, codes_seen: set[str]) -> None:
        self.root = root
        self.codes_seen = codes_seen
        self._lock = threading.Lock()
        self._counter = 0
        #: Every run so far, to check rules over all of them at the end.
        self.runs: list[Run] = []
        (root / "state").mkdir(parents=True, exist_ok=True)
        (root / "home").mkdir(parents=True, exist_ok=True)
        # Byte-code cached under the private directory: the same vc-im, started faster.
        self.env: dict[str, str | None] = {"PYTHONPYCACHEPREFIX": str(root / "pycache"),
                                           "PYTHONDONTWRITEBYTECODE": None}

    def path(self, name: str) -> Path:
        """A fresh, unused path in the private directory (``name`` is its suffix)."""
        with self._lock:
            self._counter += 1
            number = self._counter
        return self.root / f"f{number:04d}-{name}"

    def store(self) -> Path:
        """A fresh replay store path, so one verification cannot replay another's."""
        return self.path("replay.sqlite3")

    def write(self, name: str, content: str | bytes) -> Path:
        """Write ``content`` to a fresh file and return its path."""
        path = self.path(name)
        if isinstance(content, str):
            path.write_text(content, encoding="utf-8")
        else:
            path.write_bytes(content)
        return path

    def run_call(self, item: Call) -> Run:
        """Run one call and check the rules every command follows."""
        process = run_process(*item.args, cwd=self.root, stdin=item.stdin or b"",
                              env={**self.env, **item.env}, text=False)
        result = Run(item.args, process.returncode, process.stdout.decode("utf-8"),
                     process.stderr.decode("utf-8"))
        with self._lock:
            self.runs.append(result)
        self.check_general(result)
        return result

    def __call__(self, *args: object, stdin: bytes | str | None = None,
                 env: Mapping[str, str | None] | None = None) -> Run:
        """Run ``vc-im ARGS`` once."""
        return self.run_call(call(*args, stdin=stdin, env=env))

    def many(self, calls: Sequence[Call]) -> list[Run]:
        """Run independent calls concurrently; results in the order of ``calls``."""
        with ThreadPoolExecutor(max_workers=4) as pool:
            return list(pool.map(self.run_call, calls))

    def check_general(self, result: Run) -> None:
        """The rules of CONTRACT.md that hold for every command and every input."""
        assert result.code in (0, 1, 2), result.describe()
        assert "Traceback" not in result.stdout + result.stderr, result.describe()
        if result.code == 0:
            assert result.stderr == "", result.describe()
        if result.code == 2:
            assert result.stderr.strip(), result.describe()
        if result.args[:1] == ("verify",) or result.args[:2] == ("dpop", "verify"):
            if result.code == 2:
                assert result.stdout == "", "exit 2 prints no report: " + result.describe()
            else:
                self._check_verify_output(result)

    def _check_verify_output(self, result: Run) -> None:
        if "--json" in result.args:
            report = result.report
            check_report_shape(report, top=True)
            assert report["ok"] is (result.code == 0), result.describe()
            self.codes_seen.update(all_codes(report))
        else:
            line = result.first_line
            if result.code == 0:
                assert line == "valid", result.describe()
            else:
                assert re.fullmatch(r"invalid: [a-z_]+", line), result.describe()
                code = line.removeprefix("invalid: ")
                assert code in STABLE_CODES, result.describe()
                self.codes_seen.add(code)


# --- reports -----------------------------------------------------------------------------------

def check_report_shape(report: Mapping[str, Any], *, top: bool) -> None:
    """The report object of CONTRACT.md, its invariants, and stable codes only."""
    assert {"ok", "kind", "checks", "credentials"} <= set(report), report
    assert isinstance(report["ok"], bool)
    assert report["kind"] in KINDS, report["kind"]
    assert isinstance(report["checks"], list)
    assert report["checks"], "a report lists its checks"
    assert isinstance(report["credentials"], list)
    failed_at: int | None = None
    for index, check in enumerate(report["checks"]):
        assert {"name", "status", "code", "reason"} <= set(check), check
        assert isinstance(check["name"], str)
        assert check["name"]
        assert check["status"] in STATUSES, check
        assert isinstance(check["reason"], str)
        if check["status"] == "failed":
            assert check["code"] in STABLE_CODES, check
            assert check["reason"].strip(), "a failed check gives one sentence"
            assert failed_at is None, "the first failure ends the report"
            failed_at = index
        else:
            assert check["code"] is None, "code is null unless the check failed"
        if failed_at is not None and index > failed_at:
            assert check["status"] == "skipped", "checks after the first failure are skipped"
    for nested in report["credentials"]:
        check_report_shape(nested, top=False)
        assert nested["kind"] == "credential"
    if report["kind"] == "credential":
        assert report["credentials"] == [], "credentials is empty for a credential"
    assert report["ok"] is (not any_failed(report)), "ok only when nothing failed anywhere"
    if top and failed_at is None and not report["ok"]:
        raise AssertionError("a failed nested report must fail a top-level check")


def any_failed(report: Mapping[str, Any]) -> bool:
    """Whether any check failed here or in any nested report."""
    return any(c["status"] == "failed" for c in report["checks"]) or any(
        any_failed(nested) for nested in report["credentials"])


def report_code(report: Mapping[str, Any]) -> str | None:
    """The code of the first failed top-level check, or None."""
    return next((c["code"] for c in report["checks"] if c["status"] == "failed"), None)


def all_codes(report: Mapping[str, Any]) -> set[str]:
    """Every failure code in a report and its nested reports."""
    found = {c["code"] for c in report["checks"] if c["status"] == "failed"}
    for nested in report["credentials"]:
        found |= all_codes(nested)
    return found


def one_sentence(stderr: str) -> bool:
    """One non-empty line that ends a sentence (what a non-usage error prints)."""
    lines = stderr.rstrip("\n").split("\n")
    return len(lines) == 1 and bool(lines[0].strip()) and lines[0].rstrip().endswith(
        (".", "!", "?")) and stderr.endswith("\n")


def command_of(run: Run) -> str:
    """The command a run invoked: ``verify``, ``dpop create``, ``uri parse``, ..."""
    if run.args and run.args[0] in ("dpop", "uri") and len(run.args) > 1:
        return f"{run.args[0]} {run.args[1]}"
    return run.args[0] if run.args else ""
