"""The errors vc_im raises on purpose.

Every error carries a stable machine ``code`` and a one-sentence message, and
knows the CLI exit code it stands for (the library itself never exits)::

    VcImError
     ├── InputError (also ValueError)        exit 2: bad option, unreadable file
     │    ├── KeyFileError                   a key file or JWK that is unusable
     │    └── TrustFileError                 a malformed trust file
     ├── TokenError (also ValueError)        exit 1: a token that is not valid
     └── VerificationFailed                  exit 1: ``Report.raise_for_failure()``

Identifier errors live in :mod:`vc_im.identifiers` (that module depends on
nothing else in the package).
"""

from __future__ import annotations

from typing import ClassVar


class VcImError(Exception):
    """Base class: a stable ``code`` and a one-sentence message."""

    code: str = "error"
    exit_code: ClassVar[int] = 2

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class InputError(VcImError, ValueError):
    """Input the user gave us (an option, a file, a configuration) is unusable."""

    code = "bad_input"
    exit_code = 2


class KeyFileError(InputError):
    """A key (file, JWK or PEM) is malformed, of the wrong kind, or unsafe."""

    code = "bad_key"


class TrustFileError(InputError):
    """The trust file is malformed or names something it may not."""

    code = "bad_trust_file"


class TokenError(VcImError, ValueError):
    """A token is not valid; ``code`` is one of the stable failure codes."""

    code = "malformed"
    exit_code = 1


class VerificationFailed(VcImError):
    """Raised on request by ``Report.raise_for_failure()``; carries the report."""

    exit_code = 1

    def __init__(self, message: str, *, code: str, report: object) -> None:
        super().__init__(message, code=code)
        self.report = report
