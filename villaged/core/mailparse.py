"""Fast, forgiving parsing of a message's header block into MailFacts.

Only the headers villaged needs are unfolded and decoded; the body is never
read. Broken input degrades per header (an undecodable subject becomes
replacement characters, an unparseable date becomes None) and never raises.

Speed matters here: a 250 MB mbox holds thousands of messages and every one
of them goes through ``parse_facts``. The wanted headers are picked out of the
block with one regular expression (no per-line Python loop), and the common
shapes of address lists (``a@b``, ``Name <a@b>``, ``"Last, First" <a@b>``) and
of RFC 5322 dates are parsed by fast paths that give exactly what
``email.utils`` gives; anything unusual falls back to ``email.utils``.

Beside ``parse_facts`` this module holds the two other pure steps every mail
source shares: ``header_end`` (where a header block stops) and
``classify_block`` (header block → interactions, or the reason to skip it).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import re
from collections.abc import Callable
from email.header import decode_header, make_header
from email.utils import getaddresses, parsedate_to_datetime

from villaged.core.contact import MailFacts, classify_email, date_problem
from villaged.domain.addresses import AnyoneMatcher, Matcher
from villaged.domain.village import Interaction, Thresholds

WANTED = frozenset({
    b"from", b"sender", b"to", b"cc", b"bcc", b"date", b"message-id", b"in-reply-to",
    b"references", b"subject", b"list-id", b"list-unsubscribe", b"list-post",
    b"precedence", b"x-gmail-labels",
})
BULK_PRECEDENCE = frozenset({"bulk", "list", "junk"})
MSGID = re.compile(r"<[^<>\s]+>")
MAX_HEADER_VALUE = 64 * 1024

# One wanted header: its name at a line start, and its value with any folded
# continuation lines. The block is prefixed with b"\n" so that "\n" anchors
# every header including the first (a literal prefix lets re scan in C; the
# lookahead on the names' first letters rules most lines out at once).
_WANTED_HEADER = re.compile(
    rb"\n(?=[" + b"".join(sorted({bytes([c]) for n in WANTED for c in (n[0], n.upper()[0])}))
    + rb"])(" + b"|".join(re.escape(n) for n in sorted(WANTED, key=len, reverse=True))
    + rb")[ \t]*:([^\n]*(?:\n[ \t][^\n]*)*)",
    re.IGNORECASE,
)
_HEADER_END = re.compile(rb"\n\r?\n")


def header_end(buf: bytes, start: int, end: int) -> int:
    """Index just past the blank line that ends the header block starting at
    ``buf[start]`` (searching no further than ``end``), or -1 if there is none.
    A block whose first line is blank (no headers at all) ends at once."""
    if buf.startswith(b"\n", start):
        return start + 1
    if buf.startswith(b"\r\n", start):
        return start + 2
    found = _HEADER_END.search(buf, start, end)
    return found.end() if found else -1


def split_headers(block: bytes) -> dict[bytes, bytes]:
    """Unfold the header block; keep the first occurrence of each wanted header."""
    found: dict[bytes, bytes] = {}
    for match in _WANTED_HEADER.finditer(b"\n" + block):
        name = match.group(1).lower()
        if name in found:
            continue
        found[name] = _unfold(match.group(2))
    return found


def _unfold(value: bytes) -> bytes:
    if b"\n" in value:
        value = b" ".join(part.strip() for part in value.split(b"\n"))
    else:
        value = value.strip()
    return value[:MAX_HEADER_VALUE]


def first_header(block: bytes, name: bytes) -> bytes | None:
    """The unfolded value of the first ``name`` header (lower case) of an LF header
    block, exactly as split_headers finds it, without splitting the rest (one
    regex scan for a line starting with the name and a colon)."""
    pattern = _NAMED.get(name)
    if pattern is None:
        pattern = _NAMED[name] = re.compile(rb"\n" + re.escape(name) + rb"[ \t]*:", re.IGNORECASE)
    found = pattern.search(b"\n" + block)
    return None if found is None else _value_at(block, found.start() + len(name))


_NAMED: dict[bytes, re.Pattern[bytes]] = {}


_RECIPIENT_HEADERS = re.compile(rb"\n(?=[TtCcBb])(to|cc|bcc)[ \t]*:", re.IGNORECASE)


def first_headers(block: bytes, names: re.Pattern[bytes]) -> dict[bytes, bytes]:
    """``{name: first_header(block, name)}`` for the names ``names`` finds (a regex
    like ``_RECIPIENT_HEADERS``: a line start, the name as group 1, then the
    colon), in one scan; names without a header are left out."""
    found: dict[bytes, bytes] = {}
    for match in names.finditer(b"\n" + block):
        name = match.group(1).lower()
        if name not in found:
            value = _value_at(block, match.end(1) - 1)
            if value is not None:
                found[name] = value
    return found


def _value_at(block: bytes, j: int) -> bytes | None:
    """The header value after a name ending at ``j``, if a colon follows it there."""
    while block[j:j + 1] in (b" ", b"\t"):
        j += 1
    if block[j:j + 1] != b":":
        return None
    end = block.find(b"\n", j)
    while end >= 0 and block[end + 1:end + 2] in (b" ", b"\t"):
        end = block.find(b"\n", end + 1)
    return _unfold(block[j + 1:end if end >= 0 else len(block)])


class _SenderVerdicts:
    """From header value → PERSON / OWNER / NOBODY, for one matcher at a time:
    mail comes again and again from the same few thousand senders, so most
    messages are decided by one dict lookup."""

    PERSON, OWNER, NOBODY, UNKNOWN = 1, 2, 3, 4
    LIMIT = 100_000

    def __init__(self) -> None:
        self.matcher: Matcher | None = None
        self.known: dict[bytes, int] = {}
        self.keys: re.Pattern[bytes] | None = None

    def use(self, matcher: Matcher) -> None:
        if matcher is not self.matcher or len(self.known) > self.LIMIT:
            self.matcher, self.known, self.keys = matcher, {}, _person_keys(matcher)

    def verdict(self, value: bytes | None, matcher: Matcher) -> int:
        self.use(matcher)
        key = value or b""
        found = self.known.get(key)
        if found is None:
            senders = parse_addresses(value)
            if not senders:
                found = self.UNKNOWN  # the Sender header decides: the full parse handles it
            elif matcher.person_of(senders[0]) is not None:
                found = self.PERSON
            elif matcher.is_owner(senders[0]):
                found = self.OWNER
            else:
                found = self.NOBODY
            self.known[key] = found
        return found


_VERDICTS = _SenderVerdicts()


# What a cheap look at the From header (and, for the owner's mail, at the
# recipients' raw text) says about a message: it cannot concern the village, it
# may, or it is the owner's own mail that concerns the village only if one of its
# recipients is a person (which takes parsing the recipients to decide).
_NO, _MAY, _IF_A_RECIPIENT_IS_A_PERSON = 0, 1, 2


def _screen(block: bytes, matcher: Matcher) -> tuple[int, dict[bytes, bytes]]:
    """The cheap look above, on an LF header block; with it, the owner's mail's
    raw To, Cc and Bcc values (as ``first_headers`` finds them)."""
    verdict = _VERDICTS.verdict(first_header(block, b"from"), matcher)
    if verdict == _SenderVerdicts.NOBODY:
        return _NO, {}
    if verdict != _SenderVerdicts.OWNER:
        return _MAY, {}
    found = first_headers(block, _RECIPIENT_HEADERS)
    if not might_name_person((found.get(b"to"), found.get(b"cc"), found.get(b"bcc")),
                             _VERDICTS.keys):
        return _NO, {}
    return _IF_A_RECIPIENT_IS_A_PERSON, found


def _names_a_person(recipients: dict[bytes, bytes], matcher: Matcher) -> bool:
    return any(matcher.person_of(a) is not None
               for name in (b"to", b"cc", b"bcc") for a in parse_addresses(recipients.get(name)))


def concerns_village(block: bytes, matcher: Matcher) -> bool:
    """False only when the message cannot be evidence of contact with anyone in the
    village, decided from the From header (and, for the owner's own mail, the
    recipients) without parsing the rest: most mail in a real mailbox is neither
    from a person in the village nor from the owner to one. ``classify_block``
    gives exactly the same interactions either way (a test checks it); what
    changes is that such messages are no longer counted among the skips."""
    if b"\r" in block:
        block = block.replace(b"\r\n", b"\n")
    screen, recipients = _screen(block, matcher)
    if screen == _IF_A_RECIPIENT_IS_A_PERSON:
        return _names_a_person(recipients, matcher)
    return screen == _MAY


# -- a cheap, exact "no" for "does this address list name a person?" ------------

_KELVIN = "\u212a".encode()  # the only non-ASCII character str.lower() turns into ASCII ("k")
_NOT_IN_KEY = b" \t\r\n."
_PLAIN_KEY = re.compile(r"[a-z0-9!#$%&'*/=?^_`{|}~-]+")


def _person_keys(matcher: Matcher) -> re.Pattern[bytes] | None:
    """One regex for the local parts of every person's address, dots removed;
    None when some local part is unusual, or for an ``AnyoneMatcher`` (every
    address is a person): then ``might_name_person`` always says yes."""
    if isinstance(matcher, AnyoneMatcher):
        return None
    keys = set()
    for address in matcher.people:
        local, at, _ = address.rpartition("@")
        if not at:
            continue  # parse_addresses only gives addresses with an "@"
        key = local.replace(".", "")
        if not _PLAIN_KEY.fullmatch(key):
            return None
        keys.add(key.encode())
    if not keys:
        return re.compile(rb"(?!)")  # nobody to find
    # Searched in the reversed text: "+" or "@" then a reversed key. Starting with
    # those two rare characters keeps the regex fast (a key first is slow).
    return re.compile(rb"[+@](?:" + b"|".join(re.escape(k[::-1]) for k in sorted(keys)) + b")")


def might_name_person(values: tuple[bytes | None, ...], keys: re.Pattern[bytes] | None) -> bool:
    """False only when no address ``parse_addresses`` can find in these header
    values normalises to a person's address.

    Why a substring test is enough: an address's local part, as either parser
    gives it, is made of the raw characters of the value in order, less
    comments, less white space next to a dot or the "@", and less nothing else
    (quotes and other white space stay, and no person's local part has them).
    ``normalize`` then lower-cases it, cuts it at the first "+", and for gmail
    drops its dots. So the local part of a person's address, dots removed and
    followed by "+" or "@", is a substring of the value lower-cased with white
    space and dots removed, unless a comment or a character that lower-cases
    into ASCII (the Kelvin sign) is involved: then the answer is yes."""
    if keys is None:
        return True
    joined = b"\0".join(v for v in values if v)
    if b"(" in joined or _KELVIN in joined:
        return True
    return keys.search(joined.lower().translate(None, _NOT_IN_KEY)[::-1]) is not None


def from_rule_out(matcher: Matcher) -> Callable[[bytes], bool] | None:
    """A test for scanners that find a message's first From header in bulk: given
    that header's raw value (as in the file: after the colon, folded, CRLF or LF,
    up to the line end), True when ``concerns_village`` would rule the message out
    from it alone, so ``classify_block`` would give no interaction and count no
    skip. Cached per raw value. None for an ``AnyoneMatcher`` (looking for
    correspondents: every message goes through ``classify_block``)."""
    if isinstance(matcher, AnyoneMatcher):
        return None
    known: dict[bytes, bool] = {}
    by_address: dict[bytes, bool] = {}

    def rule_out(raw: bytes) -> bool:
        found = known.get(raw)
        if found is None:
            if len(known) > _SenderVerdicts.LIMIT:
                known.clear()
                by_address.clear()
            try:
                one = _ONE_ADDRESS.fullmatch(raw) if len(raw) <= MAX_HEADER_VALUE else None
                if one is not None:  # the display name does not matter: key on the address
                    address = one.group(1) or one.group(2)
                    found = by_address.get(address)
                    if found is None:
                        text = address.decode("ascii")
                        found = by_address[address] = (
                            matcher.person_of(text) is None and not matcher.is_owner(text))
                else:
                    value = _unfold(raw.replace(b"\r\n", b"\n"))
                    found = _VERDICTS.verdict(value, matcher) == _SenderVerdicts.NOBODY
            except Exception:  # classify_block's full parse decides (and counts) it
                found = False
            known[raw] = found
        return found

    return rule_out


# A From value whose only address ``parse_addresses`` (through ``fast_addresses``)
# is certain from its shape: ``addr``, ``phrase <addr>`` or ``"quoted" <addr>``,
# where the phrase holds nothing fast_addresses would stop at and the address is
# plain ASCII that ``_PLAIN_ADDR`` accepts (a test checks the agreement).
_ADDR = rb"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9!#$%&'*+/=?^_`{|}~-][A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]*"
_PHRASE = rb"[^<>@,\"()\\:;\[\]\0\r\n]*"
_QUOTED_PHRASE = rb"[ \t]*\"(?:[^\"\\\0\r\n]|\\[^\0\r\n])*\"[ \t]*"
_ONE_ADDRESS = re.compile(
    rb"[ \t]*(?:(" + _ADDR + rb")|(?:" + _PHRASE + b"|" + _QUOTED_PHRASE + rb")<(" + _ADDR
    + rb")>)[ \t]*")



def text(raw: bytes) -> str:
    """Bytes of a header as text: UTF-8 where valid, Latin-1 otherwise."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def decode_words(value: str) -> str:
    """Decode RFC 2047 encoded words; never raises; strips CR/LF."""
    if "=?" in value:
        with contextlib.suppress(Exception):  # malformed encoded words: keep the raw text
            value = str(make_header(decode_header(value)))
    return " ".join(value.split())


