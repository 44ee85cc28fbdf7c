"""Repeatable options name every value given more than once, each once, in order."""

from fraud_training.repeats import repeated


def test_every_value_given_twice_is_named_once_and_sorted() -> None:
    assert repeated(["ip", "bin", "ip", "email", "bin", "ip"]) == ["bin", "ip"]


def test_distinct_values_have_no_repeats() -> None:
    assert repeated(["ip", "bin"]) == []
