"""In-memory search indexes over stored messages, built once per message at add time."""

from __future__ import annotations

import bisect
from collections import defaultdict

from .mail import ADDRESS_FIELDS, StoredMessage, addresses_of, normalize_message_id, term_words, words_of

# Gmail's to: also finds the owner's Cc/Bcc recipients.
_FIELDS_FOR_OP = {"from": ("from",), "to": ("to", "cc", "bcc"), "cc": ("cc",), "bcc": ("bcc",)}


class MailIndex:
    """Address, word, label, Message-ID and date indexes; implements query.SearchIndex."""

    def __init__(self) -> None:
        self.messages: list[StoredMessage | None] = []
        self.live: set[int] = set()
        self.version = 0
        self._labels: dict[str, set[int]] = defaultdict(set)
        self._addrs: dict[str, dict[str, set[int]]] = {f: defaultdict(set) for f in ADDRESS_FIELDS}
        self._words: dict[str, dict[str, set[int]]] = {f: defaultdict(set) for f in ADDRESS_FIELDS}
        self._msgids: dict[str, set[int]] = defaultdict(set)
        self._date_pairs: list[tuple[int, int]] = []
        self._dates: list[int] = []
        self._date_order: list[int] = []
        self._dates_dirty = False
        self._memo: dict[tuple[str, str], set[int]] = {}
        self._memo_version = -1

    # ------------------------------------------------------------ updates

    def add(self, msg: StoredMessage) -> None:
        """Index a new message (its headers were parsed once by the caller)."""
        assert msg.idx == len(self.messages)
        self.messages.append(msg)
        self.live.add(msg.idx)
        for label in msg.labels:
            self._labels[label.upper()].add(msg.idx)
        for name, value in msg.headers:
            key = name.lower()
            if key in ADDRESS_FIELDS:
                addrs = addresses_of(value)
                msg.addresses[key] = msg.addresses.get(key, frozenset()) | addrs
                msg.words[key] = msg.words.get(key, " ") + words_of(value)[1:]
                for addr in addrs:
                    self._addrs[key][addr].add(msg.idx)
                for word in set(msg.words[key].split()):
                    self._words[key][word].add(msg.idx)
            elif key == "message-id":
                msg.message_id = normalize_message_id(value)
                self._msgids[msg.message_id].add(msg.idx)
        if self._date_pairs and (msg.internal_date, msg.idx) < self._date_pairs[-1]:
            self._dates_dirty = True
        self._date_pairs.append((msg.internal_date, msg.idx))
        if not self._dates_dirty:
            self._dates.append(msg.internal_date)
            self._date_order.append(msg.idx)
        self.version += 1

    def remove(self, msg: StoredMessage) -> None:
        """Drop a message from every index."""
        self.live.discard(msg.idx)
        for label in msg.labels:
            self._labels[label.upper()].discard(msg.idx)
        self.messages[msg.idx] = None
        self.version += 1

    def relabel(self, msg: StoredMessage, add: set[str], remove: set[str]) -> None:
        """Apply a label change to the message and the label index."""
        for label in remove:
            msg.labels.discard(label)
            self._labels[label.upper()].discard(msg.idx)
        for label in add:
            msg.labels.add(label)
            self._labels[label.upper()].add(msg.idx)
        self.version += 1

    # ------------------------------------------------------------- lookups

    def universe(self) -> set[int]:
        return set(self.live)

    def by_label(self, label: str) -> set[int]:
        return set(self._labels.get(label.upper(), ()))

    def by_message_id(self, message_id: str) -> set[int]:
        return set(self._msgids.get(normalize_message_id(message_id), ()))

    def by_address(self, op: str, term: str) -> set[int]:
        """Messages whose `op` header names `term`: a whole address, or a run of whole words."""
        if self._memo_version != self.version:
            self._memo.clear()
            self._memo_version = self.version
        key = (op, term.lower())
        if key not in self._memo:
            found: set[int] = set()
            for field in _FIELDS_FOR_OP[op]:
                found |= self._field_match(field, term.lower())
            self._memo[key] = found
        return set(self._memo[key])

    def _field_match(self, field: str, term: str) -> set[int]:
        exact = addresses_of(term)
        if len(exact) == 1 and next(iter(exact)) == term.strip("<>"):
            return set(self._addrs[field].get(term.strip("<>"), ()))
        words = term_words(term)
        tokens = words.split()
        if not tokens:
            return set()
        postings = sorted((self._words[field].get(t, set()) for t in tokens), key=len)
        candidates = set(postings[0]).intersection(*postings[1:])
        if len(tokens) == 1:
            return candidates
        messages = self.messages
        return {i for i in candidates if words in messages[i].words.get(field, "")}  # type: ignore[union-attr]

    def by_date(self, after_ms: int | None, before_ms: int | None) -> set[int]:
        """Messages with after_ms <= internalDate < before_ms."""
        self._sort_dates()
        lo = 0 if after_ms is None else bisect.bisect_left(self._dates, after_ms)
        hi = len(self._dates) if before_ms is None else bisect.bisect_left(self._dates, before_ms)
        return set(self._date_order[lo:hi])

    def newest_first(self, found: set[int]) -> list[int]:
        """`found` ordered as Gmail lists: newest internalDate first."""
        if len(found) > 2000:
            self._sort_dates()
            return [i for i in reversed(self._date_order) if i in found]
        messages = self.messages
        return sorted(found, key=lambda i: (messages[i].internal_date, i), reverse=True)  # type: ignore[union-attr]

    def _sort_dates(self) -> None:
        if self._dates_dirty:
            self._date_pairs.sort()
            self._dates = [d for d, _ in self._date_pairs]
            self._date_order = [i for _, i in self._date_pairs]
            self._dates_dirty = False
