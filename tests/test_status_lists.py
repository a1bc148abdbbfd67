"""Status lists in the library: an independent decoder written from the specifications'
text, their published examples, tampered lists, random allocation and crash safety."""

from __future__ import annotations

import base64
import gzip
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from vc_im import keys
from vc_im._jose import sign as jws_sign
from vc_im.model import Encoding
from vc_im.status import (
    MAX_BITS,
    Purpose,
    Registry,
    StatusUnavailable,
    decode,
    encode,
    verify_list,
)
from vc_im.status.lists import list_payload

ISSUER = "https://im.example.com"
URL = "https://im.example.com/status/1"
NOW = 1_735_689_600


def spec_decode(encoded: str, *, multibase: bool) -> list[int]:
    """From the specifications' text, not our codec: strip the Multibase 'u' (base64url, no
    padding), base64url-decode, GZIP-expand; bit i is the i-th bit from the left."""
    if multibase:
        assert encoded[0] == "u"
        encoded = encoded[1:]
    raw = gzip.decompress(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))
    return [int(bit) for byte in raw for bit in format(byte, "08b")]


#: Bitstring Status List v1.0 §2.1 example and StatusList2021 §2.2 example (16 KiB of zeros).
BSL_EXAMPLE = "uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA"
SL2021_EXAMPLE = "H4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA"


@pytest.mark.parametrize(("text", "multibase"), [(BSL_EXAMPLE, True), (SL2021_EXAMPLE, False)])
def test_published_examples_decode_to_131072_clear_bits(text: str, multibase: bool) -> None:
    bits = decode(text, multibase=multibase)
    assert len(bits) * 8 == 131_072
    assert not any(bits)
    assert spec_decode(text, multibase=multibase) == [0] * 131_072


@pytest.mark.parametrize("multibase", [True, False])
def test_our_encoding_decodes_with_the_independent_decoder(multibase: bool) -> None:
    bits = bytearray(16384)
    bits[0] = 0x80  # index 0: the left-most bit of the first byte
    bits[1] = 0x01  # index 15
    bits[-1] = 0x01  # index 131071
    decoded = spec_decode(encode(bytes(bits), multibase=multibase), multibase=multibase)
    assert [i for i, bit in enumerate(decoded) if bit] == [0, 15, 131_071]