# -- addresses ------------------------------------------------------------

# A bare addr-spec without anything getaddresses would treat specially.
_PLAIN_ADDR = re.compile(r"[^\s@<>,;:\"()\[\]\\\0]+@[^\s@<>,;:\"()\[\]\\.\0][^\s@<>,;:\"()\[\]\\\0]*")
_QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"')
_HARD = re.compile(r'[()\\:;\[\]"]')


def fast_addresses(value: str) -> tuple[str, ...] | None:
    """The addresses of a simple address list, or None if it is not simple.

    Simple means: comma-separated items, each ``addr``, ``<addr>`` or
    ``phrase <addr>`` (the phrase possibly quoted), with no comments, groups,
    domain literals or escapes. For those, the result equals what
    ``email.utils.getaddresses`` returns (less items without an ``@``).
    """
    if '"' in value:  # a quoted phrase may hold commas: set it aside
        if "\0" in value:
            return None
        value = _QUOTED.sub("\0", value)
    if _HARD.search(value):
        return None
    result = []
    for piece in value.split(","):
        lt = piece.find("<")
        if lt >= 0:
            gt = piece.find(">", lt)
            if gt < 0 or "<" in piece[lt + 1:] or piece[gt + 1:].strip():
                return None
            phrase = piece[:lt]
            if "@" in phrase or ">" in phrase:
                return None
            addr = piece[lt + 1:gt].strip()
        else:
            addr = piece.strip()
            if not addr:
                continue
            if "\0" in addr:  # a quoted string that is not a phrase
                return None
        if _PLAIN_ADDR.fullmatch(addr) is None:
            return None
        result.append(addr)
    return tuple(result)


