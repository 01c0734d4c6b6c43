"""Transcript text → `Script`: who speaks, in what role, and what is only page furniture.

Transcripts arrive as people copy them from web pages: player chrome and a headline before the
story, labels in many house styles (`RUTH SHERLOCK, BYLINE:`, `SHERLOCK:`, `Jane Doe, Director:`,
`Speaker 1 (00:12):`), stage directions in parentheses or brackets, and a copyright footer glued
to the last sentence. The parser decides by structure, never by one site's strings, in passes
that are each linear in the input:

1. `normalise` tidies the text into numbered lines.
2. `_scan` reads each line once for label *shapes* (at its start, inside it, or a name alone on
   it) and for furniture with a known shape (headers, time stamps, banners, footers).
3. `_evidence` asks what the whole text says about names: a lone word is a label only when it is
   part of a full name used as a label elsewhere, or is used as a label again and again.
4. `_Assembler` walks the lines into turns. What comes before the first label is split into
   chrome, headline and the host's unlabelled opening by the shape of its paragraphs.
5. `_Names` maps every label to the fullest name the text gives, and every name to a role;
   `_drop_footer` cuts the copyright footer, also when it is glued to the last sentence.

Every regular expression here is anchored or bounded and free of nested quantifiers, so no input
can make one backtrack catastrophically; label heads are at most `_LABEL_MAX` characters.
"""

from __future__ import annotations

import os
import re
import unicodedata
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

from .errors import TranscriptError
from .models import Dropped, Script, Speaker, Turn

MAX_BYTES = 20_000_000  # beyond this a "transcript" is a log file or a mistake; say so instead
_LABEL_MAX = 120  # characters before a label's colon; a longer head is prose, not a label
_LOOKAHEAD = 3  # lines searched for the words that follow a label alone on its line
_TAIL_WORDS = 20  # an opening pasted under the page's furniture, without a blank line, is this long
_FOOTER_WORDS_MAX = 60  # a copyright or "transcripts are created ..." notice is a few sentences at most

# -- reading ---------------------------------------------------------------------------------------

_BINARY_MAGIC = {b"%PDF": "a PDF", b"PK\x03\x04": "a zip archive or Word/OpenDocument file",
                 b"\xd0\xcf\x11\xe0": "an old Word/Office file", b"{\\rtf": "an RTF document",
                 b"\x7fELF": "a program", b"ID3": "an MP3 file", b"RIFF": "a WAV/RIFF file",
                 b"\x89PNG": "a PNG image", b"\xff\xd8\xff": "a JPEG image", b"GIF8": "a GIF image"}
# bytes that plain text never holds: C0 controls other than tab, newlines, form feed and escape
_CONTROL_BYTES = bytes(b for b in range(32) if b not in (9, 10, 12, 13, 27))
_TEXT_BYTES = bytes(b for b in range(256) if b not in _CONTROL_BYTES)


def _not_text(name: str) -> TranscriptError:
    return TranscriptError(f"{name}: this is binary data, not text; save the transcript as plain text (.txt)")


def _utf16_without_bom(data: bytes) -> str | None:
    """UTF-16 saved without a byte-order mark: in English text every other byte is zero and the
    bytes between are printable."""
    if len(data) < 8 or len(data) % 2:
        return None
    even, odd = data[0::2], data[1::2]
    half = len(data) // 2
    for high, low, codec in ((odd, even, "utf-16-le"), (even, odd, "utf-16-be")):
        if high.count(0) > 0.4 * half and low.count(0) < 0.05 * half \
                and len(low.translate(None, _TEXT_BYTES)) <= half // 100:
            try:
                return data.decode(codec)
            except UnicodeDecodeError:
                return None
    return None


def decode(data: bytes, name: str = "transcript") -> tuple[str, list[str]]:
    """Bytes → text and what was assumed about them; TranscriptError when they are not text."""
    if len(data) > MAX_BYTES:
        raise TranscriptError(f"{name}: {len(data) / 1e6:.0f} MB is larger than a transcript can be "
                              f"(limit {MAX_BYTES / 1e6:.0f} MB); split it into episodes")
    for magic, what in _BINARY_MAGIC.items():
        if data.startswith(magic):
            raise TranscriptError(f"{name}: this is {what}, not text; save the transcript as plain text (.txt)")
    notes: list[str] = []
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            raise TranscriptError(f"{name}: starts like UTF-16 text but is not; save it again as UTF-8") from None
        notes.append("decoded as UTF-16 (byte-order mark)")
    elif (wide := _utf16_without_bom(data)) is not None:
        text = wide
        notes.append("decoded as UTF-16 (no byte-order mark)")
    else:
        if len(data.translate(None, _TEXT_BYTES)) > len(data) // 100:
            raise _not_text(name)
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = data.decode("cp1252", errors="replace")
            notes.append("not UTF-8: decoded as Windows-1252 (Latin-1)")
    if "\x00" in text:
        raise _not_text(name)
    if not text:
        raise TranscriptError(f"{name}: is empty; there is no transcript to read")
    if text.isspace():
        raise TranscriptError(f"{name}: is empty (only blank lines); nothing speakable found")
    return text, notes


def read(path: str | Path) -> tuple[str, list[str]]:
    """Read a transcript file (or `-` for stdin) as text, with one-line errors for every failure."""
    import sys

    if str(path) == "-":
        return decode(sys.stdin.buffer.read(MAX_BYTES + 1), "standard input")
    p = Path(path)
    try:
        if p.is_dir():
            raise TranscriptError(f"{path}: is a directory; give a transcript file")
        with open(p, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size > MAX_BYTES:  # say how big it really is, without reading it
                raise TranscriptError(f"{path}: {size / 1e6:.0f} MB is larger than a transcript can be "
                                      f"(limit {MAX_BYTES / 1e6:.0f} MB); split it into episodes")
            data = f.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise TranscriptError(f"{path}: no such file") from None
    except PermissionError:
        raise TranscriptError(f"{path}: cannot be read (permission denied)") from None
    except OSError as exc:
        raise TranscriptError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    return decode(data, str(path))


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200d\u2060\ufeff\ufffd]")
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")


