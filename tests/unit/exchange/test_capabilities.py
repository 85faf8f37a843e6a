"""Capabilities say what is known of each optional feature, in words, not tri-state booleans."""

from __future__ import annotations

import pytest

from rocky_bot.exchange.capabilities import FEATURES, Capabilities, Support


def test_every_feature_starts_unknown_and_worth_trying():
    caps = Capabilities()
    for feature in FEATURES:
        assert caps.support(feature) is Support.UNKNOWN
        assert caps.usable(feature) and not caps.missing(feature)


def test_a_feature_learnt_missing_is_no_longer_usable_and_the_news_is_told_once():
    caps = Capabilities()
    assert caps.learn("modify", Support.MISSING) is True
    assert caps.learn("modify", Support.MISSING) is False
    assert caps.missing("modify") and not caps.usable("modify")
    assert caps.usable("ioc")  # the others are untouched


def test_a_feature_learnt_present_stays_usable():
    caps = Capabilities()
    caps.learn("countdown", Support.PRESENT)
    assert caps.usable("countdown") and caps.countdown is Support.PRESENT


def test_a_misspelt_feature_is_an_error_not_a_silent_unknown():
    with pytest.raises(KeyError):
        Capabilities().missing("modfiy")