def test_a_gzip_bomb_is_refused_without_inflating_it() -> None:
    bomb = base64.urlsafe_b64encode(gzip.compress(bytes(MAX_BITS // 8 + 1))).decode()
    with pytest.raises(StatusUnavailable, match="inflates past"):
        decode("u" + bomb.rstrip("="), multibase=True)


@pytest.fixture(scope="module")
def key() -> keys.Key:
    return keys.generate("Ed25519")


def signed(key: keys.Key, encoding: Encoding, **changes: object) -> str:
    fields: dict[str, object] = dict(url=URL, issuer=ISSUER, purpose=Purpose.REVOCATION,
                                     encoding=encoding, bits=bytes(16384), now=NOW,
                                     valid_for=86400)
    fields.update(changes)
    return jws_sign({"alg": key.alg, "typ": encoding.typ, "kid": key.kid},
                    list_payload(**fields), key)  # type: ignore[arg-type]


def check(token: str, key: keys.Key, encoding: Encoding, *, now: int = NOW,
          issuer: str = ISSUER, purpose: Purpose = Purpose.REVOCATION) -> object:
    return verify_list(token, url=URL, issuer=issuer, keys=[key], purpose=purpose,
                       encoding=encoding, now=now)


@pytest.mark.parametrize("encoding", [Encoding.VC1, Encoding.VC2])
def test_a_good_list_verifies(key: keys.Key, encoding: Encoding) -> None:
    assert check(signed(key, encoding), key, encoding).size == 131_072  # type: ignore[attr-defined]


@pytest.mark.parametrize("encoding", [Encoding.VC1, Encoding.VC2])
def test_tampered_lists_are_unavailable(key: keys.Key, encoding: Encoding) -> None:
    token = signed(key, encoding)
    header, payload, sig = token.split(".")
    body = json.loads(base64.urlsafe_b64decode(payload + "=="))
    subject = (body["vc"] if encoding is Encoding.VC1 else body)["credentialSubject"]
    flipped = bytearray(16384)
    flipped[0] = 0x80
    subject["encodedList"] = encode(bytes(flipped), multibase=encoding is Encoding.VC2)
    forged = ".".join([header, base64.urlsafe_b64encode(json.dumps(body).encode()).decode()
                       .rstrip("="), sig])
    cases = {
        "bit flipped after signing": (forged, {}),
        "wrong issuer": (token, {"issuer": "https://other.example"}),
        "expired": (token, {"now": NOW + 2 * 86400}),
        "too short": (signed(key, encoding, bits=bytes(1024)), {}),
        "wrong purpose": (token, {"purpose": Purpose.SUSPENSION}),
        "other key": (signed(keys.generate("Ed25519"), encoding), {}),
    }
    expected = {"bit flipped after signing": "not signed", "wrong issuer": "another issuer",
                "expired": "expired", "too short": "too short", "wrong purpose": "wrong purpose",
                "other key": "not signed"}
    for name, (candidate, options) in cases.items():
        with pytest.raises(StatusUnavailable, match=expected[name]):
            check(candidate, key, encoding, **options)  # type: ignore[arg-type]


def test_indexes_are_random_and_never_reused(tmp_path: Path, key: keys.Key) -> None:
    reg = Registry.open(tmp_path / "r.db", create=True)
    info = reg.create_list(url=URL, purpose=Purpose.REVOCATION, encoding=Encoding.VC1,
                           issuer=ISSUER)
    for n in range(40):
        reg.issue(key, issuer=ISSUER, encoding=Encoding.VC1, now=NOW,
                  subject=f"im:bob/d{n}@im.example.com", fn="Bob")
    indexes = [e.index for item in reg.select() for e, _ in item.entries]
    assert len(set(indexes)) == 40
    assert indexes != sorted(indexes)  # not sequential (chance of sorted: 1/40!)
    assert max(indexes) > 1000
    assert sum(reg.bits(info)) == 0
    reg.close()


def test_a_kill_during_issue_loses_or_duplicates_nothing(tmp_path: Path) -> None:
    """Issue repeatedly in child processes, SIGKILL them at random moments, then check that
    every recorded credential holds exactly one index per list and no index repeats."""
    key_file = tmp_path / "k.jwk"
    subprocess.run([sys.executable, "-m", "vc_im", "keygen", "--out", key_file],
                   capture_output=True, check=True)
    db = tmp_path / "r.db"
    with Registry.open(db, create=True) as reg:
        for purpose in Purpose:
            reg.create_list(url=f"{URL}-{purpose.value}", purpose=purpose,
                            encoding=Encoding.VC1, issuer=ISSUER)
    script = (
        "import sys\nfrom vc_im import keys\nfrom vc_im.status import Registry\n"
        "from vc_im.model import Encoding\n"
        f"k = keys.read_key_file(__import__('pathlib').Path({str(key_file)!r}))\n"
        f"r = Registry.open(__import__('pathlib').Path({str(db)!r}))\n"
        "for n in range(10**6):\n"
        f"    r.issue(k, issuer={ISSUER!r}, encoding=Encoding.VC1, now={NOW},"
        " subject=f'im:c/d{sys.argv[1]}x{n}@im.example.com', fn='C')\n"
    )
    for round_ in range(6):
        child = subprocess.Popen([sys.executable, "-c", script, str(round_)])
        time.sleep(1.5 + 0.37 * round_)
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    credentials = con.execute("SELECT COUNT(*) FROM credentials").fetchone()[0]
    assert credentials > 6
    per_credential = con.execute("SELECT credential, COUNT(*) FROM entries GROUP BY credential"
                                 ).fetchall()
    assert len(per_credential) == credentials
    assert {n for _, n in per_credential} == {2}
    assert con.execute("SELECT COUNT(*) FROM (SELECT list, idx FROM entries GROUP BY list, idx "
                       "HAVING COUNT(*) > 1)").fetchone()[0] == 0
    con.close()


@pytest.mark.parametrize("encoding", [Encoding.VC1, Encoding.VC2])
def test_the_status_check_alone_refuses_a_revoked_credential_in_process(
        encoding: Encoding) -> None:
    """Through the library: a credential whose revocation bit is set fails at the status check
    with revoked, and the same credential with the bit clear is valid (the status check is
    the only thing that differs)."""
    from vc_im import TrustedIssuer, TrustStore, issue_credential, verify_token
    from vc_im.model import Evidence
    from vc_im.status import StatusEntry, StatusSources, sign_list

    now, url, index = 1_900_000_000, "https://im.example.com/status/1", 4242
    issuer = keys.generate()
    entry = StatusEntry(url, index, Purpose.REVOCATION, encoding)
    token = issue_credential(issuer, issuer="https://im.example.com",
                             subject="im:alice/laptop@example.com", fn="Alice", now=now,
                             encoding=encoding, status=[entry.to_json()])
    trust = TrustStore.of(TrustedIssuer("https://im.example.com", (issuer.public(),),
                                        frozenset({"example.com"})))
    bits = bytearray(131_072 // 8)
    clear = sign_list(issuer, url=url, issuer="https://im.example.com",
                      purpose=Purpose.REVOCATION, encoding=encoding, bits=bytes(bits), now=now,
                      valid_for=86_400)
    bits[index // 8] |= 0x80 >> (index % 8)
    revoked = sign_list(issuer, url=url, issuer="https://im.example.com",
                        purpose=Purpose.REVOCATION, encoding=encoding, bits=bytes(bits),
                        now=now, valid_for=86_400)
    ok = verify_token(token, trust, now=now, evidence=Evidence(status=StatusSources((clear,))))
    refused = verify_token(token, trust, now=now,
                           evidence=Evidence(status=StatusSources((revoked,))))
    assert ok.ok, ok.code
    assert (refused.failure.name, refused.code) == ("status", "revoked")
