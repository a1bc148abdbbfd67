"""vc_im.trust.wot: the web of trust of the MIMI identity draft's §4.2 and Figure 2."""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass, field

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vc_im import keys
from vc_im.errors import InputError
from vc_im.identifiers import ImId, parse
from vc_im.trust.statements import Statement, StatementKind, create_statement, read_statement
from vc_im.trust.wot import evaluate_web_of_trust

NOW = 1_700_000_000


def short(key: keys.Key) -> str:
    """How the explanations name a key."""
    return key.thumbprint()[:8]


@dataclass
class User:
    """One user of Figure 2: a master key, a device-signing key, a user-signing key and
    device keys, with the statements the master and device-signing keys made."""

    id: str
    devices: tuple[str, ...]
    master: keys.Key = field(default_factory=keys.generate)
    dsk: keys.Key = field(default_factory=keys.generate)
    usk: keys.Key = field(default_factory=keys.generate)
    device_keys: dict[str, keys.Key] = field(default_factory=dict)
    statements: list[Statement] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.statements.append(say(self.master, "dsk", self.id, key=self.dsk))
        self.statements.append(say(self.master, "usk", self.id, key=self.usk))
        for device in self.devices:
            self.device_keys[device] = keys.generate()
            self.statements.append(say(self.dsk, "device", self.id, subject=self.device(device),
                                       key=self.device_keys[device]))

    @property
    def uid(self) -> ImId:
        """The user identifier."""
        return parse(self.id)

    def device(self, name: str) -> str:
        """The identifier of the user's device ``name``."""
        local, _, domain = self.id.removeprefix("im:").partition("@")
        return f"im:{local}/{name}@{domain}"

    def vouch(self, other: User) -> Statement:
        """This user's user-signing key signs ``other``'s master key."""
        return say(self.usk, "user", self.id, subject=other.id, key=other.master)


def say(signer: keys.Key, kind: str, issuer: str, *, subject: str | None = None,
        key: keys.Key | None = None, revokes: str | None = None) -> Statement:
    """Create a statement and read it back, as a verifier would receive it."""
    token = create_statement(signer, kind, issuer=issuer, subject=subject,
                             key=key.public() if key else None, now=NOW, revokes=revokes)
    return read_statement(token, now=NOW)


@pytest.fixture(scope="module")
def alice() -> User:
    """Alice, with devices A1 and A2."""
    return User("im:alice@example.com", ("A1", "A2"))


@pytest.fixture(scope="module")
def bob() -> User:
    """Bob, with devices B1 and B2."""
    return User("im:bob@example.org", ("B1", "B2"))


@pytest.fixture(scope="module")
def carol() -> User:
    """Carol, with device C1; only Bob knows her."""
    return User("im:carol@example.net", ("C1",))


@pytest.fixture(scope="module")
def figure2(alice: User, bob: User) -> list[Statement]:
    """Figure 2: both users' own statements, and each user-signing key signing the other's
    master key."""
    return [*alice.statements, *bob.statements, alice.vouch(bob), bob.vouch(alice)]


def judge(me: User, statements: list[Statement], owner: User, device: str,
          max_hops: int = 1, key: keys.Key | None = None) -> tuple[bool, tuple[str, ...], str]:
    """(ok, steps, reason) for ``owner``'s ``device`` seen from ``me``."""
    path = evaluate_web_of_trust(me=me.uid, master_key=me.master.public(),
                                 statements=statements, device=parse(owner.device(device)),
                                 device_key=(key or owner.device_keys[device]).public(),
                                 max_hops=max_hops)
    assert path.method == "web_of_trust"
    if path.ok:
        assert path.key is not None
        assert path.key.thumbprint() == (key or owner.device_keys[device]).thumbprint()
        assert (path.reason == "") is not path.contradiction
    else:
        assert path.key is None
    return path.ok, path.steps, path.reason


