"""The JOSE codec and the strict JSON reader (vc_im._jose)."""
