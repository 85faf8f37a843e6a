"""Each maker's drift to requote: the spec's for the anchor and L1, proportional deeper down."""

from __future__ import annotations

import pytest

from rocky_bot.funnel import Layer
from rocky_bot.settings import Settings

DEFAULTS = Settings(_env_file=None)
SPEC = Settings(_env_file=None, deep_drift_share=0)


@pytest.mark.parametrize(
    ("settings", "layer", "offset", "drift"),
    [
        (DEFAULTS, Layer.ANCHOR, 1, 1.0),
        (DEFAULTS, Layer.L1, 5, 2.0),
        (DEFAULTS, Layer.L1, 10, 2.0),  # L1 keeps the spec's 2 bps
        (DEFAULTS, Layer.L2, 15, 3.0),
        (DEFAULTS, Layer.L2, 30, 6.0),
        (DEFAULTS, Layer.L3, 50, 10.0),
        (DEFAULTS, Layer.L3, 100, 20.0),
        (SPEC, Layer.L2, 30, 2.0),  # share 0: the spec's flat 2 bps
        (SPEC, Layer.L3, 100, 2.0),
    ],
)
def test_drift_for_each_layer(settings, layer, offset, drift):
    assert settings.drift_for(layer, offset) == pytest.approx(drift)


def test_deep_drift_is_never_below_the_ladder_drift():
    s = Settings(_env_file=None, deep_drift_share=0.1, ladder_drift_bps=2.0)
    assert s.drift_for(Layer.L2, 15) == 2.0
