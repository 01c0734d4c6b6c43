"""Transcript text → `Script`: who speaks, in what role, and what is only page furniture.

Transcripts arrive as people copy them from web pages: player chrome and a headline before the
story, labels in many house styles (`RUTH SHERLOCK, BYLINE:`, `SHERLOCK:`, `Jane Doe, Director:`,
`Speaker 1 (00:12):`), stage directions in parentheses or brackets, and a copyright footer glued
to the last sentence. The parser decides by structure (where a line sits, what shape a label has,
what the rest of the text says about a name), never by one site's strings, and it runs in linear
time: every regular expression here is anchored and free of nested quantifiers.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from .errors import TranscriptError
from .models import Dropped, Script, Speaker, Turn

MAX_BYTES = 20_000_000  # beyond this a "transcript" is a log file or a mistake; say so instead

# -- reading --------------------------------------------------------------------------------------

_BINARY_MAGIC = {b"%PDF": "a PDF", b"PK\x03\x04": "a zip archive or Word/OpenDocument file",
                 b"\xd0\xcf\x11\xe0": "an old Word/Office file", b"{\\rtf": "an RTF document",
                 b"\x7fELF": "a program", b"ID3": "an MP3 file", b"RIFF": "a WAV/RIFF file",
                 b"\x89PNG": "a PNG image", b"\xff\xd8\xff": "a JPEG image", b"GIF8": "a GIF image"}


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
        text = data.decode("utf-16")
        notes.append("decoded as UTF-16 (byte-order mark)")
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            if data.count(b"\x00") > len(data) // 100:
                raise TranscriptError(f"{name}: this is binary data, not text; save the transcript as plain text")
            text = data.decode("cp1252", errors="replace")
            notes.append("not UTF-8: decoded as Windows-1252 (Latin-1)")
    if "\x00" in text:
        raise TranscriptError(f"{name}: this is binary data, not text; save the transcript as plain text")
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
    """Lines with line endings, odd spaces and control characters tidied; numbering kept."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n")
    text = unicodedata.normalize("NFC", text)
    return [_SPACES.sub(" ", _CONTROL.sub("", line)).strip() for line in text.split("\n")]


# -- directions -------------------------------------------------------------------------------------

_DIRECTION_WORDS = re.compile(
    r"(?:soundbite|sound ?bite|sound of|sounds? |laugh|chuckl|giggl|applau|music|begin|end |end$|break|"
    r"commercial|crosstalk|cross-talk|inaudible|unintelligible|indiscernible|through (?:an )?interpret|"
    r"through (?:a )?translat|speaking|singing|sings|reading|as |voice-over|voice over|v/o|ph$|sic$|sigh|"
    r"cheer|chant|boo|clap|gunfire|siren|instrumental|show intro|intro|outro|theme|video ?clip|audio ?clip|"
    r"videotape|cough|pause|silence|foreign language|technical|off-mike|off mike|on camera|"
    r"crying|sobbing|whisper|shout|yell|bell|horn|phone rings|archival|recording|clip|excerpt|"
    r"upbeat|dramatic|jingle|tone|beep|noise|ambient|nat sound|natural sound|"
    r"in progress|joined in progress|unknown|foreign|translated|interpret)",
    re.IGNORECASE,
)
_TIMESTAMP = re.compile(r"^\d{1,2}(?::\d{2}){1,2}$")
_INLINE_DIRECTION = re.compile(r"\s*(?:\(([^()]{0,80})\)|\[([^\[\]]{0,80})\])")
_LEADING_DIRECTION = re.compile(r"^(?:\(([^()]{1,80})\)|\[([^\[\]]{1,80})\])\s*[.:,]?\s*")
_INTERPRETED = re.compile(r"^(?:through (?:an |a )?(?:interpreter|translator)|via (?:an |a )?(?:interpreter|translator)|"
                          r"translated|interpreted)", re.IGNORECASE)
