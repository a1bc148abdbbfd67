"""IM identifiers: the ``im:`` and ``mimi://`` URIs that name domains, users, devices and rooms.

An identifier is parsed into a typed value, :class:`ImId`, and identifiers are compared as
values, never as strings. The grammar (RFC 5234 ABNF; ``pct-encoded``, ``unreserved`` and
``sub-delims`` as in RFC 3986)::

    identifier   = im-uri / mimi-uri              ; at most 2048 characters, before and
                                                  ; after normalisation

    im-uri       = "im:" [ tag "=" ] im-body [ id-type ]  ; "im" in any case
    tag          = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )    ; any case, kept lower-case
    id-type      = ";id-type=" type-name         ; any case; vc_im's definition of the
                                                  ; parameter the draft names but leaves open
    type-name    = "domain" / "handle" / "user" / "device" / "channel" / "team"
                 / "team_channel" / "group" / "room" / "pseudonym"
        ; it types a generic local part that carries no marker (so "alice" is a handle with
        ; ";id-type=handle"); where a marker or a tagged form's syntax gives the type, it must
        ; name that type. It is not part of the value: the canonical form writes the marker.
    im-body      = generic-body                   ; untagged, and every tag but the two below
                 / xmpp-body                      ; tag "xmpp"
                 / irc-body                       ; tag "irc"

    generic-body = domain                                   ; domain
                 / local "@" domain
    local        = "%40" part                               ; handle
                 / "%23%23" part [ "/" part ]               ; team, team channel
                 / "%23" part                               ; channel
                 / "$" part                                 ; group
                 / part "/" part                            ; device: user "/" device
                 / part                                     ; user

    xmpp-body    = domain                                   ; domain
                 / part "@" domain                          ; bare JID: handle
                 / part "/" part "@" domain                 ; full JID, in the seed's order: device

    irc-body     = domain [ "/" target [ "," flag ] ]       ; domain = the IRC server
    flag         = "isuser" / "isnick" / "ischannel"        ; any case
        ; the target is percent-decoded, then read as IRC reads it: with "isuser",
        ; "nick" is a handle and "[nick]!user" a user (the nick is dropped); otherwise a
        ; channel, "#name" (the "#" implied when no prefix is written), "&name", "+name"
        ; or "!name"

    mimi-uri     = "mimi://" domain [ "/" ]                 ; provider: domain
                 / "mimi://" domain "/" kind 1*( "/" part )
    kind         = "u" / "d" / "r" / "g" / "p" / "t"
        ; user, device, room, group, pseudonym, team; only a device takes more than one part

    domain       = a DNS name of two or more labels, IDNA 2008 with UTS 46 mapping; stored as
                   lower-case A-labels; no port, userinfo, IP address, escape or final dot
    part         = 1*( unreserved / pct-encoded / sub-delims / ":" / "@" / UCS )
        ; except the characters its form gives meaning: "/" everywhere; "@" and "=" in
        ; im: bodies (an "=" only ends the tag); "," in IRC targets

Rules every form shares:

- No query, fragment, whitespace, control or invisible formatting character, bad escape or
  ``%00``; escapes must decode to UTF-8. A ``#`` must be written ``%23`` (RFC 3986 makes a
  literal one start the fragment, which is why the seed's ``im:wxyz=#projectX@...`` fails).
- A domain is always explicit (``@local.invalid`` when there is none); nothing is inferred.
- A part is never empty, ``.`` or ``..``; the first alternative that matches decides the type,
  so a user id that starts with ``$`` is written ``%24``.
- Parts are stored percent-decoded and without sigils. Equality is equality of the value:
  scheme, tag and domain are case-insensitive, parts are compared exactly (base64url ids are
  never case-folded), escapes of characters without meaning equal the characters themselves
  (``%7E`` is ``~``), while a character that has meaning where it stands differs from its
  escape (``a/b`` is a device, ``a%2Fb`` a user).
- The canonical form writes the sigils as the seed does and percent-encodes, with upper-case
  hex, every character of a part outside RFC 3986's unreserved set.
"""

from __future__ import annotations

import functools
import json
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import ClassVar, Literal
from urllib.parse import quote, unquote_to_bytes

import idna

MAX_LENGTH = 2048

__all__ = [
    "MAX_LENGTH",
    "IdType",
    "IdentifierError",
    "ImId",
    "convert",
    "from_native",
    "normalize",
    "normalize_domain",
    "parse",
    "serialise",
]


class IdentifierError(ValueError):
    """A text is not a valid IM identifier, or a value cannot be written in the form asked."""

    code: ClassVar[str] = "bad_identifier"
    exit_code: ClassVar[int] = 1

    def __init__(self, message: str) -> None:
        # Messages quote user input; keep them printable on any terminal.
        message = message.encode("ascii", "backslashreplace").decode("ascii")
        super().__init__(message)
        self.message = message


class IdType(StrEnum):
    """What an identifier names (the seed's types, plus MIMI's rooms and pseudonyms)."""

    DOMAIN = "domain"
    HANDLE = "handle"
    USER = "user"
    DEVICE = "device"
    CHANNEL = "channel"
    TEAM = "team"
    TEAM_CHANNEL = "team_channel"
    GROUP = "group"
    ROOM = "room"
    PSEUDONYM = "pseudonym"


# --------------------------------------------------------------------------------------------
# The value


