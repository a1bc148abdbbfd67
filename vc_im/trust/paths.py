"""A trust path: how (and whether) one trust model ties an identifier to a key.

Every trust model of the MIMI identity draft §4 (a central authority, a
cascade of credentials, an X.509 chain, a web of trust, well-known service
cross-signing) answers with one of these, so that a policy can combine them
and a report can explain the decision link by link.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from vc_im.keys import Key


class TrustMethod(StrEnum):
    """A trust model; the value is its name in the trust file's policy and in reports."""

    CENTRAL = "central"
    CASCADE = "cascade"
    X509 = "x509"
    WEB_OF_TRUST = "web_of_trust"
    WELL_KNOWN = "well_known"


@dataclass(frozen=True, slots=True)
class TrustPath:
    """One trust model's answer for one identifier.

    ``method`` may be given as the method's name; it is stored as a :class:`TrustMethod`
    (ValueError for a name that is none), so a path never carries an unknown method.
    """

    method: str
    ok: bool
    key: Key | None = None
    steps: tuple[str, ...] = ()
    reason: str = ""
    #: Positive evidence for another key (a contradiction), not merely missing evidence.
    contradiction: bool = False

    def __post_init__(self) -> None:
        if type(self.method) is not TrustMethod:  # a member as it is; a name looked up
            object.__setattr__(self, "method", TrustMethod(self.method))

    def explain(self) -> str:
        """One line: the method, then its links or why it failed."""
        if self.ok:
            return f"{self.method}: " + " -> ".join(self.steps)
        return f"{self.method}: {self.reason}"
