from running import running_total


def test_example():
    assert running_total([1, 2, 3]) == [1, 3, 6]


def test_negative_and_float():
    assert running_total([5, -2, 0.5]) == [5, 3, 3.5]


def test_input_unchanged():
    given = [4, 4]
    running_total(given)
    assert given == [4, 4]


def test_empty():
    assert running_total([]) == []
