"""Adapters that W3C conformance suites drive: vc_im behind each suite's own contract.

* :mod:`vc_im.conformance.vcdm11`: the VC Data Model 1.1 test suite's generator (a
  document in, the document or its VC 1.1 JWT out; a JWT in, its document out);
* :mod:`vc_im.conformance.jose`: the VC-JOSE-COSE test suite's ``issue`` and ``verify``
  for ``vc+jwt`` and ``vp+jwt`` (a result file of ``success``, ``failure``,
  ``indeterminate`` or ``error``).

Both judge documents by the data model itself (:mod:`vc_im.vcdm`) and by lossless JSON-LD
expansion when every context is one vc_im holds (:mod:`vc_im.conformance.documents`), and
neither applies validity-period checks: the suites' documents are past their dates. The
suites themselves are not part of vc_im.
"""

from __future__ import annotations
