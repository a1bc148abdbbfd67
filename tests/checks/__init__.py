"""The check tables of credentials, presentations and DPoP proofs (vc_im._checks)."""