def normalise(text: str) -> list[str]:
    """Lines with line endings, odd spaces and control characters tidied; numbering kept
    (CRLF, lone CR and Unicode line separators each end one line)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n")
    text = _SPACES.sub(" ", _CONTROL.sub("", unicodedata.normalize("NFC", text)))
    return [line.strip() for line in text.split("\n")]


# -- shapes of text ----------------------------------------------------------------------------------

_SENTENCE_END = ".!?…\"”’)"
_SMALL_WORDS = frozenset("a an and as at but by for from in into nor of off on or out over per the to up "
                         "via vs with".split())
_MONTH_DATE = re.compile(r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]{0,6}\.? \d{1,2}\b",
                         re.IGNORECASE)
_CLOCK = re.compile(r"\d:\d\d")


def _is_title_case(text: str) -> bool:
    """Headline capitalisation: nearly every word but the small ones starts with a capital."""
    words = [w.strip("\"“”‘’'()[],.;:!?") for w in text.split()]
    big = [w for w in words if w and any(c.isalpha() for c in w) and w.lower() not in _SMALL_WORDS]
    if len(big) < 2:
        return False
    return sum(1 for w in big if w[0].isupper() or w[0].isdigit()) >= 0.8 * len(big)


def _ends_sentence(text: str) -> bool:
    return text[-1:] in _SENTENCE_END if text else False


def _looks_like_speech(text: str) -> bool:
    """Prose rather than a headline, a menu item or a name: a finished sentence, or many words
    most of which are not capitalised."""
    words = text.split()
    if len(words) >= 2 and _ends_sentence(text) or len(words) == 1 and text[-1] in ".!?":
        return True  # `Good.` answers too
    return len(words) >= 8 and not _is_title_case(text)


def _headline(text: str) -> bool:
    """A line shaped like a story's headline: several capitalised words, no full stop, no date."""
    words = text.split()
    if not 3 <= len(words) <= 25 or text[-1] in ".:," or words[0].lower() in ("by", "from"):
        return False
    if _MONTH_DATE.search(text) or _CLOCK.search(text) or _BANNER.match(text):
        return False
    if (colon := _head_colon(text)) > 0 and _header_key(text[:colon]):
        return False
    return _is_title_case(text)


def _prose_line(line: str) -> bool:
    """A sentence, or a long wrapped line of one (menus, captions and headlines are short or
    capitalised lines)."""
    return _ends_sentence(line) or len(line.split()) >= 6 and not _is_title_case(line)


def _prose_tail(lines: list[str]) -> int:
    """How many lines at the end of a block of lines are the opening's prose: the run of prose
    lines that finishes a sentence. When it is not the whole block (an opening pasted right under
    the page's furniture), it must be at least `_TAIL_WORDS` long, so that a one-sentence photo
    caption stays furniture. Banners in capitals are never prose."""
    if not _ends_sentence(lines[-1]):
        return 0
    start = len(lines) - 1
    while start > 0 and _prose_line(lines[start - 1]):
        start -= 1
    words = " ".join(lines[start:]).split()
    if len(words) < (_TAIL_WORDS if start else 2) or not any(c.islower() for w in words for c in w):
        return 0
    return len(lines) - start


# -- page furniture with a known shape -------------------------------------------------------------

_HEADER_KEYS = frozenset({
    "show", "date", "time", "aired", "air date", "program", "programme", "episode", "guests", "note",
    "notes", "music", "source", "transcript", "copyright", "update", "updated", "correction", "editor's note",
    "editors note", "editor’s note", "photo", "credit", "credits", "category", "tags", "topic", "topics",
    "published", "length", "duration", "runtime", "listen", "download", "subscribe", "share", "related",
    "location", "segment", "part", "chapter", "section", "act", "prologue", "epilogue", "read more", "watch",
    "sponsor", "advertisement", "summary", "description", "keywords", "title", "by", "posted", "contact",
    "email", "phone", "web", "website", "url", "twitter", "instagram", "facebook", "youtube", "warning",
    "disclaimer", "content warning", "transcription", "format", "language", "headline", "rush transcript",
    "image", "video", "audio", "breaking", "breaking news", "filed under", "more", "next up", "previous",
    "next", "coming up", "up next", "still to come", "still ahead", "programming note", "developing"})
_STAMP_LINE = re.compile(r"^[\[(]?\d{1,2}(?::\d{2}){1,2}(?: ?[AaPp]\.?[Mm]\.?)?[\])]?$")
_LEADING_STAMP = re.compile(r"^([\[(])?\d{1,2}(?::\d{2}){1,2}[\])]?\s+")  # `[14:00:00] BLITZER: ...`
_EDITORIAL = re.compile(r"^[\[(](?:editor|note\b|correction|clarification|update|post-broadcast|ed\.)",
                        re.IGNORECASE)  # `[POST-BROADCAST CORRECTION: ...]` standing alone
_TRAILING_STAMP = re.compile(r"\s\d{1,2}(?::\d{2}){1,2}$")  # `Jane Doe  0:05`, a name alone (Otter)
_BANNER = re.compile(r"^(?:(?:this is an? )?rush transcript\b|this copy may not be\b|air ?date\b|"
                     r"aired (?:on )?(?:[a-z]{3,9},? )?\d|aired (?:on )?[a-z]{3,9}\.? \d)", re.IGNORECASE)
_ABOUT_TRANSCRIPTS = r"transcripts? (?:are|is|was|were) (?:created|produced|provided|prepared)\b"
_FOOTER_WORDS = (r"(?:copyright\b|©|\(c\) ?(?:19|20)\d\d|transcripts? (?:provided|produced|prepared) by\b|"
                 r"transcript by\b|all rights reserved|this transcript (?:was|is|has|may)\b|"
                 r"(?:[A-Z][\w.&'’-]{0,20} ){0,3}" + _ABOUT_TRANSCRIPTS + r"|accuracy and availability may vary)")
_FOOTER_START = re.compile(_FOOTER_WORDS, re.IGNORECASE)
_GLUED_FOOTER = re.compile(r"(?<=[.!?\"”’)])\s*(?=" + _FOOTER_WORDS + ")", re.IGNORECASE)
_FOOTER_PROOF = re.compile(r"(?:19|20)\d\d|©|rights reserved|(?:provided|produced|prepared) by|" + _ABOUT_TRANSCRIPTS,
                           re.IGNORECASE)


def _head_colon(line: str) -> int:
    """Index of the colon that could end a label at the start of `line` (outside parentheses,
    within `_LABEL_MAX`, followed by a space or the end of the line, or by a word when the head
    is in capitals: `BLITZER:Okay` lost its space on the way), or -1."""
    start = 0
    while True:
        i = line.find(":", start, _LABEL_MAX + 1)
        if i < 0:
            return -1
        after = line[i + 1: i + 2]
        spaced = not after or after.isspace() or (
            (after.isalpha() or after in "\"“(") and not any(c.islower() for c in line[:i]))
        if spaced and line.count("(", 0, i) == line.count(")", 0, i):
            return i
        start = i + 1


def _header_key(head: str) -> bool:
    """`Show`, `Date`, `Note`, `SEGMENT ONE` before a colon: a page's field, not a speaker."""
    words = head.lower().split()
    return 0 < len(words) <= 4 and (" ".join(words) in _HEADER_KEYS or words[0].strip(".") in _HEADER_KEYS)


def _footer_line(line: str) -> bool:
    """A copyright or 'transcript provided by' line, with the marks that make it unmistakable."""
    return (bool(_FOOTER_START.match(line)) and len(line.split()) <= _FOOTER_WORDS_MAX
            and bool(_FOOTER_PROOF.search(line)))


def _footer_shaped(text: str) -> bool:
    """A footer by its words (`Copyright ...`), or a line in capitals about the transcript
    (`TO ORDER A VIDEO OF THIS TRANSCRIPT ...`): believed at the end of the program."""
    return (bool(_FOOTER_START.match(text)) or ("transcript" in text.lower() and not any(c.islower() for c in text))
            ) and len(text.split()) <= _FOOTER_WORDS_MAX


