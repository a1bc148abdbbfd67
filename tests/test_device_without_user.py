"""A mimi:// device that names no user (``mimi://example.com/d/laptop``): every verification
path answers with a report, and the trust models that need a user say the device names none.

Also a property: any identifier ``uri parse`` accepts, as a subject or a hasInstantMessage
value, issued or self-issued, goes through credential, presentation and DPoP verification
with a web of trust and well-known services configured, and a report comes back.
"""

from __future__ import annotations

import json
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, reject, settings
from hypothesis import strategies as st

from tests.conftest import ISSUER, NOW, VERIFIER
from tests.helpers.cli import vc_im_command
from tests.helpers.trust_models import public_jwk, store_of, trust_document, wellknown
from vc_im import keys
from vc_im.credentials import issue_credential
from vc_im.dpop import create_proof, verify_proof
from vc_im.errors import InputError
from vc_im.identifiers import IdentifierError, IdType, ImId, parse
from vc_im.model import CredentialType, Evidence
from vc_im.presentations import create_presentation, verify_presentation
from vc_im.report import Report, Status
from vc_im.trust.statements import Statement
from vc_im.verify import verify_token

VC_IM = vc_im_command()

LAPTOP = "mimi://example.com/d/laptop"
NO_USER = f"the device {LAPTOP} names no user"
HTU = "https://example.com/token"


def _failed(report: Report) -> tuple[str, str | None, str]:
    """The first failed check of a report: name, code and reason (its first letter as the
    sentence inside it was written)."""
    failure = next(check for check in report.checks if check.status is Status.FAILED)
    reason = failure.reason or ""
    return failure.name, failure.code, reason[:1].lower() + reason[1:]


def _statement_trust(key: keys.Key) -> dict[str, Any]:
    """A trust file with a web of trust (anchored elsewhere) and well-known services."""
    return trust_document(web_of_trust={"id": "im:verifier@example.org",
                                        "master_key": public_jwk(key)},
                          well_known={"threshold": 2})


@pytest.fixture(scope="module")
def laptop_key() -> keys.Key:
    return keys.generate("Ed25519")


@pytest.fixture(scope="module")
def self_issued(laptop_key: keys.Key) -> str:
    """The device's own credential: issuer = subject, its key in the header."""
    return issue_credential(laptop_key, issuer=LAPTOP, subject=LAPTOP, fn="Laptop", now=NOW,
                            holder_key=laptop_key.public())


# --- the identifier ---------------------------------------------------------------------------

def test_a_one_segment_device_has_no_owner() -> None:
    """owner() says None; user() raises the documented error naming the device."""
    device = parse(LAPTOP)
    assert device.type is IdType.DEVICE
    assert device.owner() is None
    with pytest.raises(IdentifierError) as raised:
        device.user()
    assert raised.value.message.startswith(NO_USER)


def test_owner_of_a_two_segment_device_is_its_user() -> None:
    """Devices that name a user keep doing so, in every scheme."""
    assert parse("mimi://example.com/d/alice/laptop").owner() == parse("mimi://example.com/u/alice")
    assert parse("im:alice/laptop@example.com").owner() == parse("im:alice@example.com")
    assert parse("im:xmpp=juliet/balcony@example.com").owner() == parse(
        "im:xmpp=juliet@example.com")
    assert parse("mimi://example.com/d/a/b/c").owner() is None


def test_owner_of_a_non_device_is_an_error() -> None:
    """Only devices have users; asking a user for its owner is a programming error."""
    with pytest.raises(IdentifierError, match="is not a device"):
        parse("mimi://example.com/u/alice").owner()


# --- every verification path ------------------------------------------------------------------

def test_self_issued_with_well_known_is_refused_not_raised(self_issued: str,
                                                           laptop_key: keys.Key) -> None:
    """Well-known services vouch for a user; a device without one cannot be vouched for."""
    trust = store_of(trust_document(well_known={"threshold": 2}))
    evidence = Evidence(statements=(
        wellknown(laptop_key, "mimi://example.com/u/laptop", "https://a.example/laptop"),
        wellknown(laptop_key, "mimi://example.com/u/laptop", "https://b.example/laptop")))
    report = verify_token(self_issued, trust, now=NOW, evidence=evidence)
    name, code, reason = _failed(report)
    assert (name, code) == ("trust_path", "untrusted_issuer")
    assert NO_USER in reason


