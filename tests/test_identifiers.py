"""vc_im.identifiers: the seed's identifiers as typed values, their forms and their rules."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from vc_im import identifiers
from vc_im.identifiers import (
    MAX_LENGTH,
    IdentifierError,
    IdType,
    ImId,
    convert,
    from_native,
    normalize,
    normalize_domain,
    parse,
    serialise,
)

VECTORS = Path(__file__).parent / "vectors" / "identifiers"


def _load(name: str, key: str) -> list[dict[str, Any]]:
    data = json.loads((VECTORS / name).read_text(encoding="utf-8"))
    rows: list[dict[str, Any]] = data[key]
    return rows


SEED = _load("seed-examples.json", "examples")
REJECTED = _load("rejected.json", "rejected")
CONVERSIONS = _load("conversions.json", "conversions")


def _reject(call: Any, *args: Any) -> str:
    with pytest.raises(IdentifierError) as info:
        call(*args)
    assert info.value.code == "bad_identifier"
    return info.value.message


# ---- the seed's examples, data-driven


@pytest.mark.parametrize("row", SEED, ids=[f"{r['input']}" for r in SEED])
def test_seed_example_parses_to_the_intended_value(row: dict[str, Any]) -> None:
    """Each im:/mimi:// example of the drafts and CONTRACT.md parses to its recorded value."""
    value = parse(row["input"])
    assert value.to_json() == {key: row[key] for key in (
        "scheme", "protocol", "type", "parts", "domain", "normalized")}


@pytest.mark.parametrize("row", SEED, ids=[f"{r['input']}" for r in SEED])
def test_seed_example_normal_form_is_stable(row: dict[str, Any]) -> None:
    """The normal form of each example parses to the same value and normalises to itself."""
    assert parse(row["normalized"]) == parse(row["input"])
    assert normalize(row["normalized"]) == row["normalized"]


def test_seed_examples_cover_every_type() -> None:
    """The data-driven examples exercise every identifier type at least once."""
    assert {row["type"] for row in SEED} == {kind.value for kind in IdType}


@pytest.mark.parametrize("row", REJECTED, ids=[r["why"] for r in REJECTED])
def test_rejected_input_gets_its_specific_message(row: dict[str, Any]) -> None:
    """Each rejected input raises IdentifierError with exactly its recorded message."""
    assert _reject(parse, row["input"]) == row["message"]


def test_contract_parse_table() -> None:
    """CONTRACT.md's parse table holds: types, decoded sigil-free parts, explicit domains."""
    expected = {
        "im:irc=irc.example.com": (IdType.DOMAIN, (), "irc.example.com"),
        "im:irc=irc.example.com/juliet,isuser": (IdType.HANDLE, ("juliet",), "irc.example.com"),
        "im:irc=irc.example.com/%23projectX,ischannel":
            (IdType.CHANNEL, ("projectX",), "irc.example.com"),
        "im:xmpp=juliet@example.com": (IdType.HANDLE, ("juliet",), "example.com"),
        "im:xmpp=juliet/balcony@example.com":
            (IdType.DEVICE, ("juliet", "balcony"), "example.com"),
        "im:a%2Fb@example.com": (IdType.USER, ("a/b",), "example.com"),
    }
    for text, (kind, parts, domain) in expected.items():
        value = parse(text)
        assert (value.type, value.parts, value.domain) == (kind, parts, domain), text


def test_parse_json_matches_the_contract_example() -> None:
    """to_json() gives exactly CONTRACT.md's parse --json example."""
    assert parse("im:wxyz=BFuVxW5BfqaMEfJDc8R7Qw/072b@example.com").to_json() == {
        "scheme": "im", "protocol": "wxyz", "type": "device",
        "parts": ["BFuVxW5BfqaMEfJDc8R7Qw", "072b"], "domain": "example.com",
        "normalized": "im:wxyz=BFuVxW5BfqaMEfJDc8R7Qw/072b@example.com"}


# ---- equality and the canonical form