def _chrome_line(line: str, colon: int) -> bool:
    """Furniture recognisable from the line alone: time stamps, banners, headers (`colon` ends
    the line's possible label head), footers."""
    if _EDITORIAL.match(line) and line.rstrip(".")[-1:] in ")]":
        return True
    return (bool(_STAMP_LINE.match(line) or _BANNER.match(line)) or (colon > 0 and _header_key(line[:colon]))
            or _footer_line(line))


# -- directions --------------------------------------------------------------------------------------

# What a parenthesis or bracket opening with these words is; whole words only, so that
# `(Bellingham, Washington)` or `(Singapore)` are not taken for `(BELL)` or `(Singing)`.
_DIRECTION_WORDS = re.compile(
    r"(?:(?:laugh|chuckl|giggl|applau|cheer|chant|clap|cough|sigh|whisper|shout|yell|speak|interpret|"
    r"translat|instrument)[a-z]*|soundbite|sound ?bite|sounds? of|music|musical|begin|end|break|"
    r"commercial|crosstalk|cross-talk|inaudible|unintelligible|indiscernible|"
    r"through (?:an |a )?(?:interpreter|translator)|singing|sings|sung|reading|reads|as|voice-over|"
    r"voice over|v/o|ph|sic|boo|booing|gunfire|sirens?|show intro|intro|outro|theme|video ?clip|"
    r"audio ?clip|videotape|pause|silence|foreign language|technical difficulties|off-mike|off mike|"
    r"on camera|crying|cries|sobbing|sobs|bells?|horns?|phone rings|archival|recording|clip|excerpt|"
    r"upbeat|dramatic|jingle|tone|beep|noise|ambient|nat sound|natural sound|joined in progress|unknown)\b",
    re.IGNORECASE,
)
# Inside a sentence only these are directions; `(as expected)` or `(NATO)` are words to speak.
_INLINE_WORDS = frozenset({
    "ph", "sic", "inaudible", "unintelligible", "indiscernible", "crosstalk", "cross-talk", "laughter",
    "laughing", "laughs", "laugh", "chuckles", "chuckling", "chuckle", "giggles", "applause", "sighs", "sigh",
    "sighing", "coughs", "cough", "coughing", "pause", "music", "silence", "cheers", "cheering", "booing",
    "clapping", "groans", "sniffles", "crying", "unknown", "technical difficulties", "audio gap",
    "clears throat", "foreign language", "unintelligible crosstalk", "overlapping voices", "phonetic"})
_TIMESTAMP = re.compile(r"^\d{1,2}(?::\d{2}){1,2}$")
_BRACKETED = re.compile(r"\s*(?:\(([^()]{0,80})\)|\[([^\[\]]{0,80})\])")
_DIRECTION_AT = re.compile(r"(?:\(([^()]{1,80})\)|\[([^\[\]]{1,80})\])[ .:,]*")  # used with .match(text, pos)
_INTERPRETED = re.compile(r"^(?:through|via|with) (?:an |a |the )?(?:interpreter|translator)|"
                          r"^(?:translated|interpreted|translation)\b", re.IGNORECASE)
_SPOKEN_LEAD = re.compile(r"^(?:as |singing|sings|reading|voice-over|voice over|on camera|v/o)", re.IGNORECASE)


@lru_cache(maxsize=4096)  # the same few directions recur all through a transcript
def is_direction(inner: str) -> bool:
    """Whether the words inside parentheses/brackets are a stage direction (not a phone number,
    a timestamp, an aside or an editorial note)."""
    inner = inner.strip().rstrip(".")
    if not inner or not any(c.isalpha() for c in inner) or _TIMESTAMP.match(inner):
        return False
    if inner.lower().startswith(("note", "editor", "correction", "update", "ed.")):
        return False
    words = len(inner.split())
    if not any(c.islower() for c in inner) and words <= 14:
        return True  # broadcast directions are written in capitals: (SOUNDBITE OF ...), [MUSIC]
    return words <= 10 and bool(_DIRECTION_WORDS.match(inner))


def _inline_direction(inner: str) -> bool:
    """A direction inside a sentence: `(ph)`, `(laughter)`, `[crosstalk]`, `(SOUNDBITE OF ...)`."""
    bare = inner.strip().rstrip(".").lower()
    if bare in _INLINE_WORDS:
        return True
    return len(bare.split()) >= 2 and not any(c.islower() for c in inner) and is_direction(inner)


def _whole_direction(text: str) -> bool:
    """A turn or line that is nothing but one or more directions: `(Speaking Arabic).`."""
    text = text.strip()
    position = 0
    while position < len(text):
        m = _DIRECTION_AT.match(text, position)
        if not m or not is_direction(m.group(1) or m.group(2)):
            return False
        position = m.end()
    return bool(text)


def _strip_inline_directions(text: str) -> str:
    """Remove `(ph)`, `(laughter)`, `[crosstalk]` and tidy the spaces they leave."""
    if "(" not in text and "[" not in text:
        return text

    def drop(m: re.Match[str]) -> str:
        inner = m.group(1) if m.group(1) is not None else m.group(2)
        return "" if _inline_direction(inner) else m.group(0)

    cleaned = _BRACKETED.sub(drop, text)
    cleaned = re.sub(r" +([,.;:!?])", r"\1", cleaned)
    return re.sub(r" {2,}", " ", cleaned).strip()


# -- labels --------------------------------------------------------------------------------------------

_HOST_WORDS = frozenset({"host", "hosts", "co-host", "cohost", "anchor", "co-anchor", "presenter",
                         "moderator", "emcee", "interviewer"})
_GUEST_WORDS = frozenset({"guest", "interviewee", "panelist", "panellist"})
_REPORTER_WORDS = frozenset({"byline", "correspondent", "reporter", "reporting"})
_UNNAMED_FIRST = frozenset({"unidentified", "unknown", "unnamed", "anonymous"})
_UNNAMED = frozenset({"announcer", "narrator", "question", "answer", "crowd", "group", "audience",
                      "audience member", "protester", "protesters", "voice", "voices", "male", "female",
                      "man", "woman", "child", "children", "caller", "interpreter", "translator", "operator",
                      "crowd member", "all", "several", "multiple", "students", "student", "person",
                      "participant", "off-camera voice", "off camera voice", "chorus", "q"})
_TITLES = frozenset({"mr", "mrs", "ms", "miss", "mx", "dr", "prof", "professor", "sen", "senator", "rep",
                     "representative", "gov", "governor", "secretary", "president", "gen", "general", "col",
                     "colonel", "judge", "justice", "mayor", "rev", "reverend", "father", "sister", "chairman",
                     "chairwoman", "minister", "ambassador", "lt", "sgt", "capt", "captain", "adm", "admiral",
                     "sir", "dame", "lord", "lady", "rabbi", "imam", "commissioner", "chancellor", "sheriff",
                     "pope", "king", "queen", "prince", "princess", "maj", "major", "cmdr", "commander"})