@dataclass(frozen=True, slots=True)
class ImId:
    """One IM identifier, normalised, so that ``==`` is identifier equality.

    ``parts`` are percent-decoded and carry no sigils: a device has (user, device), a team
    channel (team, channel), a domain none. ``domain`` is always explicit. Building a value
    directly checks it and normalises ``type`` and ``domain``, so every value can be written
    out and parsed back unchanged.
    """

    scheme: str
    protocol: str | None
    type: IdType
    parts: tuple[str, ...]
    domain: str
    #: The canonical form, written once when the value is built (reports print it often).
    _text: str = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        try:  # a member as it is (calling the enum costs more than the rest here)
            kind = self.type if type(self.type) is IdType else IdType(self.type)
        except ValueError:
            raise IdentifierError(f"unknown identifier type {_show(str(self.type))}.") from None
        object.__setattr__(self, "type", kind)
        if isinstance(self.scheme, str):
            object.__setattr__(self, "scheme", self.scheme.lower())
        if isinstance(self.protocol, str):
            object.__setattr__(self, "protocol", self.protocol.lower())
        object.__setattr__(self, "domain", normalize_domain(self.domain))
        if (kind is IdType.DOMAIN and self.scheme == "im" and self.protocol not in ("xmpp", "irc")
                and "." not in self.domain):
            # Untagged "im:alice" reads as a forgotten "@domain", never as the domain "alice".
            raise IdentifierError(f"the domain identifier {_show(self.domain)} has a single "
                                  "label; an im: domain identifier is a full domain name.")
        form = _form_of(self.scheme, self.protocol)
        form.check(self)
        text = form.write(self)
        if len(text) > MAX_LENGTH:
            raise IdentifierError(f"the identifier is {len(text)} characters long once "
                                  f"normalised; at most {MAX_LENGTH} are allowed.")
        object.__setattr__(self, "_text", text)

    def __str__(self) -> str:
        return self._text

    def user(self) -> ImId:
        """The user (an XMPP bare JID: the handle) whose device this is.

        Raises :class:`IdentifierError` when this is not a device, or is a device that
        names no user: a ``mimi://`` device names its user only with exactly two path
        segments (``/d/alice/laptop``); ``/d/laptop`` names none. :meth:`owner` says None
        for those instead.
        """
        owner = self.owner()
        if owner is None:
            raise IdentifierError(f"the device {serialise(self)} names no user: a mimi:// "
                                  "device names its user only with exactly two path "
                                  f"segments, and it has {len(self.parts)}.")
        return owner

    def owner(self) -> ImId | None:
        """The user of this device, or None when the device names no user.

        Trust that runs through a user (a web of trust, well-known statements, a user
        issuing for its own devices) can never reach such a device. Raises
        :class:`IdentifierError` when this is not a device at all.
        """
        if self.type is not IdType.DEVICE:
            raise IdentifierError(f"a {self.type.value} identifier is not a device, so it has "
                                  "no user.")
        return _owner(self)

    def in_domain(self, domain: str) -> bool:
        """Whether the identifier's domain is exactly ``domain`` (never a subdomain of it)."""
        return self.domain == normalize_domain(domain)

    def same_domain(self, other: ImId) -> bool:
        """Whether both identifiers have the same domain."""
        return self.domain == other.domain

    def to_json(self) -> dict[str, object]:
        """The object ``vc-im uri parse --json`` prints."""
        return {
            "scheme": self.scheme,
            "protocol": self.protocol,
            "type": self.type.value,
            "parts": list(self.parts),
            "domain": self.domain,
            "normalized": serialise(self),
        }


# --------------------------------------------------------------------------------------------
# Public functions


def _owner(device: ImId) -> ImId | None:
    """:meth:`ImId.owner` of a device: its user, built once per user (the trust checks ask
    for every device of every user)."""
    if len(device.parts) != 2:
        return None
    return _user(device.scheme, device.protocol, device.parts[0], device.domain)


@functools.lru_cache(maxsize=4096)
def _user(scheme: str, protocol: str | None, user: str, domain: str) -> ImId:
    kind = IdType.HANDLE if protocol == "xmpp" else IdType.USER
    return ImId(scheme, protocol, kind, (user,), domain)


#: Identifiers parsed so far, by their text: a handle or a device named in many credentials
#: and presentations is parsed once. Values are frozen; errors are never kept.
_PARSED: dict[str, ImId] = {}
_MAX_PARSED = 4096


def parse(text: str) -> ImId:
    """Parse an ``im:`` or ``mimi://`` identifier; :class:`IdentifierError` says what is wrong."""
    if type(text) is not str:
        return parse_uncached(text)
    value = _PARSED.get(text)
    if value is None:  # this module stands alone (a test pins it): its own bounded memo
        value = parse_uncached(text)
        if len(_PARSED) >= _MAX_PARSED:
            _PARSED.clear()
        _PARSED[text] = value
    return value


def parse_uncached(text: str) -> ImId:
    """:func:`parse` without its cache: every rule, every time (the reference a test holds
    the cache to)."""
    _check_text(text)
    match = _SCHEME.match(text)
    if match is None:
        if "@" in text:
            raise IdentifierError('this is not a URI: a bare JID or an email address converts '
                                  'with "vc-im uri convert --from xmpp" or "--from email".')
        raise IdentifierError('this is not an IM identifier: it starts with neither "im:" nor '
                              '"mimi://".')
    scheme, rest = match.group(1).lower(), text[match.end():]
    if scheme not in ("im", "mimi"):
        raise _scheme_error(scheme)
    _check_uri_text(text)
    if scheme == "mimi":
        return ImId("mimi", None, *_MIMI.read(rest))
    return _parse_im(rest)


def normalize(text: str) -> str:
    """The canonical form of an identifier."""
    return serialise(parse(text))