def test_self_issued_with_web_of_trust_is_refused_not_raised(self_issued: str) -> None:
    """A web of trust reaches devices through their users' keys; this device has none."""
    trust = store_of(_statement_trust(keys.generate("Ed25519")))
    report = verify_token(self_issued, trust, now=NOW)
    name, code, reason = _failed(report)
    assert (name, code) == ("trust_path", "untrusted_issuer")
    assert NO_USER in reason


def test_cascade_refuses_a_device_without_user(issuer_key: keys.Key) -> None:
    """A user's key issues only its own devices' credentials; this device names no user."""
    alice = keys.generate("Ed25519")
    user = "mimi://example.com/u/alice"
    parent = issue_credential(issuer_key, issuer=ISSUER, subject=user, fn="Alice", now=NOW,
                              credential_type=CredentialType.USER, holder_key=alice.public(),
                              may_issue_devices=True)
    child = issue_credential(alice, issuer=user, subject=LAPTOP, fn="Laptop", now=NOW,
                             holder_key=keys.generate("Ed25519").public())
    trust = store_of(trust_document([{"id": ISSUER, "keys": [public_jwk(issuer_key)],
                                      "domains": ["example.com"]}]))
    report = verify_token(child, trust, now=NOW, evidence=Evidence(parents=(parent,)))
    name, code, reason = _failed(report)
    assert (name, code) == ("identifiers", "untrusted_issuer")
    assert NO_USER in reason


def test_presentation_reports_the_nested_failure(self_issued: str, laptop_key: keys.Key,
                                                 tmp_path: Path) -> None:
    """The presentation's credentials check fails with the credential's own code."""
    trust = store_of(_statement_trust(keys.generate("Ed25519")))
    presentation = create_presentation(laptop_key, [self_issued], audience=VERIFIER,
                                       nonce="n-0123456789abcdef", now=NOW)
    report = verify_presentation(presentation, trust, now=NOW, audience=VERIFIER,
                                 nonce="n-0123456789abcdef", store=tmp_path / "replay.db")
    name, code, reason = _failed(report)
    assert (name, code) == ("credentials", "untrusted_issuer")
    assert NO_USER in reason


def test_dpop_bound_credential_reports_the_failure(self_issued: str, laptop_key: keys.Key,
                                                   tmp_path: Path) -> None:
    """DPoP verification with the credential bound fails at its credential check."""
    trust = store_of(_statement_trust(keys.generate("Ed25519")))
    proof = create_proof(laptop_key, htm="POST", htu=HTU, now=NOW)
    report = verify_proof(proof, htm="POST", htu=HTU, now=NOW, credential=self_issued,
                          trust=trust, store=tmp_path / "replay.db")
    name, code, reason = _failed(report)
    assert (name, code) == ("credential", "untrusted_issuer")
    assert NO_USER in reason


def _cli(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*VC_IM, *map(str, args)], cwd=cwd, capture_output=True, text=True,
                          timeout=60, check=False)


@pytest.mark.slow
def test_cli_verify_and_dpop_verify_say_invalid(tmp_path: Path) -> None:
    """Real processes: exit 1, ``invalid: untrusted_issuer``, no internal error."""
    assert _cli("keygen", "--out", "laptop.jwk", "--public-out", "laptop.pub.jwk",
                cwd=tmp_path).returncode == 0
    issued = _cli("issue", "--key", "laptop.jwk", "--issuer", LAPTOP, "--subject", LAPTOP,
                  "--fn", "Laptop", "--holder-key", "laptop.pub.jwk", "--now", str(NOW),
                  cwd=tmp_path)
    assert issued.returncode == 0, issued.stderr
    (tmp_path / "laptop.vc.jwt").write_text(issued.stdout)
    (tmp_path / "trust.json").write_text(json.dumps(
        {"issuers": [], "well_known": {"threshold": 2}}))
    verified = _cli("verify", "laptop.vc.jwt", "--trust", "trust.json", "--now", str(NOW),
                    cwd=tmp_path)
    assert verified.returncode == 1, verified.stderr
    assert verified.stdout.splitlines()[0] == "invalid: untrusted_issuer"
    assert NO_USER in verified.stderr
    assert "internal error" not in verified.stderr
    proof = _cli("dpop", "create", "--key", "laptop.jwk", "--htm", "POST", "--htu", HTU,
                 "--now", str(NOW), cwd=tmp_path)
    (tmp_path / "proof.jwt").write_text(proof.stdout)
    dpop = _cli("dpop", "verify", "proof.jwt", "--htm", "POST", "--htu", HTU, "--now",
                str(NOW), "--credential", "laptop.vc.jwt", "--trust", "trust.json",
                "--store", "replay.db", "--json", cwd=tmp_path)
    assert dpop.returncode == 1, dpop.stderr
    failed = [c for c in json.loads(dpop.stdout)["checks"] if c["status"] == "failed"]
    assert [(c["name"], c["code"]) for c in failed] == [("credential", "untrusted_issuer")]
    assert "internal error" not in dpop.stderr