@pytest.mark.parametrize(("a", "b"), [
    ("im:%7Ealice@example.com", "im:~alice@example.com"),
    ("IM:alice@EXAMPLE.COM", "im:alice@example.com"),
    ("im:XMPP=juliet@Example.com", "im:xmpp=juliet@example.com"),
    ("im:a%2fb@example.com", "im:a%2Fb@example.com"),
    ("im:%61lice@example.com", "im:alice@example.com"),
    ("im:a!b@example.com", "im:a%21b@example.com"),
    ("im:a,b@example.com", "im:a%2Cb@example.com"),
    ("im:a$b@example.com", "im:a%24b@example.com"),
    ("im:alice@b\u00fccher.example", "im:alice@xn--bcher-kva.example"),
    ("im:alice@B\u00dcCHER.example", "im:alice@xn--bcher-kva.example"),
    ("im:j\u00fcrgen@example.com", "im:j%C3%BCrgen@example.com"),
    ("mimi://A.Example/u/alice", "mimi://a.example/u/alice"),
    ("mimi://a.example/", "mimi://a.example"),
    ("mimi://irc.example.com/u/jcapulet1583@example.com",
     "mimi://irc.example.com/u/jcapulet1583%40example.com"),
    ("im:irc=irc.example.com/%23projectX", "im:irc=irc.example.com/%23projectX,ischannel"),
    ("im:irc=irc.example.com/projectX,ischannel", "im:irc=irc.example.com/%23projectX"),
    ("im:irc=irc.example.com/juliet,isnick", "im:irc=irc.example.com/juliet,ISUSER"),
])
def test_equal_identifiers(a: str, b: str) -> None:
    """Identifiers that differ only in case-insensitive or equivalent spellings are equal."""
    assert parse(a) == parse(b)
    assert normalize(a) == normalize(b)
    assert hash(parse(a)) == hash(parse(b))


@pytest.mark.parametrize(("a", "b"), [
    ("im:SvPfLlwBQi-6oddVRrkqpw/04c7@example.com", "im:svpfllwbqi-6oddvrrkqpw/04c7@example.com"),
    ("im:Alice@example.com", "im:alice@example.com"),
    ("mimi://a.example/u/Alice", "mimi://a.example/u/alice"),
    ("im:a/b@example.com", "im:a%2Fb@example.com"),
    ("mimi://a.example/d/alice/phone", "mimi://a.example/d/alice%2Fphone"),
    ("im:$group@example.com", "im:%24group@example.com"),
    ("im:%40alice@example.com", "im:alice@example.com"),
    ("im:%23x@example.com", "im:%23%23x@example.com"),
    ("im:wxyz=%40alice@example.com", "im:%40alice@example.com"),
    ("im:xmpp=juliet@example.com", "im:%40juliet@example.com"),
    ("im:alice@example.com", "mimi://example.com/u/alice"),
    ("im:alice@example.com", "im:alice@sub.example.com"),
    ("im:irc=irc.example.com/%26local,ischannel", "im:irc=irc.example.com/%23local,ischannel"),
    ("im:irc=irc.example.com/juliet,isuser", "im:irc=irc.example.com/juliet,ischannel"),
])
def test_unequal_identifiers(a: str, b: str) -> None:
    """Case in local parts, meaningful characters versus escapes, sigils, tags and schemes count."""
    assert parse(a) != parse(b)
    assert normalize(a) != normalize(b)


def test_user_with_slash_round_trips_as_a_user() -> None:
    """A user id containing "/" is written %2F and comes back as a user, not a device."""
    value = ImId("im", None, IdType.USER, ("a/b",), "example.com")
    assert str(value) == "im:a%2Fb@example.com"
    assert parse(str(value)) == value
    assert parse(str(value)).type is IdType.USER


def test_base64url_ids_are_never_case_folded() -> None:
    """Upper- and lower-case letters of a base64url user id survive parsing and normalising."""
    value = parse("im:SvPfLlwBQi-6oddVRrkqpw/04c7@EXAMPLE.com")
    assert value.parts == ("SvPfLlwBQi-6oddVRrkqpw", "04c7")
    assert str(value) == "im:SvPfLlwBQi-6oddVRrkqpw/04c7@example.com"


def test_canonical_form_encodes_everything_outside_unreserved() -> None:
    """Inside a part, reserved and non-ASCII characters are escaped with upper-case hex."""
    value = ImId("im", None, IdType.USER, ("a%/@#?,$=:;!&'()*+\u00e9~-._",), "example.com")
    assert str(value) == "im:a%25%2F%40%23%3F%2C%24%3D%3A%3B%21%26%27%28%29%2A%2B%C3%A9~-._" \
        "@example.com"
    assert parse(str(value)) == value


