"""JSON-LD, JSON Schema and the packaged resources (vc_im._linked)."""
