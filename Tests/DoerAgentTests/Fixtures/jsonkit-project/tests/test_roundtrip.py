import jsonkit


def test_roundtrip():
    value = {"a": [1, 2.5, None, True], "b": "text"}
    assert jsonkit.loads(jsonkit.dumps(value)) == value


def test_sorted_keys():
    assert jsonkit.dumps({"b": 1, "a": 2}, sort_keys=True) == '{"a": 2, "b": 1}'