def test_sigils_are_written_as_the_seed_writes_them() -> None:
    """Handles, channels, teams, team channels and groups use %40, %23, %23%23 and $."""
    cases = {
        IdType.HANDLE: (("alice",), "im:%40alice@example.com"),
        IdType.CHANNEL: (("projectX",), "im:%23projectX@example.com"),
        IdType.TEAM: (("engineering",), "im:%23%23engineering@example.com"),
        IdType.TEAM_CHANNEL: (("engineering", "projX"), "im:%23%23engineering/projX@example.com"),
        IdType.GROUP: (("TII9t5viBrXiXc",), "im:$TII9t5viBrXiXc@example.com"),
    }
    for kind, (parts, text) in cases.items():
        assert serialise(ImId("im", None, kind, parts, "example.com")) == text


def test_irc_forms_are_written_with_explicit_flags() -> None:
    """IRC nicks, users and channels are written with ",isuser" or ",ischannel"."""
    server = "irc.example.com"
    assert str(ImId("im", "irc", IdType.HANDLE, ("juliet",), server)) == \
        "im:irc=irc.example.com/juliet,isuser"
    assert str(ImId("im", "irc", IdType.USER, ("jcapulet1583@example.com",), server)) == \
        "im:irc=irc.example.com/%21jcapulet1583%40example.com,isuser"
    assert str(ImId("im", "irc", IdType.CHANNEL, ("&local",), server)) == \
        "im:irc=irc.example.com/%26local,ischannel"
    assert str(ImId("im", "irc", IdType.CHANNEL, ("#python",), server)) == \
        "im:irc=irc.example.com/%23%23python,ischannel"
    assert parse("im:irc=irc.example.com/%23%23python,ischannel").parts == ("#python",)


def test_unknown_protocol_tag_uses_the_generic_rules() -> None:
    """An unknown tag is kept (lower-cased) and its body read like the untagged form."""
    value = parse("im:Matrix=%40alice@Example.org")
    assert (value.protocol, value.type, value.parts, value.domain) == \
        ("matrix", IdType.HANDLE, ("alice",), "example.org")
    assert str(value) == "im:matrix=%40alice@example.org"


# ---- lengths


def test_length_limit_is_2048_characters() -> None:
    """An identifier of 2048 characters parses; one of 2049 is rejected with its length."""
    fits = "im:" + "a" * (MAX_LENGTH - len("im:@example.com")) + "@example.com"
    assert len(fits) == MAX_LENGTH
    assert parse(fits).parts[0] == "a" * (MAX_LENGTH - 15)
    assert _reject(parse, fits[:3] + "a" + fits[3:]) == \
        "the identifier is 2049 characters long; at most 2048 are allowed."


def test_length_limit_applies_to_the_normal_form() -> None:
    """An input whose escaped normal form would exceed 2048 characters is rejected."""
    text = "im:" + "\u00e9" * 1000 + "@example.com"
    assert _reject(parse, text) == \
        "the identifier is 6015 characters long once normalised; at most 2048 are allowed."


# ---- the value type


def test_direct_construction_normalises_type_scheme_and_domain() -> None:
    """ImId(...) accepts a type name and any-case domain, and equals the parsed value."""
    value = ImId("IM", None, "device", ("a", "b"), "B\u00fccher.Example")  # type: ignore[arg-type]
    assert value.type is IdType.DEVICE
    assert value == parse("im:a/b@xn--bcher-kva.example")


@pytest.mark.parametrize(("args", "message"), [
    (("im", None, IdType.USER, ("",), "example.com"), "an im: identifier has an empty part."),
    (("im", None, IdType.USER, ("a", "b"), "example.com"),
     'an im: user has one part, not 2: write "%2F" for a "/" inside a part.'),
    (("im", None, IdType.ROOM, ("a",), "example.com"),
     "an im: identifier cannot be a room: it is one of domain, handle, user, device, channel, "
     "team, team channel, group."),
    (("mimi", None, IdType.HANDLE, ("a",), "example.com"),
     "a mimi:// identifier cannot be a handle: it is one of domain, user, device, room, group, "
     "pseudonym, team."),
    (("mimi", "xmpp", IdType.USER, ("a",), "example.com"),
     "a mimi:// identifier has no protocol tag."),
    (("sip", None, IdType.USER, ("a",), "example.com"),
     'the scheme is "im" or "mimi", not "sip".'),
    (("im", "x y", IdType.USER, ("a",), "example.com"),
     "\"x y\" is not a protocol tag: a lower-case letter, then letters, digits, '+', '-' or '.'."),
    (("im", None, "nick", ("a",), "example.com"), 'unknown identifier type "nick".'),
    (("im", None, IdType.USER, ["a"], "example.com"),
     "the parts of an identifier must be a tuple of strings."),
    (("im", None, IdType.USER, ("a\nb",), "example.com"),
     "the identifier encodes whitespace (U+000A)."),
    (("im", None, IdType.USER, ("..",), "example.com"),
     'a part cannot be "..", which URI processing would remove.'),
    (("im", None, IdType.USER, ("@alice",), "example.com"),
     'an im: user id cannot start with "@": written "%40", it would mark a handle or a channel.'),
    (("im", None, IdType.DEVICE, ("#a", "b"), "example.com"),
     'an im: user id cannot start with "#": written "%23", it would mark a handle or a channel.'),
    (("im", "xmpp", IdType.HANDLE, ("a:b",), "example.com"),
     'an XMPP localpart cannot contain ":" (RFC 7622).'),
    (("im", "irc", IdType.HANDLE, ("a!b",), "irc.example.com"),
     'an IRC nick cannot contain "!", which separates a nick from a user.'),
    (("im", None, IdType.DOMAIN, (), "local"),
     'the domain identifier "local" has a single label; an im: domain identifier is a full '
     "domain name."),
])
def test_direct_construction_rejects_invalid_values(args: tuple[Any, ...], message: str) -> None:
    """ImId(...) refuses values that could not be written and read back, with a message."""
    assert _reject(ImId, *args) == message