def serialise(value: ImId) -> str:
    """Write ``value`` in its one canonical form."""
    return value._text


def convert(value: ImId, to: Literal["im", "mimi"]) -> ImId:
    """Map between the seed's ``im:`` forms and the ``mimi://`` forms (draft-mahy-mimi-identity-03).

    ``im:`` protocol tags have no ``mimi://`` form and are dropped, and ``to="im"`` writes
    untagged forms, except for IRC, whose identifiers belong to a server. The handle sigil
    does not survive a round trip: ``/u/`` converts back to a user.
    """
    if to == "mimi":
        if value.scheme == "mimi":
            return value
        target = _IM_TO_MIMI.get(value.type)
        if target is None:
            raise IdentifierError(f"a {_TYPE_NAMES[value.type]} has no mimi:// form.")
        return ImId("mimi", None, target, value.parts, value.domain)
    if to == "im":
        if value.scheme == "im":
            if value.protocol in (None, "irc"):
                return value
            return ImId("im", None, value.type, value.parts, value.domain)
        target = _MIMI_TO_IM.get(value.type)
        if target is None:
            raise IdentifierError(f"a {_TYPE_NAMES[value.type]} has no im: form.")
        if value.type is IdType.DEVICE and len(value.parts) != 2:
            raise IdentifierError("a mimi:// device converts to im: only when it has exactly a "
                                  f"user and a device segment, and this one has "
                                  f"{len(value.parts)}.")
        return ImId("im", None, target, value.parts, value.domain)
    raise IdentifierError(f'cannot convert to {_show(str(to))}: write "im" or "mimi".')


def from_native(text: str, protocol: Literal["xmpp", "sip", "irc", "wire", "email", "matrix",
                                            "uri"]) -> ImId:
    """Read a protocol's own form of an identifier (the seed's tables) as an ``im:`` value.

    XMPP bare and full JIDs, SIP addresses of record, email addresses, Wire ids and Matrix
    ids give untagged values; IRC URLs give ``im:irc=`` values, since IRC names belong to a
    server; any other ``scheme:`` URI gives ``im:scheme=`` (Figure 1; see
    :mod:`vc_im.protocols`).
    """
    reader = _NATIVE_READERS.get(protocol)
    if reader is None and protocol in ("matrix", "uri"):
        from vc_im import protocols  # reads identifiers; loaded only when asked for

        reader = protocols.from_matrix if protocol == "matrix" else protocols.from_uri
    if reader is None:
        raise IdentifierError(f"cannot read {_show(str(protocol))} identifiers: the protocols "
                              "are xmpp, sip, irc, wire, email, matrix and uri.")
    _check_text(text)
    return reader(text)


def normalize_domain(domain: str) -> str:
    """A domain as identifiers store it: IDNA A-labels, lower-case."""
    if not isinstance(domain, str):
        raise IdentifierError("a domain must be a string.")
    return _normalize_domain(domain)


# --------------------------------------------------------------------------------------------
# Characters, escapes, parts

_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")
_TAG = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*")
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")
# ASCII that RFC 3986 allows nowhere in a URI (space, controls, "#" and "?" are reported apart).
_NOT_IN_URI = frozenset('"<>\\^`{|}[]')
_NATIVE_SCHEMES = {"sip": "sip", "sips": "sip", "xmpp": "xmpp", "irc": "irc", "ircs": "irc",
                   "wireapp": "wire", "mailto": "email"}


def _show(text: str, limit: int = 40) -> str:
    """Quote user text for a message: shortened, and ASCII only."""
    return json.dumps(text if len(text) <= limit else text[:limit] + "...")


def _char_problem(char: str) -> str | None:
    """What is wrong with a character no identifier may contain, or None."""
    category = unicodedata.category(char)
    if char.isspace() or category in ("Zs", "Zl", "Zp"):
        return "whitespace"
    if category == "Cc":
        return "a control character"
    if category == "Cf":
        return "an invisible formatting character"
    if category == "Cs":
        return "a lone surrogate, which is not a Unicode character"
    return None


def _check_chars(text: str, *, decoded: bool = False, what: str = "the identifier") -> None:
    if text.isascii() and text.isprintable() and " " not in text:
        return
    for index, char in enumerate(text):
        problem = _char_problem(char)
        if problem is not None:
            if decoded:
                raise IdentifierError(f"{what} encodes {problem} (U+{ord(char):04X}).")
            raise IdentifierError(f"{what} contains {problem} (U+{ord(char):04X}) at "
                                  f"character {index + 1}.")


def _check_text(text: str) -> None:
    """Checks that hold for every input: a non-empty string, not too long, no invisible text."""
    if not isinstance(text, str):
        raise IdentifierError("an identifier must be a string.")
    if not text:
        raise IdentifierError("the identifier is empty.")
    if len(text) > MAX_LENGTH:
        raise IdentifierError(f"the identifier is {len(text)} characters long; at most "
                              f"{MAX_LENGTH} are allowed.")
    _check_chars(text)


def _check_uri_text(text: str) -> None:
    """Checks for URIs: no fragment, no query, well-formed escapes, no ``%00``."""
    index = text.find("#")
    if index >= 0:
        raise IdentifierError(f'"#" at character {index + 1} starts a URI fragment: write "%23" '
                              'for a "#" inside an identifier (a channel is "%23name").')
    index = text.find("?")
    if index >= 0:
        raise IdentifierError(f'"?" at character {index + 1} starts a query, which identifiers '
                              'do not have: write "%3F" for a "?" inside a part.')
    bad = _BAD_ESCAPE.search(text)
    if bad is not None:
        raise IdentifierError(f'"%" at character {bad.start() + 1} does not start an escape of '
                              'two hex digits: write "%25" for a "%" inside a part.')
    nul = text.find("%00")
    if nul >= 0:
        raise IdentifierError(f'"%00" at character {nul + 1} encodes a NUL byte, which no '
                              'identifier may contain.')