def test_figure2_alice_trusts_bobs_device(alice: User, bob: User,
                                          figure2: list[Statement]) -> None:
    """Alice's verifier trusts Bob's device B1 through her user-signing key, and explains how."""
    ok, steps, _ = judge(alice, figure2, bob, "B1")
    assert ok
    assert steps == (
        f"your master key {short(alice.master)} anchors im:alice@example.com",
        f"im:alice@example.com's master key {short(alice.master)} signed its user-signing key "
        f"{short(alice.usk)}",
        f"im:alice@example.com's user-signing key {short(alice.usk)} signed "
        f"im:bob@example.org's master key {short(bob.master)}",
        f"im:bob@example.org's master key {short(bob.master)} signed its device-signing key "
        f"{short(bob.dsk)}",
        f"im:bob@example.org's device-signing key {short(bob.dsk)} signed device "
        f"im:bob/B1@example.org's key {short(bob.device_keys['B1'])}",
    )


def test_figure2_is_symmetric(alice: User, bob: User, figure2: list[Statement]) -> None:
    """Bob's verifier trusts Alice's device A2 the same way."""
    assert judge(bob, figure2, alice, "A2")[0]


def test_own_devices_are_zero_hops(alice: User, figure2: list[Statement]) -> None:
    """A user's own devices are trusted with max_hops 0, through the device-signing key."""
    ok, steps, _ = judge(alice, figure2, alice, "A1", max_hops=0)
    assert ok
    assert steps == (
        f"your master key {short(alice.master)} anchors im:alice@example.com",
        f"im:alice@example.com's master key {short(alice.master)} signed its device-signing "
        f"key {short(alice.dsk)}",
        f"im:alice@example.com's device-signing key {short(alice.dsk)} signed device "
        f"im:alice/A1@example.com's key {short(alice.device_keys['A1'])}",
    )


def test_other_users_device_needs_a_hop(alice: User, bob: User,
                                        figure2: list[Statement]) -> None:
    """With max_hops 0, Bob's device is refused: Bob is one hop away."""
    assert judge(alice, figure2, bob, "B1", max_hops=0) == (
        False, (), "im:bob@example.org is 1 hop from you, more than max_hops 0 allows.")


def test_without_the_cross_signature(alice: User, bob: User) -> None:
    """Without Alice's signature on Bob's master key, nothing links Bob to her."""
    statements = [*alice.statements, *bob.statements, bob.vouch(alice)]
    assert judge(alice, statements, bob, "B1") == (
        False, (), "no user you trust vouched for im:bob@example.org's master key: no "
                   "user-signing link leads to im:bob@example.org.")


def test_forged_device_statement(alice: User, bob: User, figure2: list[Statement]) -> None:
    """A device statement signed by a key outside Bob's chain does not count, and the reason
    names the signer."""
    forger, rogue = keys.generate(), keys.generate()
    forged = say(forger, "device", bob.id, subject=bob.device("B9"), key=rogue)
    bob.device_keys.setdefault("B9", rogue)
    assert judge(alice, [*figure2, forged], bob, "B9") == (
        False, (), f"the statement binding device im:bob/B9@example.org to key {short(rogue)} "
                   f"is signed by key {short(forger)}, which im:bob@example.org's master key "
                   f"{short(bob.master)} did not sign as a device-signing key.")


def test_forged_master_key(alice: User, bob: User) -> None:
    """A user statement for Bob's master key signed by a forger claiming to be Alice does not
    count."""
    forger = keys.generate()
    forged = say(forger, "user", alice.id, subject=bob.id, key=bob.master)
    assert judge(alice, [*alice.statements, *bob.statements, forged], bob, "B1") == (
        False, (), f"the statement vouching for im:bob@example.org's master key "
                   f"{short(bob.master)} names im:alice@example.com as its issuer but is "
                   f"signed by key {short(forger)}, which im:alice@example.com's master key "
                   f"did not sign as a user-signing key.")


def test_forged_device_signing_key(alice: User, bob: User, figure2: list[Statement]) -> None:
    """A device-signing key named by someone other than Bob's master key is not Bob's."""
    forger, fake_dsk, rogue = keys.generate(), keys.generate(), keys.generate()
    forged = [say(forger, "dsk", bob.id, key=fake_dsk),
              say(fake_dsk, "device", bob.id, subject=bob.device("B8"), key=rogue)]
    bob.device_keys.setdefault("B8", rogue)
    ok, _, reason = judge(alice, [*figure2, *forged], bob, "B8")
    assert not ok
    assert reason == (f"the statement binding device im:bob/B8@example.org to key "
                      f"{short(rogue)} is signed by key {short(fake_dsk)}, which "
                      f"im:bob@example.org's master key {short(bob.master)} did not sign as a "
                      f"device-signing key.")


