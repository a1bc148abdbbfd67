"""vc_im.trust.statements: creating and reading the signed statements of the web of trust and of
well-known service cross-signing."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import vc_im._jose.jws as jose
from tests.conftest import claims_of
from vc_im import keys
from vc_im.errors import InputError, KeyFileError
from vc_im.identifiers import parse
from vc_im.trust.statements import (
    STATEMENT_CODES,
    StatementError,
    StatementKind,
    account_host,
    create_statement,
    read_statement,
    read_statement_file,
)

NOW = 1_700_000_000
ALICE = "im:alice@example.com"
BOB = "im:bob@example.org"
ALICE_A1 = "im:alice/A1@example.com"
ACCOUNT = "https://code.example.net/alice"
SHORT = 8

Sign = Callable[..., str]


@pytest.fixture(scope="module")
def master() -> keys.Key:
    """Alice's master key."""
    return keys.generate("Ed25519")


@pytest.fixture(scope="module")
def dsk() -> keys.Key:
    """Alice's device-signing key (P-256, so that not every key is Ed25519)."""
    return keys.generate("ES256")


@pytest.fixture(scope="module")
def other() -> keys.Key:
    """Some other key: a device key, Bob's master key, or a forger's key."""
    return keys.generate("Ed25519")


def dsk_statement(master: keys.Key, dsk: keys.Key, **overrides: Any) -> str:
    """Alice's master key names her device-signing key."""
    arguments: dict[str, Any] = {"issuer": ALICE, "key": dsk.public(), "now": NOW,
                                 "valid_for": 3600}
    arguments.update(overrides)
    return create_statement(master, StatementKind.DSK, **arguments)


def resign(token: str, signer: keys.Key, sign_raw: Sign, *, header: dict[str, Any] | None = None,
           payload: dict[str, Any] | None = None, drop: tuple[str, ...] = ()) -> str:
    """The statement with header/payload members replaced or dropped, signed by ``signer``."""
    old_header, old_payload = claims_of(token)
    new_header = {**old_header, **(header or {})}
    new_payload = {**old_payload, **(payload or {})}
    for name in drop:
        new_header.pop(name, None)
        new_payload.pop(name, None)
    return str(sign_raw(new_header, new_payload, signer))


def code_of(token: str | bytes, now: int = NOW) -> str:
    """The code read_statement refuses ``token`` with."""
    with pytest.raises(StatementError) as caught:
        read_statement(token, now=now)
    return caught.value.code


# --------------------------------------------------------------------------------------------
# Kinds and service accounts


def test_kinds_are_their_typs_and_short_names() -> None:
    """Each kind's value is its typ, and of() accepts the short name or the typ, any case."""
    assert [kind.value for kind in StatementKind] == [
        "im-wot-dsk+jwt", "im-wot-usk+jwt", "im-wot-device+jwt", "im-wot-user+jwt",
        "im-revoke+jwt", "im-wellknown+jwt"]
    assert [kind.short for kind in StatementKind] == [
        "dsk", "usk", "device", "user", "revoke", "wellknown"]
    assert StatementKind.of("DSK") is StatementKind.DSK
    assert StatementKind.of("im-wellknown+jwt") is StatementKind.WELLKNOWN


def test_unknown_kind_is_an_input_error() -> None:
    """An unknown kind name is refused with the list of kinds."""
    with pytest.raises(InputError) as caught:
        StatementKind.of("cross")
    assert caught.value.message == ("'cross' is not a statement kind; the kinds are dsk, usk, "
                                    "device, user, revoke, wellknown.")


@pytest.mark.parametrize(("account", "host"), [
    ("https://Code.Example.NET/alice", "code.example.net"),
    ("https://code.example.net:8443/alice", "code.example.net"),
    ("https://code.example.net./alice", "code.example.net"),
    ("acct:alice@Social.Example", "social.example"),
    ("acct:alice@work@social.example", "social.example"),
    ("https://bücher.example/alice", "xn--bcher-kva.example"),
    ("https://127.0.0.1:4443/alice", "127.0.0.1"),
    ("https://[::1]/alice", "::1"),
    ("https://127.1/alice", "127.0.0.1"),
    ("https://2130706433/alice", "127.0.0.1"),
    ("https://[::ffff:127.0.0.1]/alice", "127.0.0.1"),
])
def test_account_host(account: str, host: str) -> None:
    """The host of an account URI ignores case, ports, a final dot and users; IDNs are A-labels;
    an IP address has one form, whichever way a resolver would read it."""
    assert account_host(account) == host