_TITLE_PAIRS = frozenset({"vice president", "prime minister", "attorney general", "lieutenant governor",
                          "lt gov", "lt. gov", "chief justice", "house speaker", "foreign minister"})
_ABBREVIATIONS = frozenset({"st", "jr", "sr", "mt", "ft", "inc", "co", "corp", "ltd", "dept", "univ", "assn",
                            "no", "vs", "etc", "approx", "est", "ave", "blvd"})
_PARTICLES = frozenset({"de", "da", "di", "del", "della", "van", "von", "der", "den", "bin", "ibn", "al",
                        "el", "la", "le", "du", "dos", "das", "ten", "ter", "y"})
_VOICE_NOTES = frozenset({"voice-over", "voice over", "v/o", "vo", "v.o.", "on camera", "off camera",
                          "off-camera", "on-camera", "cont'd", "continuing", "via phone", "by phone",
                          "on phone", "via telephone", "via video", "off mic", "off-mic", "off-mike"})
_PAREN = re.compile(r"\(([^()]{0,60})\)")
_STAMP_NOTE = re.compile(r"\s*\(\s*\d{1,2}(?::\d{2}){1,2}\s*\)")
_NUMBER = re.compile(r"^#?\d{1,3}$")
_INITIAL = re.compile(r"^[A-Z]\.?$")


@dataclass(frozen=True)
class Label:
    """A speaker label as written, taken apart."""

    raw: str  # as written, without colon or time stamp: `RUTH SHERLOCK, BYLINE`
    words: tuple[str, ...]  # the name, honorifics removed: ("DESMOND", "PRYCE")
    title: str  # the honorific removed (`Mr.`), shown when the name stays unresolved
    role: str | None  # host, reporter (or guest, for `GUEST:`) when the label says so
    kind: str  # person | numbered (`Speaker 3`) | role (`HOST`) | unnamed (`UNIDENTIFIED MALE`)
    interpreted: bool  # `NAME (through translator):`
    stamped: bool  # carried a time stamp: `Speaker 1 (00:12)`
    upper: bool  # written in capitals, the broadcast convention

    @property
    def key(self) -> str:
        return " ".join(self.words).lower()


def _name_word(word: str) -> bool:
    return bool(_NUMBER.match(word)) or (word[0].isalpha() and all(c.isalpha() or c in "'’.-" for c in word))


def _role_of(text: str) -> str | None:
    """`MNN CORRESPONDENT` → reporter, `Host` → host; None when the words name no role."""
    for word in text.lower().replace(",", " ").split():
        if word in _HOST_WORDS:
            return "host"
        if word in _REPORTER_WORDS:
            return "reporter"
    return None


def _kind(words: list[str]) -> str:
    """person, numbered (`Speaker 3`), unnamed (`UNIDENTIFIED MALE`, `ANNOUNCER`) or role
    (`HOST`, `host`, `HOST 2`, `GUEST`)."""
    low = [w.lower() for w in words]
    if low[0] == "speaker" and len(low) == 2 and _NUMBER.match(low[1]):
        return "numbered"
    bare = " ".join(w for w in low if not _NUMBER.match(w))
    if low[0] in _UNNAMED_FIRST or bare in _UNNAMED:
        return "unnamed"
    if bare in _HOST_WORDS or bare in _REPORTER_WORDS or bare in _GUEST_WORDS:
        return "role"
    return "person"


def _split_title(words: list[str]) -> tuple[str, list[str]]:
    """`SEN. THOMAS REYES` → ("SEN.", [THOMAS, REYES]); a title alone stays the name."""
    if len(words) > 2 and " ".join(words[:2]).lower().rstrip(".") in _TITLE_PAIRS:
        return " ".join(words[:2]), words[2:]
    if len(words) > 3 and words[0].lower().rstrip(".") in _TITLES and words[1].lower() == "of":
        return " ".join(words[:3]), words[3:]  # SECRETARY OF STATE ANTONY BLINKEN
    if len(words) > 1 and words[0].lower().rstrip(".") in _TITLES:
        return words[0], words[1:]
    return "", words


def _capitalised(words: list[str]) -> bool:
    """Mixed-case name words: each capitalised (particles and numbers aside), none a sentence word."""
    if words[0].lower() in _SMALL_WORDS or not words[0][0].isupper():
        return False
    return all(w[0].isupper() or w.lower() in _PARTICLES or _NUMBER.match(w) for w in words[1:])


def _descriptor(text: str) -> bool:
    """A title or affiliation after a name (`MNN ANCHOR`, `Director, Institute for Urban
    Climate`, `host`): capitalised words, small words and role words only."""
    return all(not w[0].isalpha() or w[0].isupper() or w.lower() in _SMALL_WORDS or _role_of(w)
               for w in text.split())


def _read_notes(notes: list[str]) -> tuple[list[str], bool, bool]:
    """A label's parenthesised notes → (descriptors, time-stamped, interpreted). `(Actor)` and
    `(R-OH)` describe the speaker; `(00:12)`, `(voice-over)` and `(laughing)` say nothing of who."""
    descriptors: list[str] = []
    stamped = interpreted = False
    for note in (n.strip() for n in notes):
        if _TIMESTAMP.match(note):
            stamped = True
        elif _INTERPRETED.match(note) or note.lower() in ("interpreter", "translator"):
            interpreted = True
        elif note and note.lower() not in _VOICE_NOTES and not is_direction(note):
            descriptors.append(note)
    return descriptors, stamped, interpreted


@lru_cache(maxsize=4096)  # labels recur: `SHERLOCK:` dozens of times in one story
def _label_shape(head: str) -> Label | None:
    """The parts of a label head, `NAME [(note)] [, DESCRIPTOR]... [reporting]`, or None when the
    head cannot be one: too long, brackets, sentence words in the name, a page header key."""
    head = head.strip()
    if not head or len(head) > _LABEL_MAX or "[" in head or "]" in head or _header_key(head):
        return None
    if _sentence_inside(head):
        return None  # `Kwame Asante, KCPT News. MARSH` is a sentence's end, then a label
    notes, rest = (_PAREN.findall(head), _PAREN.sub(" ", head)) if "(" in head else ([], head)
    if "(" in rest or ")" in rest:
        return None
    descriptors, stamped, interpreted = _read_notes(notes)
    parts = [p.strip() for p in rest.split(",")]
    if len(parts) > 6 or not all(parts):
        return None
    words = parts[0].split()
    role = None
    if len(words) > 1 and words[-1].lower() == "reporting":  # `HANNAH OSEI reporting:`, older pages
        role, words = "reporter", words[:-1]
    title, words = _split_title(words)
    if not 1 <= len(words) <= 5 or not all(_name_word(w) for w in words):
        return None
    upper = not any(c.islower() for w in words for c in w)
    kind = _kind(words)
    if not all(_descriptor(d) for d in parts[1:]):
        return None  # `CIA, FBI and NSA officials said:` is a sentence
    descriptors += parts[1:]
    if not upper and kind == "person" and not _capitalised(words):
        return None
    for d in descriptors:
        role = role or _role_of(d)
    if kind == "role":
        role = _role_of(words[0]) or "guest"
    raw = " ".join(_STAMP_NOTE.sub("", head).split()) if stamped else head
    return Label(raw, tuple(words), title, role, kind, interpreted, stamped, upper)


