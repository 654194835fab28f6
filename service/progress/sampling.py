"""Sampling guidance from the field's rule of thumb, as a pure function.

Each unit and group should reach 30 answers; uncertainty barely shrinks
beyond 60, and below 60 users everyone is asked (DOMAIN.md).
"""
TARGET_ANSWERS = 30
ASK_EVERYONE_BELOW = 60

# What the administrator should do for one unit or group.
NO_RESPONDENTS = "no_respondents"
# Fewer people than the target: ask all, and read the results with care.
ASK_EVERYONE_SMALL = "ask_everyone_small"
ASK_EVERYONE = "ask_everyone"
# 60 or more: a sample is enough, as long as 30 answer.
SAMPLE_ALLOWED = "sample_allowed"


def sampling_guidance(population: int, completed: int) -> dict:
    """Guidance for a unit or group of `population` respondents of whom `completed` answered."""
    if population < 0 or completed < 0:
        raise ValueError("counts cannot be negative")
    if population == 0:
        advice = NO_RESPONDENTS
    elif population < TARGET_ANSWERS:
        advice = ASK_EVERYONE_SMALL
    elif population < ASK_EVERYONE_BELOW:
        advice = ASK_EVERYONE
    else:
        advice = SAMPLE_ALLOWED
    target = min(TARGET_ANSWERS, population)
    return {
        "advice": advice,
        "ask_everyone": population < ASK_EVERYONE_BELOW,
        "target_answers": target,
        "answers_missing": max(0, target - completed),
        "target_reached": population > 0 and completed >= target,
    }