_SPOKEN_LEAD = re.compile(r"^(?:as |singing|sings|reading|voice-over|voice over|on camera|v/o)", re.IGNORECASE)


def is_direction(inner: str) -> bool:
    """Whether the words inside parentheses/brackets are a stage direction (not a phone number,
    a timestamp, an aside or an editorial note)."""
    inner = inner.strip().rstrip(".")
    if not inner or not any(c.isalpha() for c in inner) or _TIMESTAMP.match(inner):
        return False
    if inner.lower().startswith(("note", "editor", "correction", "update", "ed.")):
        return False
    letters = [c for c in inner if c.isalpha()]
    if all(c.isupper() for c in letters) and len(inner.split()) <= 14:
        return True
    return bool(_DIRECTION_WORDS.match(inner))


def _whole_direction(text: str) -> bool:
    """A turn or line that is nothing but one or more directions: `(Speaking Arabic).`."""
    rest, found = text.strip(), False
    while rest:
        m = _LEADING_DIRECTION.match(rest)
        if not m or not is_direction(m.group(1) or m.group(2)):
            return False
        found, rest = True, rest[m.end():].strip(" .")
    return found


def _strip_inline_directions(text: str) -> str:
    def drop(m: re.Match[str]) -> str:
        return "" if is_direction(m.group(1) or m.group(2) or "") else m.group(0)

    cleaned = _INLINE_DIRECTION.sub(drop, text)
    cleaned = re.sub(r"\s+([,.;:!?])", r"\1", cleaned)
    return re.sub(r" {2,}", " ", cleaned).strip()


# -- labels -------------------------------------------------------------------------------------

_ROLE_WORDS = {
    "host": "host", "hosts": "host", "co-host": "host", "cohost": "host", "anchor": "host",
    "presenter": "host", "moderator": "host", "byline": "reporter", "correspondent": "reporter",
    "reporter": "reporter", "contributor": "guest",
}
_UNIDENTIFIED = re.compile(r"^(?:unidentified|unknown|unnamed)\b|^(?:announcer|narrator|question|answer|"
                           r"crowd|group|audience|protesters?|voice|voices|male|female|man|woman|child|"
                           r"speaker|interpreter|translator|operator|caller|all|several|multiple|"
                           r"crosstalk|students?|officer|soldier|people)(?: ?#? ?\d+)?$", re.IGNORECASE)
_TITLES = ("mr", "mrs", "ms", "miss", "dr", "prof", "professor", "sen", "senator", "rep", "representative",
           "gov", "governor", "secretary", "president", "vice president", "gen", "general", "col", "colonel",
           "judge", "justice", "mayor", "rev", "reverend", "father", "sister", "chairman", "chairwoman",
           "minister", "prime minister", "ambassador", "lt", "sgt", "capt", "captain", "adm", "admiral",
           "sir", "dame", "lord", "lady", "rabbi", "imam", "speaker", "leader", "chief", "commissioner")
_TITLE_PREFIX = re.compile(r"^(?:" + "|".join(sorted((re.escape(t) for t in _TITLES), key=len, reverse=True))
                           + r")\.?\s+", re.IGNORECASE)
