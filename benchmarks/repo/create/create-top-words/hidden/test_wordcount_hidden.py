from wordcount import top_words


def test_most_frequent_first():
    assert top_words("b a b c b a", 2) == [("b", 3), ("a", 2)]


def test_case_is_ignored():
    assert top_words("Apple apple APPLE pear", 1) == [("apple", 3)]


def test_ties_in_alphabetical_order():
    assert top_words("pear fig apple fig pear apple kiwi", 3) == [("apple", 2), ("fig", 2), ("pear", 2)]


def test_other_characters_separate_words():
    assert top_words("it's 2 o'clock, it's", 3) == [("it", 2), ("s", 2), ("clock", 1)]


def test_fewer_words_than_asked():
    assert top_words("one", 5) == [("one", 1)]
    assert top_words("", 3) == []
