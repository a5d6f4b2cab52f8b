"""Gather the licence benchmark's candidate set: real licence files of installed Python and npm packages.

    .venv/bin/python bench/licence_labels.py --out /tmp/licence_candidates.jsonl

Sources (whatever is on this machine): the project's .venv and the system Python's site-packages
(``*.dist-info/licenses/**``, ``*.dist-info/LICENSE*``/``COPYING*``), and npm packages under the global
node_modules (``LICENSE*``/``COPYING*`` beside a package.json). Each file gets a *metadata label*: the
package's ``License-Expression``, else its single ``License ::`` classifier where it names one SPDX id without
ambiguity, else its ``License:`` field when that is an SPDX id (npm: package.json ``license``). Texts are
deduplicated (same words = same text). The committed set, bench/data/licence_detection/labels.jsonl, is this
output after review by hand: see the ``basis`` of each row (``metadata`` or ``hand``, with a note).
"""

from __future__ import annotations

import argparse
import email.parser
import hashlib
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCES = {
    "venv": ROOT / ".venv/lib/python3.11/site-packages",
    "system-python": Path(sys.base_prefix) / "lib/python3.11/site-packages",
    "npm": Path("/usr/lib/node_modules"),
}
CLASSIFIERS = {
    "MIT License": "MIT",
    "Apache Software License": None,  # version not said
    "BSD License": None,  # 2- or 3-clause not said
    "ISC License (ISCL)": "ISC",
    "Mozilla Public License 2.0 (MPL 2.0)": "MPL-2.0",
    "Python Software Foundation License": "PSF-2.0",
    "The Unlicense (Unlicense)": "Unlicense",
    "Zope Public License": None,
    "GNU Lesser General Public License v2 or later (LGPLv2+)": "LGPL-2.0-or-later",
    "GNU General Public License v2 or later (GPLv2+)": "GPL-2.0-or-later",
    "GNU General Public License v3 or later (GPLv3+)": "GPL-3.0-or-later",
    "GNU Lesser General Public License v3 or later (LGPLv3+)": "LGPL-3.0-or-later",
    "Historical Permission Notice and Disclaimer (HPND)": "HPND",
    "Boost Software License 1.0 (BSL-1.0)": "BSL-1.0",
    "Eclipse Public License 2.0 (EPL-2.0)": "EPL-2.0",
    "zlib/libpng License": "Zlib",
    "CC0 1.0 Universal (CC0 1.0) Public Domain Dedication": "CC0-1.0",
}
_SPDX_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.+\-]*(?:\s+(?:AND|OR|WITH)\s+[A-Za-z0-9][A-Za-z0-9.+\-]*)*$")
_NAMES = re.compile(r"^(?:LICEN[CS]E|COPYING|UNLICENSE|LICEN[CS]E[-_.].*|COPYING[-_.].*)$", re.IGNORECASE)


def source_header(path: Path) -> str | None:
    """The leading ``#`` comment block of a Python file (up to 60 lines), if it mentions a licence."""
    try:
        with open(path, encoding="utf-8") as fh:
            head = [line for _, line in zip(range(60), fh)]
    except (OSError, UnicodeDecodeError):
        return None
    block: list[str] = []
    for line in head:
        s = line.strip()
        if s.startswith("#") or (block and s == ""):
            block.append(line)
        elif not block and (s == "" or s.startswith("#!")):
            continue
        else:
            break
    text = "".join(block).strip()
    return text if len(text) >= 40 and re.search(r"licen[cs]", text, re.IGNORECASE) else None


def text_key(text: str) -> str:
    return hashlib.sha256(" ".join(re.findall(r"\w+", text.lower())).encode()).hexdigest()


def python_label(dist_info: Path) -> tuple[str | None, str]:
    try:
        meta = email.parser.Parser().parsestr((dist_info / "METADATA").read_text(encoding="utf-8", errors="replace"))
    except OSError:
        return None, "no METADATA"
    if meta.get("License-Expression"):
        return meta["License-Expression"].strip(), "License-Expression"
    found = [c.split("::")[-1].strip() for c in meta.get_all("Classifier") or [] if c.startswith("License ::")]
    found = [c for c in found if c != "OSI Approved"]
    if len(found) == 1 and CLASSIFIERS.get(found[0]):
        return CLASSIFIERS[found[0]], "classifier"
    field = (meta.get("License") or "").strip()
    if field and _SPDX_ID.match(field) and len(field) < 60:
        return field, "License field"
    return None, "ambiguous: " + ("; ".join(found) or field[:60] or "none")