def _scheme_error(scheme: str) -> IdentifierError:
    native = _NATIVE_SCHEMES.get(scheme)
    if native is not None:
        return IdentifierError(f'"{scheme}:" is a protocol\'s native form, not an IM '
                               f'identifier: read it with "vc-im uri convert --from {native}".')
    return IdentifierError(f"unknown scheme {_show(scheme)}: an IM identifier starts with "
                           '"im:" or "mimi://".')


def _decode(raw: str, label: str, forbidden: Mapping[str, str] | None = None) -> str:
    """One part: checked, percent-decoded. ``forbidden`` maps a literal to what to do instead."""
    if not raw:
        raise IdentifierError(f"{label} is empty.")
    clean = _NOT_IN_URI.isdisjoint(raw) and (not forbidden or forbidden.keys().isdisjoint(raw))
    for char in "" if clean else raw:  # looked at one by one only to say which comes first
        if forbidden and char in forbidden:
            raise IdentifierError(f'{label} contains a literal "{char}": {forbidden[char]}.')
        if char in _NOT_IN_URI:
            raise IdentifierError(f'"{char}" is not allowed in a URI: write '
                                  f'"%{ord(char):02X}".')
    try:
        text = unquote_to_bytes(raw).decode("utf-8")
    except UnicodeDecodeError:
        raise IdentifierError(f"{label} has percent-escapes that are not UTF-8.") from None
    _check_chars(text, decoded=True)
    return text


def _encode(part: str) -> str:
    """Percent-encode everything outside RFC 3986's unreserved set, with upper-case hex."""
    return quote(part, safe="")


# In im: bodies a literal "=" can only end the protocol tag.
_IM_FORBIDDEN = {"=": 'only the protocol tag is followed by "=", so write "%3D" inside a part'}


def _split_one(raw: str, label: str) -> tuple[str, str]:
    """Split ``a/b`` where exactly one literal "/" is allowed."""
    if raw.count("/") != 1:
        raise IdentifierError(f'{label} has more than one literal "/": write "%2F" for a "/" '
                              "inside a part.")
    first, _, second = raw.partition("/")
    return first, second


def _no_slash(raw: str, label: str) -> str:
    if "/" in raw:
        raise IdentifierError(f'{label} contains a literal "/", which only separates a user '
                              'from a device (or a team from a channel): write "%2F" inside a '
                              "part.")
    return raw


@functools.lru_cache(maxsize=4096)
def _normalize_domain(domain: str) -> str:
    if not domain:
        raise IdentifierError("the domain is empty.")
    if domain.startswith("["):
        raise IdentifierError("an IP address is not a domain: identifiers name a DNS domain.")
    _check_chars(domain, what="the domain")
    for char, problem in ((":", "a port"), ("@", "userinfo"), ("/", "a path"),
                          ("%", "percent-escapes")):
        if char in domain:
            raise IdentifierError(f"the domain {_show(domain)} contains {problem} "
                                  f'("{char}"), which a domain cannot have.')
    try:
        alabels = idna.encode(domain, uts46=True).decode("ascii").lower()
    except idna.IDNAError as exc:
        reason = str(exc).rstrip(".")
        raise IdentifierError(f"{_show(domain)} is not a valid domain name "
                              f"({_show(reason, 80)}).") from exc
    if alabels.endswith("."):
        raise IdentifierError(f"the domain {_show(domain)} ends with a dot: write it without.")
    # A single label ("localhost", the contract's "x") is a domain too; only a body with no
    # "@" must look like a full domain name to be read as one (see _read_generic).
    labels = alabels.split(".")
    if labels[-1].isdigit():
        raise IdentifierError(f"{_show(domain)} looks like an IP address, which is not a "
                              "domain.")
    return alabels


_NO_DOMAIN = ('the identifier names no domain: end it with "@" and a domain ("@local.invalid" '
              "when there is none).")


def _parse_host(host: str, missing: str = _NO_DOMAIN) -> str:
    if not host:
        raise IdentifierError(missing)
    return normalize_domain(host)


# --------------------------------------------------------------------------------------------
# Forms: how each scheme / protocol tag is read, written and checked


_Parsed = tuple[IdType, tuple[str, ...], str]


@dataclass(frozen=True, slots=True)
class _Form:
    """One syntax: its name in messages, its types and part counts, its reader and writer."""

    name: str
    arity: Mapping[IdType, tuple[int, int | None]]
    read: Callable[[str], _Parsed]
    write: Callable[[ImId], str]
    rules: Callable[[IdType, tuple[str, ...]], None]

    def check(self, value: ImId) -> None:
        counts = self.arity.get(value.type)
        if counts is None:
            names = ", ".join(_TYPE_NAMES[kind] for kind in self.arity)
            raise IdentifierError(f"{self.name} identifier cannot be a "
                                  f"{_TYPE_NAMES[value.type]}: it is one of {names}.")
        if not isinstance(value.parts, tuple) or not all(isinstance(p, str)
                                                         for p in value.parts):
            raise IdentifierError("the parts of an identifier must be a tuple of strings.")
        low, high = counts
        count = len(value.parts)
        if count < low or (high is not None and count > high):
            expected = _COUNTS[low] + (" or more" if high is None else "")
            hint = ': write "%2F" for a "/" inside a part' if high and count > high else ""
            raise IdentifierError(f"{self.name} {_TYPE_NAMES[value.type]} has {expected} "
                                  f"part{'' if expected == 'one' else 's'}, not {count}{hint}.")
        for part in value.parts:
            if not part:
                raise IdentifierError(f"{self.name} identifier has an empty part.")
            if part in (".", ".."):
                raise IdentifierError(f'a part cannot be "{part}", which URI processing '
                                      "would remove.")
            _check_chars(part, decoded=True)
        self.rules(value.type, value.parts)


