"""Credential profiles: what a credential of one kind must be, and which profile applies.

A profile names a credential's types, the ``@context`` list it carries (after the W3C base
context of its encoding), the JSON Schema its document keeps, which properties hold IM
identifiers and the rules for them, and whether a holder key must be bound. Three are built
in:

* ``im-device`` and ``im-user``: ImDeviceCredential and ImUserCredential, checked by vc_im's
  own rules (these profiles only name them; nothing about them is configurable);
* ``w3c``: any credential that keeps the W3C VC Data Model (1.1 or 2.0) itself
  (:mod:`vc_im.vcdm`), whose contexts are all pinned files (vc_im's own, or those a profile
  file pins) and whose JSON-LD expansion loses nothing. No IM identifier rule applies.

A profile file adds one more without a code change (see :func:`read_profile_file`). Which
profile applies to a credential (:func:`select`): the one ``--profile`` names, or else the
most specific of those its issuer may issue (a trust file issuer's ``profiles``, by default
``im-device`` and ``im-user`` only) whose types the credential carries. So without
``profile_files``, issuer ``profiles`` or ``--profile`` nothing changes meaning.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vc_im import _jose
from vc_im.errors import InputError
from vc_im.identifiers import IdType

if TYPE_CHECKING:
    from vc_im._linked import ContextLoader, PinnedContext, SchemaProblem

__all__ = [
    "BUILTIN_NAMES",
    "IM_DEVICE",
    "IM_PROFILES",
    "IM_USER",
    "MAX_PROFILE_BYTES",
    "W3C",
    "HolderBinding",
    "IdentifierRule",
    "Profile",
    "ProfileError",
    "builtin",
    "read_profile_file",
    "resolve",
    "select",
]

MAX_PROFILE_BYTES = 1 << 20
_NAME = re.compile(r"\A[a-z0-9][a-z0-9-]{0,62}\Z")
_TERM = re.compile(r"\A[A-Za-z][A-Za-z0-9_]{0,99}\Z")
_SHA256 = re.compile(r"\A[0-9a-f]{64}\Z")
_URL = re.compile(r"\Ahttps?://[^\s\"<>\\^`{|}\x00-\x1f\x7f]+\Z")
_MEMBERS = frozenset({"profile", "types", "contexts", "schema", "identifiers", "holder_binding",
                      "description"})
_RULE_MEMBERS = frozenset({"property", "types", "issuer_domains"})


class ProfileError(InputError):
    """A profile file, or a profile name, that cannot be used."""

    code = "bad_profile"


class HolderBinding(StrEnum):
    """Whether a credential of the profile binds its holder's key (``cnf``)."""

    OPTIONAL = "optional"
    REQUIRED = "required"


@dataclass(frozen=True, slots=True)
class IdentifierRule:
    """A property of ``credentialSubject`` that holds IM identifiers, and their rules.

    Its value is one identifier or an array of them; each must parse (draft §3), be of one of
    ``types`` (all types when empty) and, with ``issuer_domains``, lie within the domains the
    trust file lets the issuer speak for.
    """

    property: str
    types: frozenset[IdType] = frozenset()
    issuer_domains: bool = True


@dataclass(frozen=True, slots=True)
class Profile:
    """What a credential of one kind must be (see the module notes)."""

    name: str
    #: The credential's types besides VerifiableCredential (empty for ``w3c``: any types).
    types: frozenset[str]
    #: Context URLs after the encoding's W3C base context, in order, pinned by ``pins``.
    contexts: tuple[str, ...] = ()
    pins: tuple[PinnedContext, ...] = field(default=(), compare=False)
    #: The JSON Schema the credential's data-model document keeps (a profile file's).
    schema: Mapping[str, Any] | None = field(default=None, compare=False)
    identifiers: tuple[IdentifierRule, ...] = ()
    holder_binding: HolderBinding = HolderBinding.OPTIONAL
    #: Where the profile came from: ``built-in`` or the profile file's path.
    source: str = "built-in"

    @property
    def is_im(self) -> bool:
        """Whether vc_im's own ImDeviceCredential/ImUserCredential rules apply."""
        return self.name in IM_NAMES

    def matches(self, types: Sequence[str]) -> bool:
        """Whether a credential of ``types`` is of this profile's kind (its types included).
        vc_im's own types fit their own profiles only, never ``w3c`` or a profile file's."""
        if not self.is_im and IM_TYPES & set(types):
            return False
        return "VerifiableCredential" in types and self.types <= set(types)

    def schema_problems(self, document: Mapping[str, Any]) -> tuple[SchemaProblem, ...]:
        """The profile file's JSON Schema problems of ``document`` (none without a schema)."""
        if self.schema is None:
            return ()
        from vc_im._linked import validate_with

        return validate_with(self.schema, document)

    def loader(self, extra: Iterable[PinnedContext] = ()) -> ContextLoader:
        """The offline loader for this profile: vc_im's pinned contexts, this profile's and
        ``extra`` (built once per set of pins)."""
        return _loader((*self.pins, *extra))


