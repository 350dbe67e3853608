import pytest
from scores import normalize


def test_divided_by_largest():
    assert normalize({"a": 2, "b": 4}) == {"a": 0.5, "b": 1.0}


def test_single():
    assert normalize({"x": 7}) == {"x": 1.0}


def test_input_unchanged():
    given = {"a": 1, "b": 3}
    normalize(given)
    assert given == {"a": 1, "b": 3}


def test_new_dict():
    given = {"a": 1}
    assert normalize(given) is not given


def test_empty():
    with pytest.raises(ValueError):
        normalize({})
