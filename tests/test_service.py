"""``vc-im serve`` as a real process on loopback: the VC API endpoints, limits, readiness,
the OpenAPI document, and a trust file reloaded on SIGHUP."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.service import AUDIENCE, Minter, Service, request, running
from vc_im.service import load_config, openapi_document

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def minter(tmp_path_factory: pytest.TempPathFactory) -> Minter:
    return Minter(tmp_path_factory.mktemp("minter"))


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory, minter: Minter) -> Iterator[Service]:
    directory = tmp_path_factory.mktemp("serve")
    trust = directory / "trust.json"
    trust.write_bytes(minter.trust_path.read_bytes())
    with running(directory, "--trust", str(trust), "--audience", AUDIENCE) as started:
        started.trust = trust  # type: ignore[attr-defined]
        yield started


def verify_vp(service: Service, token: str, challenge: str) -> tuple[int, dict[str, object]]:
    return request(service.base, "POST", "/presentations/verify",
                   {"verifiablePresentation": token, "options": {"challenge": challenge,
                                                                 "domain": AUDIENCE}})


def test_challenge_then_presentation_is_verified_once(service: Service, minter: Minter) -> None:
    status, body = request(service.base, "POST", "/challenges", {})
    assert status == 200
    challenge = body["challenge"]
    assert isinstance(challenge, str)
    assert len(challenge) == 43
    token = minter.presentation(challenge)
    status, result = verify_vp(service, token, challenge)
    assert status == 200
    assert result["verified"] is True
    assert result["errors"] == []
    assert "replay" in result["checks"]  # type: ignore[operator]
    assert result["vcImReport"]["ok"] is True  # type: ignore[index]
    status, again = verify_vp(service, token, challenge)
    assert status == 200
    assert again["verified"] is False
    assert again["errors"] == [{"code": "replay", "check": "replay", "reason": (
        "This nonce or this presentation (iss, jti) was already used.")}]


def test_wrong_challenge_is_a_verdict_not_an_error(service: Service, minter: Minter) -> None:
    status, result = verify_vp(service, minter.presentation("n-one"), "n-other")
    assert status == 200
    assert result["verified"] is False
    assert result["errors"][0]["code"] == "nonce_mismatch"  # type: ignore[index]


def test_credential_verify(service: Service, minter: Minter) -> None:
    status, result = request(service.base, "POST", "/credentials/verify",
                             {"verifiableCredential": minter.credential})
    assert (status, result["verified"]) == (200, True)
    status, result = request(service.base, "POST", "/credentials/verify",
                             {"verifiableCredential": minter.credential[:-4] + "AAAA"})
    assert (status, result["verified"]) == (200, False)
    assert result["errors"][0]["code"] == "bad_signature"  # type: ignore[index]


def test_dpop_verify(service: Service, minter: Minter) -> None:
    from vc_im.dpop import create_proof
    from vc_im.times import now_seconds

    url = "https://im.example.com/client/token"
    proof = create_proof(minter.device, htm="POST", htu=url, now=now_seconds())
    body = {"proof": proof, "method": "POST", "url": url,
            "verifiableCredential": minter.credential}
    status, result = request(service.base, "POST", "/dpop/verify", body)
    assert (status, result["verified"], result["errors"]) == (200, True, [])
    status, result = request(service.base, "POST", "/dpop/verify", body)
    assert result["errors"][0]["code"] == "replay"  # type: ignore[index]


@pytest.mark.parametrize(("raw", "status", "error"), [
    (b"x" * 70_000, 413, "the request body is larger than 65536 bytes."),
    (b"[1]", 400, "the request body is not a JSON object."),
    (b'{"verifiablePresentation": 5}', 400,
     "verifiablePresentation must be a non-empty string (a compact JWS)."),
    (b'{"verifiablePresentation": "a.b.c", "options": {"domain": "https://else.example"}}',
     400, "options.domain is not this verifier's audience."),
])
def test_unreadable_requests_are_4xx(service: Service, raw: bytes, status: int,
                                     error: str) -> None:
    assert request(service.base, "POST", "/presentations/verify", raw=raw) == (
        status, {"error": error})


def test_health_readiness_and_openapi(service: Service) -> None:
    assert request(service.base, "GET", "/healthz") == (200, {"status": "ok"})
    status, ready = request(service.base, "GET", "/readyz")
    assert (status, ready["status"]) == (200, "ready")
    status, document = request(service.base, "GET", "/openapi.json")
    assert status == 200
    assert document == openapi_document()
    committed = json.loads((ROOT / "docs" / "openapi.json").read_text())
    assert committed == openapi_document(), "regenerate docs/openapi.json"


def test_access_log_is_json_without_tokens(service: Service, minter: Minter) -> None:
    request(service.base, "POST", "/credentials/verify",
            {"verifiableCredential": minter.credential})
    lines = [json.loads(line) for line in service.log.read_text().splitlines()
             if line.startswith("{")]
    assert any(line.get("path") == "/credentials/verify" for line in lines)
    text = service.log.read_text()
    assert minter.credential.split(".")[2] not in text
    assert str(minter.device.public_jwk["x"]) not in text


def test_sighup_reloads_the_trust_file(service: Service, minter: Minter) -> None:
    trust: Path = service.trust  # type: ignore[attr-defined]
    original = trust.read_bytes()
    try:
        trust.write_text(json.dumps({"issuers": []}))
        service.process.send_signal(signal.SIGHUP)
        time.sleep(0.5)
        _status, result = request(service.base, "POST", "/credentials/verify",
                                 {"verifiableCredential": minter.credential})
        assert result["verified"] is False
        assert result["errors"][0]["code"] == "untrusted_issuer"  # type: ignore[index]
        trust.write_text("not json")  # an unusable file keeps the last good one
        service.process.send_signal(signal.SIGHUP)
        time.sleep(0.5)
        assert request(service.base, "GET", "/healthz")[0] == 200
    finally:
        trust.write_bytes(original)
        service.process.send_signal(signal.SIGHUP)
        time.sleep(0.5)
    _status, result = request(service.base, "POST", "/credentials/verify",
                             {"verifiableCredential": minter.credential})
    assert result["verified"] is True
    assert service.process.poll() is None


def test_config_file_and_environment(tmp_path: Path) -> None:
    file = tmp_path / "serve.toml"
    file.write_text('trust = "t.json"\nport = 9000\nstore = "redis://127.0.0.1:6379/15"\n')
    config = load_config(file, {"VC_IM_PORT": "9100", "VC_IM_AUDIENCE": "https://v.example"},
                         host="::1")
    assert (config.trust, config.port, config.audience, config.host, config.store) == (
        Path("t.json"), 9100, "https://v.example", "::1", "redis://127.0.0.1:6379/15")
    assert config.max_body == 65_536


def test_serve_refuses_bad_configuration_in_one_sentence(tmp_path: Path) -> None:
    file = tmp_path / "serve.toml"
    file.write_text('trust = "t.json"\nmax_body = 10000000\n')
    result = subprocess.run([sys.executable, "-m", "vc_im", "serve", "--config", str(file)],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 2
    assert result.stderr == ("vc-im: the service configuration's max_body must be an integer "
                             "from 1 to 65536.\n")
    result = subprocess.run([sys.executable, "-m", "vc_im", "serve", "--trust",
                             str(tmp_path / "missing.json")],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr
