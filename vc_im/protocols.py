"""Other protocols' identifiers as IM identifiers, and back: Matrix, and any ``scheme:`` URI.

Two readers and two writers beside :func:`vc_im.identifiers.from_native`'s tables:

* Any URI ``scheme:rest`` is the IM identifier ``im:scheme=rest`` (the MIMI identity draft
  §3, Figure 1: ``wxyz:%40alice@example.com`` is ``im:wxyz=%40alice@example.com``), typed by
  the naming conventions (or an ``;id-type=`` parameter). A literal ``#`` in ``rest`` is
  written ``%23`` (the draft's own ``wxyz:#projectX@example.com`` would otherwise end in a
  fragment). A URI with an authority (``scheme://``) or a query has no such form, nor do the
  schemes vc_im reads with a protocol's own rules (``sip``, ``xmpp``, ``irc``, ``mailto``,
  ``wireapp``, ``matrix``). The reverse writes ``scheme:`` and the canonical body of an
  ``im:scheme=`` identifier, which reads back to the same value.
* Matrix (the Matrix specification's appendix "Identifier Grammar" and its ``matrix:`` URI
  scheme): a user ID ``@localpart:server`` is a user, a room alias ``#alias:server`` a channel
  (a room's external name) and a room ID ``!opaque:server`` a group (a room's internal id);
  ``matrix:u/...``, ``matrix:r/...`` and ``matrix:roomid/...`` name the same. Refused, each
  with its reason: events (``$event``, ``/e/``), a query (``?action=``, ``?via=``: what a
  client should do, not who), an authority (``matrix://``, reserved), a server name with a
  port or an IP address (an IM domain is a DNS name and nothing else, so ``example.org:8448``
  cannot be told apart from ``example.org``), and room IDs without a server (room version 12
  on). Writing back gives the sigil form; handles, devices and domains have no Matrix form.
"""

from __future__ import annotations

import re
from urllib.parse import unquote_to_bytes

from vc_im.identifiers import IdentifierError, IdType, ImId, convert, parse, serialise

__all__ = ["from_matrix", "from_uri", "to_matrix", "to_uri"]

#: Schemes read with a protocol's own rules (``uri convert --from ...``), or IM identifiers.
_OWN_RULES = {"sip": "sip", "sips": "sip", "xmpp": "xmpp", "irc": "irc", "ircs": "irc",
              "mailto": "email", "wireapp": "wire", "matrix": "matrix"}
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")

#: The Matrix specification's limit on user IDs, room aliases and room IDs, in UTF-8 bytes.
MATRIX_MAX_LENGTH = 255
_MATRIX_SIGILS = {"@": IdType.USER, "#": IdType.CHANNEL, "!": IdType.GROUP}
_MATRIX_NAMES = {IdType.USER: "user ID", IdType.CHANNEL: "room alias", IdType.GROUP: "room ID"}
_MATRIX_URI_KINDS = {"u": "@", "r": "#", "roomid": "!"}
_SIGIL_OF = {kind: sigil for sigil, kind in _MATRIX_SIGILS.items()}
# A user ID's localpart, historical grammar included: printable ASCII but ":".
_USER_LOCALPART = re.compile(r"[\x21-\x39\x3B-\x7E]+")
_PORT = re.compile(r":[0-9]*\Z")


def _show(text: str, limit: int = 40) -> str:
    shown = text if len(text) <= limit else text[:limit] + "..."
    return '"' + shown.encode("ascii", "backslashreplace").decode("ascii") + '"'


# --------------------------------------------------------------------------------------------
# Any URI (Figure 1)


def from_uri(text: str) -> ImId:
    """``scheme:rest`` as ``im:scheme=rest`` (the draft's Figure 1)."""
    if not isinstance(text, str):
        raise IdentifierError("an identifier must be a string.")
    match = _SCHEME.match(text)
    if match is None:
        raise IdentifierError('this is not a URI: it does not start with a scheme and ":".')
    scheme, rest = match.group(1).lower(), text[match.end():]
    if scheme in ("im", "mimi"):
        raise IdentifierError(f'"{scheme}:" is already an IM identifier: "vc-im uri normalize" '
                              "reads it.")
    if scheme in _OWN_RULES:
        raise IdentifierError(f'"{scheme}:" identifiers follow their protocol\'s own rules: '
                              f'read them with "--from {_OWN_RULES[scheme]}".')
    if rest.startswith("//"):
        raise IdentifierError(f'"{scheme}://" has an authority, like a web address: only a '
                              '"scheme:identifier" URI maps to an im: identifier.')
    if "?" in rest:
        raise IdentifierError("the URI has a query, which no IM identifier carries.")
    if not rest:
        raise IdentifierError(f'nothing follows "{scheme}:".')
    # The draft writes channels and teams with a literal "#", which im: escapes.
    return parse(f"im:{scheme}={rest.replace('#', '%23')}")


def to_uri(value: ImId) -> str:
    """An ``im:scheme=`` identifier as the ``scheme:`` URI it maps (the inverse of
    :func:`from_uri`)."""
    tag = value.protocol
    if value.scheme != "im" or tag is None:
        raise IdentifierError("only an im: identifier with a protocol tag (im:wxyz=...) is "
                              "another scheme's URI; this one names no protocol.")
    if tag in _OWN_RULES or tag in ("im", "mimi"):
        raise IdentifierError(f'"{tag}:" URIs follow their protocol\'s own rules, which '
                              f'"im:{tag}=" does not: vc_im does not write them.')
    canonical = serialise(value)
    return f"{tag}:{canonical[len(f'im:{tag}='):]}"