def _label_char(c: str) -> bool:
    return c.isupper() or c.isdigit() or c in " ,.'’-#&"


def _sentence_before(text: str, i: int) -> bool:
    """Whether text[:i] ends a sentence (ignoring spaces): `... Cedar Point. ` but not `U.S. `,
    `Dr. ` or `S. ` (abbreviations, titles and initials end in a full stop too)."""
    j = i - 1
    while j >= 0 and text[j] == " ":
        j -= 1
    if j < 0 or text[j] not in _SENTENCE_END:
        return False
    if text[j] != ".":
        return True
    word = text[max(0, j - 12):j].rsplit(" ", 1)[-1].lower()
    return len(word) > 1 and "." not in word and word not in _TITLES and word not in _ABBREVIATIONS


def _sentence_inside(text: str) -> bool:
    """Whether a sentence ends inside `text` (an end mark followed by a space)."""
    for mark in ".?!":
        i = text.find(mark + " ")
        while i >= 0:
            if _sentence_before(text, i + 1):
                return True
            i = text.find(mark + " ", i + 1)
    return False


def _midline_labels(text: str, offset: int) -> list[tuple[int, int, Label]]:
    """Upper-case labels inside a line, from `offset` on: reposted captions (`... now. JANE DOE:
    Next`), labels at the end of a line, labels glued to page text (`Share this storyJANE DOE,
    HOST:`). Each is (start, end of its colon, label). Walking back from a colon stops at the
    first character a label cannot hold, so all walks together read the line about once."""
    found: list[tuple[int, int, Label]] = []
    colon = text.find(":", offset)
    while colon >= 0:
        if colon + 1 == len(text) or text[colon + 1].isspace():
            floor = max(offset, found[-1][1] if found else 0, colon - _LABEL_MAX)
            j = colon - 1
            while j >= floor and _label_char(text[j]):
                j -= 1
            hit = _label_in_span(text, j + 1, colon, glued_ok=j >= floor and text[j].islower())
            if hit is not None:
                found.append((hit[0], colon + 1, hit[1]))
        colon = text.find(":", colon + 1)
    return found


def _label_in_span(text: str, start: int, colon: int, glued_ok: bool) -> tuple[int, Label] | None:
    """The leftmost plausible label start in text[start:colon]: right after a sentence ends, or
    glued to lower-case page text. At most four starts are tried (linear time)."""
    starts = []
    k = start
    while k < colon and not text[k].isalpha():
        k += 1
    if k < colon:
        starts.append(k)
    for m in range(k, colon - 2):
        if len(starts) >= 4:
            break
        if text[m] in ".?!" and text[m + 1] == " " and text[m + 2].isalpha():
            starts.append(m + 2)
    for s in starts:
        glued = glued_ok and s == start and s > 0
        before = s - 1
        while before >= 0 and text[before] == " ":
            before -= 1
        after_mark = before >= 0 and text[before] in ":]"  # `... what she said: INES ALDANA: ...`
        if s == 0 or not (glued or after_mark or _sentence_before(text, s)):
            continue
        label = _label_shape(text[s:colon])
        if label is not None and label.upper:
            return s, label
    return None


# -- pass 2: what each line is ---------------------------------------------------------------------

@dataclass
class _Line:
    """What one line holds, as far as the line and its neighbours can tell."""

    number: int
    text: str
    chrome: bool = False
    cue: bool = False
    start: tuple[Label, str] | None = None  # a label at the start and the words after it
    after_start: int = 0  # where the words after that label begin
    midline: list[tuple[int, int, Label]] = field(default_factory=list)
    alone: Label | None = None  # the whole line is a name, the words follow on the next line
    following: str = ""  # the next non-blank line (within `_LOOKAHEAD`)
    stamp: str = ""  # a time stamp cut from the start of the line

    @property
    def speech_follows(self) -> bool:
        """Whether the next line reads as speech or a direction (a label alone needs words)."""
        return _looks_like_speech(self.following) or _whole_direction(self.following)


def _next_text(lines: list[str], index: int) -> str:
    return next((line for line in lines[index + 1: index + 1 + _LOOKAHEAD] if line), "")


def _cut_stamp(text: str) -> tuple[str, str]:
    """(time stamp, rest) for `[14:00:00] BLITZER: ...` or `00:00:05 Jane Doe: ...`; a bare
    stamp is cut only when a label follows it (`10:30 is when we start` is speech)."""
    m = _LEADING_STAMP.match(text)
    if m is None or m.end() == len(text):
        return "", text
    rest = text[m.end():]
    colon = _head_colon(rest)
    if m.group(1) is None and (colon <= 0 or _label_shape(rest[:colon]) is None):
        return "", text
    return text[:m.end()].strip(), rest


def _name_alone(text: str) -> Label | None:
    """A line that is only a name (`PETRA HOLM`, `Jane Doe  0:05`), perhaps with a colon."""
    if "," in text or _ends_sentence(text) or len(text) > _LABEL_MAX:
        return None
    bare = _TRAILING_STAMP.sub("", text).rstrip(":")
    label = _label_shape(bare) if bare else None
    if label is None or len(label.words) > 4:
        return None
    return replace(label, stamped=True) if bare != text.rstrip(":") else label


def _scan(lines: list[str]) -> list[_Line]:
    """Every line's shape: furniture, a direction, labels at its start, inside it or alone."""
    scans = []
    for index, text in enumerate(lines):
        line = _Line(index + 1, text)
        scans.append(line)
        if not text:
            continue
        line.following = _next_text(lines, index)
        line.stamp, text = _cut_stamp(text)
        line.text = text
        colon = _head_colon(text)
        if _chrome_line(text, colon):
            line.chrome = True
            continue
        if _whole_direction(text):
            line.cue = True
            continue
        label = _label_shape(text[:colon]) if colon > 0 else None
        if label is not None:
            line.start, line.after_start = (label, text[colon + 1:].strip()), colon + 1
        line.midline = _midline_labels(text, line.after_start)
        if label is None and not line.midline and line.speech_follows:
            line.alone = _name_alone(text)
    return scans


# -- pass 3: what the whole text says about names ----------------------------------------------------

@dataclass(frozen=True)
class _Evidence:
    known: frozenset[str]  # parts of full names used as labels: first names, surnames, initials
    repeated: frozenset[str]  # labels used at line starts more than once
    confirmed: frozenset[str]  # labels seen at a line start before a capitalised sentence
    alone: frozenset[str]  # names written alone on their line before the words, believed


_SUFFIXES = frozenset({"jr", "jr.", "sr", "sr.", "ii", "iii", "iv"})