_TYPE_NAMES = {
    IdType.DOMAIN: "domain", IdType.HANDLE: "handle", IdType.USER: "user",
    IdType.DEVICE: "device", IdType.CHANNEL: "channel", IdType.TEAM: "team",
    IdType.TEAM_CHANNEL: "team channel", IdType.GROUP: "group", IdType.ROOM: "room",
    IdType.PSEUDONYM: "pseudonym",
}
_ONE: tuple[int, int | None] = (1, 1)
_COUNTS = {0: "no", 1: "one", 2: "two"}


def _parse_im(rest: str) -> ImId:
    if not rest:
        raise IdentifierError('nothing follows "im:".')
    if rest.startswith("//"):
        raise IdentifierError('"im:" is not followed by "//": write im:user@domain (the "//" '
                              "form is mimi://).")
    tag: str | None = None
    head, equals, body = rest.partition("=")
    if equals and _TAG.fullmatch(head):
        tag = head.lower()
        if not body:
            raise IdentifierError(f'nothing follows "im:{tag}=".')
    else:
        body = rest
    body, stated = _split_id_type(body)
    form = _form_of("im", tag)
    if stated is not None and form is _GENERIC:
        kind, parts, domain = _read_generic(body, stated)
    else:
        kind, parts, domain = form.read(body)
    if stated is not None and stated is not kind:
        raise IdentifierError(f'";id-type={stated.value}" contradicts the identifier\'s own '
                              f"form, which makes it a {_TYPE_NAMES[kind]}: drop the parameter "
                              "or the marker.")
    return ImId("im", tag, kind, parts, domain)


_ID_TYPE = ";id-type="


def _split_id_type(body: str) -> tuple[str, IdType | None]:
    """The body without its ``;id-type=TYPE`` parameter, and the type it states.

    The draft names the parameter without defining it; vc_im's definition: at most one, at the
    very end, its value one of the type names ``uri parse`` prints (any case).
    """
    index = body.lower().rfind(_ID_TYPE)
    if index < 0:
        return body, None
    head, value = body[:index], body[index + len(_ID_TYPE):]
    if _ID_TYPE in head.lower():
        raise IdentifierError('";id-type=" is given more than once.')
    if "@" in value or "/" in value:
        raise IdentifierError('";id-type=" comes last, after the domain.')
    if ";" in head.rpartition("@")[2] or ";" in value:
        raise IdentifierError('";id-type=" is the only parameter an im: URI takes, and it '
                              "comes last.")
    try:
        stated = IdType(value.lower())
    except ValueError:
        names = ", ".join(kind.value for kind in IdType)
        raise IdentifierError(f"{_show(value)} is not an identifier type: \";id-type=\" names "
                              f"one of {names}.") from None
    if not head:
        raise IdentifierError('nothing comes before ";id-type=".')
    return head, stated


# ---- untagged im: and "wxyz"-style tags


_GENERIC_SIGILS = {IdType.HANDLE: "%40", IdType.USER: "", IdType.DEVICE: "",
                   IdType.CHANNEL: "%23", IdType.TEAM: "%23%23", IdType.TEAM_CHANNEL: "%23%23",
                   IdType.GROUP: "$"}


def _read_generic(body: str, stated: IdType | None = None) -> _Parsed:
    """Read an untagged (or "wxyz"-style) body; ``stated`` is the type an ``;id-type=``
    parameter gives a local part that carries no marker of its own."""
    local, at, host = body.rpartition("@")
    if not at:
        if "." not in body or any(char in body for char in "/%$"):
            raise IdentifierError(_NO_DOMAIN)
        return IdType.DOMAIN, (), _parse_host(body)
    if "@" in local:
        raise IdentifierError('the identifier has more than one literal "@": write "%40" for '
                              'an "@" inside a part (a leading "%40" marks a handle).')
    domain = _parse_host(host)
    if not local:
        raise IdentifierError('nothing comes before "@": an identifier names something in '
                              "its domain.")
    kind, raws = _classify_generic(local)
    if stated is not None and kind is IdType.USER and stated is not IdType.USER:
        # No marker: the parameter types the local part, which stays one part.
        if stated not in _GENERIC.arity or stated is IdType.DOMAIN:
            raise IdentifierError(f'";id-type={stated.value}": an im: identifier with a '
                                  f"local part cannot be a {_TYPE_NAMES[stated]}.")
        if _GENERIC.arity[stated][0] != 1:
            raise IdentifierError(f"a {_TYPE_NAMES[stated]} has two parts, which only its "
                                  'marker and "/" can write.')
        kind = stated
    labels = _PART_LABELS[kind]
    parts = tuple(_decode(raw, label, _IM_FORBIDDEN) for raw, label in zip(raws, labels,
                                                                           strict=True))
    return kind, parts, domain


