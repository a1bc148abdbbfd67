"""The ``status`` check: a credential's ``credentialStatus`` entries against signed lists.

Runs after ``trust_path``: only a credential already trusted is worth a list lookup, and
the list must come from that credential's issuer, signed by one of its trusted keys (or
by the very key that signed the credential). A list that was not given, or whose named URL
could not be fetched, fails closed (``status_unavailable``) unless the caller made status
optional.
"""

from __future__ import annotations

from vc_im._checks.common import issuer_of
from vc_im._checks.state import CredentialState
from vc_im.report import CheckFailed, Passed
from vc_im.status.bitstring import StatusUnavailable, get_bit
from vc_im.status.lists import Purpose, entries_of


def check_status_entries(state: CredentialState) -> None:
    """At most one entry per purpose (the schema has checked each entry's shape)."""
    try:
        entries_of(state.model, state.encoding)
    except ValueError as exc:
        raise CheckFailed("schema_invalid", str(exc), "$.credentialStatus") from exc


def check_status(state: CredentialState) -> str:
    """Every status entry's bit is clear in a valid list from the credential's issuer."""
    entries = entries_of(state.model, state.encoding)
    if not entries:
        return "the credential carries no credentialStatus"
    sources = state.evidence.status
    issuer = str(issuer_of(state.payload))
    trusted = state.trust.issuer(issuer) if state.trust is not None else None
    keys = list(trusted.keys) if trusted is not None else []
    if state.key is not None:
        keys.append(state.key)
    said: list[str] = []
    warnings: list[str] = []
    for entry in entries:
        where = f"the {entry.purpose.value} list {entry.list_url}"
        try:
            found = None if sources is None else sources.load(
                entry.list_url, issuer=issuer, keys=keys, purpose=entry.purpose,
                encoding=entry.encoding, now=state.now, leeway=state.leeway)
        except StatusUnavailable as exc:
            raise CheckFailed("status_unavailable", exc.message) from exc
        record: dict[str, object] = {"list": entry.list_url, "index": entry.index,
                                     "purpose": entry.purpose.value}
        if found is None:
            failed = sources.unavailable(entry.list_url) if sources is not None else None
            why = (f"is unavailable ({failed})" if failed is not None else "was not given")
            if sources is not None and sources.optional:
                state.status.append({**record, "status": "unchecked"})
                warnings.append(f"{where} {why}, so index {entry.index} is unchecked "
                                "(status is optional)")
                said.append(f"{entry.purpose.value} index {entry.index} unchecked")
                continue
            raise CheckFailed("status_unavailable", f"{where} is unavailable: {failed}"
                              if failed is not None else f"{where} was not given (missing); "
                              "pass it with --status-list or --status-url")
        if entry.index >= found.size:
            raise CheckFailed("status_unavailable", f"index {entry.index} is out of range for "
                              f"{where}, which holds {found.size} entries")
        if get_bit(found.bits, entry.index):
            state.status.append({**record, "status": "set"})
            if entry.purpose is Purpose.REVOCATION:
                raise CheckFailed("revoked", f"{where} marks index {entry.index}: the "
                                  "credential is revoked")
            raise CheckFailed("suspended", f"{where} marks index {entry.index}: the "
                              "credential is suspended")
        state.status.append({**record, "status": "clear"})
        said.append(f"{entry.purpose.value} index {entry.index} is clear in {entry.list_url}")
    return Passed("; ".join(said), warnings)
