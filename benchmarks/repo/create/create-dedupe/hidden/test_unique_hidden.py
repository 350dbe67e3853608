from unique import dedupe


def test_first_appearance_order():
    assert dedupe([3, 1, 3, 2, 1]) == [3, 1, 2]


def test_strings():
    assert dedupe(["b", "a", "b"]) == ["b", "a"]


def test_no_duplicates():
    assert dedupe([1, 2, 3]) == [1, 2, 3]


def test_input_unchanged():
    given = [2, 2, 1]
    dedupe(given)
    assert given == [2, 2, 1]


def test_new_list():
    given = [1, 2]
    assert dedupe(given) is not given


def test_empty():
    assert dedupe([]) == []
