"""Rules of vc_im.identifiers that hold for all inputs, checked with hypothesis."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vc_im import identifiers
from vc_im.identifiers import (
    IdentifierError,
    IdType,
    ImId,
    convert,
    from_native,
    normalize,
    parse,
    serialise,
)

SETTINGS = settings(max_examples=300, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

DOMAINS = ["example.com", "a.example", "local.invalid", "irc.example.com", "example.org",
           "xn--bcher-kva.example", "sub.example.com"]
UNRESERVED = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

# Characters a part may hold: any visible character, plus the ones with meaning somewhere.
_visible = st.characters(codec="utf-8",
                         exclude_categories=("Cc", "Cf", "Cs", "Zs", "Zl", "Zp"))
_special = st.sampled_from(list("/@#%$=,!&+:;?~-._'()*[]<>\"AaZz09\u00e9\u4e2d"))
_part = st.text(st.one_of(_special, _visible), min_size=1, max_size=8).filter(
    lambda p: p not in (".", ".."))


def _not_sigil(part: str) -> str:
    """Untagged user ids and channel names cannot start with an escaped sigil."""
    return "x" + part if part[0] in "@#" else part


@st.composite
def values(draw: st.DrawFn) -> ImId:
    """Any valid identifier value, in every form."""
    form = draw(st.sampled_from(["untagged", "tagged", "xmpp", "irc", "mimi"]))
    domain = draw(st.sampled_from(DOMAINS))
    if form in ("untagged", "tagged"):
        protocol = None if form == "untagged" else draw(
            st.from_regex(r"[a-z][a-z0-9.+-]{0,5}", fullmatch=True).filter(
                lambda t: t not in ("xmpp", "irc")))
        kind = draw(st.sampled_from([IdType.DOMAIN, IdType.HANDLE, IdType.USER, IdType.DEVICE,
                                     IdType.CHANNEL, IdType.TEAM, IdType.TEAM_CHANNEL,
                                     IdType.GROUP]))
        count = {IdType.DOMAIN: 0, IdType.DEVICE: 2, IdType.TEAM_CHANNEL: 2}.get(kind, 1)
        parts = [draw(_part) for _ in range(count)]
        if kind in (IdType.USER, IdType.DEVICE, IdType.CHANNEL):
            parts[0] = _not_sigil(parts[0])
        return ImId("im", protocol, kind, tuple(parts), domain)
    if form == "xmpp":
        local = draw(_part.map(lambda p: "".join(c for c in p if c not in "\"&'/:<>@") or "j"))
        kind = draw(st.sampled_from([IdType.DOMAIN, IdType.HANDLE, IdType.DEVICE]))
        jid: tuple[str, ...] = {IdType.DOMAIN: (), IdType.HANDLE: (local,),
                                IdType.DEVICE: (local, draw(_part))}[kind]
        return ImId("im", "xmpp", kind, jid, domain)
    if form == "irc":
        kind = draw(st.sampled_from([IdType.DOMAIN, IdType.HANDLE, IdType.USER,
                                     IdType.CHANNEL]))
        part = draw(_part)
        if kind is IdType.HANDLE:
            part = part.replace("!", "") or "nick"
        return ImId("im", "irc", kind, () if kind is IdType.DOMAIN else (part,), domain)
    kind = draw(st.sampled_from([IdType.DOMAIN, IdType.USER, IdType.DEVICE, IdType.ROOM,
                                 IdType.GROUP, IdType.PSEUDONYM, IdType.TEAM]))
    count = {IdType.DOMAIN: 0, IdType.DEVICE: draw(st.integers(1, 3))}.get(kind, 1)
    return ImId("mimi", None, kind, tuple(draw(_part) for _ in range(count)), domain)


# ---- an independent writer of equivalent spellings


def _spell(draw: st.DrawFn, part: str, literal_ok: str, *, first: bool = False,
           no_leading: str = "") -> str:
    """Write ``part`` with randomly chosen but equivalent escapes and literals."""
    out = []
    for index, char in enumerate(part):
        allowed = char in UNRESERVED or char in literal_ok or (
            not char.isascii() and char.isprintable())
        if index == 0 and first and char in no_leading:
            allowed = False
        if allowed and draw(st.booleans()):
            out.append(char)
        else:
            hexed = "".join(f"%{byte:02X}" for byte in char.encode("utf-8"))
            out.append(hexed.lower() if draw(st.booleans()) else hexed)
    return "".join(out)


def _case(draw: st.DrawFn, text: str) -> str:
    return "".join(c.upper() if draw(st.booleans()) else c for c in text)


@st.composite
def spellings(draw: st.DrawFn, value: ImId) -> str:
    """Another spelling of ``value``: scheme, tag and domain case, escapes, optional flags."""
    domain = _case(draw, value.domain)
    parts = value.parts
    if value.scheme == "mimi":
        head = _case(draw, "mimi") + "://" + domain
        if value.type is IdType.DOMAIN:
            return head + draw(st.sampled_from(["", "/"]))
        letter = {IdType.USER: "u", IdType.DEVICE: "d", IdType.ROOM: "r", IdType.GROUP: "g",
                  IdType.PSEUDONYM: "p", IdType.TEAM: "t"}[value.type]
        return f"{head}/{letter}/" + "/".join(
            _spell(draw, p, "!$&'()*+,;=:@") for p in parts)
    tag = _case(draw, value.protocol) + "=" if value.protocol else ""
    head = _case(draw, "im") + ":" + tag
    if value.type is IdType.DOMAIN:
        return head + domain
    if value.protocol == "irc":
        literal = "!$&'()*+;:@"
        if value.type is IdType.HANDLE:
            flag = draw(st.sampled_from(["isuser", "ISUSER", "isnick"]))
            return f"{head}{domain}/{_spell(draw, parts[0], literal)},{flag}"
        if value.type is IdType.USER:
            nick = draw(st.sampled_from(["", "juliet", "romeo"]))
            return f"{head}{domain}/{nick}%21{_spell(draw, parts[0], literal)},isuser"
        name = parts[0]
        if name[0] in "&+!":
            flag = draw(st.sampled_from([",ischannel", ",ISCHANNEL"]))
            return f"{head}{domain}/{_spell(draw, name, literal)}{flag}"
        written = "%23" + _spell(draw, name, literal)
        if name[0] != "#" and draw(st.booleans()):
            written = _spell(draw, name, literal, first=True, no_leading="&+!")
            return f"{head}{domain}/{written},ischannel"
        return f"{head}{domain}/{written}{draw(st.sampled_from(['', ',ischannel']))}"
    literal = "!$&'()*+,;:"
    if value.protocol == "xmpp":
        return head + "/".join(_spell(draw, p, literal) for p in parts) + "@" + domain
    sigil = {IdType.HANDLE: "%40", IdType.CHANNEL: "%23", IdType.TEAM: "%23%23",
             IdType.TEAM_CHANNEL: "%23%23", IdType.GROUP: "$"}.get(value.type, "")
    first = value.type in (IdType.USER, IdType.DEVICE)
    local = "/".join(_spell(draw, p, literal, first=first and i == 0, no_leading="$")
                     for i, p in enumerate(parts))
    return head + sigil + local + "@" + domain


# ---- the properties


def _outcome(call: Any, *args: Any) -> ImId | IdentifierError:
    try:
        result: ImId = call(*args)
    except IdentifierError as exc:
        return exc
    return result


@SETTINGS
@given(values())
def test_round_trip(value: ImId) -> None:
    """parse(serialise(x)) == x, and the canonical form is its own normal form."""
    text = serialise(value)
    assert parse(text) == value
    assert normalize(text) == text
    assert text.isascii()


@SETTINGS
@given(st.data())
def test_every_spelling_parses_to_the_same_value(data: st.DataObject) -> None:
    """Escaping unreserved characters, hex case, scheme/tag/domain case and flags do not matter."""
    value = data.draw(values())
    text = data.draw(spellings(value))
    assert parse(text) == value, text
    assert normalize(text) == serialise(value)


_POOL = [ImId("im", None, IdType.USER, ("a~b",), "example.com"),
         ImId("im", None, IdType.DEVICE, ("a", "b"), "example.com"),
         ImId("im", None, IdType.USER, ("a/b",), "example.com"),
         ImId("im", None, IdType.USER, ("A~b",), "example.com"),
         ImId("im", "wxyz", IdType.USER, ("a~b",), "example.com"),
         ImId("mimi", None, IdType.USER, ("a~b",), "example.com")]


@SETTINGS
@given(st.data())
def test_equality_is_an_equivalence_relation(data: st.DataObject) -> None:
    """String equality via parse is an equivalence relation and agrees with normal forms."""
    texts = [data.draw(spellings(data.draw(st.sampled_from(_POOL)))) for _ in range(3)]
    a, b, c = (parse(t) for t in texts)
    assert a == parse(texts[0])
    assert (a == b) == (b == a)
    if a == b and b == c:
        assert a == c
    for x, y in ((texts[0], texts[1]), (texts[1], texts[2])):
        assert (parse(x) == parse(y)) == (normalize(x) == normalize(y))


@SETTINGS
@given(values(), st.data())
def test_local_parts_are_case_sensitive(value: ImId, data: st.DataObject) -> None:
    """Changing the case of a letter in a part changes the identifier."""
    indexed = [(i, j) for i, part in enumerate(value.parts) for j, char in enumerate(part)
               if char.isascii() and char.isalpha()]
    if not indexed:
        return
    i, j = data.draw(st.sampled_from(indexed))
    part = value.parts[i]
    changed = part[:j] + part[j].swapcase() + part[j + 1:]
    parts = (*value.parts[:i], changed, *value.parts[i + 1:])
    other = ImId(value.scheme, value.protocol, value.type, parts, value.domain)
    assert other != value
    assert serialise(other) != serialise(value)


_TOKENS = st.sampled_from([
    "im:", "IM:", "mimi://", "mimi:", "xmpp=", "irc=", "wxyz=", "sip:", "%40", "%23", "%2F",
    "%2f", "%7E", "%00", "%0A", "%FF", "%C3%A9", "%", "/", "//", "@", "$", ",", ",isuser",
    ",ischannel", "!", "=", "#", "?", " ", ".", "..", "/u/", "/d/", "/r/", "/p/", "/t/",
    "example.com", "a.example", "EXAMPLE.COM", "b\u00fccher.example", "localhost", ":80",
    "[::1]", "alice", "Alice", "a", "\u00e9", "\u202e", ";id-type=", "-", "_", "~", "&",
])
_URIISH = st.lists(_TOKENS, max_size=10).map("".join)


@st.composite
def mutated(draw: st.DrawFn) -> str:
    """A valid spelling with a few tokens inserted or characters deleted: often still valid."""
    text = draw(spellings(draw(values())))
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(text)))
        if draw(st.booleans()):
            text = text[:at] + draw(_TOKENS) + text[at:]
        else:
            text = text[:at] + text[at + draw(st.integers(1, 3)):]
    return text


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(mutated(), _URIISH, st.text(max_size=40)))
def test_parse_is_total_and_normal_forms_are_stable(text: str) -> None:
    """Any text parses or raises IdentifierError; a parsed text's normal form is stable."""
    value = _outcome(parse, text)
    if isinstance(value, IdentifierError):
        assert value.code == "bad_identifier"
        assert value.message.isascii()
        assert value.message.endswith(".")
        return
    canonical = normalize(text)
    assert parse(canonical) == value
    assert normalize(canonical) == canonical


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(["xmpp", "sip", "irc", "wire", "email", "matrix", "uri"]),
       st.one_of(mutated(), _URIISH, st.text(max_size=40),
                 st.lists(st.sampled_from(["sip:", "irc://", "wireapp://", "juliet", "@", "/",
                                           "!", "example.com", ",isuser", "%40", ":", ";",
                                           "matrix:", "u/", "roomid/", "#", "$", "?",
                                           "wxyz:", ":8448", ";id-type=handle"]),
                          max_size=8).map("".join)))
