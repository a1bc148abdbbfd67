"""vc_im: identity for interoperable, end-to-end-encrypted instant messaging.

The package names IM users and devices with ``im:`` and ``mimi://`` URIs, issues and
verifies JWT-encoded W3C Verifiable Credentials about them, and reports every verification
check by name. The names below are the public API; everything else is reached through
them or lives in underscore modules and packages.

Importing :mod:`vc_im` is cheap: each name loads its module when it is first used, so
``vc-im --help`` loads no cryptography, JSON-LD or schema library.

Exceptions, all with a stable ``code`` and a one-sentence message::

    VcImError
     ├── InputError (also ValueError)     a bad argument, file or configuration
     │    ├── KeyFileError                 an unusable key
     │    ├── TrustFileError               a malformed trust file
     │    └── ReplayStoreError             an unusable replay store
     ├── TokenError (also ValueError)     a token that is not valid (raised by parsers;
     │                                    verification reports instead)
     └── VerificationFailed               Report.raise_for_failure()
    IdentifierError (ValueError)          not an IM identifier
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.2.0.dev0"

#: Each public name and the module (and attribute) it comes from.
_EXPORTS: dict[str, tuple[str, str]] = {
    # Verifying any token, and what verification returns.
    "verify_token": ("vc_im.verify", "verify_token"),
    "Report": ("vc_im.report", "Report"),
    "Check": ("vc_im.report", "Check"),
    "Status": ("vc_im.report", "Status"),
    "Code": ("vc_im.report", "Code"),
    "Evidence": ("vc_im.model", "Evidence"),
    # Credentials.
    "issue_credential": ("vc_im.credentials", "issue_credential"),
    "verify_credential": ("vc_im.credentials", "verify_credential"),
    "Credential": ("vc_im.model", "Credential"),
    "CredentialType": ("vc_im.model", "CredentialType"),
    "Encoding": ("vc_im.model", "Encoding"),
    "Subject": ("vc_im.model", "Subject"),
    # Presentations and DPoP proofs.
    "create_presentation": ("vc_im.presentations", "create_presentation"),
    "verify_presentation": ("vc_im.presentations", "verify_presentation"),
    "Presentation": ("vc_im.model", "Presentation"),
    "create_proof": ("vc_im.dpop", "create_proof"),
    "verify_proof": ("vc_im.dpop", "verify_proof"),
    "Proof": ("vc_im.model", "Proof"),
    # DPoP-bound access tokens.
    "issue_access_token": ("vc_im.access_tokens", "issue_access_token"),
    "verify_access_token": ("vc_im.access_tokens", "verify_access_token"),
    "AccessToken": ("vc_im.model", "AccessToken"),
    # Trust.
    "TrustStore": ("vc_im.trust", "TrustStore"),
    "TrustedIssuer": ("vc_im.trust", "TrustedIssuer"),
    "read_trust_file": ("vc_im.trust", "read_trust_file"),
    "parse_trust": ("vc_im.trust", "parse_trust"),
    # Keys.
    "Key": ("vc_im.keys", "Key"),
    "generate_key": ("vc_im.keys", "generate"),
    "load_key": ("vc_im.keys", "load_key"),
    "read_key_file": ("vc_im.keys", "read_key_file"),
    "key_from_jwk": ("vc_im.keys", "key_from_jwk"),
    "resolve_did": ("vc_im.keys", "resolve_did"),
    # Identifiers.
    "ImId": ("vc_im.identifiers", "ImId"),
    "IdType": ("vc_im.identifiers", "IdType"),
    "parse_identifier": ("vc_im.identifiers", "parse"),
    # The replay store.
    "ReplayStore": ("vc_im.replay", "ReplayStore"),
    "ReplayOutcome": ("vc_im.replay", "ReplayOutcome"),
    # Exceptions.
    "VcImError": ("vc_im.errors", "VcImError"),
    "InputError": ("vc_im.errors", "InputError"),
    "KeyFileError": ("vc_im.errors", "KeyFileError"),
    "TrustFileError": ("vc_im.errors", "TrustFileError"),
    "TokenError": ("vc_im.errors", "TokenError"),
    "VerificationFailed": ("vc_im.errors", "VerificationFailed"),
    "ReplayStoreError": ("vc_im.replay", "ReplayStoreError"),
    "IdentifierError": ("vc_im.identifiers", "IdentifierError"),
}

__all__ = [
    "AccessToken",
    "Check",
    "Code",
    "Credential",
    "CredentialType",
    "Encoding",
    "Evidence",
    "IdType",
    "IdentifierError",
    "ImId",
    "InputError",
    "Key",
    "KeyFileError",
    "Presentation",
    "Proof",
    "ReplayOutcome",
    "ReplayStore",
    "ReplayStoreError",
    "Report",
    "Status",
    "Subject",
    "TokenError",
    "TrustFileError",
    "TrustStore",
    "TrustedIssuer",
    "VcImError",
    "VerificationFailed",
    "__version__",
    "create_presentation",
    "create_proof",
    "generate_key",
    "issue_access_token",
    "issue_credential",
    "key_from_jwk",
    "load_key",
    "parse_identifier",
    "parse_trust",
    "read_key_file",
    "read_trust_file",
    "resolve_did",
    "verify_access_token",
    "verify_credential",
    "verify_presentation",
    "verify_proof",
    "verify_token",
]


def __getattr__(name: str) -> Any:
    """Load a public name's module on first use (PEP 562)."""
    try:
        module, attribute = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module 'vc_im' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), attribute)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))


if TYPE_CHECKING:  # what type checkers and IDEs see; at run time __getattr__ loads these
    from vc_im.credentials import issue_credential, verify_credential
    from vc_im.dpop import create_proof, verify_proof
    from vc_im.errors import (
        InputError,
        KeyFileError,
        TokenError,
        TrustFileError,
        VcImError,
        VerificationFailed,
    )
    from vc_im.identifiers import IdentifierError, IdType, ImId
    from vc_im.identifiers import parse as parse_identifier
    from vc_im.keys import Key, key_from_jwk, load_key, read_key_file, resolve_did
    from vc_im.keys import generate as generate_key
    from vc_im.model import (
        Credential,
        CredentialType,
        Encoding,
        Evidence,
        Presentation,
        Proof,
        Subject,
    )
    from vc_im.presentations import create_presentation, verify_presentation
    from vc_im.replay import ReplayOutcome, ReplayStore, ReplayStoreError
    from vc_im.report import Check, Code, Report, Status
    from vc_im.trust import TrustedIssuer, TrustStore, parse_trust, read_trust_file
    from vc_im.verify import verify_token