def _classify_generic(local: str) -> tuple[IdType, tuple[str, ...]]:
    """The type, from the still-encoded local part, and the raw parts."""
    if local.startswith("%40"):
        return IdType.HANDLE, (_no_slash(local[3:], "the handle"),)
    if local.startswith("%23%23"):
        rest = local[6:]
        if "/" in rest:
            return IdType.TEAM_CHANNEL, _split_one(rest, "a team channel")
        return IdType.TEAM, (rest,)
    if local.startswith("%23"):
        return IdType.CHANNEL, (_no_slash(local[3:], "the channel name"),)
    if local.startswith("$"):
        return IdType.GROUP, (_no_slash(local[1:], "the group id"),)
    if "/" in local:
        return IdType.DEVICE, _split_one(local, "a device identifier")
    return IdType.USER, (local,)


def _write_generic(value: ImId) -> str:
    tag = f"{value.protocol}=" if value.protocol else ""
    if value.type is IdType.DOMAIN:
        return f"im:{tag}{value.domain}"
    local = _GENERIC_SIGILS[value.type] + "/".join(_encode(part) for part in value.parts)
    return f"im:{tag}{local}@{value.domain}"


def _generic_rules(kind: IdType, parts: tuple[str, ...]) -> None:
    # The sigils are written escaped, so a user id cannot start with an escaped sigil.
    if kind in (IdType.USER, IdType.DEVICE) and parts[0][:1] in ("@", "#"):
        raise IdentifierError(f'an im: user id cannot start with "{parts[0][0]}": written '
                              f'"%{ord(parts[0][0]):02X}", it would mark a handle or a channel.')
    if kind is IdType.CHANNEL and parts[0].startswith("#"):
        raise IdentifierError('an im: channel name cannot start with "#": "%23%23" marks a '
                              "team.")


_PART_LABELS: dict[IdType, tuple[str, ...]] = {
    IdType.HANDLE: ("the handle",), IdType.USER: ("the user id",),
    IdType.DEVICE: ("the user id", "the device id"), IdType.CHANNEL: ("the channel name",),
    IdType.TEAM: ("the team name",), IdType.TEAM_CHANNEL: ("the team name", "the channel name"),
    IdType.GROUP: ("the group id",), IdType.ROOM: ("the room id",),
    IdType.PSEUDONYM: ("the pseudonym",),
}

# ---- im:xmpp=

_XMPP_LOCAL_EXCLUDED = "\"&'/:<>@"  # RFC 7622 section 3.3.1


def _read_xmpp(body: str) -> _Parsed:
    local, at, host = body.rpartition("@")
    if not at:
        if "/" in body or "%" in body:
            raise IdentifierError('the JID names no domain: write it as local@domain or '
                                  "local/resource@domain.")
        return IdType.DOMAIN, (), _parse_host(body)
    if "@" in local:
        raise IdentifierError('the JID has more than one literal "@": write "%40" for an "@" '
                              "inside its resource.")
    domain = _parse_host(host)
    if "/" in local:
        user, resource = _split_one(local, "a full JID")
        return IdType.DEVICE, (_decode(user, "the localpart", _IM_FORBIDDEN),
                               _decode(resource, "the resource", _IM_FORBIDDEN)), domain
    return IdType.HANDLE, (_decode(local, "the localpart", _IM_FORBIDDEN),), domain


def _write_xmpp(value: ImId) -> str:
    if value.type is IdType.DOMAIN:
        return f"im:xmpp={value.domain}"
    return "im:xmpp=" + "/".join(_encode(part) for part in value.parts) + f"@{value.domain}"


def _xmpp_rules(kind: IdType, parts: tuple[str, ...]) -> None:
    if parts:
        _check_xmpp_localpart(parts[0])


def _check_xmpp_localpart(local: str) -> None:
    for char in _XMPP_LOCAL_EXCLUDED:
        if char in local:
            raise IdentifierError(f'an XMPP localpart cannot contain "{char}" (RFC 7622).')


# ---- im:irc=

_IRC_FLAGS = {"isuser": IdType.USER, "isnick": IdType.USER, "ischannel": IdType.CHANNEL}
_IRC_CHANNEL_PREFIXES = "&+!"  # kept in the part; "#" is the sigil and is not


def _read_irc(body: str) -> _Parsed:
    server, slash, target = body.partition("/")
    domain = _parse_host(server)
    if not slash:
        return IdType.DOMAIN, (), domain
    if not target:
        raise IdentifierError('the IRC target after "/" is empty.')
    raw, comma, flag = target.partition(",")
    if comma and flag.lower() not in _IRC_FLAGS:
        raise IdentifierError(f'unknown IRC flag {_show(flag)}: write ",isuser" or '
                              '",ischannel" after the target.')
    name = _decode(_no_slash(raw, "the IRC target"), "the IRC target", _IM_FORBIDDEN)
    if comma and _IRC_FLAGS[flag.lower()] is IdType.USER:
        nick, bang, user = name.partition("!")
        if bang:
            # "nick!user": the seed's user identifier is the "!user" part; the nick is a handle.
            if not user:
                raise IdentifierError('the IRC user after "!" is empty.')
            return IdType.USER, (user,), domain
        return IdType.HANDLE, (nick,), domain
    # A channel: with ",ischannel", or without a flag as IRC URLs read a bare target.
    if name.startswith("#"):
        channel = name[1:]
        if not channel:
            raise IdentifierError('the IRC channel name after "#" is empty.')
        if channel[0] in _IRC_CHANNEL_PREFIXES:
            raise IdentifierError(f'an IRC channel name cannot start with "#{channel[0]}": it '
                                  f'could not be told apart from the "{channel[0]}" channel.')
        return IdType.CHANNEL, (channel,), domain
    return IdType.CHANNEL, (name,), domain


