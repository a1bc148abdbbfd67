"""The explicit ``;id-type=`` parameter, any ``scheme:`` URI as ``im:scheme=`` (the draft's
Figure 1), and Matrix identifiers: read, typed, compared and written back."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.helpers.cli import run_cli, run_process
from tests.test_identifiers_properties import SETTINGS, values
from vc_im.identifiers import IdentifierError, IdType, ImId, from_native, normalize, parse
from vc_im.protocols import from_matrix, from_uri, to_matrix, to_uri


def _reject(call: object, *args: object) -> str:
    with pytest.raises(IdentifierError) as info:
        call(*args)  # type: ignore[operator]
    assert info.value.code == "bad_identifier"
    return info.value.message


# ---- ;id-type=


@pytest.mark.parametrize(("written", "marked"), [
    ("im:alice@example.com;id-type=handle", "im:%40alice@example.com"),
    ("im:projectX@example.com;id-type=channel", "im:%23projectX@example.com"),
    ("im:engineering@example.com;id-type=team", "im:%23%23engineering@example.com"),
    ("im:TII9t5viBrXiXc@example.com;id-type=group", "im:$TII9t5viBrXiXc@example.com"),
    ("im:BFuVxW5BfJc8R7Qw@example.com;id-type=user", "im:BFuVxW5BfJc8R7Qw@example.com"),
    ("im:wxyz=alice@example.com;ID-TYPE=Handle", "im:wxyz=%40alice@example.com"),
    ("im:example.com;id-type=domain", "im:example.com"),
    ("im:%40alice@example.com;id-type=handle", "im:%40alice@example.com"),
    ("im:a/b@example.com;id-type=device", "im:a/b@example.com"),
    ("im:xmpp=juliet@example.com;id-type=handle", "im:xmpp=juliet@example.com"),
])
def test_id_type_states_the_type_and_compares_equal_to_the_marker_form(
        written: str, marked: str) -> None:
    """The parameter types an unmarked local part; the value equals the marked spelling, and
    normalize writes the marker, never the parameter."""
    assert parse(written) == parse(marked)
    assert normalize(written) == marked


def test_the_handle_of_the_issue() -> None:
    """im:alice@example.com;id-type=handle is the handle alice."""
    value = parse("im:alice@example.com;id-type=handle")
    assert (value.type, value.parts, value.domain) == (IdType.HANDLE, ("alice",), "example.com")


@pytest.mark.parametrize(("text", "marker_type"), [
    ("im:%40alice@example.com;id-type=user", "handle"),
    ("im:%23projectX@example.com;id-type=handle", "channel"),
    ("im:%23%23engineering@example.com;id-type=channel", "team"),
    ("im:%23%23engineering/projX@example.com;id-type=team", "team channel"),
    ("im:$TII9t5viBrXiXc@example.com;id-type=user", "group"),
    ("im:SvPfLlwBQi-6oddVRrkqpw/04c7@example.com;id-type=user", "device"),
    ("im:example.com;id-type=handle", "domain"),
    ("im:xmpp=juliet/balcony@example.com;id-type=handle", "device"),
    ("im:irc=irc.example.com/%23projectX,ischannel;id-type=user", "channel"),
])
def test_an_id_type_that_contradicts_the_conventions_is_refused(text: str,
                                                                marker_type: str) -> None:
    """Where the identifier's own marker gives a type, a parameter naming another one is an
    error that names both."""
    stated = text.rpartition("=")[2]
    assert _reject(parse, text) == (
        f'";id-type={stated}" contradicts the identifier\'s own form, which makes it a '
        f"{marker_type}: drop the parameter or the marker.")


@pytest.mark.parametrize(("text", "message"), [
    ("im:alice@example.com;id-type=nick", '"nick" is not an identifier type: ";id-type=" names '
     "one of domain, handle, user, device, channel, team, team_channel, group, room, "
     "pseudonym."),
    ("im:alice;id-type=handle@example.com", '";id-type=" comes last, after the domain.'),
    ("im:alice@example.com;id-type=user;id-type=user", '";id-type=" is given more than once.'),
    ("im:alice@example.com;lang=en;id-type=user",
     '";id-type=" is the only parameter an im: URI takes, and it comes last.'),
    ("im:alice@example.com;id-type=room",
     '";id-type=room": an im: identifier with a local part cannot be a room.'),
    ("im:alice@example.com;id-type=device",
     'a device has two parts, which only its marker and "/" can write.'),
])
def test_malformed_id_type_parameters_are_refused(text: str, message: str) -> None:
    """An unknown type, a misplaced, repeated or foreign parameter each get their reason."""
    assert _reject(parse, text) == message


_PART = st.text(st.sampled_from("abcXYZ019-._~!&'()*+,:"), min_size=1,
                max_size=12).filter(lambda part: part not in (".", ".."))


@settings(max_examples=200, deadline=None)
@given(st.sampled_from([IdType.HANDLE, IdType.USER, IdType.CHANNEL, IdType.TEAM,
                        IdType.GROUP]), _PART, st.sampled_from([None, "wxyz"]))
def test_any_single_part_value_reads_back_from_its_parameter_form(
        kind: IdType, part: str, tag: str | None) -> None:
    """For every one-part generic value, its part written without a marker, followed by
    ;id-type=TYPE, parses to that value (and normalises to the marker form)."""
    value = ImId("im", tag, kind, (part,), "example.com")
    prefix = f"{tag}=" if tag else ""
    written = f"im:{prefix}{part}@example.com;id-type={kind.value}"
    assert parse(written) == value
    assert normalize(written) == str(value)


# ---- any scheme:rest URI (Figure 1)


@pytest.mark.parametrize(("native", "im", "kind"), [
    ("wxyz:example.com", "im:wxyz=example.com", IdType.DOMAIN),
    ("wxyz:%40alice@example.com", "im:wxyz=%40alice@example.com", IdType.HANDLE),
    ("wxyz:BFuVxW5BfqaMEfJDc8R7Qw/072b@example.com",
     "im:wxyz=BFuVxW5BfqaMEfJDc8R7Qw/072b@example.com", IdType.DEVICE),
    ("wxyz:#projectX@example.com", "im:wxyz=%23projectX@example.com", IdType.CHANNEL),
    ("wxyz:##engineering@example.com", "im:wxyz=%23%23engineering@example.com", IdType.TEAM),
    ("wxyz:$TII9t5viBrXiX@example.com", "im:wxyz=$TII9t5viBrXiX@example.com", IdType.GROUP),
    ("WXYZ:alice@example.com;id-type=handle", "im:wxyz=%40alice@example.com", IdType.HANDLE),
])
def test_figure_1_maps_each_wxyz_uri(native: str, im: str, kind: IdType) -> None:
    """Each of Figure 1's wxyz: URIs is its im:wxyz= line (a literal "#" escaped), and goes
    back to a wxyz: URI that reads to the same value."""
    value = from_native(native, "uri")
    assert (str(value), value.type) == (im, kind)
    assert from_uri(to_uri(value)) == value


@pytest.mark.parametrize(("text", "message"), [
    ("https://example.com/alice", '"https://" has an authority, like a web address: only a '
     '"scheme:identifier" URI maps to an im: identifier.'),
    ("sip:juliet@example.com", '"sip:" identifiers follow their protocol\'s own rules: read '
     'them with "--from sip".'),
    ("matrix:u/alice:example.org", '"matrix:" identifiers follow their protocol\'s own rules: '
     'read them with "--from matrix".'),
    ("im:alice@example.com", '"im:" is already an IM identifier: "vc-im uri normalize" reads '
     "it."),
    ("wxyz:alice@example.com?x=1", "the URI has a query, which no IM identifier carries."),
    ("alice@example.com", 'this is not a URI: it does not start with a scheme and ":".'),
])
def test_uris_without_a_figure_1_form_are_refused(text: str, message: str) -> None:
    """Web addresses, schemes with their own rules, IM identifiers and queries are refused."""
    assert _reject(from_uri, text) == message


@pytest.mark.parametrize(("text", "message"), [
    ("im:alice@example.com", "only an im: identifier with a protocol tag (im:wxyz=...) is "
     "another scheme's URI; this one names no protocol."),
    ("im:xmpp=juliet@example.com", '"xmpp:" URIs follow their protocol\'s own rules, which '
     '"im:xmpp=" does not: vc_im does not write them.'),
])
def test_to_uri_writes_only_what_reads_back(text: str, message: str) -> None:
    """An untagged identifier has no scheme; a tag with its own syntax is not written."""
    assert _reject(to_uri, parse(text)) == message


@SETTINGS
@given(values())
def test_to_uri_reads_back_to_the_same_value(value: ImId) -> None:
    """Whatever to_uri writes, from_uri reads back to the very same identifier."""
    try:
        text = to_uri(value)
    except IdentifierError:
        assert value.scheme != "im" or value.protocol in (
            None, "xmpp", "irc", "ircs", "sip", "sips", "mailto", "wireapp", "matrix", "im",
            "mimi")
        return
    assert from_uri(text) == value


# ---- Matrix


@pytest.mark.parametrize(("matrix", "im", "back"), [
    ("@alice:example.org", "im:alice@example.org", "@alice:example.org"),
    ("#lobby:example.org", "im:%23lobby@example.org", "#lobby:example.org"),
    ("!OGEhHVWSdvArJzumhm:matrix.org", "im:$OGEhHVWSdvArJzumhm@matrix.org",
     "!OGEhHVWSdvArJzumhm:matrix.org"),
    ("matrix:u/alice:example.org", "im:alice@example.org", "@alice:example.org"),
    ("MATRIX:r/lobby:example.org", "im:%23lobby@example.org", "#lobby:example.org"),
    ("matrix:roomid/OGEhHVWSdvArJzumhm:matrix.org", "im:$OGEhHVWSdvArJzumhm@matrix.org",
     "!OGEhHVWSdvArJzumhm:matrix.org"),
    ("matrix:u/bob%2Fwork:example.org", "im:bob%2Fwork@example.org", "@bob/work:example.org"),
    ("@Alice:Example.ORG", "im:Alice@example.org", "@Alice:example.org"),
])
def test_matrix_identifiers_convert_and_back(matrix: str, im: str, back: str) -> None:
    """User IDs are users, room aliases channels, room IDs groups; the way back is the sigil
    form (localparts keep their case, server names are lower-cased like every IM domain)."""
    value = from_native(matrix, "matrix")
    assert str(value) == im
    assert to_matrix(value) == back
    assert from_matrix(back) == value


@pytest.mark.parametrize(("text", "message"), [
    ("@alice:example.org:8448", 'the Matrix server name "example.org:8448" carries a port; an '
     "IM identifier's domain is a DNS name without one, so it could not be told apart from "
     "the same server on its default port."),
    ("@alice:[2001:db8::1]", "the Matrix server name is an IP address; an IM identifier's "
     "domain is a DNS name."),
    ("$143273582443PhrSn:example.org", "an event ID names a message, which no IM identifier "
     "names."),
    ("matrix:roomid/abc:example.org/e/def", "the matrix: URI names an event in the room "
     "(/e/...), which no IM identifier names."),
    ("matrix:u/alice:example.org?action=chat", "the matrix: URI has a query (?action=, ?via=), "
     "which asks a client to act or says how to route, and no IM identifier carries: drop "
     "it."),
    ("matrix://example.org/u/alice", '"matrix://" (an authority) is reserved by the Matrix URI '
     "scheme and names no identifier: write matrix:u/..., matrix:r/... or "
     "matrix:roomid/...."),
    ("matrix:e/abc:example.org", '"e" is not a matrix: URI type: it is u (a user), r (a room '
     "alias) or roomid (a room ID)."),
    ("!OGEhHVWSdvArJzumhm", 'the Matrix room ID names no server after ":" (room IDs of room '
     "version 12 and later have none, and no im: form)."),
    ("@:example.org", 'the Matrix user ID is empty before ":".'),
    ("@al\u00e9x:example.org", "a Matrix user ID's localpart is printable ASCII without "
     'spaces or ":".'),
    ("alice:example.org", 'a Matrix identifier is "@user:server", "#alias:server", '
     '"!room:server" or a matrix: URI.'),
    ("@" + "a" * 250 + ":example.org", "the Matrix identifier is 263 bytes long; Matrix allows "
     "at most 255."),
])
def test_matrix_forms_without_an_im_form_are_refused(text: str, message: str) -> None:
    """Ports, IP addresses, events, queries, authorities, serverless room IDs and bad
    localparts are refused with their reason."""
    assert _reject(from_matrix, text) == message


@pytest.mark.parametrize(("text", "message"), [
    ("im:%40alice@example.org", "a handle has no Matrix form: a Matrix user ID is the account "
     "itself; write the user (im:alice@example.org)."),
    ("im:alice/laptop@example.org", "a device has no Matrix form: Matrix names a device only "
     "beside its user, never in one identifier."),
    ("im:wxyz=alice@example.org", "an im:wxyz= identifier belongs to another protocol and has "
     "no Matrix form."),
    ("im:al%3Aice@example.org", '"al:ice" contains ":", which ends a Matrix identifier\'s '
     "local part."),
])
def test_to_matrix_refuses_what_matrix_cannot_name(text: str, message: str) -> None:
    """Handles, devices, other protocols' identifiers and local parts with ":" stay IM-only."""
    assert _reject(to_matrix, parse(text)) == message