@pytest.mark.parametrize(("account", "message"), [
    ("http://code.example.net/alice",
     "the service account is neither an https:// URL nor an acct: URI"),
    ("https://eve@code.example.net/alice", "the URL carries user information"),
    ("https://code.example.net/alice#me", "the URL has a fragment"),
    ("https:///alice", "the URL names no host"),
    ("https://code.example.net:99999/", "the URL has an invalid port"),
    ("acct:alice", "an acct: service account is written acct:user@host"),
    ("https://code_example.net/", "the host is not a DNS name or an IP address"),
    ("https://1.2.3.4.5/", "the host is not a DNS name or an IP address"),
    ("https://code.example.net/a b", "the service account contains whitespace or control "
                                     "characters"),
])
def test_account_host_refusals(account: str, message: str) -> None:
    """Account URIs that are not https:// URLs or acct: URIs with a usable host are refused."""
    with pytest.raises(ValueError, match=r"\A" + message + r"\Z"):
        account_host(account)


@given(labels=st.lists(st.from_regex(r"\A[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?\Z"), min_size=1,
                       max_size=3).map(lambda labels: [*labels, "example"]),
       port=st.integers(min_value=1, max_value=65535),
       user=st.from_regex(r"\A[a-z0-9._-]{1,12}\Z"))
@settings(max_examples=50, deadline=None)
def test_https_and_acct_accounts_on_one_host_agree(labels: list[str], port: int,
                                                    user: str) -> None:
    """An https URL (any case, any port) and an acct: URI on the same host name one host
    (a DNS name: a numeric last label would make it an IPv4 address)."""
    host = ".".join(labels)
    assert account_host(f"https://{host.upper()}:{port}/{user}") == host
    assert account_host(f"acct:{user}@{host}") == host


# --------------------------------------------------------------------------------------------
# Creating and reading each kind


def test_dsk_round_trip(master: keys.Key, dsk: keys.Key) -> None:
    """A dsk statement reads back with its kind, parties, keys, times and header."""
    token = dsk_statement(master, dsk)
    statement = read_statement(token, now=NOW)
    assert statement.kind is StatementKind.DSK
    assert statement.issuer == parse(ALICE)
    assert statement.subject == parse(ALICE)
    assert statement.key is not None
    assert statement.key.thumbprint() == dsk.thumbprint()
    assert statement.signer.thumbprint() == master.thumbprint()
    assert (statement.issued_at, statement.expires_at, statement.revokes) == (NOW, NOW + 3600,
                                                                              None)
    assert statement.jti.startswith("urn:uuid:")
    assert statement.token == token
    header, payload = claims_of(token)
    assert header == {"alg": "Ed25519", "typ": "im-wot-dsk+jwt", "kid": master.thumbprint(),
                      "jwk": {k: v for k, v in master.public_jwk.items() if k != "kid"}}
    assert sorted(payload) == ["cnf", "exp", "iat", "iss", "jti", "sub"]
    assert "d" not in payload["cnf"]["jwk"]
    assert statement.describe() == (
        f"{ALICE}'s master key {master.thumbprint()[:SHORT]} names its device-signing key "
        f"{dsk.thumbprint()[:SHORT]}")


def test_every_kind_describes_itself(master: keys.Key, dsk: keys.Key, other: keys.Key) -> None:
    """Each kind reads back and says what it means in one line."""
    m, d, o = (k.thumbprint()[:SHORT] for k in (master, dsk, other))
    cases: list[tuple[keys.Key, StatementKind, dict[str, Any], str]] = [
        (master, StatementKind.USK, {"key": dsk.public()},
         f"{ALICE}'s master key {m} names its user-signing key {d}"),
        (dsk, StatementKind.DEVICE, {"subject": ALICE_A1, "key": other.public()},
         f"{ALICE}'s device-signing key {d} binds device {ALICE_A1} to key {o}"),
        (dsk, StatementKind.USER, {"subject": BOB, "key": other.public()},
         f"{ALICE}'s user-signing key {d} vouches for {BOB}'s master key {o}"),
        (other, StatementKind.WELLKNOWN, {"subject": ACCOUNT},
         f"{ALICE} with key {o} owns the service account {ACCOUNT}"),
        (dsk, StatementKind.REVOKE,
         {"revokes": "urn:uuid:00000000-0000-4000-8000-000000000000"},
         f"key {d} of {ALICE} withdraws its statement "
         "urn:uuid:00000000-0000-4000-8000-000000000000"),
    ]
    for signer, kind, extra, meaning in cases:
        statement = read_statement(create_statement(signer, kind, issuer=ALICE, now=NOW,
                                                    **extra), now=NOW)
        assert (statement.kind, statement.describe()) == (kind, meaning)


