from rle import decode, encode


def test_encode():
    assert encode("aaabcc") == "3a1b2c"


def test_encode_single_characters():
    assert encode("abc") == "1a1b1c"


def test_long_runs():
    assert encode("x" * 12) == "12x"
    assert decode("12x3y") == "x" * 12 + "yyy"


def test_empty():
    assert encode("") == ""
    assert decode("") == ""


def test_round_trip():
    for text in ["hello  world", "aabbbcccc", "zzzzzzzzzzzzzzzzzzzzzzzzzz!"]:
        assert decode(encode(text)) == text