def parse_addresses(raw: bytes | None) -> tuple[str, ...]:
    if not raw:
        return ()
    value = text(raw)
    fast = fast_addresses(value)
    if fast is not None:
        return fast
    try:
        pairs = getaddresses([value])
    except Exception:  # pragma: no cover - getaddresses is forgiving
        return ()
    return tuple(addr for _, addr in pairs if "@" in addr)


# -- dates ------------------------------------------------------------------

_MONTHS = {m: i for i, m in enumerate(
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1)}
_FAST_DATE = re.compile(
    rb"\s*(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun),\s*)?(\d{1,2}) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug"
    rb"|Sep|Oct|Nov|Dec) ([1-9]\d{3}) (\d\d):(\d\d)(?::(\d\d))? ([+-])(\d\d)(\d\d)(?: \([^()]*\))?\s*")
_UTC = dt.UTC


def _fast_date(raw: bytes) -> dt.datetime | None:
    found = _FAST_DATE.fullmatch(raw)
    if found is None:
        return None
    day, mon, year, hour, minute, second, sign, oh, om = found.groups()
    when = dt.datetime(int(year), _MONTHS[mon.decode()], int(day), int(hour), int(minute),
                       int(second or 0), tzinfo=_UTC)
    offset = int(oh) * 3600 + int(om) * 60
    if offset:
        when -= dt.timedelta(seconds=offset if sign == b"+" else -offset)
    return when


