import re


def encode(text):
    return "".join(f"{len(match.group(0))}{match.group(1)}" for match in re.finditer(r"(.)\1*", text, re.S))


def decode(text):
    return "".join(char * int(count) for count, char in re.findall(r"(\d+)(\D)", text))