# --------------------------------------------------------------------------------------------
# Matrix


def from_matrix(text: str) -> ImId:
    """A Matrix user ID, room alias or room ID, or a ``matrix:`` URI naming one, as an
    untagged ``im:`` identifier (user, channel or group)."""
    if not isinstance(text, str):
        raise IdentifierError("an identifier must be a string.")
    if text[:7].lower() == "matrix:":
        text = _from_matrix_uri(text[7:])
    size = len(text.encode("utf-8", "replace"))
    if size > MATRIX_MAX_LENGTH:
        raise IdentifierError(f"the Matrix identifier is {size} bytes long; Matrix allows at "
                              f"most {MATRIX_MAX_LENGTH}.")
    sigil = text[:1]
    kind = _MATRIX_SIGILS.get(sigil)
    if kind is None:
        if sigil == "$":
            raise IdentifierError("an event ID names a message, which no IM identifier names.")
        raise IdentifierError('a Matrix identifier is "@user:server", "#alias:server", '
                              '"!room:server" or a matrix: URI.')
    name = _MATRIX_NAMES[kind]
    local, colon, server = text[1:].partition(":")
    if not colon:
        extra = (" (room IDs of room version 12 and later have none, and no im: form)"
                 if kind is IdType.GROUP else "")
        raise IdentifierError(f"the Matrix {name} names no server after \":\"{extra}.")
    if not local:
        raise IdentifierError(f"the Matrix {name} is empty before \":\".")
    if kind is IdType.USER and not _USER_LOCALPART.fullmatch(local):
        raise IdentifierError("a Matrix user ID's localpart is printable ASCII without spaces "
                              "or \":\".")
    if "\x00" in local:
        raise IdentifierError(f"the Matrix {name} contains a NUL character.")
    return ImId("im", None, kind, (local,), _server_domain(server))


def _from_matrix_uri(rest: str) -> str:
    """The sigil form a ``matrix:`` URI's path names."""
    if rest.startswith("//"):
        raise IdentifierError('"matrix://" (an authority) is reserved by the Matrix URI scheme '
                              'and names no identifier: write matrix:u/..., matrix:r/... or '
                              "matrix:roomid/....")
    if "?" in rest:
        raise IdentifierError("the matrix: URI has a query (?action=, ?via=), which asks a "
                              "client to act or says how to route, and no IM identifier "
                              "carries: drop it.")
    if "#" in rest:
        raise IdentifierError("the matrix: URI has a fragment, which no IM identifier carries.")
    segments = rest.split("/")
    sigil = _MATRIX_URI_KINDS.get(segments[0])
    if sigil is None:
        raise IdentifierError(f"{_show(segments[0])} is not a matrix: URI type: it is u (a "
                              "user), r (a room alias) or roomid (a room ID).")
    if len(segments) < 2 or not segments[1]:
        raise IdentifierError(f'nothing follows "matrix:{segments[0]}/".')
    if len(segments) > 2:
        if segments[2] == "e":
            raise IdentifierError("the matrix: URI names an event in the room (/e/...), which "
                                  "no IM identifier names.")
        raise IdentifierError("the matrix: URI has more path segments than a type and an "
                              "identifier.")
    try:
        return sigil + unquote_to_bytes(segments[1]).decode("utf-8")
    except UnicodeDecodeError:
        raise IdentifierError("the matrix: URI has percent-escapes that are not UTF-8.") from None


def _server_domain(server: str) -> str:
    """A Matrix server name as an IM domain: a DNS name, refusing a port or an IP address."""
    if not server:
        raise IdentifierError('the Matrix server name after ":" is empty.')
    if server.startswith("["):
        raise IdentifierError("the Matrix server name is an IP address; an IM identifier's "
                              "domain is a DNS name.")
    if _PORT.search(server):
        raise IdentifierError(f"the Matrix server name {_show(server)} carries a port; an IM "
                              "identifier's domain is a DNS name without one, so it could not "
                              "be told apart from the same server on its default port.")
    return server


def to_matrix(value: ImId) -> str:
    """A user, channel or group identifier as a Matrix user ID, room alias or room ID."""
    if value.scheme == "mimi":
        value = convert(value, "im")
    elif value.protocol not in (None, "matrix"):
        raise IdentifierError(f"an im:{value.protocol}= identifier belongs to another protocol "
                              "and has no Matrix form.")
    sigil = _SIGIL_OF.get(value.type)
    if sigil is None:
        reasons = {
            IdType.HANDLE: "a Matrix user ID is the account itself; write the user "
                           "(im:alice@example.org)",
            IdType.DEVICE: "Matrix names a device only beside its user, never in one "
                           "identifier",
            IdType.DOMAIN: "a Matrix server name is not an identifier with a sigil",
        }
        reason = reasons.get(value.type, "Matrix has no such identifier")
        raise IdentifierError(f"a {value.type.value.replace('_', ' ')} has no Matrix form: "
                              f"{reason}.")
    local = value.parts[0]
    if ":" in local:
        raise IdentifierError(f'{_show(local)} contains ":", which ends a Matrix identifier\'s '
                              "local part.")
    if value.type is IdType.USER and not _USER_LOCALPART.fullmatch(local):
        raise IdentifierError(f"{_show(local)} is not a Matrix user ID's localpart (printable "
                              "ASCII without spaces or \":\").")
    text = f"{sigil}{local}:{value.domain}"
    size = len(text.encode("utf-8", "replace"))
    if size > MATRIX_MAX_LENGTH:
        raise IdentifierError(f"the Matrix identifier would be {size} bytes long; Matrix "
                              f"allows at most {MATRIX_MAX_LENGTH}.")
    return text