_NAME_WORD = r"[A-Z][A-Za-z'’.\-]*"
_PARTICLE = r"(?:de|da|di|del|della|van|von|der|den|bin|ibn|al|el|la|le|du|dos|das|ten|ter|y|of)"
# An upper-case label: words of capitals (a name or a role), then any comma descriptors.
_UPPER_LABEL = re.compile(
    r"^((?:MR|MRS|MS|DR|SEN|REP|GOV|GEN|LT|SGT|CAPT|REV)?\.? ?[A-Z][A-Z0-9'’.\-]*(?: (?:[A-Z][A-Z0-9'’.\-]*|"
    r"#\d+|\d+|" + _PARTICLE + r"))*)"
    r"((?: ?\([^()]{1,40}\))?(?:, ?[^,:()]{1,60}){0,4}(?: ?\([^()]{1,40}\))?)\s*:(?:\s+|$)"
)
# A mixed-case label: capitalised name words (particles allowed), then descriptors.
_MIXED_LABEL = re.compile(
    r"^((?:" + _NAME_WORD + r")(?: (?:" + _NAME_WORD + r"|" + _PARTICLE + r"|#?\d+)){0,4})"
    r"((?: ?\([^()]{1,40}\))?(?:, ?[^,:()]{1,60}){0,4}(?: ?\([^()]{1,40}\))?)\s*:(?:\s+|$)"
)
# Labels in the middle of a line: reposted captions (`... now. JANE DOE: Next`) or glued to
# page text (`Share this storyJANE DOE, HOST: Good`). Upper-case only: mixed case is too often prose.
_MIDLINE_LABEL = re.compile(
    r"(?:(?<=[.!?\"”’)\]]) |(?<=[a-z]))(?=[A-Z][A-Z'’.\-]+(?: [A-Z][A-Z'’.\-]+){0,3}"
    r"(?:, ?[A-Z][A-Za-z .'’\-]{1,40}){0,3}:\s)"
)
_HEADER_KEYS = {"show", "date", "time", "aired", "air date", "program", "episode", "guest", "guests", "note",
                "notes", "music", "source", "transcript", "copyright", "update", "updated", "correction",
                "editor's note", "editors note", "photo", "credit", "category", "tags", "topic", "topics",
                "published", "length", "duration", "runtime", "listen", "download", "subscribe", "share",
                "related", "location", "segment", "part", "chapter", "section", "read more", "watch",
                "sponsor", "advertisement", "summary", "description", "keywords", "title", "by", "posted",
                "contact", "email", "phone", "web", "website", "url", "twitter", "x", "instagram",
                "facebook", "youtube", "warning", "disclaimer", "content warning", "transcription",
                "format", "language", "headline", "rush transcript", "clip", "video", "audio", "image"}
_NAME_SEP = re.compile(r"\s+")
_TIMESTAMP_PAREN = re.compile(r"\(\s*\d{1,2}(?::\d{2}){1,2}\s*\)")
_SPEAKER_N = re.compile(r"^speaker\s*#?\s*(\d+)$", re.IGNORECASE)


@dataclass(frozen=True)
class Label:
    raw: str  # as written, without the colon
    name: str  # the name part, cleaned of titles' punctuation
    role: str | None  # from descriptors, when they say
    descriptors: tuple[str, ...]
    unidentified: bool


def _title_case(word: str) -> str:
    """`O'BRIEN` → `O'Brien`, `MCDONALD` → `McDonald`, `SMITH-JONES` → `Smith-Jones`."""
    if not word.isupper() or len(word) <= 1:
        return word
    if re.fullmatch(r"(?:[A-Z]\.)+", word):  # initials: J.D.
        return word
    out = "-".join(p[:1] + p[1:].lower() for p in word.split("-"))
    out = re.sub(r"(['’])([a-z])", lambda m: m.group(1) + m.group(2).upper(), out)
    if re.match(r"^Ma?c[a-z]{3,}", out) and word.startswith(("MC", "MAC")) and len(word) > 4 and word[:2] == "MC":
        out = "Mc" + out[2].upper() + out[3:]
    if out.lower() in {"de", "da", "di", "del", "della", "van", "von", "der", "den", "bin", "ibn", "al", "el",
                       "la", "le", "du", "dos", "das", "ten", "ter", "y", "of"}:
        return out.lower()
    return out


def _person_name(raw: str) -> str:
    words = [w for w in _NAME_SEP.split(raw.strip()) if w]
    titled = [_title_case(w) for w in words]
    if titled and titled[0].islower():
        titled[0] = titled[0].capitalize()
    return " ".join(titled)


