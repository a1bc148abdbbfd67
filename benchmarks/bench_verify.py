"""Print how long verifying one ImDeviceCredential takes, stage by stage.

Run: ``python benchmarks/bench_verify.py [--rounds N]``. Each figure is the
median of N timed runs after warm-up, in microseconds per credential, next to
the same machine's raw Ed25519 verification (cryptography) as the reference.
This is a measurement, not a test: it asserts nothing about speed.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

import vc_im._jose.jws as jose
import vc_im._linked.jsonld as jsonld
import vc_im._linked.schema as schema
from vc_im import identifiers, keys
from vc_im._checks.credential import verify_credential
from vc_im._linked.pinned import CREDENTIAL_TYPES
from vc_im.credentials import issue_credential
from vc_im.model import Encoding, data_model
from vc_im.trust import TrustedIssuer, TrustStore

NOW = 1_700_000_000


def measure(function: Callable[[], object], rounds: int) -> float:
    """Median microseconds of one call, after a warm-up."""
    for _ in range(min(50, rounds)):
        function()
    samples = []
    for _ in range(rounds):
        start = time.perf_counter_ns()
        function()
        samples.append(time.perf_counter_ns() - start)
    return statistics.median(samples) / 1000


def main() -> None:
    """Build one credential, then time each verification stage and the whole."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=2000)
    parser.add_argument("--format", choices=["vc1", "vc2"], default="vc1")
    rounds = parser.parse_args().rounds
    encoding = Encoding(parser.parse_args().format)

    issuer = keys.generate("Ed25519")
    device = keys.generate("Ed25519")
    token = issue_credential(
        issuer, issuer="https://im.example.com",
        subject="im:SvPfLlwBQi-6oddVRrkqpw/04c7@example.com", fn="Alice M. Smith",
        organization="Example Corp", unit="Engineering",
        instant_messages=["im:%40alice_smith@example.com"], holder_key=device.public(),
        now=NOW, encoding=encoding)
    trust = TrustStore.of(TrustedIssuer("https://im.example.com", (issuer.public(),),
                                        frozenset({"example.com"})))
    unverified = jose.peek_unverified(token)
    payload = unverified.payload
    model = data_model(payload, encoding)
    schema_name = "credential-vc1" if encoding is Encoding.VC1 else "credential-vc2"
    subject = model["credentialSubject"]
    public = issuer.public()

    raw_key = Ed25519PrivateKey.generate()
    raw_public = raw_key.public_key()
    raw_signature = raw_key.sign(unverified.signing_input)

    stages: list[tuple[str, Callable[[], object]]] = [
        ("parse (strict compact JWS + JSON)", lambda: jose.peek_unverified(token)),
        ("signature (joserfc, Ed25519)", lambda: jose.verify_signature(unverified, public)),
        ("JSON-LD (context check + expansion)", lambda: (
            jsonld.check_context(model["@context"], expected=[encoding.contexts]),
            jsonld.expand_checked(model, allowed_types=CREDENTIAL_TYPES))),
        ("schema (Draft 2020-12)", lambda: schema.validate(payload, schema_name)),
        ("identifiers (subject + hasInstantMessage)", lambda: [
            identifiers.parse(v) for v in [subject["id"], *subject["hasInstantMessage"]]]),
        ("whole verify (every check, report)", lambda: verify_credential(token, trust,
                                                                          now=NOW)),
        ("reference: raw Ed25519 verify (cryptography)", lambda: raw_public.verify(
            raw_signature, unverified.signing_input)),
    ]
    assert verify_credential(token, trust, now=NOW).ok
    print(f"vc_im verification, one {encoding.value} ImDeviceCredential "
          f"({len(token)} bytes), median of {rounds} runs")
    for name, function in stages:
        print(f"  {name:<48} {measure(function, rounds):>10.1f} µs")


if __name__ == "__main__":
    main()
