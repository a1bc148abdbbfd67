"""The signed-mutant campaign: hostile, correctly signed tokens against vc_im's verifier.

Every strategy here builds a credential, presentation, DPoP proof or trust statement, mutates
its header, claims or encoding, and signs the result with a real key, so a mutation reaches
the checks after the signature. Each example is verified and judged by four oracles: no
exception, no acceptance that :mod:`campaign.oracle` (an independent restatement of the
acceptance rules) refuses, no network connection, and a time bound.
"""