def parse_label(line: str, known_first_words: frozenset[str] = frozenset()) -> tuple[Label, str] | None:
    """The label at the start of `line` and the text after it, or None when there is none.

    A label is believed only when it looks like a person or a role: header keys (`Show:`, `Note:`),
    sentences (`Here is what she said:`) and headlines with a colon are not labels.
    """
    m = _UPPER_LABEL.match(line)
    upper = bool(m) and not any(c.islower() for c in m.group(1))
    if not upper:
        m = _MIXED_LABEL.match(line)
        if not m:
            return None
    name_part, desc_part = m.group(1).strip(), m.group(2) or ""
    rest = line[m.end():].strip()
    if not any(c.isalpha() for c in name_part) or len(name_part) > 60:
        return None
    key = name_part.lower().rstrip(".")
    if key in _HEADER_KEYS and not desc_part:
        return None
    words = name_part.split()
    if not upper:
        # mixed case: every word must be capitalised (a name), no sentence-like words
        if any(w[0].islower() and not re.fullmatch(_PARTICLE, w) for w in words):
            return None
        if len(words) == 1 and not desc_part and name_part not in known_first_words and not _SPEAKER_N.match(name_part):
            # a lone capitalised word followed by text ("Update: ...", "Washington: ...") is only a
            # label when the text elsewhere uses it as one (known_first_words) or it has a timestamp
            if not _TIMESTAMP_PAREN.search(line[: m.end()]):
                return None
    descriptors = []
    timestamp = False
    for part in re.findall(r"\(([^()]*)\)", desc_part):
        if _TIMESTAMP.match(part.strip()):
            timestamp = True
        else:
            descriptors.append(part.strip())
    for part in re.sub(r"\([^()]*\)", "", desc_part).split(","):
        if part.strip():
            descriptors.append(part.strip())
    if upper and len(words) > 6:
        return None
    role = None
    for d in descriptors:
        r = _ROLE_WORDS.get(d.lower().strip(" ."))
        if r is None:
            first = d.lower().split()[0] if d.split() else ""
            r = _ROLE_WORDS.get(first) if first in ("host", "anchor", "correspondent", "reporter") else None
            if r is None and re.search(r"\b(?:host|anchor|correspondent|reporter)\b", d.lower()):
                r = "reporter" if re.search(r"\b(?:correspondent|reporter)\b", d.lower()) else "host"
        if r:
            role = role or r
    if descriptors and not role and all(d.lower() in ("voice-over", "voice over", "v/o", "vo", "on camera",
                                                       "off camera", "through interpreter") for d in descriptors):
        descriptors = []
    # A role word alone is a role, not a name: `HOST:`, `ANCHOR:`, `REPORTER:`
    if key in _ROLE_WORDS and not descriptors:
        role = _ROLE_WORDS[key]
    unidentified = bool(_UNIDENTIFIED.match(key)) and not _ROLE_WORDS.get(key)
    if _SPEAKER_N.match(key):
        unidentified = False
    name = _person_name(name_part)
    if timestamp and not descriptors and not upper:
        pass
    return Label(m.group(0).strip().rstrip(":").strip(), name, role, tuple(descriptors), unidentified), rest


# -- footers and chrome -------------------------------------------------------------------------

_FOOTER = re.compile(
    r"(?:\s|^)(?:transcript (?:provided|produced|by)\b|copyright\b|©|\(c\) ?(?:19|20)\d\d|all rights reserved|"
    r"this transcript (?:was|is|may)\b|transcripts? (?:are|is) (?:created|produced|provided)|"
    r"accuracy and availability may vary)",
    re.IGNORECASE,
)
_RUSH = re.compile(r"^(?:this is a rush transcript|rush transcript|this copy may not be|aired\b|air date\b|"
                   r"[A-Z][A-Za-z]+ \d{1,2}, \d{4}\b.{0,40}\b(?:ET|EST|EDT|PT|CT)\b)", re.IGNORECASE)