def test_revoked_cross_signature(alice: User, bob: User) -> None:
    """Revoking Alice's signature on Bob's master key removes the trust; the reason names the
    revocation and who made it."""
    link = alice.vouch(bob)
    revocation = say(alice.usk, "revoke", alice.id, revokes=link.jti)
    statements = [*alice.statements, *bob.statements, link, revocation]
    assert judge(alice, statements, bob, "B1") == (
        False, (), f"im:alice@example.com's user-signing key {short(alice.usk)} signed "
                   f"im:bob@example.org's master key {short(bob.master)}, but key "
                   f"{short(alice.usk)} of im:alice@example.com revoked that statement "
                   f"({link.jti}).")


def test_revocation_by_another_key_is_ignored(alice: User, bob: User) -> None:
    """Only the key that signed a statement may revoke it: Bob's keys cannot cut Alice's link."""
    link = alice.vouch(bob)
    by_bob = say(bob.master, "revoke", bob.id, revokes=link.jti)
    by_forger = say(keys.generate(), "revoke", alice.id, revokes=link.jti)
    statements = [*alice.statements, *bob.statements, link, by_bob, by_forger]
    assert judge(alice, statements, bob, "B1")[0]


def test_revoked_device_statement(alice: User, bob: User) -> None:
    """Bob's device-signing key withdrawing its statement for B2 removes the trust in B2 only."""
    b2 = next(s for s in bob.statements if s.subject == parse(bob.device("B2")))
    revocation = say(bob.dsk, "revoke", bob.id, revokes=b2.jti)
    statements = [*alice.statements, *bob.statements, alice.vouch(bob), revocation]
    assert judge(alice, statements, bob, "B1")[0]
    assert judge(alice, statements, bob, "B2") == (
        False, (), f"im:bob@example.org's device-signing key {short(bob.dsk)} signed device "
                   f"im:bob/B2@example.org's key {short(bob.device_keys['B2'])}, but key "
                   f"{short(bob.dsk)} of im:bob@example.org revoked that statement "
                   f"({b2.jti}).")


def test_revoked_device_signing_key(alice: User, bob: User) -> None:
    """Bob's master key withdrawing his device-signing key removes the trust in his devices."""
    dsk = next(s for s in bob.statements if s.kind is StatementKind.DSK)
    revocation = say(bob.master, "revoke", bob.id, revokes=dsk.jti)
    statements = [*alice.statements, *bob.statements, alice.vouch(bob), revocation]
    assert judge(alice, statements, bob, "B1") == (
        False, (), f"im:bob@example.org's device-signing key {short(bob.dsk)} signed device "
                   f"im:bob/B1@example.org's key {short(bob.device_keys['B1'])}, but "
                   f"im:bob@example.org's master key {short(bob.master)} revoked the statement "
                   f"naming that device-signing key ({dsk.jti}).")


def test_revoked_user_signing_key(alice: User, bob: User) -> None:
    """Alice's master key withdrawing her user-signing key cuts every user it vouched for."""
    usk = next(s for s in alice.statements if s.kind is StatementKind.USK)
    revocation = say(alice.master, "revoke", alice.id, revokes=usk.jti)
    statements = [*alice.statements, *bob.statements, alice.vouch(bob), revocation]
    ok, _, reason = judge(alice, statements, bob, "B1")
    assert not ok
    assert reason == (f"im:alice@example.com's user-signing key {short(alice.usk)} signed "
                      f"im:bob@example.org's master key, but im:alice@example.com's master key "
                      f"{short(alice.master)} revoked the statement naming that user-signing "
                      f"key ({usk.jti}).")


def test_two_hops(alice: User, bob: User, carol: User, figure2: list[Statement]) -> None:
    """Carol, vouched for by Bob, is 2 hops from Alice: refused with max_hops 1, accepted
    with 2."""
    statements = [*figure2, *carol.statements, bob.vouch(carol)]
    assert judge(alice, statements, carol, "C1", max_hops=1) == (
        False, (), "im:carol@example.net is 2 hops from you (via im:bob@example.org), more than "
                   "max_hops 1 allows.")
    ok, steps, _ = judge(alice, statements, carol, "C1", max_hops=2)
    assert ok
    assert steps[3:5] == (
        f"im:bob@example.org's master key {short(bob.master)} signed its user-signing key "
        f"{short(bob.usk)}",
        f"im:bob@example.org's user-signing key {short(bob.usk)} signed "
        f"im:carol@example.net's master key {short(carol.master)}",
    )
    assert len(steps) == 7