def parse_date(raw: bytes | None) -> dt.datetime | None:
    if not raw:
        return None
    try:
        fast = _fast_date(raw)
    except (ValueError, OverflowError):
        fast = None  # e.g. 31 Feb: let the full parser decide
    if fast is not None:
        return fast
    try:
        when = parsedate_to_datetime(text(raw))
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    try:
        return when.astimezone(dt.UTC)
    except (OverflowError, ValueError):
        return None


def first_msgid(raw: bytes | None) -> str | None:
    if not raw:
        return None
    found = MSGID.search(text(raw))
    return found.group(0) if found else None


def parse_facts(block: bytes) -> MailFacts:
    """MailFacts from a raw header block (CRLF or LF line ends)."""
    if b"\r" in block:
        block = block.replace(b"\r\n", b"\n")
    h = split_headers(block)
    get = h.get
    message_id = first_msgid(get(b"message-id"))
    thread = first_msgid(get(b"references")) or first_msgid(get(b"in-reply-to")) or message_id
    precedence = get(b"precedence")
    labels = get(b"x-gmail-labels")
    senders = parse_addresses(get(b"from")) or parse_addresses(get(b"sender"))
    subject = get(b"subject")
    return MailFacts(
        uid=message_id or "sha1:" + hashlib.sha1(block).hexdigest(),
        date=parse_date(get(b"date")),
        senders=senders,
        to=parse_addresses(get(b"to")),
        cc=parse_addresses(get(b"cc")),
        bcc=parse_addresses(get(b"bcc")),
        subject=decode_words(text(subject)) if subject else "",
        message_id=message_id,
        thread=thread,
        bulk=bool(get(b"list-id") or get(b"list-unsubscribe") or get(b"list-post"))
        or (precedence is not None and text(precedence).strip().lower() in BULK_PRECEDENCE),
        chat=labels is not None
        and "chat" in (label.strip() for label in text(labels).lower().split(",")),
    )