def _split_footer(text: str) -> tuple[str, str | None]:
    """`... Beirut. Transcript provided by NPR, Copyright NPR.` → the speech and the footer."""
    m = _FOOTER.search(text)
    if not m:
        return text, None
    start = m.start()
    # a footer starts a sentence: find the sentence boundary before the match
    head = text[:start].rstrip()
    if head and head[-1] not in ".!?\"”’)" and not head.endswith(("NEWS", "News")):
        return text, None
    return head, text[start:].strip()


def _title_case_line(text: str) -> bool:
    words = [w for w in text.split() if w[:1].isalpha()]
    return bool(words) and sum(w[0].isupper() for w in words) >= 0.75 * len(words)


def _looks_like_sentence(text: str) -> bool:
    """Prose rather than a headline, a menu item or a name: end punctuation, or many words
    most of which are not capitalised."""
    words = text.split()
    if len(words) >= 2 and text.rstrip()[-1:] in ".!?\"”’…":
        return True
    return len(words) >= 8 and not _title_case_line(text)


# -- the parser ----------------------------------------------------------------------------------

@dataclass
class _Open:
    """A turn being read: its label, lines and first line number."""

    label: Label | None
    line: int
    paragraphs: list[list[str]] = field(default_factory=lambda: [[]])
    cue: bool = False

    def add(self, text: str) -> None:
        self.paragraphs[-1].append(text)

    def paragraph_break(self) -> None:
        if self.paragraphs[-1]:
            self.paragraphs.append([])

    @property
    def text(self) -> str:
        return "\n\n".join(" ".join(p) for p in self.paragraphs if p)