def test_from_native_is_total(protocol: Any, text: str) -> None:
    """Any text read as a native form gives a valid value or raises IdentifierError."""
    value = _outcome(from_native, text, protocol)
    if isinstance(value, IdentifierError):
        assert value.message.isascii()
        return
    assert parse(serialise(value)) == value


def _convertible(value: ImId) -> bool:
    """Whether the documented rules let ``value`` go to the other scheme and back."""
    if value.type in (IdType.TEAM_CHANNEL, IdType.PSEUDONYM):
        return False
    if value.scheme == "mimi" and value.type is IdType.DEVICE and len(value.parts) != 2:
        return False
    # An untagged im: user id cannot start with "@" or "#", nor a channel name with "#".
    first = value.parts[0][0] if value.parts else ""
    if value.type in (IdType.CHANNEL, IdType.ROOM):
        return first != "#"
    return not (first in ("@", "#") and value.type in (IdType.HANDLE, IdType.USER,
                                                        IdType.DEVICE))


@SETTINGS
@given(values())
def test_conversion_round_trips_where_lossless(value: ImId) -> None:
    """Converting to the other scheme and back keeps the parts and domain; only handles change."""
    other = "mimi" if value.scheme == "im" else "im"
    if not _convertible(value):
        with pytest.raises(IdentifierError):
            convert(convert(value, other), value.scheme)  # type: ignore[arg-type]
        return
    back = convert(convert(value, other), value.scheme)  # type: ignore[arg-type]
    assert back.type is (IdType.USER if value.type is IdType.HANDLE else value.type)
    assert (back.parts, back.domain) == (value.parts, value.domain)
    if value.type is not IdType.HANDLE and (value.scheme == "mimi" or value.protocol is None):
        assert back == value


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(mutated(), _URIISH, st.text(max_size=40)), min_size=1, max_size=4))
def test_cached_parse_equals_the_uncached_parse(texts: list[str]) -> None:
    """The parse cache gives what parsing afresh gives, for every text and however often it
    is asked (the same value, the same canonical text, the same error), and keeps no error."""
    for text in [*texts, *texts]:
        cached, fresh = _outcome(parse, text), _outcome(identifiers.parse_uncached, text)
        if isinstance(fresh, IdentifierError):
            assert isinstance(cached, IdentifierError)
            assert (cached.code, cached.message) == (fresh.code, fresh.message)
            assert text not in identifiers._PARSED
            continue
        assert cached == fresh
        assert str(cached) == str(fresh) == identifiers._form_of(
            fresh.scheme, fresh.protocol).write(fresh)


@SETTINGS
@given(values())
def test_kept_owner_equals_the_owner_built_afresh(value: ImId) -> None:
    """A device's user, kept per device, is the one built afresh from its parts."""
    if value.type is not IdType.DEVICE:
        return
    fresh = None if len(value.parts) != 2 else ImId(
        value.scheme, value.protocol, IdType.HANDLE if value.protocol == "xmpp" else IdType.USER,
        value.parts[:1], value.domain)
    assert value.owner() == fresh
    assert value.owner() == fresh
