"""Write the fuzz target's seed corpus: test vectors and tokens vc_im issues, one per file.

Usage: ``python fuzz/make_corpus.py DIRECTORY``. Each file is one mode byte (see
:data:`fuzz_world.MODES`) followed by a compact JWS: the repository's credential vectors
(the seed draft's claims sets, signed by the fuzz issuer), the W3C VC Data Model 1.1 JWT
examples and RFC 8037's JWS from ../shared/vectors when present, and credentials,
presentations and DPoP proofs made by vc_im itself.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import fuzz_world as world

from vc_im import _jose as jose
from vc_im import create_presentation, create_proof
from vc_im.credentials import issue_credential
from vc_im.model import CredentialType, Encoding

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "vectors"
DEVICE = "im:SvPfLlwBQi-6oddVRrkqpw/04c7@example.com"
HANDLE = "im:%40alice_smith@example.com"


def _signed_vectors() -> Iterator[str]:
    """The repository's JSON credential vectors as payloads, signed by the fuzz issuer."""
    header = {"typ": "JWT", "kid": "issuer-key-1"}
    for path in sorted((ROOT / "tests" / "vectors" / "credentials").glob("*.json")):
        payload: Any = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(payload, dict):
            yield jose.sign(header, payload, world.issuer_key())


def _shared_vectors() -> Iterator[str]:
    """Compact JWSs from the shared vectors (W3C VC DM 1.1 examples, RFC 8037)."""
    for path in sorted(SHARED.glob("vcdm-1.1/*.jwt")):
        yield path.read_text(encoding="utf-8").strip()
    rfc8037 = SHARED / "jose-rfc" / "rfc8037-ed25519.json"
    if rfc8037.exists():
        yield json.loads(rfc8037.read_text(encoding="utf-8"))["compact"]


def _issued() -> Iterator[str]:
    """Valid credentials, presentations and proofs, as vc_im makes them."""
    issuer, holder = world.issuer_key(), world.holder_key()
    credentials = []
    for encoding in (Encoding.VC1, Encoding.VC2):
        device = issue_credential(issuer, issuer=world.ISSUER, subject=DEVICE, fn="Alice",
                                  now=world.NOW, instant_messages=[HANDLE],
                                  holder_key=holder.public(), encoding=encoding)
        user = issue_credential(issuer, issuer=world.ISSUER, subject=HANDLE, fn="Alice",
                                now=world.NOW, credential_type=CredentialType.USER,
                                holder_key=holder.public(), encoding=encoding)
        credentials.append((encoding, device, user))
        yield device
        yield user
    for encoding, device, user in credentials:
        yield create_presentation(holder, [device, user], audience=world.VERIFIER,
                                  nonce=world.NONCE, now=world.NOW, encoding=encoding.value)
    yield create_proof(holder, htm="POST", htu="https://im.example.com/client/token",
                       now=world.NOW, sub=DEVICE)


def main() -> None:
    """Write every seed, in every mode, into the directory named on the command line."""
    if len(sys.argv) != 2:
        sys.exit("usage: python fuzz/make_corpus.py DIRECTORY")
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    count = 0
    for token in (*_signed_vectors(), *_shared_vectors(), *_issued()):
        for mode in range(len(world.MODES)):
            data = bytes([mode]) + token.encode("ascii")
            (out / hashlib.sha256(data).hexdigest()[:16]).write_bytes(data)
            count += 1
    print(f"wrote {count} seeds to {out}")


if __name__ == "__main__":
    main()
