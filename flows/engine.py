"""resume(): one Inbound against one conversation State gives one Sprint.

Pure and deterministic: no I/O, no clock, no randomness. The caller stores
the new State, sends the Outbound and records the Events.
"""
from dataclasses import replace

from flows import answers
from flows import language_menu
from flows import path
from flows import render
from flows.i18n import Messages
from flows.i18n import messages
from flows.model import Event
from flows.model import EventType
from flows.model import Inbound
from flows.model import MENU_DUE
from flows.model import MENU_OPEN
from flows.model import InboundKind
from flows.model import Now
from flows.model import Outbound
from flows.model import Question
from flows.model import Sprint
from flows.model import State
from flows.model import Status
from flows.model import Survey


def resume(survey: Survey, state: State, inbound: Inbound, now: Now, *, max_attempts: int = 3) -> Sprint:
    """Apply `inbound` to `state`; `now` must be timezone-aware (reserved for deadlines)."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    turn = _Turn(survey, state, max_attempts)
    if inbound.kind == InboundKind.MESSAGE:
        sprint = turn.message(inbound.text or "")
    elif inbound.kind == InboundKind.REMINDER:
        sprint = turn.reminder()
    elif inbound.kind == InboundKind.EXPIRE:
        sprint = turn.expire()
    else:
        raise ValueError(f"unknown inbound kind {inbound.kind!r}")
    return _for_phone(sprint, render.language_of(survey, sprint.state.language))


def _for_phone(sprint: Sprint, language: str) -> Sprint:
    """Every text as it must be sent in `language`: direction marks, GSM-7 typography."""
    outbound = tuple(
        replace(o, text=render.for_phone(o.text, language), options=tuple(replace(b, label=render.for_phone(b.label, language)) for b in o.options))
        for o in sprint.outbound
    )
    return replace(sprint, outbound=outbound)


class _Turn:
    """One call of resume(): the survey, the state and the language to speak."""

    def __init__(self, survey: Survey, state: State, max_attempts: int):
        self.survey = survey
        self.state = state
        self.max_attempts = max(1, max_attempts)
        self.lang = render.language_of(survey, state.language)
        self.m: Messages = messages(self.lang)
        self.title = render.text_in(survey.title, self.lang, survey.default_language)

    def message(self, text: str) -> Sprint:
        status = self.state.status
        if status == Status.OPTED_OUT:
            return Sprint(self.state, (Outbound(self.m.gettext("You have opted out of this survey and will get no more questions.")),))
        if status == Status.COMPLETED:
            # No event, even for STOP: the runner would turn a completed invitation into an opt-out.
            return Sprint(self.state, (Outbound(self.m.gettext("You have already answered this survey. Thank you!")),))
        if answers.is_stop(text):
            return self._opt_out()
        if self.state.language_menu is not None:
            return self._choose_language(text)
        if answers.is_language_keyword(text) and not self._answers_by_label(text):
            return self._show_menu()
        if status == Status.NEW:
            if answers.is_help(text):
                about = self.m.gettext("This is %(title)s, an anonymous survey. Send any message to start, or STOP to opt out.", title=self.title)
                return Sprint(self.state, (Outbound(_sentences(about, self._switch_tip())),), (Event(EventType.HELP),))
            # Anything else starts, including the one-time code that routed the message here.
            return self._start()
        current = self._current()
        if current is None:
            return self._complete(self.state, [])
        if answers.is_help(text):
            about = self.m.gettext("This is %(title)s. Your answers are anonymous. Answer each question with a message, or send STOP to opt out.", title=self.title)
            about = _sentences(about, self._switch_tip())
            return Sprint(self.state, (self._ask(self.state, current, before=about),), (Event(EventType.HELP, current.id),))
        return self._answer(current, text)

    # The language menu

    def _show_menu(self, before: str = "") -> Sprint:
        state = replace(self.state, language_menu=MENU_OPEN, attempts=0)
        return Sprint(state, (language_menu.menu(language_menu.offered(self.survey, state), self.lang, before=before),))

    def _choose_language(self, text: str) -> Sprint:
        languages = language_menu.offered(self.survey, self.state)
        picked = language_menu.choice(text, languages)
        if picked is None and self.state.language_menu == MENU_DUE:
            # The first message (often the code) only opens the menu.
            return self._show_menu()
        if picked is None:
            attempts = self.state.attempts + 1
            if attempts < self.max_attempts:
                state = replace(self.state, attempts=attempts)
                sorry = self.m.gettext("Sorry, I did not understand that.")
                return Sprint(state, (language_menu.menu(languages, self.lang, before=sorry),), (Event(EventType.INVALID),))
            # Never trap anyone: go on in the language we have.
            state = replace(self.state, language=self.lang, language_menu=None, attempts=0)
            sprint = _Turn(self.survey, state, self.max_attempts)._continue()
            return replace(sprint, events=(Event(EventType.INVALID), Event(EventType.GAVE_UP), *sprint.events))
        state = replace(self.state, language=picked, language_menu=None, attempts=0)
        sprint = _Turn(self.survey, state, self.max_attempts)._continue()
        return replace(sprint, events=(Event(EventType.LANGUAGE_CHANGED), *sprint.events))

    def _continue(self) -> Sprint:
        """Start, or ask the awaited question again, in the language just picked."""
        if self.state.status == Status.NEW:
            return self._start()
        current = self._current()
        if current is None:
            return self._complete(self.state, [])
        return Sprint(self.state, (self._ask(self.state, current),))

    def _answers_by_label(self, text: str) -> bool:
        """True if `text` is an answer to the current choice question (a label that reads like SPRÅK)."""
        current = self._current() if self.state.status == Status.ACTIVE else None
        return current is not None and bool(current.choices) and answers.parse(current, text, self.lang).ok

    def _switch_tip(self) -> str:
        if len(language_menu.offered(self.survey, self.state)) < 2:
            return ""
        return self.m.gettext("Send %(keyword)s to change the language.", keyword=language_menu.keyword(self.lang))

    def reminder(self) -> Sprint:
        status = self.state.status
        if status == Status.NEW:
            nudge = self.m.gettext("Reminder: %(title)s. Your answers are anonymous and help improve the service. Send any message to start, or STOP to opt out.", title=self.title)
            return Sprint(self.state, (Outbound(nudge),), (Event(EventType.REMINDED),))
        if status != Status.ACTIVE:
            return Sprint(self.state)
        current = self._current()
        if current is None:
            return self._complete(self.state, [])
        place = path.progress(self.survey, self.state, current)
        left = place[1] - place[0] + 1
        nudge = self.m.ngettext("Reminder: you have %(n)s question left in %(title)s.", "Reminder: you have %(n)s questions left in %(title)s.", left, title=self.title)
        return Sprint(self.state, (self._ask(self.state, current, before=nudge),), (Event(EventType.REMINDED, current.id),))

    def expire(self) -> Sprint:
        if self.state.status == Status.ACTIVE:
            closed = self.m.gettext("%(title)s has closed. Thank you for your time.", title=self.title)
            return Sprint(self.state, (Outbound(closed),), (Event(EventType.EXPIRED),))
        if self.state.status == Status.NEW:
            # They never wrote to us: an unasked-for SMS would only cost and annoy.
            return Sprint(self.state, (), (Event(EventType.EXPIRED),))
        return Sprint(self.state)

    def _start(self) -> Sprint:
        state = replace(self.state, status=Status.ACTIVE, position=None, answers={}, attempts=0)
        events = [Event(EventType.STARTED)]
        first = path.next_question(self.survey, state)
        if first is None:
            return self._complete(state, events)
        intro = render.text_in(self.survey.intro, self.lang, self.survey.default_language)
        if not intro:
            n = path.total(self.survey, state)
            intro = self.m.ngettext(
                "Welcome to %(title)s. There is %(n)s question, and your answers are anonymous. Send STOP at any time to opt out.",
                "Welcome to %(title)s. There are %(n)s questions, and your answers are anonymous. Send STOP at any time to opt out.",
                n,
                title=self.title,
            )
        state = replace(state, position=first.id)
        # Intro and first question in one message: fewer SMS segments, one notification.
        return Sprint(state, (self._ask(state, first, before=intro),), tuple(events))

    def _answer(self, current: Question, text: str) -> Sprint:
        parsed = answers.parse(current, text, self.lang)
        if parsed.ok:
            state = replace(self.state, answers={**self.state.answers, current.id: parsed.value}, attempts=0)
            return self._advance(state, current, [Event(EventType.ANSWERED, current.id)])
        attempts = self.state.attempts + 1
        events = [Event(EventType.INVALID, current.id)]
        if attempts >= self.max_attempts:
            # Never trap anyone: record the question as skipped and move on.
            state = replace(self.state, answers={**self.state.answers, current.id: None}, attempts=0)
            events.append(Event(EventType.GAVE_UP, current.id))
            return self._advance(state, current, events, before=self.m.gettext("Let's go on to the next question."))
        state = replace(self.state, attempts=attempts)
        sorry = self.m.gettext("Sorry, I did not understand that.")
        if answers.emoji_only(text):
            sorry = _sentences(sorry, self.m.gettext("I can only read letters and numbers, not pictures or emoji."))
        ask = self._ask(state, current, before=sorry, hint=render.hint(current, parsed.hint, self.m))
        return Sprint(state, (ask,), tuple(events))

    def _advance(self, state: State, current: Question, events: list, before: str = "") -> Sprint:
        following = path.next_question(self.survey, state, after=current.id)
        if following is None:
            return self._complete(state, events, before)
        state = replace(state, position=following.id, attempts=0)
        return Sprint(state, (self._ask(state, following, before=before),), tuple(events))

    def _complete(self, state: State, events: list, before: str = "") -> Sprint:
        state = replace(state, status=Status.COMPLETED, position=None, attempts=0)
        outro = render.text_in(self.survey.outro, self.lang, self.survey.default_language)
        thanks = outro or self.m.gettext("Thank you for answering! Your answers are saved anonymously.")
        text = f"{before}\n{thanks}" if before else thanks
        return Sprint(state, (Outbound(text),), (*events, Event(EventType.COMPLETED)))

    def _opt_out(self) -> Sprint:
        # Partial answers are dropped: STOP withdraws them too.
        state = replace(self.state, status=Status.OPTED_OUT, position=None, answers={}, attempts=0, language_menu=None)
        return Sprint(state, (self._opt_out_confirmation(),), (Event(EventType.OPTED_OUT, self.state.position),))

    def _opt_out_confirmation(self) -> Outbound:
        return Outbound(self.m.gettext("You are now opted out and will get no more messages about this survey."))

    def _current(self) -> Question | None:
        """The question awaiting an answer; survives a survey revision that dropped it."""
        ids = {q.id for q in self.survey.questions}
        if self.state.position in ids:
            return self.survey.question(self.state.position)
        unanswered = [q for q in self.survey.questions if q.id not in self.state.answers and path.applies(q, self.state)]
        return unanswered[0] if unanswered else None

    def _ask(self, state: State, q: Question, *, before: str = "", hint: str | None = None) -> Outbound:
        place = path.progress(self.survey, state, q)
        return render.question(self.survey, q, self.lang, place, hint=hint, before=before)


def _sentences(*parts: str) -> str:
    return " ".join(part for part in parts if part)