def test_revocation_binds_nothing(dsk: keys.Key) -> None:
    """A revocation has no subject and no key, and its JSON says so."""
    jti = "urn:uuid:00000000-0000-4000-8000-000000000000"
    statement = read_statement(create_statement(dsk, "revoke", issuer=ALICE, now=NOW,
                                                revokes=jti), now=NOW)
    assert (statement.subject, statement.key, statement.revokes) == (None, None, jti)
    data = statement.to_json()
    assert (data["kind"], data["subject"], data["key"], data["revokes"], data["expires_at"]) == (
        "revoke", None, None, jti, None)
    assert data["signer"] == dsk.thumbprint()
    assert data["issued_at"] == "2023-11-14T22:13:20Z"


def test_wellknown_binds_its_signer_by_default(other: keys.Key) -> None:
    """A well-known statement binds the key that signs it when no key is given."""
    statement = read_statement(create_statement(other, "wellknown", issuer=ALICE,
                                                subject="acct:alice@social.example", now=NOW),
                               now=NOW)
    assert statement.key is not None
    assert statement.key.thumbprint() == other.thumbprint()
    assert statement.subject == "acct:alice@social.example"


def test_issuer_is_normalised(master: keys.Key, dsk: keys.Key) -> None:
    """The iss claim is written in its canonical form."""
    token = dsk_statement(master, dsk, issuer="IM:alice@EXAMPLE.com")
    assert claims_of(token)[1]["iss"] == ALICE


@pytest.mark.parametrize(("signer", "kind", "extra", "message"), [
    ("dsk", "device", {"subject": "im:bob/B1@example.org", "key": "other"},
     "device im:bob/B1@example.org belongs to im:bob@example.org, and a device statement "
     "issued by im:alice@example.com may only name im:alice@example.com's own devices."),
    ("master", "dsk", {"subject": BOB, "key": "dsk"},
     "a dsk statement names its issuer's own key, so its subject must be "
     "im:alice@example.com, not im:bob@example.org."),
    ("dsk", "user", {"subject": ALICE, "key": "other"},
     "a user statement vouches for another user's master key, not its issuer's own."),
    ("dsk", "user", {"subject": ALICE_A1, "key": "other"},
     "the subject of a user statement must be a user or handle, not im:alice/A1@example.com."),
    ("master", "dsk", {"key": "master"},
     "a dsk statement binds a key other than the one that signs it."),
    ("master", "usk", {},
     "a usk statement needs the key it binds (the subject key)."),
    ("other", "wellknown", {"subject": ACCOUNT, "key": "dsk"},
     "a well-known statement must be signed by the key it binds (proof of possession)."),
    ("other", "wellknown", {},
     "a well-known statement needs the service account as subject (https://host/... or "
     "acct:user@host)."),
    ("other", "wellknown", {"subject": "http://code.example.net/alice"},
     "the service account 'http://code.example.net/alice' is unusable: the service account is "
     "neither an https:// URL nor an acct: URI."),
    ("dsk", "revoke", {},
     "a revocation needs revokes: the jti (urn:uuid:...) of the statement it withdraws."),
    ("dsk", "revoke", {"revokes": "urn:uuid:00000000-0000-4000-8000-000000000000",
                       "subject": ALICE},
     "a revocation takes neither a subject nor a subject key; it names the statement it "
     "withdraws with revokes."),
    ("master", "dsk", {"key": "dsk", "revokes": "urn:uuid:00000000-0000-4000-8000-000000000000"},
     "only a revocation names a statement to revoke, not a dsk statement."),
    ("master", "dsk", {"key": "dsk", "valid_for": 0},
     "the validity of a statement must be a positive number of seconds."),
])
def test_create_refuses_what_readers_would_refuse(
        master: keys.Key, dsk: keys.Key, other: keys.Key, signer: str, kind: str,
        extra: dict[str, Any], message: str) -> None:
    """create_statement refuses, with one sentence, a statement no reader would accept."""
    named = {"master": master, "dsk": dsk, "other": other}
    arguments: dict[str, Any] = {name: (named[value].public() if name == "key" else value)
                                 for name, value in extra.items()}
    with pytest.raises(InputError) as caught:
        create_statement(named[signer], kind, issuer=ALICE, now=NOW, **arguments)
    assert caught.value.message == message