def test_cycles_terminate(alice: User, bob: User, carol: User) -> None:
    """Alice, Bob and Carol vouching for each other in a ring ends, whatever max_hops."""
    dave = User("im:dave@example.com", ("D1",))
    ring = [*alice.statements, *bob.statements, *carol.statements, *dave.statements,
            alice.vouch(bob), bob.vouch(carol), carol.vouch(alice), bob.vouch(alice),
            carol.vouch(bob), alice.vouch(carol)]
    started = time.monotonic()
    assert judge(alice, ring, dave, "D1", max_hops=16) == (
        False, (), "no user you trust vouched for im:dave@example.com's master key: no "
                   "user-signing link leads to im:dave@example.com.")
    assert judge(alice, ring, carol, "C1", max_hops=16)[0]
    assert time.monotonic() - started < 1


def test_device_of_another_user_signed_by_a_trusted_dsk(alice: User, bob: User,
                                                        figure2: list[Statement]) -> None:
    """Bob's device-signing key signing a device of Carol's is refused: a device-signing key
    vouches only for its own user's devices."""
    rogue = keys.generate()
    claim = say(bob.dsk, "device", "im:carol@example.net", subject="im:carol/C7@example.net",
                key=rogue)
    path = evaluate_web_of_trust(me=alice.uid, master_key=alice.master,
                                 statements=[*figure2, claim],
                                 device=parse("im:carol/C7@example.net"), device_key=rogue)
    assert (path.ok, path.reason) == (
        False, f"device im:carol/C7@example.net's key {short(rogue)} is signed by "
               f"im:bob@example.org's device-signing key {short(bob.dsk)}, but a device-signing "
               f"key vouches only for its own user's devices, and this device belongs to "
               f"im:carol@example.net.")


def test_device_bound_to_another_key(alice: User, bob: User, figure2: list[Statement]) -> None:
    """A key for B1 other than the one Bob's device-signing key signed is refused, and the
    other key is evidence against it (a contradiction)."""
    imposter = keys.generate()
    path = evaluate_web_of_trust(me=alice.uid, master_key=alice.master, statements=figure2,
                                 device=parse(bob.device("B1")), device_key=imposter)
    assert (path.ok, path.contradiction, path.reason) == (
        False, True, f"im:bob@example.org's device-signing key {short(bob.dsk)} binds device "
                     f"im:bob/B1@example.org to another key, {short(bob.device_keys['B1'])}, "
                     f"not to key {short(imposter)}.")


def test_unknown_device(alice: User, bob: User, figure2: list[Statement]) -> None:
    """A device of a trusted user that no device-signing key named is refused."""
    path = evaluate_web_of_trust(me=alice.uid, master_key=alice.master, statements=figure2,
                                 device=parse(bob.device("B5")), device_key=keys.generate())
    assert (path.ok, path.contradiction) == (False, False)
    assert path.reason.startswith("no device-signing key of im:bob@example.org signed device "
                                  "im:bob/B5@example.org's key ")


def test_user_without_device_signing_key(alice: User) -> None:
    """A trusted user whose master key signed no device-signing key has no trusted devices."""
    erin = User("im:erin@example.com", ())
    statements = [*alice.statements, alice.vouch(erin),
                  next(s for s in erin.statements if s.kind is StatementKind.USK)]
    path = evaluate_web_of_trust(me=alice.uid, master_key=alice.master, statements=statements,
                                 device=parse("im:erin/E1@example.com"),
                                 device_key=keys.generate())
    assert path.reason == (f"im:erin@example.com's master key {short(erin.master)} signed no "
                           "device-signing key.")


def test_target_must_be_a_device(alice: User, figure2: list[Statement]) -> None:
    """A target that is not a device identifier is refused with a reason, not an exception."""
    path = evaluate_web_of_trust(me=alice.uid, master_key=alice.master, statements=figure2,
                                 device=parse("im:bob@example.org"), device_key=keys.generate())
    assert (path.ok, path.reason) == (False, "im:bob@example.org is a user identifier, not a "
                                             "device.")