def test_values_are_immutable_and_hashable() -> None:
    """An ImId cannot be changed and works as a set member by identifier equality."""
    value = parse("im:alice@example.com")
    with pytest.raises(AttributeError):
        value.domain = "evil.example"  # type: ignore[misc]
    assert {value, parse("IM:%61lice@EXAMPLE.com")} == {value}


def test_str_is_the_canonical_serialisation() -> None:
    """str(value) and serialise(value) are both the normal form."""
    value = parse("IM:%7Ealice@Example.COM")
    assert str(value) == serialise(value) == "im:~alice@example.com"


def test_identifier_error_is_a_value_error_with_a_stable_code() -> None:
    """IdentifierError is a ValueError with code bad_identifier and an ASCII message."""
    with pytest.raises(ValueError, match="unknown scheme") as info:
        parse("http://example.com/\u00e9")
    error = info.value
    assert isinstance(error, IdentifierError)
    assert (error.code, error.exit_code) == ("bad_identifier", 1)
    assert error.message.isascii()


def test_messages_never_carry_raw_control_or_non_ascii_text() -> None:
    """Messages quoting input escape non-ASCII characters."""
    assert _reject(parse, "im:alice@b\u00fc_cher.example") == (
        '"b\\u00fc_cher.example" is not a valid domain name ("Codepoint U+005F at position 3 of '
        "'b\\u00fc_cher' not allowed\").")


def test_non_string_input_is_rejected() -> None:
    """parse() refuses a value that is not a string with IdentifierError, not TypeError."""
    assert _reject(parse, b"im:alice@example.com") == "an identifier must be a string."


# ---- relationships


def test_device_user() -> None:
    """A device's user keeps scheme, tag and domain; an XMPP device's user is its bare JID."""
    assert parse("im:SvPfLlwBQi-6oddVRrkqpw/04c7@example.com").user() == \
        parse("im:SvPfLlwBQi-6oddVRrkqpw@example.com")
    assert parse("mimi://a.example/d/alice/ClientA1").user() == parse("mimi://a.example/u/alice")
    assert parse("im:xmpp=juliet/balcony@example.com").user() == \
        parse("im:xmpp=juliet@example.com")
    assert parse("im:wxyz=a/b@example.com").user() == parse("im:wxyz=a@example.com")


def test_user_of_a_non_device_is_an_error() -> None:
    """user() refuses identifiers that are not devices, or devices that name no user."""
    assert _reject(parse("im:%40alice@example.com").user) == \
        "a handle identifier is not a device, so it has no user."
    assert _reject(parse("mimi://a.example/d/ClientA1").user) == (
        "the device mimi://a.example/d/ClientA1 names no user: a mimi:// device names its "
        "user only with exactly two path segments, and it has 1.")


def test_in_domain_is_exact_after_normalisation() -> None:
    """in_domain matches the normalised domain exactly and never a parent domain."""
    value = parse("im:alice@b\u00fccher.example")
    assert value.in_domain("XN--BCHER-KVA.example")
    assert value.in_domain("B\u00dcCHER.example")
    assert not parse("im:alice@sub.example.com").in_domain("example.com")
    assert not parse("im:alice@example.com").in_domain("sub.example.com")
    assert not parse("im:alice@evilexample.com").in_domain("example.com")
    assert _reject(value.in_domain, "not a domain") == \
        "the domain contains whitespace (U+0020) at character 4."


