"""The issuer's registry (SQLite): its status lists, the credentials it issued, their status.

One file holds everything an issuer needs to answer "which devices does this user have?"
(draft-mahy-mimi-identity §4.1) and to deprovision them:

* ``lists``: each status list (URL, purpose, format, size, issuer);
* ``credentials``: every credential issued through the registry (id, subject, user, holder
  key thumbprint, validity, the token itself, and the credential it renewed);
* ``entries``: which index of which list each credential holds, and whether that bit is set.

Indexes are drawn at random (sequential ones would leak issuance order; Bitstring Status
List §6.3) and ``PRIMARY KEY (list, idx)`` makes reuse impossible. Allocation, signing and
recording happen in one ``BEGIN IMMEDIATE`` transaction committed before the token is
returned, so a process killed at any moment leaves either the whole issuance or none of it.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from vc_im import _jose as jose
from vc_im.errors import InputError, VcImError
from vc_im.keys import Key
from vc_im.model import Encoding
from vc_im.status.bitstring import MAX_BITS, MIN_ENTRIES, set_bit
from vc_im.status.lists import Purpose, StatusEntry, sign_list

__all__ = ["DEFAULT_LIST_SIZE", "IssuedCredential", "Registry", "StatusListInfo"]

DEFAULT_LIST_SIZE: Final = MIN_ENTRIES

_SCHEMA = """
CREATE TABLE IF NOT EXISTS lists (
    url TEXT PRIMARY KEY, purpose TEXT NOT NULL, format TEXT NOT NULL,
    size INTEGER NOT NULL, issuer TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS credentials (
    id TEXT PRIMARY KEY, subject TEXT NOT NULL, user TEXT NOT NULL, holder_jkt TEXT,
    format TEXT NOT NULL, issuer TEXT NOT NULL, valid_from INTEGER NOT NULL,
    valid_until INTEGER NOT NULL, token TEXT NOT NULL, renews TEXT, renewed_by TEXT);
CREATE TABLE IF NOT EXISTS entries (
    list TEXT NOT NULL REFERENCES lists(url), idx INTEGER NOT NULL,
    credential TEXT NOT NULL REFERENCES credentials(id), is_set INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (list, idx));
CREATE INDEX IF NOT EXISTS entries_by_credential ON entries(credential);
CREATE INDEX IF NOT EXISTS credentials_by_user ON credentials(user);
"""


@dataclass(frozen=True, slots=True)
class StatusListInfo:
    """One list of the registry."""

    url: str
    purpose: Purpose
    encoding: Encoding
    size: int
    issuer: str


@dataclass(frozen=True, slots=True)
class IssuedCredential:
    """One credential the registry recorded, with its current status."""

    id: str
    subject: str
    user: str
    holder_jkt: str | None
    encoding: Encoding
    issuer: str
    valid_from: int
    valid_until: int
    entries: tuple[tuple[StatusEntry, bool], ...]
    renews: str | None
    renewed_by: str | None
    token: str

    def status(self, now: int) -> str:
        """revoked, suspended, expired or valid (in that order of precedence)."""
        if any(set_ and e.purpose is Purpose.REVOCATION for e, set_ in self.entries):
            return "revoked"
        if any(set_ and e.purpose is Purpose.SUSPENSION for e, set_ in self.entries):
            return "suspended"
        return "expired" if self.valid_until <= now else "valid"

    def to_json(self, now: int) -> dict[str, Any]:
        """What ``vc-im issued list --json`` prints for this credential."""
        return {"id": self.id, "subject": self.subject, "user": self.user,
                "holder_jkt": self.holder_jkt, "format": self.encoding.value,
                "issuer": self.issuer, "valid_from": self.valid_from,
                "valid_until": self.valid_until, "status": self.status(now),
                "entries": [{"list": e.list_url, "index": e.index, "purpose": e.purpose.value,
                             "set": set_} for e, set_ in self.entries],
                "renews": self.renews, "renewed_by": self.renewed_by}


class Registry:
    """An issuer's registry in one SQLite file; open with :meth:`open`, close when done."""

    def __init__(self, connection: sqlite3.Connection, path: Path) -> None:
        self._db = connection
        self.path = path

    @classmethod
    def open(cls, path: Path, *, create: bool = False) -> Registry:
        """Open (or with ``create``, create) the registry at ``path``."""
        if not create and not path.is_file():
            raise InputError(f"there is no registry at {path}; create one with "
                             "vc-im status init.")
        try:
            db = sqlite3.connect(path, timeout=30, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            db.execute("PRAGMA foreign_keys=ON")
            db.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            raise VcImError(f"the registry {path} cannot be opened: {exc}",
                            code="bad_input") from exc
        return cls(db, path)

    def close(self) -> None:
        """Close the database."""
        self._db.close()

    def __enter__(self) -> Registry:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    # --- lists ----------------------------------------------------------------------------

    def create_list(self, *, url: str, purpose: Purpose, encoding: Encoding, issuer: str,
                    size: int = DEFAULT_LIST_SIZE) -> StatusListInfo:
        """Add a list; its URL must be new and its size within the specifications' bounds."""
        if not url.startswith("https://") or len(url) > 2048 or not url.isprintable():
            raise InputError("a status list URL is an https:// URL of at most 2048 characters.")
        if not _last_segment_ok(url):
            raise InputError(f"the status list URL {url!r} must end in a file name "
                             "(letters, digits, '.', '_', '-'), which publish writes.")
        if size < MIN_ENTRIES or size > MAX_BITS or size % 8:
            raise InputError(f"a status list holds between {MIN_ENTRIES} and {MAX_BITS} "
                             "entries, a multiple of 8.")
        with self._transaction() as db:
            if db.execute("SELECT 1 FROM lists WHERE url = ?", (url,)).fetchone():
                raise InputError(f"the registry already has a list at {url}.")
            db.execute("INSERT INTO lists VALUES (?, ?, ?, ?, ?)",
                       (url, purpose.value, encoding.value, size, issuer))
        return StatusListInfo(url, purpose, encoding, size, issuer)

    def lists(self, encoding: Encoding | None = None) -> tuple[StatusListInfo, ...]:
        """Every list (of ``encoding``, when given), oldest first."""
        rows = self._db.execute("SELECT url, purpose, format, size, issuer FROM lists "
                                "ORDER BY rowid").fetchall()
        found = (StatusListInfo(u, Purpose(p), Encoding(f), s, i) for u, p, f, s, i in rows)
        return tuple(info for info in found if encoding is None or info.encoding is encoding)

    # --- issuing --------------------------------------------------------------------------

    def issue(self, key: Key, *, issuer: str, encoding: Encoding, now: int,
              renews: str | None = None, **fields: Any) -> str:
        """Issue a credential with a random unused index in each matching list; record it.

        ``fields`` go to :func:`vc_im.credentials.issue_credential`. Each purpose gets one
        entry: the newest matching list of that purpose with room, from this issuer.
        """
        from vc_im.credentials import issue_credential
        from vc_im.identifiers import IdType, parse

        with self._transaction() as db:
            entries = [self._allocate(db, info) for info in self._pick_lists(issuer, encoding)]
            token = issue_credential(key, issuer=issuer, encoding=encoding, now=now,
                                     status=[entry.to_json() for entry in entries], **fields)
            payload = jose.peek_unverified(token).payload
            subject = parse(str(payload["sub"]))
            user = subject.user() if subject.type is IdType.DEVICE else subject
            cnf = payload.get("cnf")
            jkt = fields["holder_key"].thumbprint() if fields.get("holder_key") else (
                cnf.get("jkt") if isinstance(cnf, dict) else None)
            credential_id = str(payload["jti"])
            if db.execute("SELECT 1 FROM credentials WHERE id = ?", (credential_id,)).fetchone():
                raise InputError(f"the registry already has a credential {credential_id}.")
            db.execute("INSERT INTO credentials VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)",
                       (credential_id, str(subject), str(user), jkt, encoding.value, issuer,
                        now, int(payload["exp"]), token, renews))
            db.executemany("INSERT INTO entries VALUES (?, ?, ?, 0)",
                           [(e.list_url, e.index, credential_id) for e in entries])
            if renews is not None:
                db.execute("UPDATE credentials SET renewed_by = ? WHERE id = ?",
                           (credential_id, renews))
        return token

    def _pick_lists(self, issuer: str, encoding: Encoding) -> list[StatusListInfo]:
        picked: dict[Purpose, StatusListInfo] = {}
        for info in self.lists(encoding):
            if info.issuer != issuer:
                continue
            used = self._db.execute("SELECT COUNT(*) FROM entries WHERE list = ?",
                                    (info.url,)).fetchone()[0]
            if used < info.size:
                picked[info.purpose] = info  # the newest list with room wins
        return list(picked.values())

    def _allocate(self, db: sqlite3.Connection, info: StatusListInfo) -> StatusEntry:
        """A uniformly random index not yet used in the list."""
        for _ in range(64):
            index = secrets.randbelow(info.size)
            if not db.execute("SELECT 1 FROM entries WHERE list = ? AND idx = ?",
                              (info.url, index)).fetchone():
                return StatusEntry(info.url, index, info.purpose, info.encoding)
        used = {row[0] for row in db.execute("SELECT idx FROM entries WHERE list = ?",
                                             (info.url,))}
        free = [i for i in range(info.size) if i not in used]
        if not free:
            raise InputError(f"the status list {info.url} is full; create another.")
        return StatusEntry(info.url, secrets.choice(free), info.purpose, info.encoding)

    # --- status changes ---------------------------------------------------------------------

    def select(self, *, credential: str | None = None, subject: str | None = None,
               user: str | None = None, now: int | None = None) -> tuple[IssuedCredential, ...]:
        """Credentials by id, by device (subject) or by user; with ``now``, only unexpired."""
        where, args = [], []
        for column, value in (("id", credential), ("subject", subject), ("user", user)):
            if value is not None:
                where.append(f"{column} = ?")
                args.append(value)
        if now is not None:
            where.append("valid_until > ?")
            args.append(str(now))
        sql = ("SELECT id, subject, user, holder_jkt, format, issuer, valid_from, valid_until, "
               "renews, renewed_by, token FROM credentials")
        if where:
            sql += " WHERE " + " AND ".join(where)
        out = []
        for row in self._db.execute(sql + " ORDER BY rowid", args).fetchall():
            cid, sub, usr, jkt, fmt, iss, vf, vu, renews, renewed_by, token = row
            entries = tuple(
                (StatusEntry(url, idx, Purpose(purpose), Encoding(fmt)), bool(is_set))
                for url, idx, purpose, is_set in self._db.execute(
                    "SELECT e.list, e.idx, l.purpose, e.is_set FROM entries e JOIN lists l "
                    "ON l.url = e.list WHERE e.credential = ? ORDER BY l.purpose", (cid,)))
            out.append(IssuedCredential(cid, sub, usr, jkt, Encoding(fmt), iss, vf, vu,
                                        entries, renews, renewed_by, token))
        return tuple(out)

    def set_status(self, targets: Sequence[IssuedCredential], purpose: Purpose,
                   value: bool) -> int:
        """Set (or clear) the ``purpose`` bit of each target; returns how many changed.

        Revocation is final: it is never cleared, and a revoked credential is not
        reinstated.
        """
        if purpose is Purpose.REVOCATION and not value:
            raise InputError("revocation is final; a revoked credential cannot be reinstated.")
        changed = 0
        with self._transaction() as db:
            for target in targets:
                entry = next((e for e, _ in target.entries if e.purpose is purpose), None)
                if entry is None:
                    raise InputError(f"the credential {target.id} has no {purpose.value} "
                                     "entry (its registry had no such list when it was issued).")
                if not value and target.status(0) == "revoked":
                    raise InputError(f"the credential {target.id} is revoked, and revocation "
                                     "is final.")
                changed += db.execute(
                    "UPDATE entries SET is_set = ? WHERE list = ? AND idx = ? AND is_set != ?",
                    (int(value), entry.list_url, entry.index, int(value))).rowcount
        return changed

    # --- publishing -----------------------------------------------------------------------

    def bits(self, info: StatusListInfo) -> bytes:
        """The list's current bitstring."""
        bits = bytearray(info.size // 8)
        for (index,) in self._db.execute("SELECT idx FROM entries WHERE list = ? AND is_set = 1",
                                         (info.url,)):
            set_bit(bits, index)
        return bytes(bits)

    def sign_list(self, info: StatusListInfo, key: Key, *, now: int, valid_for: int) -> str:
        """The list as a signed list credential, valid for ``valid_for`` seconds."""
        return sign_list(key, url=info.url, issuer=info.issuer, purpose=info.purpose,
                         encoding=info.encoding, bits=self.bits(info), now=now,
                         valid_for=valid_for)

    def token(self, credential: str) -> Mapping[str, Any]:
        """The payload of a recorded credential (for renewal)."""
        row = self._db.execute("SELECT token FROM credentials WHERE id = ?",
                               (credential,)).fetchone()
        if row is None:
            raise InputError(f"the registry has no credential {credential}.")
        payload: Mapping[str, Any] = json.loads(json.dumps(
            jose.peek_unverified(row[0]).payload))
        return payload


def _last_segment_ok(url: str) -> bool:
    import re

    name = url.rsplit("/", 1)[-1]
    return bool(re.fullmatch(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}", name))


def file_name(url: str) -> str:
    """The file name ``status publish`` writes a list to: its URL's last path segment."""
    return url.rsplit("/", 1)[-1]