IM_NAMES = frozenset({"im-device", "im-user"})
IM_TYPES = frozenset({"ImDeviceCredential", "ImUserCredential"})
IM_DEVICE = Profile("im-device", frozenset({"ImDeviceCredential"}))
IM_USER = Profile("im-user", frozenset({"ImUserCredential"}))
W3C = Profile("w3c", frozenset())
#: The profiles that apply when nothing else is configured: today's two credential types.
IM_PROFILES: tuple[Profile, ...] = (IM_DEVICE, IM_USER)
BUILTIN_NAMES = ("im-device", "im-user", "w3c")
_BUILTINS = {profile.name: profile for profile in (IM_DEVICE, IM_USER, W3C)}


def builtin(name: str) -> Profile | None:
    """The built-in profile called ``name``, or None."""
    return _BUILTINS.get(name)


@cache
def _loader(pins: tuple[PinnedContext, ...]) -> ContextLoader:
    from vc_im import _linked

    return _linked.ContextLoader(_linked.contexts_dir(), (*_linked.PINNED_CONTEXTS, *pins))


def select(types: Sequence[str], candidates: Iterable[Profile]) -> Profile | None:
    """The most specific of ``candidates`` whose types ``types`` carries (most types first,
    then the first given), or None when none does."""
    matching = [profile for profile in candidates if profile.matches(types)]
    if not matching:
        return None
    return max(matching, key=lambda profile: len(profile.types))


def resolve(value: str, known: Iterable[Profile] = ()) -> Profile:
    """``--profile NAME|FILE``: a built-in or ``known`` profile by name, else a profile file."""
    found = builtin(value) or next((p for p in known if p.name == value), None)
    if found is not None:
        return found
    if value.endswith(".json") or "/" in value:
        return read_profile_file(Path(value))
    raise ProfileError(f"there is no profile named {value!r} (built in: "
                       f"{', '.join(BUILTIN_NAMES)}; or name a profile file, FILE.json).")


# --- profile files ---------------------------------------------------------------------------

def read_profile_file(path: Path) -> Profile:
    """Read a profile file: JSON naming the profile, its types, its context and schema files
    (paths relative to the profile file, each pinned by SHA-256), its identifier rules and
    its holder-binding rule. Raises :class:`ProfileError` with one sentence."""
    data = _read(path, MAX_PROFILE_BYTES, "profile file")
    try:
        document = _jose.loads(data, what=f"profile file {path}", max_bytes=MAX_PROFILE_BYTES)
    except _jose.StrictJSONError as exc:
        raise ProfileError(exc.message) from exc
    where = f"profile file {path}"
    if not isinstance(document, dict):
        raise ProfileError(f"the {where} is not a JSON object.")
    unknown = sorted(set(document) - _MEMBERS)
    if unknown:
        raise ProfileError(f"the {where} has unknown member {unknown[0]!r}; allowed: "
                           f"{', '.join(sorted(_MEMBERS))}.")
    name = document.get("profile")
    if not isinstance(name, str) or not _NAME.match(name):
        raise ProfileError(f"the {where} needs \"profile\": a name of lower-case letters, "
                           "digits and hyphens.")
    if name in BUILTIN_NAMES:
        raise ProfileError(f"the {where} names the built-in profile {name!r}; choose another "
                           "name.")
    types = document.get("types")
    if (not isinstance(types, list) or not types
            or not all(isinstance(t, str) and _TERM.match(t) for t in types)
            or "VerifiableCredential" in types or len(set(types)) != len(types)):
        raise ProfileError(f"the {where} needs \"types\": distinct type terms besides "
                           "VerifiableCredential.")
    if set(types) & IM_TYPES:
        raise ProfileError(f"the {where} may not claim vc_im's own credential types.")
    base = path.parent
    contexts, pins = _contexts(document.get("contexts"), base, where)
    schema = _schema(document.get("schema"), base, where)
    rules = _rules(document.get("identifiers", []), where)
    binding = document.get("holder_binding", "optional")
    if binding not in {b.value for b in HolderBinding}:
        raise ProfileError(f"the {where}: \"holder_binding\" must be \"optional\" or "
                           "\"required\".")
    description = document.get("description")
    if description is not None and not isinstance(description, str):
        raise ProfileError(f"the {where}: \"description\" must be a string.")
    return Profile(name, frozenset(types), contexts, pins, schema, rules,
                   HolderBinding(binding), str(path))