def _write_irc(value: ImId) -> str:
    head = f"im:irc={value.domain}"
    if value.type is IdType.DOMAIN:
        return head
    part = _encode(value.parts[0])
    if value.type is IdType.HANDLE:
        return f"{head}/{part},isuser"
    if value.type is IdType.USER:
        return f"{head}/%21{part},isuser"
    if value.parts[0][0] in _IRC_CHANNEL_PREFIXES:
        return f"{head}/{part},ischannel"
    return f"{head}/%23{part},ischannel"


def _irc_rules(kind: IdType, parts: tuple[str, ...]) -> None:
    if kind is IdType.HANDLE and "!" in parts[0]:
        raise IdentifierError('an IRC nick cannot contain "!", which separates a nick from '
                              "a user.")


# ---- mimi://

_MIMI_KINDS = {"u": IdType.USER, "d": IdType.DEVICE, "r": IdType.ROOM, "g": IdType.GROUP,
               "p": IdType.PSEUDONYM, "t": IdType.TEAM}
_MIMI_LETTERS = {kind: letter for letter, kind in _MIMI_KINDS.items()}


def _read_mimi(rest: str) -> _Parsed:
    if not rest.startswith("//"):
        raise IdentifierError('a mimi URI starts with "mimi://".')
    authority, _, path = rest[2:].partition("/")
    if "@" in authority:
        raise IdentifierError("a mimi:// URI has no userinfo: the provider's domain follows "
                              '"mimi://".')
    domain = _parse_host(authority, 'a mimi:// URI names its provider\'s domain after "mimi://" '
                                    '("mimi://local.invalid" when there is none).')
    if not path:
        return IdType.DOMAIN, (), domain
    letter, _, tail = path.partition("/")
    kind = _MIMI_KINDS.get(letter)
    if kind is None:
        raise IdentifierError(f"{_show('/' + letter + '/')} is not a mimi:// identifier type: "
                              "the first path segment is one of u, d, r, g, p and t.")
    if not tail:
        raise IdentifierError(f'nothing follows "/{letter}/".')
    segments = tail.split("/")
    label = _PART_LABELS[kind][0] if kind is not IdType.DEVICE else "a device segment"
    return kind, tuple(_decode(segment, label) for segment in segments), domain


def _write_mimi(value: ImId) -> str:
    if value.type is IdType.DOMAIN:
        return f"mimi://{value.domain}"
    path = "/".join(_encode(part) for part in value.parts)
    return f"mimi://{value.domain}/{_MIMI_LETTERS[value.type]}/{path}"


def _no_rules(kind: IdType, parts: tuple[str, ...]) -> None:
    return None


_GENERIC = _Form(
    name="an im:",
    arity={IdType.DOMAIN: (0, 0), IdType.HANDLE: _ONE, IdType.USER: _ONE,
           IdType.DEVICE: (2, 2), IdType.CHANNEL: _ONE, IdType.TEAM: _ONE,
           IdType.TEAM_CHANNEL: (2, 2), IdType.GROUP: _ONE},
    read=_read_generic, write=_write_generic, rules=_generic_rules)
_XMPP = _Form(
    name="an im:xmpp=",
    arity={IdType.DOMAIN: (0, 0), IdType.HANDLE: _ONE, IdType.DEVICE: (2, 2)},
    read=_read_xmpp, write=_write_xmpp, rules=_xmpp_rules)
_IRC = _Form(
    name="an im:irc=",
    arity={IdType.DOMAIN: (0, 0), IdType.HANDLE: _ONE, IdType.USER: _ONE,
           IdType.CHANNEL: _ONE},
    read=_read_irc, write=_write_irc, rules=_irc_rules)
_MIMI = _Form(
    name="a mimi://",
    arity={IdType.DOMAIN: (0, 0), IdType.USER: _ONE, IdType.DEVICE: (1, None),
           IdType.ROOM: _ONE, IdType.GROUP: _ONE, IdType.PSEUDONYM: _ONE, IdType.TEAM: _ONE},
    read=_read_mimi, write=_write_mimi, rules=_no_rules)

# Tagged forms with a syntax of their own; every other tag ("wxyz", unknown protocols) uses the
# generic rules, keeping its tag.
_TAGGED_FORMS: Mapping[str, _Form] = {"xmpp": _XMPP, "irc": _IRC}


def _form_of(scheme: str, protocol: str | None) -> _Form:
    if scheme == "mimi":
        if protocol is not None:
            raise IdentifierError("a mimi:// identifier has no protocol tag.")
        return _MIMI
    if scheme != "im":
        raise IdentifierError(f'the scheme is "im" or "mimi", not {_show(str(scheme))}.')
    if protocol is None:
        return _GENERIC
    if not isinstance(protocol, str) or not _TAG.fullmatch(protocol) or protocol != \
            protocol.lower():
        raise IdentifierError(f"{_show(str(protocol))} is not a protocol tag: a lower-case "
                              "letter, then letters, digits, '+', '-' or '.'.")
    return _TAGGED_FORMS.get(protocol, _GENERIC)


# ---- conversion tables (draft-mahy-mimi-identity-03)

_IM_TO_MIMI = {IdType.DOMAIN: IdType.DOMAIN, IdType.HANDLE: IdType.USER,
               IdType.USER: IdType.USER, IdType.DEVICE: IdType.DEVICE,
               IdType.CHANNEL: IdType.ROOM, IdType.GROUP: IdType.GROUP,
               IdType.TEAM: IdType.TEAM}
