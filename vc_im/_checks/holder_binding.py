"""The presentation's ``holder_binding`` check: one key, bound by every credential but the
parents, is the presenter's; ``iss`` is each device credential's subject; a user credential
is a parent (its key signed a presented device credential) or listed by a device credential.
"""

from __future__ import annotations

from vc_im import _jose as jose
from vc_im._checks.common import maybe_identifier
from vc_im._checks.state import PresentationState
from vc_im.errors import KeyFileError
from vc_im.keys import Key, key_from_jwk
from vc_im.model import Credential, CredentialType
from vc_im.report import CheckFailed

__all__ = ["check_holder_binding"]


def _find_parents(state: PresentationState) -> list[Credential]:
    """The presented user credentials that issued a presented device credential: it names
    the user as its issuer and verifies with the user credential's ``cnf`` key."""
    parents: list[Credential] = []
    for user in state.credentials:
        if (user.type is not CredentialType.USER or not user.may_issue_devices
                or user.holder_key is None):
            continue
        for token, device in zip(state.tokens, state.credentials, strict=True):
            if (device.type is CredentialType.DEVICE and isinstance(token, jose.Unverified)
                    and maybe_identifier(device.issuer) == user.subject.id
                    and jose.verify_signature(token, user.holder_key)):
                parents.append(user)
                break
    return parents


def _bound_thumbprint(credential: Credential, index: int) -> tuple[str, Key | None]:
    bound = credential.bound_thumbprint
    if bound is not None:
        return bound, credential.holder_key
    raise CheckFailed("holder_binding", f"credential {index} binds no holder key (no cnf), so "
                      "no presenter can prove it holds it")


def check_holder_binding(state: PresentationState) -> str:
    """The same key is bound by every credential but the parents, and the header names no
    other one; ``iss`` is each device credential's subject; user credentials other than
    parents are vouched for (listed by a device credential)."""
    state.parents = _find_parents(state)
    bound: list[tuple[str, Key | None]] = []
    try:
        bound = [_bound_thumbprint(c, i) for i, c in enumerate(state.credentials, start=1)
                 if not any(c is parent for parent in state.parents)]
    except KeyFileError as exc:
        raise CheckFailed("bad_key", exc.message) from exc
    thumbprints = {thumbprint for thumbprint, _ in bound}
    if len(thumbprints) != 1:
        raise CheckFailed("holder_binding", _different_keys(state))
    thumbprint = thumbprints.pop()
    key = next((k for _, k in bound if k is not None), None)
    header = state.header
    if "jwk" in header:
        try:
            header_key = key_from_jwk(header["jwk"], require="public")
        except KeyFileError as exc:
            raise CheckFailed("bad_header", f"the header's jwk: {exc.message}") from exc
        if header_key.thumbprint() != thumbprint:
            raise CheckFailed("holder_binding", "the presentation is signed with a key that "
                              "its credentials do not bind")
        key = key or header_key
        state.header_named_key = True
    if key is None:
        raise CheckFailed("holder_binding", "the credentials bind the holder key by thumbprint "
                          "(cnf.jkt) and the header carries no jwk to check it against")
    kid = header.get("kid")
    if kid is not None:
        if kid not in (thumbprint, key.thumbprint_uri(), key.kid):
            raise CheckFailed("holder_binding", f"the header names key {kid!r}, not the key "
                              "the credentials bind")
        state.header_named_key = True
    assert state.holder is not None
    devices = [c for c in state.credentials if c.type is CredentialType.DEVICE]
    if not devices:
        raise CheckFailed("holder_binding", "the presentation holds no device credential, so "
                          "nothing ties its holder to a device")
    for device in devices:
        if device.subject.id != state.holder:
            raise CheckFailed("holder_binding", f"the presentation's iss {state.holder} is not "
                              f"the device credential's subject {device.subject.id}")
    listed = {value for device in devices for value in device.subject.instant_messages}
    for credential in state.credentials:
        if any(credential is parent for parent in state.parents):
            continue  # bound through the device credential's signature
        if credential.type is CredentialType.USER and credential.subject.id not in listed:
            raise CheckFailed("holder_binding", f"the user credential's subject "
                              f"{credential.subject.id} is not listed in any presented device "
                              "credential's hasInstantMessage")
    state.holder_key = key
    if state.parents:
        users = ", ".join(str(parent.subject.id) for parent in state.parents)
        return (f"the device credentials bind key {thumbprint}; the user credential of "
                f"{users} issued them")
    return f"all credentials bind key {thumbprint}"


def _different_keys(state: PresentationState) -> str:
    """Why the credentials' keys differ: a user credential that issued nothing presented
    says so, as the cascade would have exempted it."""
    for credential in state.credentials:
        if (credential.type is CredentialType.USER
                and not any(credential is parent for parent in state.parents)
                and any(device.type is CredentialType.DEVICE
                        and device.bound_thumbprint != credential.bound_thumbprint
                        for device in state.credentials)):
            return (f"the user credential of {credential.subject.id} binds another key than "
                    "the device credential, and issued no presented device credential (its "
                    "key signed none), so nothing binds it to this presentation")
    return "the credentials bind different holder keys"
