"""ECDSA signature malleability: (r, s) and (r, n - s) verify alike. vc_im signs low-S only;
``verify`` refuses a high-S ES256K signature (as secp256k1 users expect) and accepts a high-S
ES256 one (RFC 7518 does not require low S, and other implementations emit it)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

import vc_im._jose.jws as jose
from tests.conftest import DEVICE, ISSUER, NOW, VERIFIER
from tests.helpers.cli import vc_im_command
from vc_im import keys
from vc_im.credentials import issue_credential
from vc_im.dpop import create_proof, verify_proof
from vc_im.presentations import create_presentation
from vc_im.report import Report, Status
from vc_im.trust import TrustedIssuer, TrustStore
from vc_im.verify import verify_token

VC_IM = vc_im_command()

#: The group orders (SEC 2): P-256 for ES256, secp256k1 for ES256K.
ORDER = {"ES256": 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551,
         "ES256K": 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141}
HIGH_S = ("The ES256K signature's S value is in the upper half of the curve order (the "
          "malleable twin of a low-S signature); vc_im refuses high-S secp256k1 signatures.")
HTU = "https://example.com/token"


def _s(token: str) -> int:
    return int.from_bytes(jose.b64url_decode(token.rsplit(".", 1)[1], what="signature")[32:],
                          "big")


def twin(token: str, alg: str) -> str:
    """The same signature with S replaced by n - S: equally valid ECDSA, another token."""
    head, signature = token.rsplit(".", 1)
    raw = jose.b64url_decode(signature, what="signature")
    s = int.from_bytes(raw[32:], "big")
    return head + "." + jose.b64url_encode(raw[:32] + (ORDER[alg] - s).to_bytes(32, "big"))


def _failure(report: Report) -> tuple[str, str | None, str | None]:
    failed = next(c for c in report.checks if c.status is Status.FAILED)
    return failed.name, failed.code, failed.reason


@pytest.mark.parametrize("alg", ["ES256", "ES256K"])
def test_every_signature_vc_im_makes_is_low_s(alg: str) -> None:
    """64 signatures (a high S would show up in half of them without normalising)."""
    key = keys.generate(alg)
    for index in range(64):
        token = jose.sign({"typ": "JWT"}, {"n": index}, key)
        assert _s(token) <= ORDER[alg] // 2
        assert jose.verify_signature(jose.peek_unverified(token), key.public())


@pytest.fixture(scope="module", params=["ES256", "ES256K"])
def issued(request: pytest.FixtureRequest) -> tuple[str, str, TrustStore]:
    """An alg, a credential signed with a key of it, and a trust store for that key."""
    alg: str = request.param
    key = keys.generate(alg)
    token = issue_credential(key, issuer=ISSUER, subject=DEVICE, fn="Alice", now=NOW)
    return alg, token, TrustStore.of(TrustedIssuer(ISSUER, (key.public(),),
                                                   frozenset({"example.com"})))


def test_the_high_s_twin_of_a_credential(issued: tuple[str, str, TrustStore]) -> None:
    """ES256K: bad_signature at the signature check, saying why; ES256: still valid."""
    alg, token, trust = issued
    assert verify_token(token, trust, now=NOW).ok
    report = verify_token(twin(token, alg), trust, now=NOW)
    if alg == "ES256":
        assert report.ok
    else:
        assert _failure(report) == ("signature", "bad_signature", HIGH_S)


def test_a_wrong_es256k_signature_is_not_called_high_s() -> None:
    """A high-S signature that verifies with no key is an ordinary bad signature."""
    key, other = keys.generate("ES256K"), keys.generate("ES256K")
    token = issue_credential(key, issuer=ISSUER, subject=DEVICE, fn="Alice", now=NOW)
    trust = TrustStore.of(TrustedIssuer(ISSUER, (keys.key_from_jwk(
        {**other.public_jwk, "kid": key.kid}, require="public"),)))
    report = verify_token(twin(token, "ES256K"), trust, now=NOW)
    name, code, reason = _failure(report)
    assert (name, code) == ("signature", "bad_signature")
    assert reason is not None
    assert "high-S" not in reason


def test_the_high_s_twin_of_a_presentation_and_a_dpop_proof(tmp_path: Path,
                                                            issuer_key: keys.Key) -> None:
    """Holder keys follow the same rule: presentations and DPoP proofs."""
    holder = keys.generate("ES256K")
    credential = issue_credential(issuer_key, issuer=ISSUER, subject=DEVICE, fn="Alice",
                                  now=NOW, holder_key=holder.public())
    trust = TrustStore.of(TrustedIssuer(ISSUER, (issuer_key.public(),)))
    presentation = create_presentation(holder, [credential], audience=VERIFIER,
                                       nonce="n-high-s-0001", now=NOW)
    report = verify_token(twin(presentation, "ES256K"), trust, now=NOW, audience=VERIFIER,
                          nonce="n-high-s-0001", store=tmp_path / "replay.db")
    assert _failure(report) == ("signature", "bad_signature", HIGH_S)
    proof = create_proof(holder, htm="POST", htu=HTU, now=NOW)
    report = verify_proof(twin(proof, "ES256K"), htm="POST", htu=HTU, now=NOW,
                          store=tmp_path / "replay.db")
    assert _failure(report) == ("signature", "bad_signature", HIGH_S)


@pytest.mark.slow
def test_cli_verify_refuses_the_es256k_twin(tmp_path: Path) -> None:
    """Real processes: the twin is ``invalid: bad_signature`` with the reason; the original
    and an ES256 twin are valid."""
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*VC_IM, *args], cwd=tmp_path, capture_output=True, text=True,
                              timeout=60, check=False)

    for alg in ("ES256K", "ES256"):
        public = json.loads(run("keygen", "--alg", alg, "--out", f"{alg}.jwk").stdout)
        token = run("issue", "--key", f"{alg}.jwk", "--issuer", ISSUER, "--subject", DEVICE,
                    "--fn", "Alice", "--now", str(NOW), "--no-holder-key").stdout.strip()
        assert _s(token) <= ORDER[alg] // 2
        (tmp_path / f"{alg}.trust.json").write_text(json.dumps(
            {"issuers": [{"id": ISSUER, "keys": [public]}]}))
        (tmp_path / f"{alg}.jwt").write_text(token)
        (tmp_path / f"{alg}.twin.jwt").write_text(twin(token, alg))
        good = run("verify", f"{alg}.jwt", "--trust", f"{alg}.trust.json", "--now", str(NOW))
        assert good.returncode == 0, good.stdout + good.stderr
        result = run("verify", f"{alg}.twin.jwt", "--trust", f"{alg}.trust.json", "--now",
                     str(NOW))
        if alg == "ES256":
            assert result.returncode == 0, result.stdout + result.stderr
        else:
            assert result.returncode == 1
            assert result.stdout.splitlines()[0] == "invalid: bad_signature"
            assert "vc_im refuses high-S secp256k1 signatures" in result.stderr
