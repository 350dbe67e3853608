from humanize import join_list


def test_empty():
    assert join_list([]) == ""


def test_one():
    assert join_list(["apple"]) == "apple"


def test_two():
    assert join_list(["apple", "pear"]) == "apple and pear"


def test_three():
    assert join_list(["apple", "pear", "fig"]) == "apple, pear and fig"


def test_four():
    assert join_list(["a", "b", "c", "d"]) == "a, b, c and d"