# -- header block → interactions ---------------------------------------------

UNPARSEABLE = "unparseable headers"


def facts_or_skip(block: bytes) -> tuple[MailFacts | None, str | None]:
    """MailFacts worth classifying, or None and why the message is skipped."""
    try:
        facts = parse_facts(block)
    except Exception:  # a bug in the forgiving parser must not stop a sync
        return None, UNPARSEABLE
    reason = _skip_reason(facts)
    return (None, reason) if reason else (facts, None)


def _skip_reason(facts: MailFacts) -> str | None:
    if facts.chat:
        return "chat transcript"
    if not facts.senders:
        return "no sender address"
    return None


def classify_block(
    block: bytes, matcher: Matcher, limits: Thresholds, now: dt.datetime, source: str,
) -> tuple[list[Interaction], str | None]:
    """The interactions a message's header block is evidence of, or the reason
    (a short phrase for ``SyncBatch.skipped``) it is skipped. Never raises.

    A message that concerns nobody in the village is ruled out cheaply first
    (``concerns_village``) and is not counted as skipped. For the owner's own
    mail that may name a person, the full parse's recipients decide, so they
    are parsed once, not twice."""
    lf = block.replace(b"\r\n", b"\n") if b"\r" in block else block
    try:
        screen, recipients = _screen(lf, matcher)
    except Exception:  # the full parse below decides (and counts) what went wrong
        screen, recipients = _MAY, {}
    if screen == _NO:
        return [], None
    try:
        facts: MailFacts | None = parse_facts(lf)
    except Exception:  # a bug in the forgiving parser must not stop a sync
        facts = None
    if screen == _IF_A_RECIPIENT_IS_A_PERSON and not _recipient_is_a_person(
            facts, recipients, matcher):
        return [], None
    if facts is None:
        return [], UNPARSEABLE
    reason = _skip_reason(facts) or date_problem(facts.date, now)
    if reason:
        return [], reason
    found = classify_email(facts, matcher, limits, source)
    if found and isinstance(matcher, AnyoneMatcher):
        hear_display_names(block, matcher)
    return found, None


def _recipient_is_a_person(facts: MailFacts | None, recipients: dict[bytes, bytes],
                           matcher: Matcher) -> bool:
    """Whether the owner's message names a person among its recipients: from the
    full parse when it worked (the same values ``first_headers`` finds, parsed
    by the same function), else from the raw values."""
    if facts is not None:
        return any(matcher.person_of(a) is not None for a in facts.to + facts.cc + facts.bcc)
    try:
        return _names_a_person(recipients, matcher)
    except Exception:  # as before: the full parse's failure is counted
        return True


def hear_display_names(block: bytes, matcher: AnyoneMatcher) -> None:
    """Note the display names of From, To and Cc (only when looking for correspondents)."""
    h = split_headers(block.replace(b"\r\n", b"\n"))
    for name in (b"from", b"to", b"cc"):
        raw = h.get(name)
        if raw:
            for display, address in getaddresses([decode_words(text(raw))]):
                matcher.hear(address, display)
