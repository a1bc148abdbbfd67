"""The web of trust of the MIMI identity draft's §4.2: does my master key reach this device key?

Each user has a master key that signs two keys: a device-signing key, which signs the
user's own device keys, and a user-signing key, which signs other users' master keys
(the draft's Figure 2, after Matrix cross-signing). A verifier starts from its own user
and master key, walks user-signing links breadth first to users whose master key it
reaches in at most ``max_hops`` links, and trusts a device key when the device's own
user's device-signing key signed it.

Every link is a :class:`~vc_im.statements.Statement` whose signature was verified on its
own; here a link counts only when it is signed by the key the chain expects and speaks
for the chain's user (``iss``). A revocation withdraws a statement only when signed by
the key that signed that statement, so nobody else can cut a link. The answer is a
:class:`~vc_im.trustpath.TrustPath` whose steps explain the path, or whose reason names
the link that is missing or revoked.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from vc_im.errors import InputError
from vc_im.identifiers import IdentifierError, IdType, ImId
from vc_im.keys import Key
from vc_im.trust.paths import TrustPath
from vc_im.trust.statements import Statement, StatementKind
from vc_im.trust.statements import short_thumbprint as short

__all__ = ["METHOD", "evaluate_web_of_trust"]

METHOD = "web_of_trust"
_PARTY_TYPES = frozenset({IdType.USER, IdType.HANDLE})

_Slot = tuple[ImId, str, StatementKind]


@dataclass(frozen=True, slots=True)
class _Node:
    """A user reached through the web, with the master key the path vouches for."""

    user: ImId
    master: Key
    hops: int
    steps: tuple[str, ...]
    via: tuple[ImId, ...]  # the users between the verifier and this user

    @property
    def slot(self) -> tuple[ImId, str]:
        return self.user, self.master.thumbprint()


@dataclass(frozen=True, slots=True)
class _Graph:
    """The statements that count, indexed by (issuer, signer thumbprint, kind)."""

    links: dict[_Slot, list[Statement]]
    #: Statements withdrawn, each with the revocation that withdrew it.
    revoked: tuple[tuple[Statement, Statement], ...]
    active: tuple[Statement, ...]

    def signed(self, user: ImId, signer: Key, kind: StatementKind) -> list[Statement]:
        """The statements of ``kind`` issued for ``user`` and signed by ``signer``."""
        return self.links.get((user, signer.thumbprint(), kind), [])

    def device_link(self, node: _Node, device: ImId,
                    device_key: Key) -> tuple[Statement, Statement] | None:
        """(device-signing key statement, device statement) binding ``device_key``."""
        for dsk in self.signed(node.user, node.master, StatementKind.DSK):
            assert dsk.key is not None
            for link in self.signed(node.user, dsk.key, StatementKind.DEVICE):
                assert link.key is not None
                if link.subject == device and _same(link.key, device_key):
                    return dsk, link
        return None

    def vouched(self, node: _Node) -> Iterator[tuple[Statement, Statement]]:
        """(user-signing key statement, user statement) pairs leaving ``node``."""
        for usk in self.signed(node.user, node.master, StatementKind.USK):
            assert usk.key is not None
            for link in self.signed(node.user, usk.key, StatementKind.USER):
                yield usk, link


def _same(a: Key, b: Key) -> bool:
    return a.thumbprint() == b.thumbprint()


def _build(statements: Sequence[Statement]) -> _Graph:
    """Apply revocations (only by the same signing key), then index what is left."""
    withdrawals: dict[tuple[str, str], Statement] = {}
    for statement in statements:
        if statement.kind is StatementKind.REVOKE and statement.revokes is not None:
            withdrawals.setdefault((statement.revokes, statement.signer.thumbprint()), statement)
    links: dict[_Slot, list[Statement]] = {}
    revoked: list[tuple[Statement, Statement]] = []
    active: list[Statement] = []
    for statement in statements:
        if statement.kind in (StatementKind.REVOKE, StatementKind.WELLKNOWN):
            continue
        if statement.key is None or not isinstance(statement.subject, ImId):
            continue  # not built by read_statement: it binds nothing
        revocation = withdrawals.get((statement.jti, statement.signer.thumbprint()))
        if revocation is not None:
            revoked.append((statement, revocation))
            continue
        active.append(statement)
        slot = (statement.issuer, statement.signer.thumbprint(), statement.kind)
        links.setdefault(slot, []).append(statement)
    return _Graph(links, tuple(revoked), tuple(active))


@dataclass(frozen=True, slots=True)
class _Dispute:
    """Two master keys for one user: the web gives a user one master key, so a second is a
    contradiction, never a node."""

    user: ImId
    #: The users whose user-signing keys vouched for the keys in dispute.
    vouchers: tuple[ImId, ...]
    sentence: str

    def touches(self, users: set[ImId]) -> bool:
        """Whether the dispute is about, or was raised by, one of ``users``."""
        return self.user in users or any(voucher in users for voucher in self.vouchers)


_Claim = tuple[_Node, Statement, Statement]  # (voucher, user-signing key statement, user link)


def _walk(graph: _Graph, start: _Node, max_hops: int | None,
          ) -> tuple[list[_Node], list[_Dispute]]:
    """Breadth first from ``start``, one hop at a time: the users reached (each once, with one
    master key, in order) and the disputes met on the way.

    The anchor's master key is pinned by the trust file, and a user reached at some distance
    keeps the master key that reached them; a user-signing link naming another key for either
    is a dispute. Two keys offered for a new user at the same distance are a dispute too, and
    that user is not reached, then or later: neither key has the better claim. So the answer
    does not depend on the order statements come in, and cycles end."""
    reached: dict[ImId, _Node] = {start.user: start}
    disputes: list[_Dispute] = []
    disputed: set[ImId] = set()
    level = [start]
    while level and (max_hops is None or level[0].hops < max_hops):
        offers: dict[ImId, list[_Claim]] = {}
        for node in level:
            for usk, link in graph.vouched(node):
                assert isinstance(link.subject, ImId)
                offers.setdefault(link.subject, []).append((node, usk, link))
        level = []
        for user, claims in offers.items():
            known = reached.get(user)
            if known is not None:
                disputes.extend(_against_known(known, claims, start))
                continue
            by_key = {_key(link).thumbprint(): (node, usk, link) for node, usk, link in claims}
            if user in disputed:
                continue
            if len(by_key) > 1:
                disputes.append(_tie(user, sorted(by_key.values(), key=_claim_order)))
                disputed.add(user)
                continue
            node, usk, link = claims[0]
            reached[user] = _Node(
                user, _key(link), node.hops + 1,
                (*node.steps,
                 f"{node.user}'s master key {short(node.master)} signed its user-signing key "
                 f"{short(_key(usk))}",
                 f"{node.user}'s user-signing key {short(_key(usk))} signed {user}'s master key "
                 f"{short(_key(link))}"),
                (*node.via, node.user) if node.hops else node.via)
            level.append(reached[user])
    return list(reached.values()), disputes


def _key(statement: Statement) -> Key:
    assert statement.key is not None
    return statement.key


def _claim_order(claim: _Claim) -> tuple[str, str]:
    """A fixed order for naming the claims of a dispute: by voucher, then by key."""
    return str(claim[0].user), _key(claim[2]).thumbprint()


def _against_known(known: _Node, claims: list[_Claim], start: _Node) -> list[_Dispute]:
    """A dispute for each claim of another master key for a user already reached."""
    disputes = []
    for node, usk, link in sorted(claims, key=_claim_order):
        if _same(_key(link), known.master):
            continue
        said = (f"{node.user}'s user-signing key {short(_key(usk))} vouches for another master "
                "key of ")
        if known is start:
            sentence = (f"{said}yours ({known.user}), {short(_key(link))}, but the trust file "
                        f"pins your master key {short(known.master)}")
        else:
            sentence = (f"{said}{known.user}, {short(_key(link))}, but your web of trust "
                        f"reaches {known.user} with master key {short(known.master)}")
        disputes.append(_Dispute(known.user, (node.user,), sentence))
    return disputes


def _tie(user: ImId, claims: list[_Claim]) -> _Dispute:
    """Several master keys offered for a new user at one distance."""
    hops = claims[0][0].hops + 1
    offered = ", ".join(f"{short(_key(link))} by {node.user}" for node, _usk, link in claims)
    offered = " and ".join(offered.rsplit(", ", 1))
    return _Dispute(user, tuple(dict.fromkeys(node.user for node, _usk, _link in claims)),
                    f"{user} is vouched for with {len(claims)} master keys {hops} "
                    f"hop{'s' if hops != 1 else ''} from you, {offered}")


def _find(graph: _Graph, reached: list[_Node], owner: ImId, device: ImId,
          device_key: Key) -> tuple[_Node, tuple[str, ...]] | None:
    """The owner's node and the steps to the device key, when the owner's device-signing key
    signed it (only the owner's own device-signing key may)."""
    for node in reached:
        if node.user != owner:
            continue
        found = graph.device_link(node, device, device_key)
        if found is None:
            return None
        dsk, _link = found
        return node, (
            *node.steps,
            f"{node.user}'s master key {short(node.master)} signed its device-signing key "
            f"{short(_key(dsk))}",
            f"{node.user}'s device-signing key {short(_key(dsk))} signed device {device}'s "
            f"key {short(device_key)}",
        )
    return None


def evaluate_web_of_trust(*, me: ImId, master_key: Key, statements: Sequence[Statement],
                          device: ImId, device_key: Key, max_hops: int = 1) -> TrustPath:
    """Whether ``master_key`` (the verifier's, as user ``me``) reaches ``device_key``.

    ``max_hops`` counts user-signing links: 0 trusts only the verifier's own devices, 1
    also the devices of users whose master key the verifier's user-signing key signed.
    Statements must already be read (signature and times checked) one by one.

    A user has one master key in the web: a link naming a second one (for the verifier, or
    for a user already reached) is a contradiction. When one concerns the device's user or a
    user on the path to it, or was raised by one of them, the path is flagged
    (``contradiction``, the reason naming it), whether or not the device is reached.
    """
    if me.type not in _PARTY_TYPES:
        raise InputError(f"the web of trust starts from a user or handle, and {me} is a "
                         f"{me.type.value}.")
    if max_hops < 0:
        raise InputError("max_hops must be 0 or more.")
    if device.type is not IdType.DEVICE:
        return _refuse(f"{device} is a {device.type.value} identifier, not a device")
    try:
        owner = device.user()
    except IdentifierError as exc:
        return _refuse(exc.message.rstrip("."))
    graph = _build(statements)
    start = _Node(me, master_key.public(), 0,
                  (f"your master key {short(master_key)} anchors {me}",), ())
    reached, disputes = _walk(graph, start, max_hops)
    found = _find(graph, reached, owner, device, device_key)
    if found is not None:
        node, steps = found
        flagged = [d for d in disputes if d.touches({me, *node.via, owner})]
        if flagged:
            return TrustPath(METHOD, True, device_key.public(), steps,
                             f"a contradiction: {flagged[0].sentence}.", contradiction=True)
        return TrustPath(METHOD, True, device_key.public(), steps)
    flagged = [d for d in disputes if d.user == owner]
    if flagged:
        return TrustPath(METHOD, False, None, (), f"a contradiction: {flagged[0].sentence}.",
                         contradiction=True)
    contradiction, reason = _why_not(graph, start, reached, owner, device, device_key,
                                     max_hops)
    return TrustPath(METHOD, False, None, (), reason + ".", contradiction)


def _refuse(reason: str) -> TrustPath:
    return TrustPath(METHOD, False, None, (), reason + ".")


# --------------------------------------------------------------------------------------------
# Explaining a refusal: the first missing or revoked link, most specific first


def _revoked_by(revocation: Statement) -> str:
    return (f"key {short(revocation.signer)} of {revocation.issuer} revoked that statement "
            f"({revocation.revokes})")


def _why_not(graph: _Graph, start: _Node, reached: list[_Node], owner: ImId, device: ImId,
             device_key: Key, max_hops: int) -> tuple[bool, str]:
    """(contradiction, reason) for a device key the web does not reach."""
    everyone, _disputes = _walk(graph, start, None)
    beyond = _find(graph, everyone, owner, device, device_key)
    if beyond is not None:
        far = beyond[0]  # the user whose device-signing key signed the device key
        hops = far.hops
        via = f" (via {', '.join(map(str, far.via))})" if far.via else ""
        return False, (f"{owner} is {hops} hop{'s' if hops != 1 else ''} from you{via}, more "
                       f"than max_hops {max_hops} allows")
    elsewhere = _foreign_device_signer(graph, reached, owner, device, device_key)
    if elsewhere is not None:
        return False, elsewhere
    near = [node for node in reached if node.user == owner]
    if near:
        return _why_no_device(graph, near[0], device, device_key)
    far_nodes = [node for node in everyone if node.user == owner]
    if far_nodes:
        far = far_nodes[0]
        return False, (f"{owner} is {far.hops} hops from you, more than max_hops {max_hops} "
                       f"allows, and no device-signing key of {owner} signed device {device}'s "
                       f"key {short(device_key)}")
    if max_hops == 0:
        return False, (f"device {device} belongs to {owner}, not to you, and max_hops 0 trusts "
                       "only your own devices")
    return False, _why_no_user(graph, reached, owner)


def _dsk_owner(graph: _Graph, reached: list[_Node], signer: Key) -> _Node | None:
    """The reached user whose master key signed ``signer`` as a device-signing key."""
    for node in reached:
        for dsk in graph.signed(node.user, node.master, StatementKind.DSK):
            assert dsk.key is not None
            if _same(dsk.key, signer):
                return node
    return None


def _foreign_device_signer(graph: _Graph, reached: list[_Node], owner: ImId, device: ImId,
                           device_key: Key) -> str | None:
    """A trusted user's device-signing key that signed a device of another user."""
    for statement in graph.active:
        if (statement.kind is not StatementKind.DEVICE or statement.subject != device
                or statement.key is None or not _same(statement.key, device_key)):
            continue
        signer_owner = _dsk_owner(graph, reached, statement.signer)
        if signer_owner is not None and signer_owner.user != owner:
            return (f"device {device}'s key {short(device_key)} is signed by "
                    f"{signer_owner.user}'s device-signing key {short(statement.signer)}, but a "
                    f"device-signing key vouches only for its own user's devices, and this "
                    f"device belongs to {owner}")
    return None


def _why_no_device(graph: _Graph, node: _Node, device: ImId,
                   device_key: Key) -> tuple[bool, str]:
    """The user is trusted; why does no device-signing key of theirs bind the device key?"""
    user, master = node.user, node.master
    dsks = graph.signed(user, master, StatementKind.DSK)
    dsk_keys = {dsk.key.thumbprint() for dsk in dsks if dsk.key is not None}
    for statement, revocation in graph.revoked:
        if (statement.kind is StatementKind.DEVICE and statement.issuer == user
                and statement.subject == device and statement.key is not None
                and _same(statement.key, device_key)
                and statement.signer.thumbprint() in dsk_keys):
            return False, (f"{user}'s device-signing key {short(statement.signer)} signed device "
                           f"{device}'s key {short(device_key)}, but "
                           f"{_revoked_by(revocation)}")
    for statement, revocation in graph.revoked:
        if (statement.kind is StatementKind.DSK and statement.issuer == user
                and _same(statement.signer, master) and statement.key is not None
                and any(link.subject == device and link.key is not None
                        and _same(link.key, device_key)
                        for link in graph.signed(user, statement.key, StatementKind.DEVICE))):
            return False, (f"{user}'s device-signing key {short(statement.key)} signed device "
                           f"{device}'s key {short(device_key)}, but {user}'s master key "
                           f"{short(master)} revoked the statement naming that device-signing "
                           f"key ({revocation.revokes})")
    for dsk in dsks:
        assert dsk.key is not None
        for link in graph.signed(user, dsk.key, StatementKind.DEVICE):
            if link.subject == device and link.key is not None:
                return True, (f"{user}'s device-signing key {short(dsk.key)} binds device "
                              f"{device} to another key, {short(link.key)}, not to key "
                              f"{short(device_key)}")
    for statement in graph.active:
        if (statement.kind is StatementKind.DEVICE and statement.subject == device
                and statement.key is not None and _same(statement.key, device_key)):
            return False, (f"the statement binding device {device} to key {short(device_key)} "
                           f"is signed by key {short(statement.signer)}, which {user}'s master "
                           f"key {short(master)} did not sign as a device-signing key")
    if not dsks:
        return False, f"{user}'s master key {short(master)} signed no device-signing key"
    return False, (f"no device-signing key of {user} signed device {device}'s key "
                   f"{short(device_key)}")


def _why_no_user(graph: _Graph, reached: list[_Node], owner: ImId) -> str:
    """No reached user vouched for the device's user: which link is missing or revoked?"""
    usk_keys = {(node.user, usk.key.thumbprint())
                for node in reached
                for usk in graph.signed(node.user, node.master, StatementKind.USK)
                if usk.key is not None}
    for statement, revocation in graph.revoked:
        if (statement.kind is StatementKind.USER and statement.subject == owner
                and (statement.issuer, statement.signer.thumbprint()) in usk_keys):
            assert statement.key is not None
            return (f"{statement.issuer}'s user-signing key {short(statement.signer)} signed "
                    f"{owner}'s master key {short(statement.key)}, but "
                    f"{_revoked_by(revocation)}")
    reached_slots = {node.slot for node in reached}
    for statement, revocation in graph.revoked:
        if (statement.kind is StatementKind.USK and statement.key is not None
                and (statement.issuer, statement.signer.thumbprint()) in reached_slots
                and any(link.subject == owner
                        for link in graph.signed(statement.issuer, statement.key,
                                                 StatementKind.USER))):
            return (f"{statement.issuer}'s user-signing key {short(statement.key)} signed "
                    f"{owner}'s master key, but {statement.issuer}'s master key "
                    f"{short(statement.signer)} revoked the statement naming that "
                    f"user-signing key ({revocation.revokes})")
    reached_users = {node.user for node in reached}
    for statement in graph.active:
        if statement.kind is not StatementKind.USER or statement.subject != owner:
            continue
        assert statement.key is not None
        if statement.issuer in reached_users:
            return (f"the statement vouching for {owner}'s master key {short(statement.key)} "
                    f"names {statement.issuer} as its issuer but is signed by key "
                    f"{short(statement.signer)}, which {statement.issuer}'s master key did not "
                    "sign as a user-signing key")
        return (f"the statement vouching for {owner}'s master key {short(statement.key)} "
                f"comes from {statement.issuer}, whom your web of trust does not reach")
    return (f"no user you trust vouched for {owner}'s master key: no user-signing link leads "
            f"to {owner}")
