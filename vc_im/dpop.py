"""DPoP proofs (RFC 9449): a holder proves possession of its key for one HTTP request.

:func:`create_proof` signs a proof; :func:`verify_proof` applies RFC 9449 §4.3 and, given a
device credential, requires the proof key to be the key that credential binds.
"""

from __future__ import annotations

from vc_im._checks import DPOP_STEPS, access_token_hash, create_proof, normalize_htu, verify_proof
from vc_im.model import Proof

__all__ = ["DPOP_STEPS", "Proof", "access_token_hash", "create_proof", "normalize_htu",
           "verify_proof"]
