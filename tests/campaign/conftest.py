"""The campaign's Hypothesis profile: a small default, 10,000 examples when asked.

``VC_IM_CAMPAIGN_EXAMPLES`` sets the examples per strategy (default 100, which keeps the
default run at about ten seconds on two cores). The profile is applied to the campaign's tests
only, never loaded globally, so the rest of the suite keeps its own settings. It keeps no
example database: tests write nothing outside their own tmp_path.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

EXAMPLES = int(os.environ.get("VC_IM_CAMPAIGN_EXAMPLES", "100"))

settings.register_profile(
    "vc-im-campaign",
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                           HealthCheck.function_scoped_fixture, HealthCheck.data_too_large,
                           HealthCheck.large_base_example],
)
