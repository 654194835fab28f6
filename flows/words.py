"""What respondents type for yes, no, don't know, skip, stop and help, per language.

Pure data so that a language is added by adding a key. Entries are written
already normalised (see answers.fold): lower case, apostrophes removed,
other punctuation and runs of whitespace collapsed to one space.
"""

YES = {
    "nb": ("ja", "j", "jepp", "ja takk", "jo"),
    "nn": ("ja", "j", "jepp", "ja takk", "jo"),
    "da": ("ja", "j", "ja tak", "jo"),
    "sv": ("ja", "j", "ja tack", "jo"),
    "en": ("yes", "y", "yeah", "yep", "yes please"),
}

NO = {
    "nb": ("nei", "n", "nei takk"),
    "nn": ("nei", "n", "nei takk"),
    "da": ("nej", "n", "nej tak"),
    "sv": ("nej", "n", "nej tack"),
    "en": ("no", "n", "nope", "no thanks"),
}

DONT_KNOW = {
    "nb": ("vet ikke", "veit ikke", "vet ikkje", "usikker"),
    "nn": ("veit ikkje", "veit ikke", "vet ikkje", "usikker"),
    "da": ("ved ikke", "usikker"),
    "sv": ("vet inte", "osäker"),
    "en": ("dont know", "do not know", "dk", "not sure", "idk"),
}

# Only for optional questions; "-" alone is handled in answers.py (it folds to "").
SKIP = {
    "nb": ("hopp over", "hopp", "hopp over spørsmålet"),
    "nn": ("hopp over", "hopp"),
    "da": ("spring over", "spring"),
    "sv": ("hoppa över", "hoppa"),
    "en": ("skip", "pass"),
}

# Whole-message match only: "I can't stop smiling" is an answer, not an opt-out.
STOP = {
    "nb": ("stopp", "stop", "avmeld", "avslutt", "meld av"),
    "nn": ("stopp", "stop", "avmeld", "avslutt", "meld av"),
    "da": ("stop", "stopp", "afmeld", "afslut", "frameld"),
    "sv": ("stopp", "stop", "avsluta", "avregistrera"),
    "en": ("stop", "stopall", "unsubscribe", "cancel", "end", "quit"),
}

# "?" alone is help too (see answers.is_help); it is not a don't-know token.
HELP = {
    "nb": ("hjelp", "help", "info"),
    "nn": ("hjelp", "hjelp meg", "help", "info"),
    "da": ("hjælp", "help", "info"),
    "sv": ("hjälp", "help", "info"),
    "en": ("help", "info"),
}

# Joins choice numbers in a multi answer: "1 og 3", "1 and 3".
AND = {
    "nb": ("og",),
    "nn": ("og",),
    "da": ("og",),
    "sv": ("och",),
    "en": ("and",),
}


def for_language(table: dict, language: str) -> tuple:
    """Words of `language` first, then every other language's, so English always works."""
    ordered = list(table.get(language, ()))
    for other, words in table.items():
        if other != language:
            ordered.extend(w for w in words if w not in ordered)
    return tuple(ordered)


def everywhere(table: dict) -> frozenset:
    """Every word of every language: STOP and HELP must work whatever the language."""
    return frozenset(w for words in table.values() for w in words)
