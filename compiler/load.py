"""Stage 1: read JSON keeping the source span of every value.

The standard ``json`` module discards positions, yet every diagnostic must point into the
file, down to a token inside an expression string. This is a small strict RFC 8259 parser
that builds :class:`JValue` trees; ``to_python`` gives the plain value for schema checks.
"""

from __future__ import annotations

import bisect
import math
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

from compiler import messages
from compiler.diagnostics import Diagnostics, Position, Related, Span
from compiler.messages import Message, Text


@dataclass(frozen=True, slots=True)
class JString:
    value: str
    span: Span
    # Offsets into the file of each decoded character, plus one past the end, so a
    # column inside the decoded text maps back to the file even across escapes.
    # (A string without escapes keeps a range: no tuple of ints per character.)
    char_offsets: Sequence[int] = field(repr=False, compare=False, default=())


@dataclass(frozen=True, slots=True)
class JNumber:
    value: int | float
    span: Span


@dataclass(frozen=True, slots=True)
class JBool:
    value: bool
    span: Span


@dataclass(frozen=True, slots=True)
class JNull:
    span: Span


@dataclass(frozen=True, slots=True)
class JArray:
    items: tuple[JValue, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class JObject:
    entries: tuple[tuple[JString, JValue], ...]
    span: Span

    def get(self, key: str) -> JValue | None:
        for k, v in self.entries:
            if k.value == key:
                return v
        return None

    def key_span(self, key: str) -> Span | None:
        for k, _ in self.entries:
            if k.value == key:
                return k.span
        return None

    def key_names(self) -> list[str]:
        return [k.value for k, _ in self.entries]


JValue = JString | JNumber | JBool | JNull | JArray | JObject


def to_python(value: JValue) -> object:
    """The plain Python value, as ``json.loads`` would give it."""
    if isinstance(value, JObject):
        return {k.value: to_python(v) for k, v in value.entries}
    if isinstance(value, JArray):
        return [to_python(v) for v in value.items]
    if isinstance(value, JNull):
        return None
    return value.value


class SourceFile:
    """A file's text with a fast offset -> (line, column) mapping."""

    def __init__(self, path: str, text: str) -> None:
        self.path = path
        self.text = text
        self._line_starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def position(self, offset: int) -> Position:
        line = bisect.bisect_right(self._line_starts, offset) - 1
        return Position(line + 1, offset - self._line_starts[max(line, 0)] + 1, offset)

    def span(self, start: int, end: int) -> Span:
        return Span(self.path, self.position(start), self.position(end))


def string_span(source: SourceFile, s: JString, start: int, end: int) -> Span:
    """Span in the file of characters ``start:end`` of the decoded string ``s``."""
    offsets = s.char_offsets
    if not offsets:
        return s.span
    start = max(0, min(start, len(offsets) - 1))
    end = max(start, min(end, len(offsets) - 1))
    return source.span(offsets[start], offsets[end])


class JsonSyntaxError(Exception):
    def __init__(self, message: Text, offset: int, hint: str | None = None) -> None:
        super().__init__(message.text)
        self.message = message
        self.offset = offset
        self.hint = hint


_WS = " \t\n\r"
_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_MAX_DEPTH = 200
_PLAIN = re.compile(r'[^"\\\x00-\x1f]*')  # a run of characters that stand for themselves


class _Parser:
    def __init__(self, source: SourceFile, diags: Diagnostics) -> None:
        self.src = source
        self.text = source.text
        self.pos = 0
        self.diags = diags
        self.depth = 0

    def fail(
        self, message: Message | Text, offset: int | None = None, hint: str | None = None
    ) -> NoReturn:
        text = message.format() if isinstance(message, Message) else message
        raise JsonSyntaxError(text, self.pos if offset is None else offset, hint)

    def skip_ws(self) -> None:
        text, n = self.text, len(self.text)
        while self.pos < n and text[self.pos] in _WS:
            self.pos += 1

    def describe(self) -> str:
        if self.pos >= len(self.text):
            return "end of file"
        ch = self.text[self.pos]
        return f"`{ch}`" if ch.isprintable() else f"U+{ord(ch):04X}"

    def value(self) -> JValue:
        self.skip_ws()
        if self.pos >= len(self.text):
            self.fail(messages.JSON_ENDS_EARLY)
        ch = self.text[self.pos]
        if ch == "{":
            return self.obj()
        if ch == "[":
            return self.arr()
        if ch == '"':
            return self.string()
        if ch == "-" or ch.isdigit():
            return self.number()
        for word, make in (("true", True), ("false", False), ("null", None)):
            if self.text.startswith(word, self.pos):
                start = self.pos
                self.pos += len(word)
                span = self.src.span(start, self.pos)
                return JNull(span) if make is None else JBool(make, span)
        if ch == "'":
            self.fail(messages.JSON_SINGLE_QUOTES, hint=messages.HINT__WRITE_TEXT_NOT_TEXT)
        if ch in "}]":
            self.fail(
                messages.JSON_VALUE_EXPECTED_NOT_TOKEN.format(ch),
                hint=messages.HINT__REMOVE_THE_TRAILING_COMMA,
            )
        self.fail(messages.JSON_VALUE_EXPECTED.format(self.describe()))
        raise AssertionError("unreachable")

    def enter(self) -> None:
        self.depth += 1
        if self.depth > _MAX_DEPTH:
            self.fail(messages.JSON_NESTED_TOO_DEEP.format(_MAX_DEPTH))

    def obj(self) -> JObject:
        start = self.pos
        self.enter()
        self.pos += 1
        entries: list[tuple[JString, JValue]] = []
        seen: dict[str, JString] = {}
        self.skip_ws()
        if self.text.startswith("}", self.pos):
            self.pos += 1
            self.depth -= 1
            return JObject((), self.src.span(start, self.pos))
        while True:
            self.skip_ws()
            if not self.text.startswith('"', self.pos):
                if self.text.startswith("}", self.pos):
                    self.fail(
                        messages.JSON_TRAILING_COMMA_IN_OBJECT.format(),
                        hint=messages.HINT__REMOVE_THE_COMMA,
                    )
                self.fail(
                    messages.JSON_KEY_EXPECTED.format(self.describe()),
                    hint=messages.HINT__OBJECT_KEYS_ARE_STRINGS,
                )
            key = self.string()
            if key.value in seen:
                self.diags.add(
                    messages.KEY_REPEATED.format(key.value),
                    key.span,
                    hint=messages.HINT__KEEP_ONE_OF_THE_KEYS.format(key.value),
                    related=(
                        Related(seen[key.value].span, messages.LABEL__FIRST.format(key.value)),
                    ),
                )
            seen[key.value] = key
            self.skip_ws()
            if not self.text.startswith(":", self.pos):
                self.fail(messages.JSON_COLON_EXPECTED.format(self.describe()))
            self.pos += 1
            entries.append((key, self.value()))
            self.skip_ws()
            if self.text.startswith(",", self.pos):
                self.pos += 1
                continue
            if self.text.startswith("}", self.pos):
                self.pos += 1
                break
            self.fail(
                messages.JSON_OBJECT_NOT_CLOSED.format(self.describe()),
                hint=messages.HINT__SEPARATE_MEMBERS_WITH_COMMAS,
            )
        self.depth -= 1
        return JObject(tuple(entries), self.src.span(start, self.pos))

    def arr(self) -> JArray:
        start = self.pos
        self.enter()
        self.pos += 1
        items: list[JValue] = []
        self.skip_ws()
        if self.text.startswith("]", self.pos):
            self.pos += 1
            self.depth -= 1
            return JArray((), self.src.span(start, self.pos))
        while True:
            items.append(self.value())
            self.skip_ws()
            if self.text.startswith(",", self.pos):
                self.pos += 1
                self.skip_ws()
                if self.text.startswith("]", self.pos):
                    self.fail(
                        messages.JSON_TRAILING_COMMA_IN_ARRAY,
                        hint=messages.HINT__REMOVE_THE_COMMA,
                    )
                continue
            if self.text.startswith("]", self.pos):
                self.pos += 1
                break
            self.fail(
                messages.JSON_ARRAY_NOT_CLOSED.format(self.describe()),
                hint=messages.HINT__SEPARATE_ITEMS_WITH_COMMAS,
            )
        self.depth -= 1
        return JArray(tuple(items), self.src.span(start, self.pos))

    def string(self) -> JString:
        text = self.text
        start = self.pos
        plain = _PLAIN.match(text, start + 1)
        end = plain.end() if plain else start + 1
        if end < len(text) and text[end] == '"':  # no escapes: the common case, fast
            self.pos = end + 1
            return JString(
                text[start + 1 : end], self.src.span(start, self.pos), range(start + 1, end + 1)
            )
        self.pos += 1
        chars: list[str] = []
        offsets: list[int] = []
        n = len(text)
        while True:
            if self.pos >= n:
                self.fail(
                    messages.JSON_STRING_NOT_CLOSED,
                    start,
                    hint=messages.HINT__CLOSE_THE_STRING_WITH,
                )
            ch = text[self.pos]
            if ch == '"':
                offsets.append(self.pos)
                self.pos += 1
                break
            if ch == "\\":
                esc_start = self.pos
                self.pos += 1
                if self.pos >= n:
                    self.fail(messages.JSON_STRING_NOT_CLOSED, start)
                e = text[self.pos]
                if e in _ESCAPES:
                    chars.append(_ESCAPES[e])
                    self.pos += 1
                elif e == "u":
                    hexits = text[self.pos + 1 : self.pos + 5]
                    if len(hexits) != 4 or not all(c in "0123456789abcdefABCDEF" for c in hexits):
                        self.fail(messages.JSON_BAD_UNICODE_ESCAPE, esc_start)
                    chars.append(chr(int(hexits, 16)))
                    self.pos += 5
                else:
                    self.fail(
                        messages.JSON_BAD_ESCAPE.format(e),
                        esc_start,
                        hint=messages.HINT__VALID_ESCAPES_ARE_B,
                    )
                offsets.append(esc_start)
                continue
            if ord(ch) < 0x20:
                self.fail(
                    messages.JSON_CONTROL_CHARACTER,
                    self.pos,
                    hint=messages.HINT__WRITE_A_NEWLINE_AS,
                )
            chars.append(ch)
            offsets.append(self.pos)
            self.pos += 1
        # Join surrogate pairs written as two \u escapes into one character.
        value = "".join(chars)
        if any(0xD800 <= ord(c) <= 0xDFFF for c in value):
            joined: list[str] = []
            joined_offsets: list[int] = []
            i = 0
            while i < len(chars):
                c = chars[i]
                if (
                    0xD800 <= ord(c) <= 0xDBFF
                    and i + 1 < len(chars)
                    and 0xDC00 <= ord(chars[i + 1]) <= 0xDFFF
                ):
                    joined.append(
                        chr(0x10000 + ((ord(c) - 0xD800) << 10) + ord(chars[i + 1]) - 0xDC00)
                    )
                    joined_offsets.append(offsets[i])
                    i += 2
                    continue
                joined.append(c)
                joined_offsets.append(offsets[i])
                i += 1
            joined_offsets.append(offsets[-1])
            value, offsets = "".join(joined), joined_offsets
        return JString(value, self.src.span(start, self.pos), tuple(offsets))

    def number(self) -> JNumber:
        m = _NUMBER.match(self.text, self.pos)
        if not m or m.end() == self.pos:
            self.fail(messages.JSON_BAD_NUMBER_START.format(self.describe()))
        assert m is not None
        raw = m.group()
        nxt = self.text[m.end() : m.end() + 1]
        if nxt and (nxt.isalnum() or nxt in "._"):
            self.fail(messages.JSON_BAD_NUMBER.format(raw, nxt), self.pos)
        start = self.pos
        self.pos = m.end()
        value: int | float
        if any(c in raw for c in ".eE"):
            value = float(raw)
            if math.isinf(value):
                self.fail(messages.JSON_NUMBER_OUT_OF_RANGE.format(_shorten(raw)), start)
        elif len(raw.lstrip("-")) > _MAX_INT_DIGITS:
            self.fail(messages.JSON_NUMBER_OUT_OF_RANGE.format(_shorten(raw)), start)
        else:
            value = int(raw)
            if abs(value) > _MAX_SAFE_INTEGER:  # as JavaScript reads it: a double
                value = float(raw)
        return JNumber(value, self.src.span(start, self.pos))


_MAX_SAFE_INTEGER = 2**53 - 1  # Number.MAX_SAFE_INTEGER: larger integers are doubles in JSON's JS
_MAX_INT_DIGITS = 309  # past 1.8e308 a JSON number is no double at all


def _shorten(raw: str) -> str:
    return raw if len(raw) <= 24 else f"{raw[:10]}...{raw[-6:]} ({len(raw)} digits)"


def parse_json(source: SourceFile, diags: Diagnostics) -> JValue | None:
    """Parse ``source``; on a syntax error report it with its position and return None."""
    parser = _Parser(source, diags)
    try:
        if source.text.startswith("\ufeff"):
            parser.pos = 1
        value = parser.value()
        parser.skip_ws()
        if parser.pos < len(source.text):
            parser.fail(
                messages.JSON_TEXT_AFTER_VALUE.format(parser.describe()),
                hint=messages.HINT__A_FILE_HOLDS_EXACTLY,
            )
        return value
    except JsonSyntaxError as err:
        diags.add(
            err.message,
            source.span(err.offset, min(err.offset + 1, len(source.text))),
            hint=err.hint or messages.HINT__FIX_THE_JSON_SYNTAX,
        )
        return None


def display_path(path: Path) -> str:
    """How diagnostics name a file: relative to the working directory when it can be."""
    try:
        return os.path.relpath(path, Path.cwd()).replace(os.sep, "/")
    except ValueError:
        return path.as_posix()


def load_file(
    path: str, display_path: str, diags: Diagnostics
) -> tuple[SourceFile, JValue] | None:
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as err:
        diags.add(
            messages.FILE_NOT_READABLE.format(err.strerror),
            Span.whole_file(display_path),
            hint=messages.HINT__CHECK_THAT_EXISTS_AND.format(display_path),
        )
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        src = SourceFile(display_path, raw.decode("utf-8", errors="replace"))
        diags.add(
            messages.FILE_NOT_UTF8,
            src.span(err.start, err.start + 1),
            hint=messages.HINT__SAVE_THE_FILE_AS,
        )
        return None
    source = SourceFile(display_path, text)
    value = parse_json(source, diags)
    if value is None:
        return None
    return source, value