def test_create_needs_a_private_signer(master: keys.Key, dsk: keys.Key) -> None:
    """Signing with a public key is a key error."""
    with pytest.raises(KeyFileError) as caught:
        dsk_statement(master.public(), dsk)
    assert caught.value.message == "signing a statement needs the signer's private key."


def test_create_refuses_a_bad_issuer(master: keys.Key, dsk: keys.Key) -> None:
    """An issuer that is not an IM identifier is an input error naming it."""
    with pytest.raises(InputError) as caught:
        dsk_statement(master, dsk, issuer="alice@example.com")
    assert caught.value.message.startswith("the issuer 'alice@example.com' is not an IM "
                                           "identifier: ")


# --------------------------------------------------------------------------------------------
# Reading: one refusal per code


def test_codes_are_the_documented_ones() -> None:
    """The statement codes are exactly the documented set."""
    assert frozenset({"malformed", "too_large", "bad_header", "bad_type", "unsupported_alg",
                      "bad_signature", "expired", "bad_iat", "missing_claim", "bad_identifier",
                      "bad_key"}) == STATEMENT_CODES


def test_not_a_jws_is_malformed() -> None:
    """Text that is not a compact JWS is malformed."""
    assert code_of("not-a-token") == "malformed"
    assert code_of(b"a.b") == "malformed"


def test_oversized_statement_is_too_large() -> None:
    """A statement over 64 KiB is refused unread."""
    assert code_of("a" * (jose.MAX_TOKEN_BYTES + 1)) == "too_large"


@pytest.mark.parametrize(("header", "drop", "code", "message"), [
    ({"x5u": "https://example.com/c"}, (), "bad_header",
     "the header parameter 'x5u' is not one a statement may carry (alg, typ, kid, jwk)."),
    ({}, ("kid",), "bad_header", "the statement's header has no 'kid'."),
    ({}, ("jwk",), "bad_header", "the statement's header has no 'jwk'."),
    ({"kid": "not-the-thumbprint"}, (), "bad_header",
     "the header's kid is not the RFC 7638 thumbprint of its jwk."),
    ({"typ": "JWT"}, (), "bad_type",
     "the header's typ 'JWT' is not a statement's (im-wot-dsk+jwt, im-wot-usk+jwt, "
     "im-wot-device+jwt, im-wot-user+jwt, im-revoke+jwt, im-wellknown+jwt)."),
    ({"jwk": {"kty": "oct", "k": "AAAA"}}, (), "bad_key", None),
])
def test_header_refusals(master: keys.Key, dsk: keys.Key, sign_raw: Sign,
                         header: dict[str, Any], drop: tuple[str, ...], code: str,
                         message: str | None) -> None:
    """Header members outside the allow-list, missing ones, and a kid/jwk mismatch are refused."""
    token = resign(dsk_statement(master, dsk), master, sign_raw, header=header)
    if drop:
        old_header, payload = claims_of(token)
        token = sign_raw({k: v for k, v in old_header.items() if k not in drop}, payload, master)
    with pytest.raises(StatementError) as caught:
        read_statement(token, now=NOW)
    assert caught.value.code == code
    if message is not None:
        assert caught.value.message == message


def test_header_jwk_must_be_public(master: keys.Key, dsk: keys.Key, sign_raw: Sign) -> None:
    """A header jwk that carries the private key is refused as bad_key."""
    token = resign(dsk_statement(master, dsk), master, sign_raw,
                   header={"jwk": master.private_jwk()})
    with pytest.raises(StatementError) as caught:
        read_statement(token, now=NOW)
    assert caught.value.code == "bad_key"
    assert caught.value.message.startswith("the header's jwk is unusable: the key holds a "
                                           "private key where a public key is expected")