class _Parser:
    def __init__(self, lines: list[str]):
        self.lines = lines
        self.turns: list[_Open] = []
        self.dropped: list[Dropped] = []
        self.warnings: list[str] = []
        self.title: str | None = None
        self.current: _Open | None = None
        self.preamble: list[tuple[int, str]] = []  # lines before the first label: chrome, headline, opening
        self.known_first_words = self._first_words_used_as_labels()
        self.name_alone = self._names_alone_on_lines()

    # Pre-scan: which single capitalised words and which lines alone are used as labels elsewhere
    def _first_words_used_as_labels(self) -> frozenset[str]:
        full = set()
        for line in self.lines:
            m = _MIXED_LABEL.match(line)
            if m and len(m.group(1).split()) >= 2 and m.group(1).split()[0][0].isupper():
                full.add(m.group(1).split()[0])
        return frozenset(full)

    def _names_alone_on_lines(self) -> frozenset[str]:
        """Lines of 1–4 name-shaped words with no end punctuation, standing alone before text
        and seen at least twice: a layout where the speaker's name sits on its own line."""
        counts: dict[str, int] = {}
        for i, line in enumerate(self.lines[:-1]):
            bare = line.rstrip(":").strip()
            if not bare or len(bare) > 40 or not re.fullmatch(
                    r"[A-Z][A-Za-z'’.\-]*(?: [A-Z][A-Za-z'’.\-]*){0,3}(?: \(\d{1,2}(?::\d{2}){1,2}\))?", bare):
                continue
            nxt = self.lines[i + 1]
            if nxt and _looks_like_sentence(nxt):
                counts[bare] = counts.get(bare, 0) + 1
        names = {n for n, c in counts.items() if c >= 2}
        # a full name seen once is believed when its surname or first name is seen alone too
        for n in counts:
            parts = n.split()
            if len(parts) >= 2 and (parts[-1] in names or parts[0] in names):
                names.add(n)
        return frozenset(names)

    def run(self) -> None:
        lines = self.lines
        for index, raw in enumerate(lines):
            number = index + 1
            if not raw:
                if self.current is not None:
                    self.current.paragraph_break()
                continue
            following = next((line for line in lines[index + 1: index + 4] if line), "")
            for piece in self._split_midline(raw):
                self._line(number, piece, following)
        self._close()

    def _split_midline(self, line: str) -> list[str]:
        cuts = [m.start() for m in _MIDLINE_LABEL.finditer(line) if m.start() > 0]
        if not cuts:
            return [line]
        pieces, last = [], 0
        for cut in cuts:
            head = line[last:cut].strip()
            if head and parse_label(line[cut:], self.known_first_words) is not None:
                pieces.append(head)
                last = cut
        pieces.append(line[last:].strip())
        return [p for p in pieces if p]

    def _line(self, number: int, text: str, next_line: str) -> None:
        # a stand-alone direction
        if _whole_direction(text) and not (self.current and self.current.label and not self.current.text):
            self._close()
            self.turns.append(_Open(None, number, [[text]], cue=True))
            return
        label = self._label(text, next_line)
        if label is not None:
            lab, rest = label
            self._close()
            self.current = _Open(lab, number)
            if rest:
                self._text(number, rest)
            return
        if self.current is None:
            self.preamble.append((number, text))
            return
        if self.current.cue:
            self._close()
            self.preamble.append((number, text)) if not self.turns else self._continue_after_cue(number, text)
            return
        self._text(number, text)

    def _continue_after_cue(self, number: int, text: str) -> None:
        """Text after a stand-alone direction with no label: the previous speaker goes on
        (a soundbite's words are the last labelled speaker's unless a label says otherwise)."""
        previous = next((t for t in reversed(self.turns) if not t.cue and t.label is not None), None)
        self.current = _Open(previous.label if previous else None, number)
        self._text(number, text)

    def _label(self, text: str, next_line: str) -> tuple[Label, str] | None:
        found = parse_label(text, self.known_first_words)
        if found is not None:
            lab, rest = found
            # a label alone on its line is believed only when words to be spoken follow it
            if rest or _looks_like_sentence(next_line) or _whole_direction(next_line):
                return found
            return None
        bare = text.rstrip(":").strip()
        if bare in self.name_alone:
            stamp = _TIMESTAMP_PAREN.search(bare)
            name = _TIMESTAMP_PAREN.sub("", bare).strip()
            lab = parse_label(f"{name}: x", self.known_first_words | {name})
            if lab is not None:
                return lab[0], ""
            del stamp
        return None

    def _text(self, number: int, text: str) -> None:
        current = self.current
        if current is None:
            return
        if not current.text:
            current.line = number
        current.add(text)

    def _close(self) -> None:
        if self.current is not None and (self.current.text or self.current.label is not None):
            self.turns.append(self.current)
        self.current = None


