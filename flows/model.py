"""Every concept of the conversation engine, as frozen data.

A Survey is loaded from a versioned file. A conversation is a State; each
Inbound (a message, a start, a reminder) is resumed against it and yields a
Sprint: the new State, the Outbound messages to send and the Events that
happened. The engine never sends, stores or reads the clock: the caller does.
"""
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Mapping, Union

# A text in several languages: {"nb": "...", "en": "..."}.
Texts = Mapping[str, str]

# What an answer is stored as: scale and number -> int or float, choice and
# yesno -> a choice id ("yes"/"no" for yesno), multi -> list of choice ids,
# text -> str. DONT_KNOW where the question allows it; None when skipped.
AnswerValue = Union[int, float, str, list, None]
DONT_KNOW = "dont_know"


class QuestionType(str, Enum):
    SCALE = "scale"
    CHOICE = "choice"
    MULTI = "multi"
    YESNO = "yesno"
    NUMBER = "number"
    TEXT = "text"


@dataclass(frozen=True)
class Scale:
    min: int
    max: int
    dont_know: bool = False
    low: Texts = field(default_factory=dict)
    high: Texts = field(default_factory=dict)


@dataclass(frozen=True)
class Choice:
    id: str
    label: Texts


@dataclass(frozen=True)
class Condition:
    """show_if: ask a question only when an earlier answer is one of `values`."""

    question: str
    values: tuple
    negate: bool = False


@dataclass(frozen=True)
class Question:
    id: str
    type: QuestionType
    text: Texts
    scale: Scale | None = None
    choices: tuple[Choice, ...] = ()
    optional: bool = False
    background: bool = False
    comment: bool = False
    dont_know: bool = False
    min: float | None = None
    max: float | None = None
    show_if: Condition | None = None


@dataclass(frozen=True)
class Survey:
    key: str
    version: int
    default_language: str
    languages: tuple[str, ...]
    title: Texts
    questions: tuple[Question, ...]
    intro: Texts = field(default_factory=dict)
    outro: Texts = field(default_factory=dict)

    def question(self, question_id: str) -> Question:
        return next(q for q in self.questions if q.id == question_id)


MENU_DUE = "due"
MENU_OPEN = "open"


class Status(str, Enum):
    NEW = "new"
    ACTIVE = "active"
    COMPLETED = "completed"
    OPTED_OUT = "opted_out"


@dataclass(frozen=True)
class State:
    """Where one respondent is in one survey; serialised on the conversation."""

    language: str
    status: Status = Status.NEW
    position: str | None = None  # id of the question awaiting an answer
    answers: Mapping[str, AnswerValue] = field(default_factory=dict)
    attempts: int = 0  # invalid answers given to the current question
    # Background questions and comments can be switched off for small groups (A6).
    skip_background: bool = False
    skip_comments: bool = False
    # The language menu: None, MENU_DUE (show it at the next message) or MENU_OPEN (awaiting a choice).
    language_menu: str | None = None
    # The languages this conversation may pick from (the campaign's); empty means all of the survey's.
    offered: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return {
            "language": self.language,
            "status": self.status.value,
            "position": self.position,
            "answers": dict(self.answers),
            "attempts": self.attempts,
            "skip_background": self.skip_background,
            "skip_comments": self.skip_comments,
            "language_menu": self.language_menu,
            "offered": list(self.offered),
        }

    @classmethod
    def from_dict(cls, data: Mapping) -> "State":
        return cls(
            language=data["language"],
            status=Status(data.get("status", "new")),
            position=data.get("position"),
            answers=dict(data.get("answers", {})),
            attempts=data.get("attempts", 0),
            skip_background=data.get("skip_background", False),
            skip_comments=data.get("skip_comments", False),
            language_menu=data.get("language_menu"),
            offered=tuple(data.get("offered", ())),
        )


class InboundKind(str, Enum):
    MESSAGE = "message"  # the respondent wrote something
    REMINDER = "reminder"  # a scheduled nudge is due for this conversation
    EXPIRE = "expire"  # the campaign closed while the conversation was open


@dataclass(frozen=True)
class Inbound:
    kind: InboundKind
    text: str = ""


@dataclass(frozen=True)
class Option:
    """One answer a channel may offer as a button; `reply` is what typing it means."""

    reply: str
    label: str


@dataclass(frozen=True)
class Outbound:
    text: str
    question_id: str | None = None
    options: tuple[Option, ...] = ()


class EventType(str, Enum):
    STARTED = "started"
    ANSWERED = "answered"
    INVALID = "invalid"
    GAVE_UP = "gave_up"  # too many invalid answers: recorded as skipped
    HELP = "help"
    COMPLETED = "completed"
    OPTED_OUT = "opted_out"
    REMINDED = "reminded"
    EXPIRED = "expired"
    LANGUAGE_CHANGED = "language_changed"  # the respondent picked a language from the menu


@dataclass(frozen=True)
class Event:
    """Something that happened; carries no answer values, so it is safe to count and log."""

    type: EventType
    question_id: str | None = None


@dataclass(frozen=True)
class Sprint:
    state: State
    outbound: tuple[Outbound, ...] = ()
    events: tuple[Event, ...] = ()

    def has(self, event_type: EventType) -> bool:
        return any(e.type == event_type for e in self.events)


Now = datetime  # the caller's clock, always timezone-aware