def _read(path: Path, limit: int, what: str) -> bytes:
    try:
        with path.open("rb") as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        raise ProfileError(f"cannot read the {what} {path}: {exc.strerror or exc}.") from exc
    if len(data) > limit:
        raise ProfileError(f"the {what} {path} is larger than {limit} bytes.")
    return data


def _pinned(entry: Any, base: Path, where: str, what: str) -> tuple[Path, bytes]:
    """A ``{"file", "sha256"}`` entry: the file's bytes, after checking its digest."""
    if not isinstance(entry, dict) or not isinstance(entry.get("file"), str) or not (
            isinstance(entry.get("sha256"), str) and _SHA256.match(entry["sha256"])):
        raise ProfileError(f"the {where}: each {what} needs \"file\" (a path relative to the "
                           "profile file) and \"sha256\" (64 lower-case hex digits).")
    file = base / entry["file"]
    data = _read(file, MAX_PROFILE_BYTES, what)
    if hashlib.sha256(data).hexdigest() != entry["sha256"]:
        raise ProfileError(f"the {what} {file} does not match the SHA-256 the {where} pins.")
    return file, data


def _contexts(raw: Any, base: Path, where: str) -> tuple[tuple[str, ...], tuple[Any, ...]]:
    from vc_im import _linked

    if not isinstance(raw, list) or len(raw) > 8:
        raise ProfileError(f"the {where} needs \"contexts\": an array (at most 8) of "
                           "{\"url\", \"file\", \"sha256\"}.")
    shipped = {pin.url for pin in _linked.PINNED_CONTEXTS}
    urls: list[str] = []
    pins: list[PinnedContext] = []
    for index, entry in enumerate(raw):
        url = entry.get("url") if isinstance(entry, dict) else None
        if isinstance(url, str) and url in shipped and set(entry) == {"url"}:
            urls.append(url)  # one of vc_im's own pinned contexts, by URL alone
            continue
        if not isinstance(url, str) or not _URL.match(url) or url in urls:
            raise ProfileError(f"the {where}: contexts[{index}] needs a distinct \"url\" "
                               "(http or https).")
        if url in shipped:
            raise ProfileError(f"the {where}: contexts[{index}] is vc_im's own {url}; name it "
                               "by \"url\" alone.")
        file, data = _pinned(entry, base, where, "context file")
        try:
            parsed = json.loads(data)
        except ValueError as exc:
            raise ProfileError(f"the context file {file} is not JSON.") from exc
        if not isinstance(parsed, dict) or "@context" not in parsed:
            raise ProfileError(f"the context file {file} is not a JSON-LD context document.")
        urls.append(url)
        pins.append(_linked.PinnedContext(url, str(file.resolve()), entry["sha256"]))
    return tuple(urls), tuple(pins)


def _schema(raw: Any, base: Path, where: str) -> Mapping[str, Any] | None:
    if raw is None:
        return None
    file, data = _pinned(raw, base, where, "schema file")
    from vc_im._linked import check_schema

    try:
        return check_schema(json.loads(data))
    except (ValueError, InputError) as exc:
        raise ProfileError(f"the schema file {file} is not a usable JSON Schema (draft "
                           "2020-12, with no references outside itself).") from exc


def _rules(raw: Any, where: str) -> tuple[IdentifierRule, ...]:
    if not isinstance(raw, list) or len(raw) > 16:
        raise ProfileError(f"the {where}: \"identifiers\" must be an array (at most 16).")
    kinds = {kind.value: kind for kind in IdType}
    rules: list[IdentifierRule] = []
    for index, entry in enumerate(raw):
        at = f"the {where}: identifiers[{index}]"
        if not isinstance(entry, dict) or set(entry) - _RULE_MEMBERS:
            raise ProfileError(f"{at} may hold only {', '.join(sorted(_RULE_MEMBERS))}.")
        prop = entry.get("property")
        if not isinstance(prop, str) or not _TERM.match(prop):
            raise ProfileError(f"{at} needs \"property\": a credentialSubject member name.")
        names = entry.get("types", [])
        if not isinstance(names, list) or not all(isinstance(n, str) and n in kinds
                                                  for n in names):
            raise ProfileError(f"{at}: \"types\" must list identifier types among "
                               f"{', '.join(kinds)}.")
        domains = entry.get("issuer_domains", True)
        if not isinstance(domains, bool):
            raise ProfileError(f"{at}: \"issuer_domains\" must be true or false.")
        rules.append(IdentifierRule(prop, frozenset(kinds[n] for n in names), domains))
    return tuple(rules)