def test_anchor_must_be_a_user(alice: User, figure2: list[Statement]) -> None:
    """The verifier's own identity must be a user or handle, and max_hops not negative."""
    with pytest.raises(InputError) as caught:
        evaluate_web_of_trust(me=parse("im:alice/A1@example.com"), master_key=alice.master,
                              statements=figure2, device=parse(alice.device("A1")),
                              device_key=alice.device_keys["A1"])
    assert caught.value.message == ("the web of trust starts from a user or handle, and "
                                    "im:alice/A1@example.com is a device.")
    with pytest.raises(InputError) as caught:
        judge(alice, figure2, alice, "A1", max_hops=-1)
    assert caught.value.message == "max_hops must be 0 or more."


def test_other_master_key_is_not_me(alice: User, bob: User, figure2: list[Statement]) -> None:
    """A verifier whose master key is not Alice's gains nothing from Alice's statements."""
    stranger = User(alice.id, ())
    path = evaluate_web_of_trust(me=alice.uid, master_key=stranger.master, statements=figure2,
                                 device=parse(bob.device("B1")),
                                 device_key=bob.device_keys["B1"])
    assert not path.ok


# --------------------------------------------------------------------------------------------
# One master key per user: a second one is a contradiction, never a new node


@dataclass
class Planted:
    """A master key planted for ``victim`` by ``liar``'s user-signing key, with a device-signing
    key and device ``X`` of the victim under it: the statements an attacker needs."""

    liar: User
    victim: User
    master: keys.Key = field(default_factory=keys.generate)
    dsk: keys.Key = field(default_factory=keys.generate)
    device_key: keys.Key = field(default_factory=keys.generate)

    @property
    def statements(self) -> list[Statement]:
        return [say(self.liar.usk, "user", self.liar.id, subject=self.victim.id,
                    key=self.master),
                say(self.master, "dsk", self.victim.id, key=self.dsk),
                say(self.dsk, "device", self.victim.id, subject=self.victim.device("X"),
                    key=self.device_key)]


def wot_path(me: User, statements: list[Statement], device: str, device_key: keys.Key,
             max_hops: int) -> tuple[bool, bool, str]:
    """(ok, contradiction, reason) of the web-of-trust path to ``device``'s key."""
    path = evaluate_web_of_trust(me=me.uid, master_key=me.master.public(),
                                 statements=statements, device=parse(device),
                                 device_key=device_key.public(), max_hops=max_hops)
    return path.ok, path.contradiction, path.reason


@pytest.mark.parametrize("max_hops", [2, 4])
def test_a_planted_master_key_for_the_anchor_is_a_contradiction(
        max_hops: int, alice: User, carol: User) -> None:
    """Attack: Carol, one hop from Alice, vouches for a second master key of Alice's and signs
    a device of "Alice" under it; with max_hops 2 or more that device was trusted. The trust
    file pins Alice's master key: the second key is a contradiction, never a node."""
    planted = Planted(carol, alice)
    statements = [*alice.statements, *carol.statements, alice.vouch(carol),
                  *planted.statements]
    assert wot_path(alice, statements, alice.device("X"), planted.device_key, max_hops) == (
        False, True, f"a contradiction: {carol.id}'s user-signing key {short(carol.usk)} "
                     f"vouches for another master key of yours ({alice.id}), "
                     f"{short(planted.master)}, but the trust file pins your master key "
                     f"{short(alice.master)}.")


@pytest.mark.parametrize("max_hops", [2, 4])
def test_a_planted_master_key_for_a_reached_user_is_a_contradiction(
        max_hops: int, alice: User, bob: User, carol: User) -> None:
    """Attack: Alice vouches for Bob and Carol; Carol vouches for a second master key of Bob's
    and signs a device of "Bob" under it. Bob has one master key in the web, the one Alice's
    user-signing key reached first: the planted one is a contradiction."""
    planted = Planted(carol, bob)
    statements = [*alice.statements, *bob.statements, *carol.statements, alice.vouch(bob),
                  alice.vouch(carol), *planted.statements]
    assert wot_path(alice, statements, bob.device("X"), planted.device_key, max_hops) == (
        False, True, f"a contradiction: {carol.id}'s user-signing key {short(carol.usk)} "
                     f"vouches for another master key of {bob.id}, {short(planted.master)}, "
                     f"but your web of trust reaches {bob.id} with master key "
                     f"{short(bob.master)}.")
    # Bob's real device is still reached, and the contradiction flags it too.
    ok, contradiction, reason = wot_path(alice, statements, bob.device("B1"),
                                         bob.device_keys["B1"], max_hops)
    assert (ok, contradiction) == (True, True)
    assert reason.startswith(f"a contradiction: {carol.id}'s user-signing key ")


