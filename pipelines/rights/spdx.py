"""SPDX licence expressions for the policy: parse, normalise, and decide allow/deny lists on them.

A document's licence is an expression (``MIT OR Apache-2.0``, ``GPL-2.0-only WITH Classpath-exception-2.0``,
``(MIT OR ISC) AND CC-BY-4.0``), so a list of ids cannot be checked by membership: the holder of an ``A OR B``
document may choose either licence, one of ``A AND B`` must comply with both. Hence:

- *allowed*: an id is allowed if it is on the list (``X WITH E``: either the whole ``X WITH E`` or ``X``);
  ``A OR B`` if either operand is, ``A AND B`` if both are;
- *denied*: an id on the deny list is denied (``X WITH E``: the whole or ``X``); ``A OR B`` only if both
  operands are (else the other may be chosen), ``A AND B`` if either is.

Ids compare case-insensitively, as SPDX specifies. ``KOGL-TypeN`` (the 공공누리 alias that older policies
and headers use) is read as ``LicenseRef-KOGL-TypeN``, the id :mod:`haetae.pipelines.rights.licences` reports.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

_TOKEN = re.compile(r"\(|\)|[A-Za-z0-9][A-Za-z0-9.+\-:]*")
_KOGL_ALIAS = re.compile(r"(?i)^(?:LicenseRef-)?KOGL-?Type-?([1-4])$")
_OPERATORS = ("AND", "OR", "WITH")


def normalise_id(licence_id: str) -> str:
    """``KOGL-Type1`` / ``kogl-type1`` -> ``LicenseRef-KOGL-Type1``; any other id unchanged."""
    m = _KOGL_ALIAS.match(licence_id)
    return f"LicenseRef-KOGL-Type{m.group(1)}" if m else licence_id


@dataclass(frozen=True)
class Node:
    """An expression tree: ``op`` is "id" (``value`` the id, ``exception`` a WITH exception or None),
    "and" or "or" (``parts`` the operands)."""

    op: str
    value: str = ""
    exception: str | None = None
    parts: tuple[Node, ...] = ()

    def render(self, top: bool = True) -> str:
        if self.op == "id":
            return self.value + (f" WITH {self.exception}" if self.exception else "")
        joined = f" {self.op.upper()} ".join(p.render(False) for p in self.parts)
        return joined if top else f"({joined})"

    def ids(self) -> list[str]:
        if self.op == "id":
            return [self.value]
        return [i for p in self.parts for i in p.ids()]


class _Parser:
    """Recursive descent with SPDX precedence: WITH binds tighter than AND, AND tighter than OR."""

    def __init__(self, text: str):
        self.tokens = _TOKEN.findall(text)
        self.at = 0

    def peek(self) -> str | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self) -> str:
        tok = self.tokens[self.at]
        self.at += 1
        return tok

    def parse(self) -> Node:
        node = self.expr("OR")
        if self.peek() is not None:
            raise ValueError(f"unexpected {self.peek()!r}")
        return node

    def expr(self, op: str) -> Node:
        lower = "AND" if op == "OR" else None
        parts = [self.expr(lower) if lower else self.atom()]
        while (self.peek() or "").upper() == op:
            self.take()
            parts.append(self.expr(lower) if lower else self.atom())
        if len(parts) == 1:
            return parts[0]
        flat = tuple(q for p in parts for q in (p.parts if p.op == op.lower() else (p,)))
        return Node(op.lower(), parts=flat)

    def atom(self) -> Node:
        tok = self.peek()
        if tok is None or tok == ")" or tok.upper() in _OPERATORS:
            raise ValueError(f"expected a licence id, got {tok!r}")
        self.take()
        if tok == "(":
            node = self.expr("OR")
            if self.peek() != ")":
                raise ValueError("unbalanced parenthesis")
            self.take()
            return node
        exception = None
        if (self.peek() or "").upper() == "WITH":
            self.take()
            exception = self.take() if self.peek() not in (None, "(", ")") else None
            if exception is None:
                raise ValueError("WITH needs an exception id")
        return Node("id", normalise_id(tok), exception)


def parse(expression: str) -> Node:
    """The tree of ``expression``; one that does not parse is read as a single opaque id."""
    try:
        return _Parser(expression).parse()
    except (ValueError, IndexError):
        return Node("id", normalise_id(expression.strip()))


def normalise(expression: str) -> str:
    """Canonical text: aliases normalised, operators upper-case, only the parentheses needed."""
    return parse(expression).render()


def normalise_all(expressions: Iterable[str]) -> list[str]:
    """Normalised, distinct, in first-seen order (``KOGL-Type1`` and ``LicenseRef-KOGL-Type1`` are one)."""
    return list(dict.fromkeys(normalise(e) for e in expressions))


class LicenceLists:
    """A policy's ``rights.licences`` allow and deny lists, evaluated on expressions."""

    def __init__(self, allow: Iterable[str] = (), deny: Iterable[str] = ()):
        self.allow = {_key(x) for x in allow}
        self.deny = {_key(x) for x in deny}

    def _on(self, node: Node, listed: set[str]) -> bool:
        whole = _key(node.render())
        return whole in listed or node.value.casefold() in listed

    def allowed(self, expression: str | Node) -> bool:
        return self._holds(expression, self.allow, strict_or=False)

    def denied(self, expression: str | Node) -> bool:
        return self._holds(expression, self.deny, strict_or=True)

    def _holds(self, expression: str | Node, listed: set[str], strict_or: bool) -> bool:
        """Allowed: OR needs any operand, AND all. Denied (``strict_or``): OR needs all, AND any."""
        node = parse(expression) if isinstance(expression, str) else expression
        if node.op == "id":
            return self._on(node, listed)
        results = [self._holds(p, listed, strict_or) for p in node.parts]
        return all(results) if (node.op == "and") != strict_or else any(results)

    def denied_ids(self, expression: str) -> list[str]:
        """The operands of ``expression`` on the deny list (for the reasons of a deny verdict)."""
        return [i for i in dict.fromkeys(parse(expression).ids()) if i.casefold() in self.deny]


def _key(expression: str) -> str:
    return normalise(expression).casefold()