def _resolve(turn_labels: list[Label]) -> tuple[dict[str, str], dict[str, str], dict[str, list[str]], list[str]]:
    """Map every label to the fullest name the text gives, and every name to a role."""
    full: dict[str, Label] = {}
    for lab in turn_labels:
        if len(lab.name.split()) >= 2 and not lab.unidentified and not _SPEAKER_N.match(lab.name):
            full.setdefault(lab.name, lab)
    full_names = list(full)
    warnings: list[str] = []

    def strip_title(name: str) -> str:
        return _TITLE_PREFIX.sub("", name).strip()

    def surname(n: str) -> str:
        return strip_title(n).split()[-1].lower() if strip_title(n).split() else n.lower()

    def candidates(name: str) -> list[str]:
        bare = strip_title(name)
        parts = bare.split()
        if not parts:
            return []
        if len(parts) == 1:
            key = parts[0].lower()
            if re.fullmatch(r"[a-z]{2,3}", key) and parts[0].isupper():  # JD → Jane Doe
                by_initials = [n for n in full_names
                               if "".join(w[0] for w in strip_title(n).split()).lower() == key]
                if by_initials:
                    return by_initials
            by_surname = [n for n in full_names if surname(n) == key]
            if by_surname:
                return by_surname
            return [n for n in full_names if strip_title(n).split()[0].lower() == key]
        if len(parts) == 2 and re.fullmatch(r"[A-Z]\.?", parts[0]):  # S. SMITH
            return [n for n in full_names if surname(n) == parts[1].lower()
                    and strip_title(n).split()[0][0].lower() == parts[0][0].lower()
                    and len(strip_title(n).split()[0].rstrip(".")) > 1]
        if bare != name:  # SECRETARY SMITH → Jane Smith when the text names her
            return [n for n in full_names if surname(n) == parts[-1].lower()] or []
        return []

    canonical: dict[str, str] = {}
    for lab in turn_labels:
        if lab.raw in canonical:
            continue
        if lab.unidentified or _SPEAKER_N.match(lab.name):
            canonical[lab.raw] = lab.name
            continue
        if lab.name in full:
            canonical[lab.raw] = lab.name
            continue
        found = candidates(lab.name)
        if len(found) == 1:
            canonical[lab.raw] = found[0]
        else:
            if len(found) > 1:
                warnings.append(f"label '{lab.raw}' could be {' or '.join(found)}; kept as '{lab.name}'")
            canonical[lab.raw] = lab.name
    # surnames shared by several full names: say how they were told apart
    by_surname: dict[str, list[str]] = {}
    for n in full_names:
        by_surname.setdefault(surname(n), []).append(n)
    for s, names in by_surname.items():
        if len(names) > 1:
            warnings.append(f"speakers {' and '.join(names)} share the surname {s.upper()}; told apart by "
                            f"initials or first names")
    roles: dict[str, str] = {}
    labels_of: dict[str, list[str]] = {}
    for lab in turn_labels:
        name = canonical[lab.raw]
        labels_of.setdefault(name, [])
        if lab.raw not in labels_of[name]:
            labels_of[name].append(lab.raw)
        if lab.unidentified:
            roles.setdefault(name, "unidentified")
        elif lab.role:
            if roles.get(name) in (None, "guest"):
                roles[name] = lab.role
        else:
            roles.setdefault(name, "guest")
    return canonical, roles, labels_of, warnings


def _preamble(lines: list[tuple[int, str]]) -> tuple[str | None, list[Dropped], list[tuple[int, str]]]:
    """Lines before the first label → (title, dropped chrome, the host's unlabelled opening)."""
    # paragraphs of the preamble
    opening: list[tuple[int, str]] = []
    dropped: list[Dropped] = []
    title: str | None = None
    first_sentence = next((i for i, (_, t) in enumerate(lines) if _looks_like_sentence(t)
                           and not _RUSH.match(t) and not _FOOTER.search(" " + t)), None)
    head = lines if first_sentence is None else lines[:first_sentence]
    body = [] if first_sentence is None else lines[first_sentence:]
    for number, text in head:
        dropped.append(Dropped(number, text))
    # the headline: the last title-like line before the opening
    for d in reversed(dropped):
        t = d.text
        words = t.split()
        if (2 <= len(words) <= 20 and not _RUSH.match(t) and not t.endswith(":")
                and not re.match(r"^[A-Za-z' ]{1,25}:", t) and sum(w[:1].isupper() for w in words) >= len(words) / 2):
            title = t
            break
    for number, text in body:
        if _RUSH.match(text) or _FOOTER.search(" " + text) and len(text.split()) < 12:
            dropped.append(Dropped(number, text))
        else:
            opening.append((number, text))
    return title, dropped, opening


