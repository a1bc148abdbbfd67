"""The fast paths of strict parsing and signature checking give exactly what the slow,
obviously correct paths give (differential tests over generated input)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

import vc_im._jose.jws as jws
from vc_im import keys
from vc_im._jose import strictjson
from vc_im.report import printable

_KEY = keys.generate("Ed25519")
_OTHER = keys.generate("Ed25519")
_TOKEN = jws.sign({"typ": "JWT"}, {"iss": "https://im.example.com", "n": 1}, _KEY)


@settings(max_examples=400)
@given(st.text(alphabet='[]{}"\\ a,:\n', max_size=80) | st.text(max_size=80))
def test_depth_equals_the_character_walk(text: str) -> None:
    """The regular-expression depth scan counts what the character-by-character walk counts,
    for any text: escapes, unterminated strings and stray backslashes included."""
    assert strictjson._depth(text) == strictjson._depth_by_char(text)


@settings(max_examples=400)
@given(st.text(alphabet='[]{}"\\ a,:\n', max_size=120), st.integers(0, 12))
def test_bracket_count_bound_decides_as_the_walk(text: str, bound: int) -> None:
    """Answering from the bracket count alone never lets a text deeper than the bound
    through, nor refuses one within it: the verdict "deeper than bound" is the walk's."""
    assert (strictjson._depth(text, bound) > bound) == (strictjson._depth_by_char(text) > bound)


@settings(max_examples=200)
@given(signature=st.binary(max_size=80), flip=st.integers(0, 63), tamper=st.booleans(),
       payload=st.dictionaries(st.text(max_size=5), st.integers(), max_size=3))
def test_direct_ed25519_equals_joserfc(signature: bytes, flip: int, tamper: bool,
                                       payload: dict[str, int]) -> None:
    """Verifying an Ed25519 token's parsed bytes directly agrees with joserfc parsing and
    verifying the token again: for good signatures, bit flips, random bytes, another key."""
    token = jws.sign({"typ": "JWT"}, payload, _KEY)
    unverified = jws.peek_unverified(token)
    good = unverified.signature
    candidates = [good, bytes([good[0] ^ (1 << (flip % 8)), *good[1:]]), signature]
    for candidate in candidates if tamper else candidates[:1]:
        head = token.rsplit(".", 1)[0]
        forged = jws.peek_unverified(f"{head}.{jws.b64url_encode(candidate)}") \
            if candidate else None
        if forged is None:
            continue
        for key in (_KEY, _OTHER, _KEY.public()):
            expected = jws._verifies(forged.token, key, str(forged.alg))
            assert jws.verify_signature(forged, key) == expected
            assert key.verifies_ed25519(forged.signature, forged.signing_input) == expected


def test_direct_path_is_for_ed25519_only() -> None:
    """Other key types keep joserfc's path."""
    assert keys.generate("ES256").verifies_ed25519(b"", b"") is None
    assert jws.verify_signature(jws.peek_unverified(_TOKEN), _KEY)


@given(st.text(max_size=60))
def test_printable_shortcut_changes_nothing(text: str) -> None:
    """Text that is printable comes back as it is; any other comes back escaped, with no
    unprintable character left."""
    out = printable(text, lines=False)
    if text.isprintable():
        assert out == text
    assert out.isprintable()


@settings(max_examples=500)
@given(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
               max_size=12).filter(lambda text: len(text) % 4 != 1))
def test_padding_bits_rule_equals_encoding_again(text: str) -> None:
    """Reading the last character accepts exactly the base64url that decodes and encodes
    back to itself: one spelling per byte string."""
    from vc_im._jose import b64
    from vc_im.errors import TokenError

    try:
        b64.b64url_decode(text, what="x")
    except TokenError:
        accepted = False
    else:
        accepted = True
    assert accepted is b64._is_canonical_by_encoding(text)