# --- the property: every identifier the parser accepts ----------------------------------------

_DOMAINS = ["example.com", "example.org", "local.invalid", "xn--bcher-kva.example"]
_part = st.text(st.one_of(st.sampled_from(list("aZ09-._~!$&'()*+,;=:@/#%?\u00e9\u4e2d")),
                          st.characters(codec="utf-8",
                                        exclude_categories=("Cc", "Cf", "Cs", "Zs", "Zl",
                                                            "Zp"))),
                min_size=1, max_size=6).filter(lambda p: p not in (".", ".."))


_FORMS = {"untagged": (IdType.DOMAIN, IdType.HANDLE, IdType.USER, IdType.DEVICE,
                      IdType.CHANNEL, IdType.TEAM, IdType.TEAM_CHANNEL, IdType.GROUP),
          "wxyz": (IdType.DOMAIN, IdType.HANDLE, IdType.USER, IdType.DEVICE, IdType.CHANNEL,
                   IdType.TEAM, IdType.TEAM_CHANNEL, IdType.GROUP),
          "xmpp": (IdType.DOMAIN, IdType.HANDLE, IdType.DEVICE),
          "irc": (IdType.DOMAIN, IdType.HANDLE, IdType.USER, IdType.CHANNEL),
          "mimi": (IdType.DOMAIN, IdType.USER, IdType.DEVICE, IdType.ROOM, IdType.GROUP,
                   IdType.PSEUDONYM, IdType.TEAM)}


@st.composite
def identifiers(draw: st.DrawFn, kinds: tuple[IdType, ...] = tuple(IdType)) -> ImId:
    """Any identifier value of the given types in every form that has them (one-segment
    mimi:// devices included); candidates that are no valid identifier are rejected."""
    form = draw(st.sampled_from([f for f, types in _FORMS.items() if set(types) & set(kinds)]))
    kind = draw(st.sampled_from([k for k in _FORMS[form] if k in kinds]))
    try:
        return _candidate(draw, form, kind)
    except IdentifierError:
        reject()


def _candidate(draw: st.DrawFn, form: str, kind: IdType) -> ImId:
    domain = draw(st.sampled_from(_DOMAINS))
    if form in ("untagged", "wxyz"):
        count = {IdType.DOMAIN: 0, IdType.DEVICE: 2, IdType.TEAM_CHANNEL: 2}.get(kind, 1)
        parts = [draw(_part) for _ in range(count)]
        if parts and parts[0][0] in "@#$":
            parts[0] = "x" + parts[0]
        return ImId("im", None if form == "untagged" else "wxyz", kind, tuple(parts), domain)
    if form == "xmpp":
        local = draw(_part.map(lambda p: "".join(c for c in p if c not in "\"&'/:<>@") or "j"))
        parts = {IdType.DOMAIN: [], IdType.HANDLE: [local],
                 IdType.DEVICE: [local, draw(_part)]}[kind]
        return ImId("im", "xmpp", kind, tuple(parts), domain)
    if form == "irc":
        part = draw(_part).replace("!", "") or "nick"
        return ImId("im", "irc", kind, () if kind is IdType.DOMAIN else (part,), domain)
    count = {IdType.DOMAIN: 0, IdType.DEVICE: draw(st.integers(1, 3))}.get(kind, 1)
    return ImId("mimi", None, kind, tuple(draw(_part) for _ in range(count)), domain)


