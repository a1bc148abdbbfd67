"""vc_im: identity for interoperable, end-to-end-encrypted instant messaging.

The package names IM users and devices with ``im:`` and ``mimi://`` URIs
(:mod:`vc_im.identifiers`), issues and verifies JWT-encoded W3C Verifiable
Credentials about them, and reports every verification check by name.

Importing :mod:`vc_im` is cheap: submodules load when first used.
"""

from __future__ import annotations

__version__ = "0.1.0"