_HEADER_VALUES = st.one_of(st.text(max_size=6), st.integers(), st.none(), st.booleans(),
                           st.lists(st.text(max_size=4), max_size=2),
                           st.lists(st.integers(), max_size=2),
                           st.dictionaries(st.sampled_from(["kty", "crv", "x"]),
                                           st.text(max_size=4), max_size=3))


@settings(max_examples=300)
@given(header=st.dictionaries(st.sampled_from(["typ", "kid", "cty", "jwk", "x5c", "crit",
                                               "jku", "x5t", "b64", "zip", "extra"]),
                              _HEADER_VALUES, max_size=4),
       payload=st.dictionaries(st.text(max_size=5), st.integers() | st.text(max_size=5)
                               | st.lists(st.booleans(), max_size=2), max_size=4))
def test_direct_ed25519_signing_equals_joserfc(header: dict[str, object],
                                               payload: dict[str, object]) -> None:
    """Signing an Ed25519 token directly gives joserfc's token byte for byte (Ed25519 is
    deterministic), or the same refusal: for generated headers of every parameter type and
    generated payloads; a header it does not take as plain goes to joserfc."""
    from joserfc import jws as joserfc_jws
    from joserfc.errors import JoseError

    from vc_im.errors import KeyFileError

    protected = {"alg": _KEY.alg, **header}
    try:
        expected: str | None = joserfc_jws.serialize_compact(
            protected, strictjson.dumps_compact(payload), _KEY.jose_key(_KEY.alg),
            registry=jws._registry(_KEY.alg))
    except (JoseError, TypeError):  # joserfc fails on some malformed crit values
        expected = None
    try:
        made: str | None = jws.sign(header, payload, _KEY)
    except (KeyFileError, TypeError):
        made = None
    assert made == expected


@settings(max_examples=300)
@given(st.lists(st.tuples(st.sampled_from(["a", "b", "c", "d", "é"]), st.integers(0, 3)),
                max_size=6))
def test_members_built_in_c_equal_the_member_walk(pairs: list[tuple[str, int]]) -> None:
    """An object's members built by ``dict`` give what adding them one by one gives, and a
    repeated name is refused naming the first name that repeats."""
    expected: dict[str, int] | str = {}
    for name, value in pairs:
        assert isinstance(expected, dict)
        if name in expected:
            expected = f"the member name {name!r} appears twice in one object."
            break
        expected[name] = value
    try:
        made: dict[str, int] | str = strictjson._pairs(list(pairs))
    except strictjson.StrictJSONError as exc:
        made = exc.message
    assert made == expected


@settings(max_examples=300)
@given(st.binary(max_size=40))
def test_base64url_read_by_binascii_equals_the_base64_module(data: bytes) -> None:
    """What vc_im reads back from base64url is what the base64 module decodes, for any bytes
    written as JOSE writes them."""
    import base64

    from vc_im._jose import b64

    text = b64.b64url_encode(data)
    assert b64.b64url_decode(text, what="x") == base64.urlsafe_b64decode(
        text + "=" * (-len(text) % 4)) == data


@settings(max_examples=600)
@given(st.text(alphabet="AQgwEIMaz09-_+/= \n\t.é\x00", max_size=14) | st.text(max_size=10))
def test_strict_binascii_reads_exactly_the_alphabet(text: str) -> None:
    """Reading base64url with binascii's strict mode accepts exactly the unpadded base64url
    alphabet (any other character, padding, '+' and '/' refused), canonical, with the bytes
    the base64 module gives."""
    import base64
    import re

    from vc_im._jose import b64
    from vc_im.errors import TokenError

    fits = (re.fullmatch(r"[A-Za-z0-9_-]*", text) is not None and len(text) % 4 != 1
            and b64._is_canonical_by_encoding(text))
    try:
        data = b64.b64url_decode(text, what="x")
    except TokenError:
        assert not fits
        return
    assert fits
    assert data == base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