def test_unsupported_algorithms(master: keys.Key, dsk: keys.Key, sign_segments: Sign) -> None:
    """alg none/HS256 and an alg that does not fit the signer's key are unsupported_alg."""
    header, payload = claims_of(dsk_statement(master, dsk))
    for alg, message in [
        ("HS256", "the algorithm 'HS256' is not one vc_im verifies (ES256, ES256K, ES384, "
                  "ES512, Ed25519, "
                  "EdDSA, RS256)."),
        ("ES256", "the header's alg ES256 does not fit the signer's Ed25519 key."),
    ]:
        raw_header = json.dumps({**header, "alg": alg}).encode()
        token = (jose.b64url_encode(raw_header) + "." +
                 jose.b64url_encode(json.dumps(payload).encode()) + ".c2ln")
        with pytest.raises(StatementError) as caught:
            read_statement(token, now=NOW)
        assert (caught.value.code, caught.value.message) == ("unsupported_alg", message)


def test_eddsa_alg_is_accepted(master: keys.Key, dsk: keys.Key, sign_raw: Sign) -> None:
    """The pre-RFC 9864 name EdDSA verifies with an Ed25519 signer."""
    token = resign(dsk_statement(master, dsk), master, sign_raw, header={"alg": "EdDSA"})
    assert read_statement(token, now=NOW).kind is StatementKind.DSK


def test_signature_by_another_key_than_the_header_names(master: keys.Key, dsk: keys.Key,
                                                        other: keys.Key,
                                                        sign_raw: Sign) -> None:
    """A statement whose header names one key but another key signed is bad_signature."""
    token = resign(dsk_statement(master, dsk), other, sign_raw)
    with pytest.raises(StatementError) as caught:
        read_statement(token, now=NOW)
    assert (caught.value.code, caught.value.message) == (
        "bad_signature", "the statement's signature does not verify with the key its header "
                         "names.")


def test_tampered_payload_is_bad_signature(master: keys.Key, dsk: keys.Key) -> None:
    """Changing the payload after signing breaks the signature."""
    header_b64, _payload, signature = dsk_statement(master, dsk).split(".")
    _, payload = claims_of(dsk_statement(master, dsk))
    payload["iss"] = BOB
    forged = ".".join([header_b64, jose.b64url_encode(json.dumps(payload).encode()), signature])
    assert code_of(forged) == "bad_signature"


@pytest.mark.parametrize(("payload", "drop", "code", "message"), [
    ({"nbf": NOW}, (), "malformed",
     "the claim 'nbf' is not one a dsk statement carries (cnf, exp, iat, iss, jti, sub)."),
    ({}, ("iat",), "missing_claim", "the statement has no 'iat' claim."),
    ({}, ("cnf",), "missing_claim", "the statement has no 'cnf' claim."),
    ({}, ("jti",), "missing_claim", "the statement has no 'jti' claim."),
    ({"jti": "1234"}, (), "malformed", "the jti is not a lower-case urn:uuid."),
    ({"iat": NOW * 1000}, (), "malformed",
     f"iat is {NOW * 1000}, a time in milliseconds (2023-11-14T22:13:20Z if divided by "
     "1000); JWT NumericDates count seconds (RFC 7519 §2), a mistake the MIMI identity "
     "draft's example makes."),
    ({"iat": "yesterday"}, (), "malformed",
     "iat must be an integer NumericDate (seconds since the epoch)."),
    ({"iat": -1}, (), "malformed",
     "iat is -1, outside the NumericDates a token can carry (0 to 9999-12-31T23:59:59Z)."),
    ({"exp": 253_402_300_800}, (), "malformed",
     "exp is 253402300800, outside the NumericDates a token can carry (0 to "
     "9999-12-31T23:59:59Z)."),
    ({"iss": "alice@example.com"}, (), "bad_identifier", None),
    ({"iss": "im:example.com"}, (), "bad_identifier",
     "a dsk statement is issued by a user or handle, and im:example.com is a domain."),
    ({"cnf": {"jwk": {"kty": "OKP"}, "kid": "x"}}, (), "malformed",
     "cnf must be an object with exactly one member, jwk."),
    ({"iat": NOW + 3600, "exp": NOW + 7200}, (), "bad_iat",
     "the statement was issued in the future, at 2023-11-14T23:13:20Z."),
    ({"exp": NOW - 10}, (), "bad_iat", "the statement expires before it was issued."),
])
def test_payload_refusals(master: keys.Key, dsk: keys.Key, sign_raw: Sign,
                          payload: dict[str, Any], drop: tuple[str, ...], code: str,
                          message: str | None) -> None:
    """Unknown, missing and ill-typed claims, and times out of order, are refused by code."""
    token = resign(dsk_statement(master, dsk), master, sign_raw, payload=payload, drop=drop)
    with pytest.raises(StatementError) as caught:
        read_statement(token, now=NOW)
    assert caught.value.code == code
    if message is not None:
        assert caught.value.message == message


