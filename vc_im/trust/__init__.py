"""Trust: who a verifier believes, and the paths by which a key comes to be trusted.

The draft's trust models each have a module: a central authority and the trust file
(:mod:`~vc_im.trust.store`), the paths and policy that combine them
(:mod:`~vc_im.trust.paths`, :mod:`~vc_im.trust.policy`), X.509 chains
(:mod:`~vc_im.trust.x509`), signed statements (:mod:`~vc_im.trust.statements`), the web
of trust (:mod:`~vc_im.trust.wot`) and well-known service cross-signing
(:mod:`~vc_im.trust.wellknown`, which counts services by registrable domain with
:mod:`~vc_im.trust.services`). Only the light modules load with the package;
``cryptography.x509`` and the network code load when a trust file or a command uses them.
"""

from __future__ import annotations

from vc_im.trust.paths import TrustMethod, TrustPath
from vc_im.trust.policy import Decision, decide
from vc_im.trust.store import (
    Combine,
    OnContradiction,
    PolicyRule,
    TrustedIssuer,
    TrustStore,
    WebOfTrustAnchor,
    parse_trust,
    read_trust_file,
)

__all__ = [
    "Combine",
    "Decision",
    "OnContradiction",
    "PolicyRule",
    "TrustMethod",
    "TrustPath",
    "TrustStore",
    "TrustedIssuer",
    "WebOfTrustAnchor",
    "decide",
    "parse_trust",
    "read_trust_file",
]