def test_two_master_keys_at_the_same_distance_are_a_contradiction(alice: User,
                                                                  carol: User) -> None:
    """Two users at one hop vouch for different master keys of Dave: neither is Dave's in the
    web (whichever order the statements come in), and his device is a contradiction."""
    dave, erin = User("im:dave@example.com", ("D1",)), User("im:erin@example.com", ())
    planted = Planted(erin, dave)
    statements = [*alice.statements, *carol.statements, *dave.statements, *erin.statements,
                  alice.vouch(carol), alice.vouch(erin), carol.vouch(dave), *planted.statements]
    expected = (False, True, f"a contradiction: {dave.id} is vouched for with 2 master keys "
                             f"2 hops from you, {short(dave.master)} by {carol.id} and "
                             f"{short(planted.master)} by {erin.id}.")
    for order in (statements, statements[::-1]):
        assert wot_path(alice, order, dave.device("D1"), dave.device_keys["D1"], 2) == expected
        assert wot_path(alice, order, dave.device("X"), planted.device_key, 2)[:2] == (
            False, True)
    # A third user vouching for one of the keys a hop further does not settle the dispute.
    frank = User("im:frank@example.com", ())
    later = [*statements, *frank.statements, carol.vouch(frank), frank.vouch(dave)]
    assert wot_path(alice, later, dave.device("D1"), dave.device_keys["D1"], 3) == expected


def test_a_contradiction_elsewhere_in_the_web_does_not_flag_a_path(alice: User, bob: User,
                                                                   carol: User) -> None:
    """A contradiction about a user off the path, made by a user off the path, leaves the
    path alone: Carol lying about Dave does not flag Bob's device."""
    dave = User("im:dave@example.com", ("D1",))
    planted = Planted(carol, dave)
    statements = [*alice.statements, *bob.statements, *carol.statements, *dave.statements,
                  alice.vouch(bob), alice.vouch(carol), alice.vouch(dave), *planted.statements]
    assert wot_path(alice, statements, bob.device("B1"), bob.device_keys["B1"], 2) == (
        True, False, "")


def test_the_same_master_key_twice_is_no_contradiction(alice: User, bob: User,
                                                       carol: User) -> None:
    """Carol vouching for Bob's real master key, or Alice's, contradicts nothing."""
    statements = [*alice.statements, *bob.statements, *carol.statements, alice.vouch(bob),
                  alice.vouch(carol), carol.vouch(bob), carol.vouch(alice)]
    assert wot_path(alice, statements, bob.device("B1"), bob.device_keys["B1"], 3) == (
        True, False, "")


@functools.cache
def world() -> tuple[User, User, list[Statement]]:
    """A fixed world for the property test (fixtures do not mix with @given): Alice vouches
    for Bob, and Bob's device-signing key revoked its statement for B2."""
    alice = User("im:alice@example.com", ("A1",))
    bob = User("im:bob@example.org", ("B1", "B2"))
    b2 = next(s for s in bob.statements if s.subject == parse(bob.device("B2")))
    revocation = say(bob.dsk, "revoke", bob.id, revokes=b2.jti)
    return alice, bob, [*alice.statements, *bob.statements, alice.vouch(bob), revocation]


@given(order=st.permutations(range(9)))
@settings(max_examples=25, deadline=None)
def test_order_of_statements_does_not_matter(order: list[int]) -> None:
    """The decision and its explanation do not depend on the order statements come in."""
    alice, bob, statements = world()
    shuffled = [statements[i] for i in order]
    for target in ("B1", "B2"):
        expected = judge(alice, statements, bob, target)
        assert judge(alice, shuffled, bob, target) == expected