def test_private_cnf_key_is_bad_key(master: keys.Key, dsk: keys.Key, sign_raw: Sign) -> None:
    """A statement that would publish a private key is refused."""
    token = resign(dsk_statement(master, dsk), master, sign_raw,
                   payload={"cnf": {"jwk": dsk.private_jwk()}})
    assert code_of(token) == "bad_key"


def test_forged_meaning_is_refused_when_read(dsk: keys.Key, other: keys.Key,
                                             sign_raw: Sign) -> None:
    """A device statement naming another user's device, crafted by hand, is bad_identifier;
    a well-known statement signed by another key than it binds is bad_key."""
    device = create_statement(dsk, "device", issuer=ALICE, subject=ALICE_A1,
                              key=other.public(), now=NOW)
    crafted = resign(device, dsk, sign_raw, payload={"sub": "im:bob/B1@example.org"})
    assert code_of(crafted) == "bad_identifier"
    wellknown = create_statement(other, "wellknown", issuer=ALICE, subject=ACCOUNT, now=NOW)
    rebound = resign(wellknown, other, sign_raw,
                     payload={"cnf": {"jwk": claims_of(device)[0]["jwk"]}})
    with pytest.raises(StatementError) as caught:
        read_statement(rebound, now=NOW)
    assert (caught.value.code, caught.value.message) == (
        "bad_key", "a well-known statement must be signed by the key it binds (proof of "
                   "possession).")


def test_bad_service_account_is_bad_identifier(other: keys.Key, sign_raw: Sign) -> None:
    """A well-known statement whose account is not https:// or acct: is bad_identifier."""
    token = resign(create_statement(other, "wellknown", issuer=ALICE, subject=ACCOUNT, now=NOW),
                   other, sign_raw, payload={"sub": "ftp://code.example.net/alice"})
    with pytest.raises(StatementError) as caught:
        read_statement(token, now=NOW)
    assert (caught.value.code, caught.value.message) == (
        "bad_identifier", "the service account is unusable: the service account is neither an "
                          "https:// URL nor an acct: URI.")


def test_expiry_with_leeway(master: keys.Key, dsk: keys.Key) -> None:
    """A statement is valid until exp plus the leeway, then expired."""
    token = dsk_statement(master, dsk)
    assert read_statement(token, now=NOW + 3600 + 59).expires_at == NOW + 3600
    with pytest.raises(StatementError) as caught:
        read_statement(token, now=NOW + 3600 + 60)
    assert (caught.value.code, caught.value.message) == (
        "expired", "the statement expired at 2023-11-14T23:13:20Z.")
    assert read_statement(token, now=NOW + 3600 + 599, leeway=600).jti


def test_statement_error_is_a_token_error() -> None:
    """StatementError exits 1 like every invalid token."""
    assert StatementError("x", code="expired").exit_code == 1


# --------------------------------------------------------------------------------------------
# Files


def test_read_statement_file(tmp_path: Path, master: keys.Key, dsk: keys.Key) -> None:
    """A statement file may end with a newline; a missing file is an input error."""
    path = tmp_path / "dsk.jws"
    path.write_text(dsk_statement(master, dsk) + "\n")
    assert read_statement_file(path, NOW).kind is StatementKind.DSK
    with pytest.raises(InputError) as caught:
        read_statement_file(tmp_path / "missing.jws", NOW)
    assert caught.value.message == (f"cannot read the statement file {tmp_path / 'missing.jws'}"
                                    ": No such file or directory.")
