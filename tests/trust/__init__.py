"""The trust models (vc_im.trust): the trust file, policy, X.509, statements, web of trust
and well-known cross-signing."""
