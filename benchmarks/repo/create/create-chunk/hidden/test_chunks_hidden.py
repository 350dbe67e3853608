import pytest
from chunks import chunk


def test_even():
    assert chunk([1, 2, 3, 4], 2) == [[1, 2], [3, 4]]


def test_last_shorter():
    assert chunk([1, 2, 3, 4, 5], 2) == [[1, 2], [3, 4], [5]]


def test_size_larger_than_list():
    assert chunk([1, 2], 5) == [[1, 2]]


def test_empty():
    assert chunk([], 3) == []


def test_size_below_one():
    with pytest.raises(ValueError):
        chunk([1, 2], 0)
    with pytest.raises(ValueError):
        chunk([1, 2], -1)


def test_input_unchanged():
    given = [1, 2, 3]
    chunk(given, 2)
    assert given == [1, 2, 3]
