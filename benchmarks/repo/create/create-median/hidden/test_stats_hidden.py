import pytest
from stats import median


def test_odd():
    assert median([3, 1, 2]) == 2


def test_even_is_the_mean_of_the_middle_two():
    assert median([4, 1, 3, 2]) == 2.5


def test_one():
    assert median([7]) == 7


def test_unsorted_and_negative():
    assert median([10, -5, 0, 5, -10]) == 0


def test_list_unchanged():
    values = [3, 1, 2]
    median(values)
    assert values == [3, 1, 2]


def test_empty():
    with pytest.raises(ValueError):
        median([])