def test_same_domain() -> None:
    """same_domain compares normalised domains across schemes and types."""
    assert parse("im:alice@Example.com").same_domain(parse("mimi://example.com/r/room"))
    assert not parse("im:alice@example.com").same_domain(parse("im:alice@example.org"))


def test_normalize_domain() -> None:
    """normalize_domain gives lower-case A-labels and refuses what is not a DNS domain."""
    assert normalize_domain("B\u00fccher.Example") == "xn--bcher-kva.example"
    assert normalize_domain("\uff45xample.com") == "example.com"
    assert normalize_domain("stra\u00dfe.de") == "xn--strae-oqa.de"
    assert _reject(normalize_domain, "") == "the domain is empty."
    assert _reject(normalize_domain, 42) == "a domain must be a string."
    assert _reject(normalize_domain, "a.b\u3002") == \
        'the domain "a.b\\u3002" ends with a dot: write it without.'


# ---- conversion


@pytest.mark.parametrize("row", CONVERSIONS, ids=[r["value"] for r in CONVERSIONS])
def test_conversion_table(row: dict[str, Any]) -> None:
    """Each recorded conversion gives its result for --to im and --to mimi, or its exact error."""
    value = from_native(row["value"], row["from"]) if "from" in row else parse(row["value"])
    for target in ("im", "mimi"):
        if target in row:
            assert str(convert(value, target)) == row[target]
        else:
            assert _reject(convert, value, target) == row[f"{target}_error"]


def test_contract_convert_table() -> None:
    """Every row of CONTRACT.md's --from table is in the conversion vectors."""
    rows = {(r["from"], r["value"]): (r["im"], r["mimi"]) for r in CONVERSIONS if "from" in r}
    assert rows[("irc", "irc://irc.example.com/juliet,isuser")] == (
        "im:irc=irc.example.com/juliet,isuser", "mimi://irc.example.com/u/juliet")
    assert rows[("wire", "wireapp://SvPfLlwBQi-6oddVRrkqpw!04c7@example.com")] == (
        "im:SvPfLlwBQi-6oddVRrkqpw/04c7@example.com",
        "mimi://example.com/d/SvPfLlwBQi-6oddVRrkqpw/04c7")
    assert sum(1 for r in CONVERSIONS if r.get("source") == "CONTRACT.md convert --from table") \
        == 7


def test_convert_to_the_same_scheme() -> None:
    """--to mimi leaves mimi:// values alone; --to im drops tags except IRC's."""
    mimi = parse("mimi://a.example/p/x")
    assert convert(mimi, "mimi") is mimi
    assert convert(parse("im:wxyz=%40alice@example.com"), "im") == parse("im:%40alice@example.com")
    irc = parse("im:irc=irc.example.com/juliet,isuser")
    assert convert(irc, "im") is irc


def test_convert_handle_loses_its_sigil() -> None:
    """A handle converts to /u/ and back to a user, as draft-03 maps them."""
    back = convert(convert(parse("im:%40alice@example.com"), "mimi"), "im")
    assert back == parse("im:alice@example.com")


def test_convert_to_an_unknown_form() -> None:
    """convert() refuses a target that is neither im nor mimi."""
    assert _reject(convert, parse("im:a@example.com"), "xmpp") == \
        'cannot convert to "xmpp": write "im" or "mimi".'


# ---- protocol-native forms