def _accepted(value: ImId) -> ImId:
    """The value as ``uri parse`` accepts it: its canonical form parses back to it."""
    text = str(value)
    assert parse(text) == value
    return value


_KEY = keys.generate("Ed25519")
_ISSUER_KEY = keys.generate("Ed25519")
_TRUST = store_of(trust_document(
    [{"id": ISSUER, "keys": [public_jwk(_ISSUER_KEY)]}],
    web_of_trust={"id": "im:verifier@example.org", "master_key": public_jwk(_KEY)},
    well_known={"threshold": 1}))


def _statements(values: list[ImId]) -> tuple[Statement, ...]:
    """Well-known statements binding each named user (a device's own user) to the key."""
    found: list[Statement] = []
    for index, value in enumerate(values):
        identity = value.owner() if value.type is IdType.DEVICE else value
        if identity is None:
            continue
        try:
            found.append(wellknown(_KEY, str(identity), f"https://s{index}.example/x"))
        except InputError:  # a statement its own module refuses is simply no evidence
            continue
    return tuple(found)


def _issue(signer: keys.Key, issuer: str, subject: ImId, others: list[ImId],
           kind: CredentialType, *, may_issue_devices: bool = False) -> str | None:
    """Issue, or None when the issuer refuses (an InputError is the only refusal allowed)."""
    try:
        return issue_credential(signer, issuer=issuer, subject=str(subject), fn="X", now=NOW,
                                credential_type=kind, holder_key=_KEY.public(),
                                instant_messages=[str(v) for v in others],
                                may_issue_devices=may_issue_devices)
    except InputError:
        return None


_PARTIES = (IdType.USER, IdType.HANDLE)
_DEVICE_ID = ImId("mimi", None, IdType.DEVICE, ("laptop",), "example.com")


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(subject=st.one_of(identifiers((IdType.DEVICE,)), identifiers(_PARTIES), identifiers()),
       others=st.lists(identifiers(), max_size=2),
       mode=st.sampled_from(["central", "self", "cascade"]), parent=identifiers(_PARTIES))
@example(subject=_DEVICE_ID, others=[], mode="self", parent=_DEVICE_ID)
@example(subject=_DEVICE_ID, others=[], mode="cascade",
         parent=ImId("mimi", None, IdType.USER, ("laptop",), "example.com"))
def test_every_accepted_identifier_is_verified_to_a_report(
        tmp_path: Path, subject: ImId, others: list[ImId], mode: str, parent: ImId) -> None:
    """Issue centrally, self-issue or cascade from a user, then verify the credential alone,
    in a presentation and bound to a DPoP proof: each time a report comes back."""
    subject = _accepted(subject)
    others = [_accepted(value) for value in others]
    kind = CredentialType.DEVICE if subject.type is IdType.DEVICE else CredentialType.USER
    parents: tuple[str, ...] = ()
    if mode == "central":
        token = _issue(_ISSUER_KEY, ISSUER, subject, others, kind)
    elif mode == "self":
        token = _issue(_KEY, str(subject), subject, others, kind)
    else:
        granted = _issue(_ISSUER_KEY, ISSUER, _accepted(parent), [], CredentialType.USER,
                         may_issue_devices=True)
        parents = (granted,) if granted is not None else ()
        token = _issue(_KEY, str(parent), subject, others, kind)
    if token is None:
        return
    evidence = Evidence(parents=parents, statements=_statements([subject, *others]))
    report = verify_token(token, _TRUST, now=NOW, evidence=evidence)
    assert isinstance(report, Report)
    nonce = f"n-{uuid.uuid4()}"
    try:
        presentation = create_presentation(_KEY, [token], audience=VERIFIER, nonce=nonce,
                                           now=NOW)
    except InputError:  # nothing to present (no device credential): the presenter says so
        presentation = None
    if presentation is not None:
        shown = verify_token(presentation, _TRUST, now=NOW, audience=VERIFIER, nonce=nonce,
                             store=tmp_path / "replay.db", evidence=evidence)
        assert isinstance(shown, Report)
    proof = create_proof(_KEY, htm="GET", htu=HTU, now=NOW)
    bound = verify_proof(proof, htm="GET", htu=HTU, now=NOW, credential=token, trust=_TRUST,
                         store=tmp_path / "replay.db")
    assert isinstance(bound, Report)