def python_files(source: str, site: Path):
    for dist_info in sorted(site.glob("*.dist-info")):
        label, basis = python_label(dist_info)
        files = [p for p in (dist_info / "licenses").rglob("*") if p.is_file()] if (dist_info / "licenses").is_dir() \
            else []
        files += [p for p in dist_info.iterdir() if p.is_file() and _NAMES.match(p.name)]
        for p in files:
            yield source, dist_info.name, p, label, basis


def npm_files(source: str, root: Path):
    for pkg in sorted(root.rglob("package.json")):
        if any(part in ("test", "tests", "fixtures") for part in pkg.parts):
            continue
        try:
            meta = json.loads(pkg.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if not isinstance(meta, dict) or "name" not in meta:
            continue
        lic = meta.get("license")
        label = lic.strip().strip("()") if isinstance(lic, str) and _SPDX_ID.match(lic.strip().strip("()")) else None
        for p in sorted(pkg.parent.iterdir()):
            if p.is_file() and _NAMES.match(p.name):
                yield source, f"{meta['name']}@{meta.get('version', '?')}", p, label, "package.json license"


_OPERAND_FILES = {"apache": "Apache-2.0", "apache2": "Apache-2.0", "mit": "MIT", "bsd": "BSD-3-Clause"}
_NOT_LICENCES = re.compile(r"^(?:AUTHORS|NOTICE|CONTRIBUTORS|THIRD[-_]PARTY|PATENTS)", re.IGNORECASE)


def file_label(row: dict) -> tuple[str | None, str]:
    """The label a file gets from its package metadata, where that is unambiguous for this file.

    Unambiguous: a package-level licence file (LICENSE*/COPYING*, not a vendored one in a sub-folder, not a
    README or CHANGELOG that a package put among its licence files) of a
    package with one licence id; or, for ``A OR B`` packages, a file named after one operand (LICENSE.APACHE,
    LICENSE-MIT) or the short statement of the choice itself. Anything else is left for labelling by hand.
    """
    md, path = row["metadata"], Path(row["path"])
    name = path.name
    if not md or md in ("UNKNOWN", "BSD", "Apache") or _NOT_LICENCES.match(name) or not _NAMES.match(name):
        return None, "no unambiguous metadata"
    depth = len(path.parts) - (2 if row["source"] != "npm" else 1)
    inside = path.parts[1:-1] if row["source"] != "npm" else ()
    if row["source"] == "npm":
        depth = 0
    elif inside and inside != ("licenses",):
        return None, "vendored file"
    del depth
    if not re.search(r"\b(?:AND|OR|WITH)\b", md):
        return md, "metadata"
    ops = re.fullmatch(r"(\S+) OR (\S+)", md)
    if ops:
        suffix = re.split(r"[-_.]", name, maxsplit=1)[1].lower() if re.search(r"[-_.]", name) else ""
        suffix = suffix.rsplit(".", 1)[0] if suffix.endswith((".txt", ".md", ".rst")) else suffix
        if _OPERAND_FILES.get(suffix) in ops.groups():
            return _OPERAND_FILES[suffix], "metadata (file named after one operand)"
    return None, "compound metadata"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True)
    args = ap.parse_args(argv)
    seen: set[str] = set()
    rows = []
    for source, root in SOURCES.items():
        if not root.is_dir():
            continue
        gen = npm_files(source, root) if source == "npm" else python_files(source, root)
        for src, package, path, label, basis in gen:
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            key = text_key(text)
            if not text.strip() or key in seen:
                continue
            seen.add(key)
            rows.append({"source": src, "root": str(root), "path": str(path.relative_to(root)), "package": package,
                         "sha256": hashlib.sha256(text.encode()).hexdigest(), "metadata": label, "basis": basis})
    with open(args.out, "w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{len(rows)} distinct licence files -> {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
