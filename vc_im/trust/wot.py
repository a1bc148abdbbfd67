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

from collections import deque
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


def _search(graph: _Graph, start: _Node, device: ImId, device_key: Key,
            max_hops: int | None) -> tuple[tuple[str, ...] | None, list[_Node]]:
    """Breadth first from ``start``: the steps to the device key (or None), and the users
    reached in order. Each (user, master key) is visited once, so cycles end."""
    queue: deque[_Node] = deque([start])
    seen = {start.slot}
    reached: list[_Node] = []
    while queue:
        node = queue.popleft()
        reached.append(node)
        found = graph.device_link(node, device, device_key)
        if found is not None:
            dsk, link = found
            assert dsk.key is not None
            return (
                *node.steps,
                f"{node.user}'s master key {short(node.master)} signed its device-signing key "
                f"{short(dsk.key)}",
                f"{node.user}'s device-signing key {short(dsk.key)} signed device {device}'s "
                f"key {short(device_key)}",
            ), reached
        if max_hops is not None and node.hops >= max_hops:
            continue
        for usk, link in graph.vouched(node):
            assert usk.key is not None
            assert link.key is not None
            assert isinstance(link.subject, ImId)
            slot = (link.subject, link.key.thumbprint())
            if slot in seen:
                continue  # a cycle, or a user already reached by a path as short
            seen.add(slot)
            queue.append(_Node(
                link.subject, link.key, node.hops + 1,
                (*node.steps,
                 f"{node.user}'s master key {short(node.master)} signed its user-signing key "
                 f"{short(usk.key)}",
                 f"{node.user}'s user-signing key {short(usk.key)} signed {link.subject}'s "
                 f"master key {short(link.key)}"),
                (*node.via, node.user) if node.hops else node.via))
    return None, reached


def evaluate_web_of_trust(*, me: ImId, master_key: Key, statements: Sequence[Statement],
                          device: ImId, device_key: Key, max_hops: int = 1) -> TrustPath:
    """Whether ``master_key`` (the verifier's, as user ``me``) reaches ``device_key``.

    ``max_hops`` counts user-signing links: 0 trusts only the verifier's own devices, 1
    also the devices of users whose master key the verifier's user-signing key signed.
    Statements must already be read (signature and times checked) one by one.
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
    steps, reached = _search(graph, start, device, device_key, max_hops)
    if steps is not None:
        return TrustPath(METHOD, True, device_key.public(), steps)
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
    steps, everyone = _search(graph, start, device, device_key, None)
    if steps is not None:
        far = everyone[-1]  # the user whose device-signing key signed the device key
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
