import pytest
from duration import parse_duration


@pytest.mark.parametrize("text, seconds", [
    ("2h", 7200), ("45s", 45), ("1h30m", 5400), ("1h2m3s", 3723), ("90m", 5400), ("  10m  ", 600), ("0s", 0),
])
def test_parses(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "   ", "10", "1m1h", "1h1h", "h", "1x", "1.5h", "-1h"])
def test_rejects(text):
    with pytest.raises(ValueError):
        parse_duration(text)