@SETTINGS
@given(values())
def test_to_matrix_reads_back_to_the_same_value(value: ImId) -> None:
    """Whatever to_matrix writes, from_matrix reads back to the same untagged im: value."""
    try:
        text = to_matrix(value)
    except IdentifierError:
        return
    back = from_matrix(text)
    assert back.type in (IdType.USER, IdType.CHANNEL, IdType.GROUP)
    assert (back.parts, back.domain) == (value.parts, value.domain)


def test_mimi_rooms_are_matrix_room_aliases() -> None:
    """A mimi:// room is a channel in im: terms, so a Matrix room alias."""
    assert to_matrix(parse("mimi://example.org/r/lobby")) == "#lobby:example.org"


# ---- the command line


def test_convert_from_matrix_and_uri_through_the_cli() -> None:
    """uri convert reads Matrix ids and scheme: URIs, and writes Matrix ids and URIs."""
    cases = [
        (("@alice:example.org", "--from", "matrix", "--to", "im"), "im:alice@example.org"),
        (("matrix:u/alice:example.org", "--from", "matrix", "--to", "mimi"),
         "mimi://example.org/u/alice"),
        (("im:%23lobby@example.org", "--to", "matrix"), "#lobby:example.org"),
        (("wxyz:#projectX@example.com", "--from", "uri", "--to", "im"),
         "im:wxyz=%23projectX@example.com"),
        (("im:wxyz=%40alice@example.com", "--to", "uri"), "wxyz:%40alice@example.com"),
    ]
    for args, out in cases:
        result = run_cli("uri", "convert", *args)
        assert (result.exit_code, result.stdout, result.stderr) == (0, out + "\n", ""), args


def test_refusals_exit_1_with_one_sentence(tmp_path: Path) -> None:
    """A real run: a Matrix server with a port and a contradicting ;id-type= exit 1, saying
    why, with nothing on stdout."""
    result = run_process("uri", "convert", "@alice:example.org:8448", "--from", "matrix",
                         "--to", "im", cwd=tmp_path)
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr.startswith('vc-im: the Matrix server name "example.org:8448" carries '
                                    "a port;")
    result = run_process("uri", "parse", "im:%40alice@example.com;id-type=user", cwd=tmp_path)
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == ('vc-im: ";id-type=user" contradicts the identifier\'s own form, '
                             "which makes it a handle: drop the parameter or the marker.\n")
    result = run_process("uri", "compare", "im:alice@example.com;id-type=handle",
                         "im:%40alice@example.com", cwd=tmp_path)
    assert (result.returncode, result.stdout) == (0, "equal\n")
