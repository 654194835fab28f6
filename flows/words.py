"""What respondents type for yes, no, don't know, skip, stop, help and language, per language.

Pure data so that a language is added by adding a key. Write entries the way
people type them; answers.fold() folds both sides before comparing (case,
apostrophes, punctuation, Arabic-script letter variants, tashkeel, ZWNJ).
Latin transliterations people use on phones ("ewe", "bale", "na3am") are
listed with the language they stand for.
"""

YES = {
    "nb": ("ja", "j", "jepp", "ja takk", "jo"),
    "nn": ("ja", "j", "jepp", "ja takk", "jo"),
    "da": ("ja", "j", "ja tak", "jo"),
    "sv": ("ja", "j", "ja tack", "jo"),
    "en": ("yes", "y", "yeah", "yep", "yes please"),
    "ar": ("نعم", "أيوه", "أيوا", "آه", "إي", "ايه", "أجل", "بلى", "نعم شكرا", "naam", "na3am", "aywa"),
    "so": ("haa", "haye", "haa waan", "haa mahadsanid"),
    "ti": ("እወ", "እወ።", "ewe", "iwe"),
    "fa": ("بله", "بلی", "آره", "آری", "bale", "areh"),
    "fa_AF": ("بلی", "بله", "ها", "آری", "bale", "baly"),
    "uk": ("так", "ага", "так дякую", "tak"),
    "pl": ("tak", "t", "no tak", "tak dziękuję", "tak dziekuje"),
}

NO = {
    "nb": ("nei", "n", "nei takk"),
    "nn": ("nei", "n", "nei takk"),
    "da": ("nej", "n", "nej tak"),
    "sv": ("nej", "n", "nej tack"),
    "en": ("no", "n", "nope", "no thanks"),
    "ar": ("لا", "لأ", "كلا", "لا شكرا", "la", "laa"),
    "so": ("maya", "maya mahadsanid"),
    "ti": ("ኣይፋል", "ኣይፋሉን", "ayfal", "aifal"),
    "fa": ("نه", "نخیر", "خیر", "na", "nakheir"),
    "fa_AF": ("نه", "نخیر", "na"),
    "uk": ("ні", "не", "ні дякую", "ni"),
    "pl": ("nie", "n", "nie dziękuję", "nie dziekuje"),
}

DONT_KNOW = {
    "nb": ("vet ikke", "veit ikke", "vet ikkje", "usikker"),
    "nn": ("veit ikkje", "veit ikke", "vet ikkje", "usikker"),
    "da": ("ved ikke", "usikker"),
    "sv": ("vet inte", "osäker"),
    "en": ("dont know", "do not know", "dk", "not sure", "idk"),
    "ar": ("لا أعرف", "لا اعرف", "لا أدري", "ما بعرف", "ما أعرف", "مش عارف", "مو عارف", "معرفش", "مدري"),
    "so": ("ma garanayo", "garan maayo", "ma aqaan", "ma aqaano", "aqaan maayo"),
    "ti": ("ኣይፈልጥን", "ኣይፈለጥኩን", "ayfeltn"),
    "fa": ("نمی‌دانم", "نمیدانم", "نمی‌دونم", "نمیدونم", "مطمئن نیستم", "nemidanam", "nemidoonam", "nemidonam"),
    "fa_AF": ("نمی‌دانم", "نمیدانم", "نمی‌فامم", "نمیفامم", "nemidanam", "namefamam"),
    "uk": ("не знаю", "незнаю", "не впевнений", "не впевнена"),
    "pl": ("nie wiem", "trudno powiedzieć", "trudno powiedziec"),
}

# Only for optional questions; "-" alone is handled in answers.py (it folds to "").
SKIP = {
    "nb": ("hopp over", "hopp", "hopp over spørsmålet"),
    "nn": ("hopp over", "hopp"),
    "da": ("spring over", "spring"),
    "sv": ("hoppa över", "hoppa"),
    "en": ("skip", "pass"),
    "ar": ("تخطي", "تخطى", "تجاوز", "التالي"),
    "so": ("ka bood", "bood"),
    "ti": ("ሕለፍ", "ዝለል"),
    "fa": ("رد", "رد کن", "بعدی", "بگذر"),
    "fa_AF": ("رد", "رد کن", "بعدی", "تیر"),
    "uk": ("пропустити", "пропуск", "далі"),
    "pl": ("pomiń", "pomin", "dalej"),
}

# Whole-message match only: "I can't stop smiling" is an answer, not an opt-out.
STOP = {
    "nb": ("stopp", "stop", "avmeld", "avslutt", "meld av"),
    "nn": ("stopp", "stop", "avmeld", "avslutt", "meld av"),
    "da": ("stop", "stopp", "afmeld", "afslut", "frameld"),
    "sv": ("stopp", "stop", "avsluta", "avregistrera"),
    "en": ("stop", "stopall", "unsubscribe", "cancel", "end", "quit"),
    "ar": ("توقف", "إيقاف", "الغاء", "إلغاء الاشتراك", "قف"),
    "so": ("jooji", "joogso", "ka bax"),
    "ti": ("ደው በል", "ኣቋርጽ", "ኣቋርጹ"),
    "fa": ("توقف", "لغو", "لغو اشتراک", "پایان"),
    "fa_AF": ("توقف", "لغو", "ختم", "بس کن"),
    "uk": ("стоп", "зупинити", "відписатися", "скасувати"),
    "pl": ("stop", "koniec", "wypisz", "rezygnuję", "rezygnuje"),
}

# "?" alone is help too (see answers.is_help); it is not a don't-know token.
HELP = {
    "nb": ("hjelp", "help", "info"),
    "nn": ("hjelp", "hjelp meg", "help", "info"),
    "da": ("hjælp", "help", "info"),
    "sv": ("hjälp", "help", "info"),
    "en": ("help", "info"),
    "ar": ("مساعدة", "ساعدني", "معلومات"),
    "so": ("caawimaad", "caawi", "gargaar"),
    "ti": ("ሓገዝ", "ሓግዙኒ"),
    "fa": ("کمک", "راهنما", "راهنمایی"),
    "fa_AF": ("کمک", "راهنما", "مرسته"),
    "uk": ("допомога", "довідка", "допоможіть"),
    "pl": ("pomoc", "pomocy"),
}

# Whole-message match, in any language: opens the language menu. Telegram's
# "/language" folds to "language", so commands need no entries of their own.
LANGUAGE = {
    "nb": ("språk", "sprak"),
    "nn": ("språk", "sprak"),
    "da": ("sprog",),
    "sv": ("språk", "sprak"),
    "en": ("language", "languages"),
    "ar": ("اللغة", "لغة", "لغات"),
    "so": ("luqadda", "luqad", "afka"),
    "ti": ("ቋንቋ",),
    "fa": ("زبان",),
    "fa_AF": ("زبان", "لسان"),
    "uk": ("мова", "мову"),
    "pl": ("język", "jezyk"),
}

# Joins choice numbers in a multi answer: "1 og 3", "1 and 3".
AND = {
    "nb": ("og",),
    "nn": ("og",),
    "da": ("og",),
    "sv": ("och",),
    "en": ("and",),
    "ar": ("و",),
    "so": ("iyo",),
    "fa": ("و",),
    "fa_AF": ("و",),
    "uk": ("і", "й", "та"),
    "pl": ("i", "oraz"),
}

# Emoji that answer a yes/no question on their own.
EMOJI_YES = ("👍", "👌", "✅", "✔", "☑")
EMOJI_NO = ("👎", "❌", "✖", "🚫")


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