def _surname(words: list[str]) -> str:
    """The last word of a name that is not a generational suffix (`SMITH` in `JOHN SMITH JR.`)."""
    return words[-2] if len(words) > 2 and words[-1].lower() in _SUFFIXES else words[-1]


def _full_name_parts(label: Label) -> list[str]:
    """First name, surname and initials of a full name (`JANE DOE` → jane, doe, jd)."""
    words = [w.lower() for w in label.words]
    if label.kind != "person" or len(words) < 2 or _INITIAL.match(label.words[0]):
        return []
    return [words[0], _surname(words), "".join(w[0] for w in words)]


def _evidence(scans: list[_Line]) -> _Evidence:
    """What all the label shapes together say: which lone words are parts of full names, which
    labels recur, and whether names alone on a line are this transcript's layout."""
    known: set[str] = set()
    confirmed: set[str] = set()
    counts: dict[str, int] = {}
    alone_counts: dict[str, int] = {}
    for line in scans:
        for label in [m[2] for m in line.midline] + ([line.start[0]] if line.start else []):
            known.update(_full_name_parts(label))
        if line.start:
            key = line.start[0].key
            counts[key] = counts.get(key, 0) + 1
            if not line.start[1][:1].islower():
                confirmed.add(key)
        if line.alone:
            alone_counts[line.alone.key] = alone_counts.get(line.alone.key, 0) + 1 + line.alone.stamped
    alone = {k for k, c in alone_counts.items() if c >= 2}  # a time stamp is as good as a repeat
    if alone:  # the layout is established: full names alone once are believed too
        alone |= {k for k in alone_counts if len(k.split()) > 1}
    repeated = {k for k, c in counts.items() if c >= 2}
    return _Evidence(frozenset(known), frozenset(repeated), frozenset(confirmed), frozenset(alone))


def _believe_start(label: Label, rest: str, line: _Line, ev: _Evidence) -> bool:
    """A label at the start of a line is believed when it looks like a person or a role and the
    text around it supports it: words follow, and a lone mixed-case word is a name used elsewhere."""
    if not rest and not line.speech_follows:
        return False
    if label.kind != "person":
        return True
    if rest[:1].islower() and not (label.key in ev.known or label.key in ev.confirmed or label.key in ev.repeated):
        return False  # `COMING UP: the weather`: speech after a label starts a sentence
    if not label.upper:
        if _headline(rest):
            return False  # `Opinion: Why The City Is Wrong` is a headline
        if len(label.words) == 1 and not (label.stamped or label.title or label.key in ev.known
                                          or label.key in ev.repeated):
            return False  # `Washington: the Senate voted ...`; `Sen. Smith:` is a person
    return True


def _believe_midline(label: Label, ev: _Evidence) -> bool:
    return label.kind != "person" or len(label.words) > 1 or label.key in ev.known


# -- pass 4: turns -----------------------------------------------------------------------------------

@dataclass
class _Open:
    """A turn being read: its label (None for the host's unlabelled opening) and its paragraphs
    of (line number, text) pieces."""

    label: Label | None
    cue: bool = False
    paragraphs: list[list[tuple[int, str]]] = field(default_factory=lambda: [[]])

    def add(self, number: int, text: str) -> None:
        self.paragraphs[-1].append((number, text))

    def paragraph_break(self) -> None:
        if self.paragraphs[-1]:
            self.paragraphs.append([])

    @property
    def empty(self) -> bool:
        return not any(self.paragraphs)


class _Assembler:
    """Walks the scanned lines into turns, keeping the lines before the first label aside until
    the first label shows where the page ends and the program begins."""

    def __init__(self, scans: list[_Line], evidence: _Evidence):
        self.scans, self.ev = scans, evidence
        self.turns: list[_Open] = []
        self.current: _Open | None = None
        self.last_label: Label | None = None
        self.preamble: list[tuple[str, int, str]] = []  # ("text"|"cue"|"chrome"|"break", line, text)
        self.dropped: list[Dropped] = []
        self.title: str | None = None
        self.started = False

    def run(self) -> None:
        for line in self.scans:
            self._line(line)
        self._close()
        if not self.started:
            self._settle()
        self._drop_repeated_furniture()

    def _line(self, line: _Line) -> None:
        if line.stamp:
            self.dropped.append(Dropped(line.number, line.stamp))
        if not line.text:
            self._break()
        elif line.chrome:
            self._break()
            self._furniture(line.number, line.text)
        elif line.cue:
            self._cue(line)
        elif line.alone is not None and line.alone.key in self.ev.alone:
            self._label(line.alone)
        else:
            self._pieces(line)

    def _pieces(self, line: _Line) -> None:
        """A line of words, cut where believed labels begin."""
        text, position = line.text, 0
        if line.start is not None and _believe_start(*line.start, line, self.ev):
            self._label(line.start[0])
            position = line.after_start
        for start, end, label in line.midline:
            if start < position or not _believe_midline(label, self.ev):
                continue
            self._text(line.number, text[position:start].strip())
            self._label(label)
            position = end
        self._text(line.number, text[position:].strip())

    def _break(self) -> None:
        if self.current is not None:
            self.current.paragraph_break()
        elif not self.started:
            self.preamble.append(("break", 0, ""))

    def _furniture(self, number: int, text: str) -> None:
        if self.started:
            self.dropped.append(Dropped(number, text))
        else:
            self.preamble.append(("chrome", number, text))

    def _cue(self, line: _Line) -> None:
        if self.current is not None and self.current.label is not None and self.current.empty:
            self.current.add(line.number, line.text)  # `BALI:` alone, `(Speaking Arabic).` below it
            return
        self._close()
        if self.started:
            self.turns.append(_Open(None, cue=True, paragraphs=[[(line.number, line.text)]]))
        else:
            self.preamble.append(("cue", line.number, line.text))

    def _label(self, label: Label) -> None:
        self._close()
        if not self.started:
            self._settle()
            self.started = True
        self.current = _Open(label)
        self.last_label = label

    def _text(self, number: int, text: str) -> None:
        if not text:
            return
        if self.current is None and self.started:
            # words after a stand-alone direction: the last labelled speaker goes on
            self.current = _Open(self.last_label)
        if self.current is not None:
            self.current.add(number, text)
        else:
            self.preamble.append(("text", number, text))

    def _close(self) -> None:
        if self.current is not None and not self.current.empty:
            self.turns.append(self.current)
        self.current = None

    def _settle(self) -> None:
        """Split the lines before the first label into chrome and the host's opening.

        The opening is the run of prose paragraphs just before the first label; the first block
        back from there that is not prose (a caption, a menu, a headline) ends it, and it and
        everything above it are page furniture. Directions keep their place; the title is the
        most headline-like line of the furniture."""
        items = self.preamble
        blocks: list[list[int]] = []  # indexes into items of consecutive text lines
        for i, (kind, _, _) in enumerate(items):
            if kind == "text":
                if blocks and blocks[-1][-1] == i - 1:
                    blocks[-1].append(i)
                else:
                    blocks.append([i])
        opening: set[int] = set()
        for block in reversed(blocks):
            tail = _prose_tail([items[i][2] for i in block])
            opening.update(block[len(block) - tail:])
            if tail < len(block):
                break
        open_turn: _Open | None = None
        for i, (kind, number, text) in enumerate(items):
            if i in opening:
                if open_turn is None:
                    open_turn = _Open(None)
                    self.turns.append(open_turn)
                elif items[i - 1][0] == "break":
                    open_turn.paragraph_break()
                open_turn.add(number, text)
            elif kind == "cue":
                open_turn = None
                self.turns.append(_Open(None, cue=True, paragraphs=[[(number, text)]]))
            elif kind in ("text", "chrome"):
                self.dropped.append(Dropped(number, text))
        headlines = [d.text for d in self.dropped if _headline(d.text)]
        self.title = max(headlines, key=lambda t: len(t.split()), default=None)
        self.preamble = []

    def _drop_repeated_furniture(self) -> None:
        """Short unpunctuated paragraphs of their own, repeated word for word inside turns
        (`Advertisement`), are page furniture. A turn's first paragraph is left alone: `Yeah`
        right after a label is speech."""
        seen: dict[str, int] = {}
        for para in self._inner_paragraphs():
            if len(para) == 1 and _furniture_shaped(para[0][1]):
                seen[para[0][1]] = seen.get(para[0][1], 0) + 1
        repeated = {t for t, c in seen.items() if c >= 2}
        for turn in self.turns if repeated else []:
            kept = turn.paragraphs[:1]
            for para in turn.paragraphs[1:]:
                if len(para) == 1 and para[0][1] in repeated:
                    self.dropped.append(Dropped(*para[0]))
                else:
                    kept.append(para)
            turn.paragraphs = kept

    def _inner_paragraphs(self):
        return (para for turn in self.turns if not turn.cue for para in turn.paragraphs[1:])


