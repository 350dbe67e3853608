from slug import slugify


def test_words():
    assert slugify("Hello World") == "hello-world"


def test_runs_become_one_hyphen():
    assert slugify("Rock & Roll -- Live!!") == "rock-roll-live"


def test_no_hyphen_at_the_ends():
    assert slugify("  ...Ends here?  ") == "ends-here"


def test_digits_kept():
    assert slugify("Top 10 of 2024") == "top-10-of-2024"


def test_non_ascii_letters_separate():
    assert slugify("Café au lait") == "caf-au-lait"
