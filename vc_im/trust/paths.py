"""A trust path: how (and whether) one trust model ties an identifier to a key.

Every trust model of the MIMI identity draft §4 (a central authority, a
cascade of credentials, an X.509 chain, a web of trust, well-known service
cross-signing) answers with one of these, so that a policy can combine them
and a report can explain the decision link by link.
"""

from __future__ import annotations

from dataclasses import dataclass

from vc_im.keys import Key

METHODS = ("central", "cascade", "x509", "web_of_trust", "well_known")


@dataclass(frozen=True, slots=True)
class TrustPath:
    """One trust model's answer for one identifier."""

    method: str
    ok: bool
    key: Key | None = None
    steps: tuple[str, ...] = ()
    reason: str = ""
    #: Positive evidence for another key (a contradiction), not merely missing evidence.
    contradiction: bool = False

    def explain(self) -> str:
        """One line: the method, then its links or why it failed."""
        if self.ok:
            return f"{self.method}: " + " -> ".join(self.steps)
        return f"{self.method}: {self.reason}"
