from intervals import merge


def test_overlapping():
    assert merge([(1, 3), (2, 6), (8, 10)]) == [(1, 6), (8, 10)]


def test_touching_become_one():
    assert merge([(1, 2), (2, 3)]) == [(1, 3)]


def test_any_order():
    assert merge([(8, 10), (1, 3), (2, 4)]) == [(1, 4), (8, 10)]


def test_contained():
    assert merge([(1, 10), (2, 3), (4, 5)]) == [(1, 10)]


def test_input_unchanged():
    given = [(5, 6), (1, 2)]
    merge(given)
    assert given == [(5, 6), (1, 2)]


def test_empty():
    assert merge([]) == []
