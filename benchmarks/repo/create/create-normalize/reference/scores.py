def normalize(scores):
    if not scores:
        raise ValueError("no scores")
    top = max(scores.values())
    return {name: value / top for name, value in scores.items()}