@pytest.mark.parametrize(("protocol", "text", "expected"), [
    ("xmpp", "juliet@example.com", "im:%40juliet@example.com"),
    ("xmpp", "juliet@example.com/balcony/with/slashes@x",
     "im:juliet/balcony%2Fwith%2Fslashes%40x@example.com"),
    ("xmpp", "Example.COM", "im:example.com"),
    ("sip", "sip:j%75liet@example.com", "im:%40juliet@example.com"),
    ("email", "juliet.capulet+im@example.com", "im:%40juliet.capulet%2Bim@example.com"),
    ("email", "juli#et@example.com", "im:%40juli%23et@example.com"),
    ("wire", "wireapp://SvPfLlwBQi-6oddVRrkqpw@example.com",
     "im:SvPfLlwBQi-6oddVRrkqpw@example.com"),
    ("wire", "0fd3e0dc-a2ff-4965-8873-509f0af0a75c:072b@example.com",
     "im:0fd3e0dc-a2ff-4965-8873-509f0af0a75c/072b@example.com"),
    ("irc", "irc://irc.example.com/juliet%21jcapulet1583%40example.com,isuser",
     "im:irc=irc.example.com/%21jcapulet1583%40example.com,isuser"),
    ("irc", "IRCS://IRC.example.com/%26local", "im:irc=irc.example.com/%26local,ischannel"),
])
def test_from_native(protocol: str, text: str, expected: str) -> None:
    """Native forms read into the im: value the seed's tables describe."""
    assert str(from_native(text, protocol)) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(("protocol", "text", "message"), [
    ("xmpp", "xmpp:juliet@example.com", 'give the JID itself, without "xmpp:".'),
    ("xmpp", "example.com/res",
     "a JID with a resource but no localpart names a server resource, not a user's device."),
    ("xmpp", "@example.com", 'the JID\'s localpart before "@" is empty.'),
    ("xmpp", "juliet@example.com/", 'the JID\'s resource after "/" is empty.'),
    ("xmpp", "jul:iet@example.com", 'an XMPP localpart cannot contain ":" (RFC 7622).'),
    ("sip", "tel:+15551234", 'a SIP address of record starts with "sip:" or "sips:".'),
    ("sip", "sip:example.com",
     'an address of record is "sip:user@domain", and this one has no user.'),
    ("sip", "sip:juliet@example.com;transport=tcp",
     'an address of record has no URI parameters (";...").'),
    ("sip", "sip:juliet:secret@example.com", "an address of record carries no password."),
    ("sip", "sip:juliet@example.com?subject=x",
     '"?" at character 23 starts a query, which identifiers do not have: write "%3F" for a "?" '
     "inside a part."),
    ("sip", "sip:juliet@[2001:db8::225:96ff:fe12:3456]",
     "an IP address is not a domain: identifiers name a DNS domain."),
    ("email", "mailto:juliet@example.com", 'give the address itself, without "mailto:".'),
    ("email", "juliet", 'an email address has an "@" before its domain.'),
    ("email", "@example.com", 'the email address has nothing before "@".'),
    ("email", "a..b@example.com",
     "the email address's local part is not a dot-atom (quoted local parts are not supported)."),
    ("irc", "irc.example.com/juliet", 'an IRC URL starts with "irc://" or "ircs://".'),
    ("irc", "irc://irc.example.com/#projectX",
     '"#" at character 23 starts a URI fragment: write "%23" for a "#" inside an identifier '
     '(a channel is "%23name").'),
    ("irc", "irc://irc.example.com:6697/%23projectX",
     'the domain "irc.example.com:6697" contains a port (":"), which a domain cannot have.'),
    ("wire", "wireapp://a!b!c@example.com",
     'a Wire client id has one "!", between the user id and the client id.'),
    ("wire", "wireapp://a!b@example.com/x",
     'a wireapp:// identifier has no path: write "%2F" for a "/".'),
    ("wire", "wireapp://a!b", "the wireapp:// identifier names no domain."),
    ("wire", "wireapp://!b@example.com", "the user id is empty."),
    ("wire", "juliet",
     'a Wire id is "wireapp://user!client@domain" or a qualified client id '
     '"user/client@domain".'),
    ("wire", "a:@example.com", "the Wire user id or client id is empty."),
    ("slack", "@alice:example.org",
     'cannot read "slack" identifiers: the protocols are xmpp, sip, irc, wire, email, matrix '
     "and uri."),
    ("email", "juliet\u200b@example.com",
     "the identifier contains an invisible formatting character (U+200B) at character 7."),
])
def test_from_native_rejections(protocol: str, text: str, message: str) -> None:
    """Native forms that are not what the protocol allows are rejected with a message."""
    assert _reject(from_native, text, protocol) == message


# ---- packaging


def test_module_depends_on_nothing_else_in_vc_im() -> None:
    """Importing vc_im.identifiers loads no other vc_im module and no CLI stack."""
    code = ("import sys, vc_im.identifiers; "
            "print(sorted(m for m in sys.modules if m.startswith(('vc_im', 'typer', 'click'))))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "['vc_im', 'vc_im.identifiers']"


def test_public_names() -> None:
    """The module's public namespace is exactly the documented API."""
    assert sorted(identifiers.__all__) == sorted([
        "MAX_LENGTH", "IdType", "IdentifierError", "ImId", "convert", "from_native",
        "normalize", "normalize_domain", "parse", "serialise"])