_MIMI_TO_IM = {IdType.DOMAIN: IdType.DOMAIN, IdType.USER: IdType.USER,
               IdType.DEVICE: IdType.DEVICE, IdType.ROOM: IdType.CHANNEL,
               IdType.GROUP: IdType.GROUP, IdType.TEAM: IdType.TEAM}


# --------------------------------------------------------------------------------------------
# Protocol-native forms (the seed's tables 1 and 2)

# RFC 5322 dot-atom, with RFC 6531's UTF-8.
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~\-\u0080-\U0010FFFF]"


@functools.cache
def _dot_atom() -> re.Pattern[str]:
    """RFC 5322's dot-atom, compiled on first use: its class spans every non-ASCII code
    point, which takes ``re`` milliseconds to compile, and only email addresses need it."""
    return re.compile(rf"{_ATEXT}+(?:\.{_ATEXT}+)*")


def _untagged(kind: IdType, parts: tuple[str, ...], domain: str) -> ImId:
    return ImId("im", None, kind, parts, domain)


def _from_xmpp(text: str) -> ImId:
    if text[:5].lower() == "xmpp:":
        raise IdentifierError('give the JID itself, without "xmpp:".')
    bare, slash, resource = text.partition("/")  # RFC 7622 section 3.1
    local, at, host = bare.partition("@")
    if not at:
        local, host = "", bare
    domain = _parse_host(host)
    if at and not local:
        raise IdentifierError('the JID\'s localpart before "@" is empty.')
    if slash and not resource:
        raise IdentifierError('the JID\'s resource after "/" is empty.')
    if local:
        _check_xmpp_localpart(local)
    if local and resource:
        return _untagged(IdType.DEVICE, (local, resource), domain)
    if local:
        return _untagged(IdType.HANDLE, (local,), domain)
    if resource:
        raise IdentifierError("a JID with a resource but no localpart names a server "
                              "resource, not a user's device.")
    return _untagged(IdType.DOMAIN, (), domain)


def _from_sip(text: str) -> ImId:
    scheme, colon, rest = text.partition(":")
    if not colon or scheme.lower() not in ("sip", "sips"):
        raise IdentifierError('a SIP address of record starts with "sip:" or "sips:".')
    _check_uri_text(text)
    if ";" in rest:
        raise IdentifierError("an address of record has no URI parameters (\";...\").")
    user, at, host = rest.rpartition("@")
    if not at:
        raise IdentifierError('an address of record is "sip:user@domain", and this one has no '
                              "user.")
    if ":" in user:
        raise IdentifierError("an address of record carries no password.")
    domain = _parse_host(host)
    return _untagged(IdType.HANDLE, (_decode(user, "the SIP user", {"@": 'write "%40"'}),),
                     domain)


def _from_email(text: str) -> ImId:
    if text[:7].lower() == "mailto:":
        raise IdentifierError('give the address itself, without "mailto:".')
    local, at, host = text.rpartition("@")
    if not at:
        raise IdentifierError('an email address has an "@" before its domain.')
    if not local:
        raise IdentifierError('the email address has nothing before "@".')
    if not _dot_atom().fullmatch(local):
        raise IdentifierError("the email address's local part is not a dot-atom (quoted local "
                              "parts are not supported).")
    return _untagged(IdType.HANDLE, (local,), _parse_host(host))


def _from_irc(text: str) -> ImId:
    scheme, sep, rest = text.partition("://")
    if not sep or scheme.lower() not in ("irc", "ircs"):
        raise IdentifierError('an IRC URL starts with "irc://" or "ircs://".')
    _check_uri_text(text)
    server, _, target = rest.partition("/")
    kind, parts, domain = _read_irc(rest if target else server)
    return ImId("im", "irc", kind, parts, domain)


def _from_wire(text: str) -> ImId:
    if text[:10].lower() == "wireapp://":
        _check_uri_text(text)
        rest = text[10:]
        if "/" in rest:
            raise IdentifierError('a wireapp:// identifier has no path: write "%2F" for a "/".')
        userinfo, at, host = rest.rpartition("@")
        if not at:
            raise IdentifierError("the wireapp:// identifier names no domain.")
        domain = _parse_host(host)
        forbidden = {"@": 'write "%40"'}
        if userinfo.startswith("%40"):
            return _untagged(IdType.HANDLE, (_decode(userinfo[3:], "the handle", forbidden),),
                             domain)
        if "!" in userinfo:
            user, _, client = userinfo.partition("!")
            if "!" in client:
                raise IdentifierError('a Wire client id has one "!", between the user id and '
                                      "the client id.")
            return _untagged(IdType.DEVICE, (_decode(user, "the user id", forbidden),
                                             _decode(client, "the client id", forbidden)),
                             domain)
        return _untagged(IdType.USER, (_decode(userinfo, "the user id", forbidden),), domain)
    # The seed's qualified client id: "user:client@domain" (-00) or "user/client@domain" (-01).
    local, at, host = text.rpartition("@")
    if not at or not local:
        raise IdentifierError('a Wire id is "wireapp://user!client@domain" or a qualified '
                              'client id "user/client@domain".')
    domain = _parse_host(host)
    for separator in ("/", ":"):
        user, sep, client = local.partition(separator)
        if sep:
            if not user or not client:
                raise IdentifierError("the Wire user id or client id is empty.")
            return _untagged(IdType.DEVICE, (user, client), domain)
    return _untagged(IdType.USER, (local,), domain)


_NATIVE_READERS: Mapping[str, Callable[[str], ImId]] = {
    "xmpp": _from_xmpp, "sip": _from_sip, "irc": _from_irc, "wire": _from_wire,
    "email": _from_email,
}