def _furniture_shaped(text: str) -> bool:
    words = text.split()
    return 1 <= len(words) <= 5 and not _ends_sentence(text) and text[0].isupper()


# -- pass 5: names and roles -------------------------------------------------------------------------

_INNER_CAPITAL = re.compile(r"\b[A-Z][a-z]{1,3}[A-Z][a-z]+")


def _title_case(word: str, spellings: dict[str, str]) -> str:
    """`O'BRIEN` → `O'Brien`, `MCDONALD` → `McDonald` (or as the text spells it), `VOSS-KEMPER`
    → `Voss-Kemper`; words already in mixed case are kept as written."""
    if any(c.islower() for c in word) or len(word) <= 1 or _NUMBER.match(word):
        return word
    if word.replace(".", "").isalpha() and "." in word[1:] or _INITIAL.match(word):
        return word  # initials: J.D., S.
    if word.lower() in spellings:
        return spellings[word.lower()]
    parts = []
    for part in word.split("-"):
        p = part[:1] + part[1:].lower()
        if len(p) > 2 and p[1] in "'’":
            p = p[:2] + p[2].upper() + p[3:]  # O'Brien, D'Angelo
        if p.startswith("Mc") and len(p) > 4:
            p = "Mc" + p[2].upper() + p[3:]
        parts.append(p)
    return "-".join(parts)


def _display(words: tuple[str, ...], spellings: dict[str, str]) -> str:
    shown = [_title_case(w, spellings) for w in words]
    return " ".join(w.lower() if i and w.lower() in _PARTICLES else w for i, w in enumerate(shown))


def _affixes(key: str) -> list[str]:
    """The word-wise starts and ends of a name: `mary louise kelly` → mary, mary louise, louise
    kelly, kelly."""
    words = key.split()
    return [" ".join(words[:i]) for i in range(1, len(words))] + [" ".join(words[i:]) for i in range(1, len(words))]


class _Names:
    """Labels → the fullest names the text gives, and names → roles."""

    def __init__(self, labels: list[Label], text: str):
        self.text = text
        self.spellings = {m.group(0).lower(): m.group(0) for m in _INNER_CAPITAL.finditer(text)}
        self.full = self._full_names([label for label in dict.fromkeys(labels) if label.kind == "person"])
        self.by: dict[str, dict[str, list[str]]] = {"start": {}, "end": {}, "initials": {}}
        for key in self.full:
            words = key.split()
            ends = set(_affixes(key)[len(words) - 1:]) | {_surname(words)}
            for index, parts in (("start", _affixes(key)[:len(words) - 1]), ("end", ends),
                                 ("initials", ["".join(w[0] for w in words)])):
                for part in parts:
                    self.by[index].setdefault(part, []).append(key)
        self.warnings: list[str] = []
        self.names = {label: self._name(label) for label in dict.fromkeys(labels)}

    def _full_names(self, people: list[Label]) -> dict[str, str]:
        """Key → display for the fullest names labels give: two words or more, and not only the
        start or end of a longer one (`VAN BEETHOVEN` after `LUDWIG VAN BEETHOVEN`). An initial
        and a surname (`A MARTÍNEZ`) is a full name, unless it tells apart people sharing the
        surname (`S. SMITH` for Sarah Smith). Mixed-case spellings win over capitals."""
        multi = [label for label in people if len(label.words) >= 2]
        parts = {affix for label in multi for affix in _affixes(label.key)}
        full: dict[str, str] = {}
        for initialled in (False, True):
            named = {(k[0], _surname(k.split())) for k in full}
            for label in multi:
                words = label.key.split()
                if label.key in parts or bool(_INITIAL.match(label.words[0])) != initialled \
                        or initialled and (words[0][0], _surname(words)) in named:
                    continue
                if label.key not in full or not label.upper:
                    full[label.key] = _display(label.words, self.spellings)
        return full

    def _name(self, label: Label) -> str:
        if label.kind != "person":  # `host` → Host, `UNIDENTIFIED PERSON #1` → Unidentified Person #1
            return " ".join(w.capitalize() for w in label.words)
        if label.key in self.full:
            return self.full[label.key]
        words = label.key.split()
        if len(words) == 2 and _INITIAL.match(label.words[0]):  # S. SMITH among several Smiths
            found = [k for k in self.by["end"].get(words[1], []) if k[0] == words[0][0]]
        else:  # a surname, a first name, initials (`JD`), or the end of a longer name
            found = (self.by["end"].get(label.key) or self.by["start"].get(label.key)
                     or (self.by["initials"].get(label.key, []) if label.words[0].isupper() else []))
        if len(found) == 1:
            return self.full[found[0]]
        if len(found) > 1:
            self.warnings.append(f"label '{label.raw}' could be {' or '.join(self.full[k] for k in found)}; "
                                 f"kept as written")
        elif len(words) == 1:
            named = self._from_prose(label.words[0])
            if named:
                return named
        shown = _display(label.words, self.spellings)
        return f"{_display((label.title,), {})} {shown}" if label.title else shown

    def _from_prose(self, word: str) -> str | None:
        """`SHERLOCK:` with no full-name label: the text may still say `Ruth Sherlock`. The word
        before the surname must never appear in lower case (so `When Sherlock` is no name) and
        be the only one found."""
        pattern = re.compile(r"\b([A-Z][a-z]+) (?i:(" + re.escape(word) + r"))\b")
        found = {(m.group(1), m.group(2)) for m in pattern.finditer(self.text)}
        names = {f"{first} {last}" for first, last in found
                 if first.lower().rstrip(".") not in _TITLES
                 and not re.search(r"\b" + re.escape(first.lower()) + r"\b", self.text)}
        return names.pop() if len(names) == 1 else None

    def roles(self) -> dict[str, str]:
        """Each name's role: host or reporter when any of its labels says so, unidentified for
        unnamed voices, guest otherwise."""
        roles: dict[str, str] = {}
        for label, name in self.names.items():
            if label.role is not None and roles.get(name) in (None, "guest", "unidentified"):
                roles[name] = label.role
            elif label.kind == "unnamed":
                roles.setdefault(name, "unidentified")
            else:
                roles.setdefault(name, "guest")
        return roles

    def shared_surnames(self) -> list[str]:
        by_surname: dict[str, list[str]] = {}
        for key in self.full:
            by_surname.setdefault(_surname(key.split()), []).append(self.full[key])
        return [f"two speakers share the surname {surname.upper()} ({' and '.join(names)}); told apart by "
                f"initials or first names" for surname, names in by_surname.items() if len(names) > 1]


