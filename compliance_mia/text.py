"""Making user-supplied text harmless to show.

Policy text, catalogue text, record IDs and slice values end up in a PDF, an
HTML page and a terminal. A control character there can do damage the author
of the file may not have meant: a bidirectional override (U+202E) reverses
the order in which the rest of a line is drawn, so ``exe.txt`` can read as
``txt.exe`` and a verdict can appear to say something it does not; C0/C1
controls (escape sequences) can rewrite a terminal. :func:`neutralise` turns
every such character into a visible, inert marker such as ``<U+202E>`` so the
reader sees that it was there and nothing is reordered or hidden. Line breaks
and tabs are kept: they are ordinary layout in multi-line text.
"""

from __future__ import annotations

import re

__all__ = ["BIDI_CONTROLS", "is_clean", "neutralise", "without_quoted"]

#: bidirectional formatting characters: marks, embeddings, overrides, isolates
BIDI_CONTROLS = frozenset(
    ["\u200e", "\u200f", "\u061c", *map(chr, range(0x202A, 0x202F)), *map(chr, range(0x2066, 0x206A))]
)

# C0 controls except tab (0x09) and line feed (0x0A), DEL, C1 controls, and the bidi set.
# Carriage return is neutralised too: on a terminal it returns to the start of
# the line and lets later text overwrite earlier text.
_UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f"
    + "".join(re.escape(c) for c in sorted(BIDI_CONTROLS))
    + "\u2028\u2029]"
)


def _marker(match: re.Match[str]) -> str:
    return f"<U+{ord(match.group(0)):04X}>"


def neutralise(text: str) -> str:
    """``text`` with control and bidi-control characters replaced by visible markers.

    For example ``"invoice" + chr(0x202E) + "txt.exe"`` becomes
    ``"invoice<U+202E>txt.exe"``; line feeds and tabs are kept.
    """
    if not isinstance(text, str):
        return text
    return _UNSAFE.sub(_marker, text)


def is_clean(text: str) -> bool:
    """True when :func:`neutralise` would leave ``text`` unchanged."""
    return _UNSAFE.search(text) is None


_QUOTED = re.compile(r"'[^'\n]{0,500}'|\"[^\"\n]{0,500}\"")


def without_quoted(message: str) -> str:
    """``message`` (from a library) with every quoted part replaced by ``'…'``.

    Libraries quote the offending value when they fail on data (``could not
    convert string to float: 'Smith'``); such text must not reach a terminal
    or a report, since it is a person's data. The rest of the message (what
    kind of problem, which position) is kept.
    """
    return neutralise(_QUOTED.sub("'…'", message))