def parse_text(text: str) -> Script:
    """Parse transcript text into a `Script`; TranscriptError when nothing in it can be spoken."""
    lines = normalise(text)
    parser = _Parser(lines)
    parser.run()
    title, dropped, opening = _preamble(parser.preamble)
    dropped_lines = {d.line for d in dropped}

    turns_open = parser.turns
    labels = [t.label for t in turns_open if t.label is not None]
    canonical, roles, labels_of, warnings = _resolve(labels)
    host_names = [n for n, r in roles.items() if r == "host"]
    opening_speaker = host_names[0] if host_names else "Host"

    turns: list[Turn] = []
    if opening:
        para: list[list[str]] = [[]]
        last = None
        for number, line_text in opening:
            if last is not None and number > last + 1:
                para.append([])
            para[-1].append(line_text)
            last = number
        turns.append(Turn(opening_speaker, "host", "speech", "\n\n".join(" ".join(p) for p in para if p),
                          opening[0][0]))
        roles.setdefault(opening_speaker, "host")
        labels_of.setdefault(opening_speaker, [])

    for t in turns_open:
        raw_text = t.text
        if t.cue:
            turns.append(Turn(None, "cue", "cue", raw_text, t.line))
            continue
        if t.label is None:
            name, role = opening_speaker, "host"
        else:
            name = canonical[t.label.raw]
            role = roles[name]
        if not raw_text:
            continue
        turns.append(_speech_turn(name, role, raw_text, t.line))

    # a footer glued to (or following) the last turn
    turns, footer_drops = _drop_footer(turns, lines)
    dropped.extend(footer_drops)
    speakers = []
    seen = set()
    for t in turns:
        if t.speaker is not None and t.speaker not in seen:
            seen.add(t.speaker)
            speakers.append(Speaker(t.speaker, roles.get(t.speaker, t.role), tuple(labels_of.get(t.speaker, ()))))
    del dropped_lines
    script = Script(title, tuple(speakers), tuple(turns), tuple(sorted(dropped, key=lambda d: d.line)),
                    tuple(warnings))
    return script


def _speech_turn(name: str, role: str, text: str, line: int) -> Turn:
    interpreted = False
    if _whole_direction(text):
        return Turn(name, role, "cue", text, line)
    body = text
    while True:
        m = _LEADING_DIRECTION.match(body)
        if not m:
            break
        inner = (m.group(1) or m.group(2)).strip()
        if _INTERPRETED.match(inner):
            interpreted = True
        elif not is_direction(inner) and not _SPOKEN_LEAD.match(inner):
            break
        body = body[m.end():]
    body = _strip_inline_directions(body)
    return Turn(name, role, "speech", body, line, interpreted)


def _drop_footer(turns: list[Turn], lines: list[str]) -> tuple[list[Turn], list[Dropped]]:
    """Remove copyright and 'transcript provided by' footers from the end of the program."""
    drops: list[Dropped] = []
    out = list(turns)
    while out:
        last = out[-1]
        paragraphs = last.text.split("\n\n")
        changed = False
        # whole trailing paragraphs that are footers
        while paragraphs and _FOOTER.search(" " + paragraphs[-1]) and len(paragraphs[-1].split()) <= 40 \
                and _split_footer(" " + paragraphs[-1])[0].strip() == "":
            drops.append(Dropped(_line_of(lines, paragraphs[-1], last.line), paragraphs[-1]))
            paragraphs.pop()
            changed = True
        if paragraphs:
            head, footer = _split_footer(paragraphs[-1])
            if footer is not None and len(footer.split()) <= 40:
                drops.append(Dropped(_line_of(lines, footer, last.line), footer))
                paragraphs[-1] = head
                changed = True
        text = "\n\n".join(p for p in paragraphs if p.strip())
        if not text:
            out.pop()
            continue
        if changed:
            out[-1] = Turn(last.speaker, last.role, last.kind, text, last.line, last.interpreted)
        break
    return out, drops


def _line_of(lines: list[str], fragment: str, start: int) -> int:
    probe = fragment.strip()[:30]
    for i in range(start - 1, len(lines)):
        if probe and probe in lines[i]:
            return i + 1
    return start


def parse(source: str | Path) -> Script:
    """Read and parse a transcript file (`-` for stdin)."""
    text, _notes = read(source)
    script = parse_text(text)
    if not any(t.kind == "speech" and t.text.strip() for t in script.turns):
        raise TranscriptError(f"{source}: nothing speakable found (no lines of speech, only "
                              f"{len(script.dropped)} lines of page furniture)")
    return script
