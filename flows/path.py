"""Which questions a respondent is asked, in what order, and how far along they are."""
from flows.model import Condition
from flows.model import Question
from flows.model import State
from flows.model import Survey

_UNKNOWN = object()


def condition_holds(condition: Condition, answers: dict) -> bool | None:
    """Whether show_if holds for these answers; None while its question is unanswered."""
    # A skipped answer (None) or "don't know" is simply not among the values,
    # so `in` hides the question and `not_in` shows it.
    value = answers.get(condition.question, _UNKNOWN)
    if value is _UNKNOWN:
        return None
    picked = value if isinstance(value, list) else [value]
    hit = any(v in condition.values for v in picked)
    return not hit if condition.negate else hit


def switched_off(question: Question, state: State) -> bool:
    """Background questions and comments are off for small groups (A6)."""
    return (question.background and state.skip_background) or (question.comment and state.skip_comments)


def applies(question: Question, state: State) -> bool:
    """Ask this question now, given the answers so far."""
    if switched_off(question, state):
        return False
    return question.show_if is None or condition_holds(question.show_if, state.answers) is True


def may_apply(question: Question, state: State) -> bool:
    """Could still be asked: counts a question whose condition is not yet decided."""
    if switched_off(question, state):
        return False
    return question.show_if is None or condition_holds(question.show_if, state.answers) is not False


def next_question(survey: Survey, state: State, after: str | None = None) -> Question | None:
    """The first question after `after` (or from the start) that applies now."""
    ids = [q.id for q in survey.questions]
    start = ids.index(after) + 1 if after in ids else 0
    return next((q for q in survey.questions[start:] if applies(q, state)), None)


def progress(survey: Survey, state: State, question: Question) -> tuple[int, int]:
    """(position, total) among applicable questions; total is an upper bound while branches are open."""
    ids = [q.id for q in survey.questions]
    here = ids.index(question.id)
    before = sum(1 for q in survey.questions[:here] if applies(q, state))
    # Promise no fewer questions than there may be: counting down beats counting up.
    after = sum(1 for q in survey.questions[here + 1:] if may_apply(q, state))
    return before + 1, before + 1 + after


def total(survey: Survey, state: State) -> int:
    """How many questions a new respondent may be asked."""
    return sum(1 for q in survey.questions if may_apply(q, state))
