"""SPDX expressions as the policy reads them: precedence, canonical text, the KOGL alias, list decisions."""

from __future__ import annotations

import pytest

from haetae.pipelines.rights.spdx import LicenceLists, normalise, normalise_all, parse


@pytest.mark.parametrize("text, canonical", [
    ("(MIT OR Apache-2.0)", "MIT OR Apache-2.0"),
    ("mit or apache-2.0", "mit OR apache-2.0"),  # ids keep their case; operators are upper-cased
    ("MIT AND ISC OR BSD-2-Clause", "(MIT AND ISC) OR BSD-2-Clause"),  # AND binds tighter than OR
    ("MIT AND (ISC OR BSD-2-Clause)", "MIT AND (ISC OR BSD-2-Clause)"),
    ("GPL-2.0-only WITH Classpath-exception-2.0 OR MIT", "GPL-2.0-only WITH Classpath-exception-2.0 OR MIT"),
    ("((MIT))", "MIT"),
    ("KOGL-Type1", "LicenseRef-KOGL-Type1"),
    ("kogl-type4 AND CC-BY-4.0", "LicenseRef-KOGL-Type4 AND CC-BY-4.0"),
    ("MIT OR", "MIT OR"),  # not an expression: kept whole as one opaque id
])
def test_normalise(text, canonical):
    assert normalise(text) == canonical


def test_tree_and_distinct_expressions():
    node = parse("(MIT OR ISC) AND GPL-2.0-only WITH Linux-syscall-note")
    assert node.op == "and" and [p.op for p in node.parts] == ["or", "id"]
    assert node.parts[1].exception == "Linux-syscall-note"
    assert node.ids() == ["MIT", "ISC", "GPL-2.0-only"]
    assert normalise_all(["KOGL-Type1", "LicenseRef-KOGL-Type1", "(MIT)", "MIT"]) == ["LicenseRef-KOGL-Type1", "MIT"]


def test_allowed_and_denied_are_duals():
    lists = LicenceLists(allow=["MIT", "Apache-2.0"], deny=["GPL-3.0-only", "CC-BY-NC-4.0"])
    cases = {  # expression: (allowed, denied)
        "MIT": (True, False), "GPL-3.0-only": (False, True), "ISC": (False, False),
        "MIT OR GPL-3.0-only": (True, False), "MIT AND GPL-3.0-only": (False, True),
        "GPL-3.0-only OR CC-BY-NC-4.0": (False, True), "MIT AND Apache-2.0": (True, False),
        "MIT AND ISC": (False, False), "(MIT OR ISC) AND (Apache-2.0 OR GPL-3.0-only)": (True, False),
        "ISC OR GPL-3.0-only": (False, False),
    }
    for expression, (allowed, denied) in cases.items():
        assert (lists.allowed(expression), lists.denied(expression)) == (allowed, denied), expression
    assert lists.denied_ids("MIT AND GPL-3.0-only OR CC-BY-NC-4.0") == ["GPL-3.0-only", "CC-BY-NC-4.0"]