# -- building the Script -----------------------------------------------------------------------------

def _speech(name: str, role: str, turn: _Open, interpreted: bool) -> Turn | None:
    """A speaker's turn: leading directions removed (an interpreter's marks `interpreted`),
    inline ones dropped, wrapped lines joined; a turn of only directions is a cue by its speaker."""
    pieces = [list(p) for p in turn.paragraphs if p]
    whole = "\n\n".join(" ".join(t for _, t in p) for p in pieces)
    if _whole_direction(whole.replace("\n\n", " ")):
        return Turn(name, role, "cue", whole, pieces[0][0][0])
    while pieces:
        number, text = pieces[0][0]
        position = 0
        while m := _DIRECTION_AT.match(text, position):
            inner = (m.group(1) if m.group(1) is not None else m.group(2)).strip()
            if _INTERPRETED.match(inner):
                interpreted = True
            elif not (is_direction(inner) or _SPOKEN_LEAD.match(inner) or _TIMESTAMP.match(inner)):
                break  # `(202) 555-0100 is the number` is speech; `Jane Doe: (00:05)` a time stamp
            position = m.end()
        rest = text[position:].strip()
        if rest:
            pieces[0][0] = (number, rest)
            break
        pieces[0].pop(0)
        if not pieces[0]:
            pieces.pop(0)
    paragraphs = [(p[0][0], _strip_inline_directions(" ".join(t for _, t in p))) for p in pieces]
    paragraphs = [(n, t) for n, t in paragraphs if t]
    if not paragraphs:
        return None
    return Turn(name, role, "speech", "\n\n".join(t for _, t in paragraphs), paragraphs[0][0], interpreted)


def _drop_footer(turns: list[_Open]) -> list[Dropped]:
    """Remove a copyright or 'transcript provided by' footer from the end of the last spoken
    turn: whole trailing lines that are footers, or a footer glued to the last sentence."""
    last = next((t for t in reversed(turns) if not t.cue), None)
    if last is None:
        return []
    drops = []
    while last.paragraphs and not last.paragraphs[-1]:
        last.paragraphs.pop()
    while last.paragraphs and last.paragraphs[-1]:
        para = last.paragraphs[-1]
        number, text = para[-1]
        if _footer_shaped(text):
            drops.append(Dropped(number, text))
            para.pop()
        else:
            m = _GLUED_FOOTER.search(text)
            if m is not None and len(text[m.end():].split()) <= _FOOTER_WORDS_MAX:
                drops.append(Dropped(number, text[m.end():].strip()))
                para[-1] = (number, text[:m.start()].rstrip())
            break
        while last.paragraphs and not last.paragraphs[-1]:
            last.paragraphs.pop()
    if last.empty:
        turns.remove(last)
    return drops


def _turns(opened: list[_Open], names: _Names, roles: dict[str, str]) -> list[Turn]:
    """The finished turns. The unlabelled opening belongs to the host: the first speaker labelled
    as one, or `Host` when the host is never named."""
    hosts = [n for n, r in roles.items() if r == "host"]
    opening = hosts[0] if hosts else "Host"
    roles.setdefault(opening, "host")
    turns: list[Turn] = []
    for turn in opened:
        if turn.cue:
            (number, direction), = turn.paragraphs[0]
            turns.append(Turn(None, "cue", "cue", direction, number))
            continue
        name = names.names[turn.label] if turn.label is not None else opening
        made = _speech(name, roles[name], turn, turn.label is not None and turn.label.interpreted)
        if made is not None:
            turns.append(made)
    return turns


def _speakers(turns: list[Turn], names: _Names, roles: dict[str, str]) -> tuple[Speaker, ...]:
    """Everyone who speaks, in order of first appearance, with every label seen for them."""
    labels_of: dict[str, list[str]] = {}
    for label, name in names.names.items():
        labels_of.setdefault(name, []).append(label.raw)
    speakers: dict[str, Speaker] = {}
    for t in turns:
        if t.speaker is not None and t.speaker not in speakers:
            speakers[t.speaker] = Speaker(t.speaker, roles[t.speaker], tuple(labels_of.get(t.speaker, ())))
    return tuple(speakers.values())


def parse_text(text: str) -> Script:
    """Parse transcript text into a `Script`; TranscriptError when nothing in it can be spoken."""
    lines = normalise(text)
    if not any(lines):
        raise TranscriptError("the transcript is empty")
    scans = _scan(lines)
    assembler = _Assembler(scans, _evidence(scans))
    assembler.run()
    dropped = assembler.dropped + _drop_footer(assembler.turns)
    names = _Names([t.label for t in assembler.turns if t.label is not None], text)
    roles = names.roles()
    turns = _turns(assembler.turns, names, roles)
    if not any(t.kind == "speech" for t in turns):
        raise TranscriptError(f"nothing speakable found (no lines of speech, only {len(dropped)} lines of "
                              f"page furniture)")
    warnings = tuple(dict.fromkeys(names.warnings + names.shared_surnames()))
    return Script(assembler.title, _speakers(turns, names, roles), tuple(turns),
                  tuple(sorted(dropped, key=lambda d: d.line)), warnings)


def parse(source: str | Path) -> Script:
    """Read and parse a transcript file (`-` for stdin)."""
    text, notes = read(source)
    try:
        script = parse_text(text)
    except TranscriptError as exc:
        raise TranscriptError(f"{source}: {exc}") from None
    if notes:
        script = Script(script.title, script.speakers, script.turns, script.dropped,
                        tuple(notes) + script.warnings)
    return script
