"""SPDX licence identification (haetae.pipelines.rights.licences) on real licence wording, and `haetae license detect`."""

from __future__ import annotations

import json

import pytest

from haetae.pipelines.rights.licences import (
    LicenceIndex,
    detect_licences,
    detect_row,
    korean_notices,
    licence_expression,
    parse_spdx_lines,
)

MIT_TEXT = """MIT License

Copyright (c) 2021 Example Maintainers

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
"""

MIT_0_TEXT = """MIT No Attribution

Copyright 2023 Example Maintainers

Permission is hereby granted, free of charge, to any person obtaining a copy of this
software and associated documentation files (the "Software"), to deal in the Software
without restriction, including without limitation the rights to use, copy, modify,
merge, publish, distribute, sublicense, and/or sell copies of the Software, and to
permit persons to whom the Software is furnished to do so.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED,
INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A
PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT
HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION
OF CONTRACT, TORT OR OTHERWISE, ARISING FROM, OUT OF OR IN CONNECTION WITH THE
SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.
"""

BSD_HEAD = """Copyright (c) 2019, Example Project Developers
All rights reserved.

Redistribution and use in source and binary forms, with or without
modification, are permitted provided that the following conditions are met:

1. Redistributions of source code must retain the above copyright notice, this
   list of conditions and the following disclaimer.

2. Redistributions in binary form must reproduce the above copyright notice,
   this list of conditions and the following disclaimer in the documentation
   and/or other materials provided with the distribution.
"""
BSD_THIRD = """
3. Neither the name of the copyright holder nor the names of its
   contributors may be used to endorse or promote products derived from
   this software without specific prior written permission.
"""
BSD_TAIL = """
THIS SOFTWARE IS PROVIDED BY THE COPYRIGHT HOLDERS AND CONTRIBUTORS "AS IS"
AND ANY EXPRESS OR IMPLIED WARRANTIES, INCLUDING, BUT NOT LIMITED TO, THE
IMPLIED WARRANTIES OF MERCHANTABILITY AND FITNESS FOR A PARTICULAR PURPOSE ARE
DISCLAIMED. IN NO EVENT SHALL THE COPYRIGHT HOLDER OR CONTRIBUTORS BE LIABLE
FOR ANY DIRECT, INDIRECT, INCIDENTAL, SPECIAL, EXEMPLARY, OR CONSEQUENTIAL
DAMAGES (INCLUDING, BUT NOT LIMITED TO, PROCUREMENT OF SUBSTITUTE GOODS OR
SERVICES; LOSS OF USE, DATA, OR PROFITS; OR BUSINESS INTERRUPTION) HOWEVER
CAUSED AND ON ANY THEORY OF LIABILITY, WHETHER IN CONTRACT, STRICT LIABILITY,
OR TORT (INCLUDING NEGLIGENCE OR OTHERWISE) ARISING IN ANY WAY OUT OF THE USE
OF THIS SOFTWARE, EVEN IF ADVISED OF THE POSSIBILITY OF SUCH DAMAGE.
"""

ISC_TEXT = """The ISC License

Copyright (c) Example Contributors

Permission to use, copy, modify, and/or distribute this software for any
purpose with or without fee is hereby granted, provided that the above
copyright notice and this permission notice appear in all copies.

THE SOFTWARE IS PROVIDED "AS IS" AND THE AUTHOR DISCLAIMS ALL WARRANTIES
WITH REGARD TO THIS SOFTWARE INCLUDING ALL IMPLIED WARRANTIES OF
MERCHANTABILITY AND FITNESS. IN NO EVENT SHALL THE AUTHOR BE LIABLE FOR
ANY SPECIAL, DIRECT, INDIRECT, OR CONSEQUENTIAL DAMAGES OR ANY DAMAGES
WHATSOEVER RESULTING FROM LOSS OF USE, DATA OR PROFITS, WHETHER IN AN
ACTION OF CONTRACT, NEGLIGENCE OR OTHER TORTIOUS ACTION, ARISING OUT OF OR
IN CONNECTION WITH THE USE OR PERFORMANCE OF THIS SOFTWARE.
"""

APACHE_HEADER = """# Copyright 2024 Example Authors. All rights reserved.
#
# Licensed under the Apache License, Version 2.0 (the "License");
# you may not use this file except in compliance with the License.
# You may obtain a copy of the License at
#
#     http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS,
# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
# See the License for the specific language governing permissions and
# limitations under the License.
"""

GPL2_LATER = """/*
 * This program is free software; you can redistribute it and/or modify
 * it under the terms of the GNU General Public License as published by
 * the Free Software Foundation; either version 2 of the License, or
 * (at your option) any later version.
 *
 * This program is distributed in the hope that it will be useful,
 * but WITHOUT ANY WARRANTY; without even the implied warranty of
 * MERCHANTABILITY or FITNESS FOR A PARTICULAR PURPOSE.  See the
 * GNU General Public License for more details.
 */"""

GPL2_ONLY = """/*
 * This program is free software; you can redistribute it and/or modify
 * it under the terms of the GNU General Public License version 2 as
 * published by the Free Software Foundation.
 *
 * This program is distributed in the hope that it will be useful,
 * but WITHOUT ANY WARRANTY; without even the implied warranty of
 * MERCHANTABILITY or FITNESS FOR A PARTICULAR PURPOSE.  See the
 * GNU General Public License for more details.
 */"""

GPL3_LATER = """This file is part of Example.

Example is free software: you can redistribute it and/or modify it under the terms of the GNU General
Public License as published by the Free Software Foundation, either version 3 of the License, or (at your
option) any later version.

Example is distributed in the hope that it will be useful, but WITHOUT ANY WARRANTY; without even the
implied warranty of MERCHANTABILITY or FITNESS FOR A PARTICULAR PURPOSE. See the GNU General Public License
for more details.

You should have received a copy of the GNU General Public License along with Example. If not, see
<https://www.gnu.org/licenses/>."""

LGPL21_LATER = """This library is free software; you can redistribute it and/or
modify it under the terms of the GNU Lesser General Public
License as published by the Free Software Foundation; either
version 2.1 of the License, or (at your option) any later version."""

AGPL3_ONLY = """This program is free software: you can redistribute it and/or modify
it under the terms of the GNU Affero General Public License, version 3,
as published by the Free Software Foundation."""

REAL_SNIPPETS = [
    # full texts
    (MIT_TEXT, "MIT"),
    (MIT_0_TEXT, "MIT-0"),
    (ISC_TEXT, "ISC"),
    (BSD_HEAD + BSD_THIRD + BSD_TAIL, "BSD-3-Clause"),
    (BSD_HEAD + BSD_TAIL, "BSD-2-Clause"),
    ("The BSD License\n\n" + BSD_HEAD + BSD_TAIL, "BSD-2-Clause"),  # the title is no third clause
    # headers and pointers
    (APACHE_HEADER, "Apache-2.0"),
    (GPL2_LATER, "GPL-2.0-or-later"),
    (GPL2_ONLY, "GPL-2.0-only"),
    (GPL3_LATER, "GPL-3.0-or-later"),
    (LGPL21_LATER, "LGPL-2.1-or-later"),
    (AGPL3_ONLY, "AGPL-3.0-only"),
    ("This Source Code Form is subject to the terms of the Mozilla Public License, v. 2.0. If a copy of the "
     "MPL was not distributed with this file, You can obtain one at http://mozilla.org/MPL/2.0/.", "MPL-2.0"),
    # short grants
    ("Licensed under the MIT license", "MIT"),
    ("# Copyright 2022 A. Writer\n# Licensed under the MIT license", "MIT"),
    ("This project is released under the Apache License 2.0.", "Apache-2.0"),
    ("Distributed under the Boost Software License, Version 1.0.", "BSL-1.0"),
    # SPDX-License-Identifier lines
    ("// SPDX-License-Identifier: GPL-2.0+\n#include <stdio.h>", "GPL-2.0-or-later"),
    ("# SPDX-License-Identifier: GPL-2.0\nimport os", "GPL-2.0-only"),
    ("/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */", "(GPL-2.0-only OR BSD-2-Clause)"),
    ("# SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception", "Apache-2.0 WITH LLVM-exception"),
]


@pytest.fixture(scope="module")
def index() -> LicenceIndex:
    return LicenceIndex()


def spdx_of(text: str, index: LicenceIndex) -> str | None:
    return licence_expression(detect_licences(text, index))


@pytest.mark.parametrize(("text", "expected"), REAL_SNIPPETS, ids=[e + f"-{i}" for i, (_, e) in enumerate(REAL_SNIPPETS)])
def test_real_snippets(text, expected, index):
    assert spdx_of(text, index) == expected


def test_only_and_or_later_told_apart(index):
    assert spdx_of(GPL2_LATER, index) == "GPL-2.0-or-later"
    assert spdx_of(GPL2_ONLY, index) == "GPL-2.0-only"
    later3 = "under the terms of the GNU General Public License as published by the Free Software Foundation, " \
             "either version 3 of the License, or (at your option) any later version."
    only3 = "under the terms of the GNU General Public License version 3 as published by the Free Software " \
            "Foundation."
    assert spdx_of(later3, index) == "GPL-3.0-or-later"
    assert spdx_of(only3, index) == "GPL-3.0-only"


def test_scores_are_between_zero_and_one(index):
    for text, _ in REAL_SNIPPETS:
        for spdx, score in detect_licences(text, index):
            assert isinstance(spdx, str) and 0.0 < score <= 1.0


@pytest.mark.parametrize(("text", "expected"), [
    ("이 저작물은 공공누리 제1유형(출처표시) 조건에 따라 이용할 수 있습니다.", "LicenseRef-KOGL-Type1"),
    ("본 자료는 공공누리 제2유형: 출처표시+상업적이용금지 조건에 따라 이용할 수 있습니다.", "LicenseRef-KOGL-Type2"),
    ("공공누리 제3유형 출처표시+변경금지", "LicenseRef-KOGL-Type3"),
    ("이 누리집의 사진은 공공누리 출처표시-상업적이용금지-변경금지 조건에 따라 이용할 수 있습니다.",
     "LicenseRef-KOGL-Type4"),
    ("KOGL Type 1 (Korea Open Government License)", "LicenseRef-KOGL-Type1"),
    ("이 글은 크리에이티브 커먼즈 저작자표시-비영리-변경금지 4.0 국제 라이선스에 따라 이용할 수 있습니다.",
     "CC-BY-NC-ND-4.0"),
    ("사진: 저작자표시-동일조건변경허락 2.0 대한민국", "CC-BY-SA-2.0"),
    ("본문은 CCL 저작자표시-비영리 조건으로 공개합니다.", "CC-BY-NC-4.0"),
    ("크리에이티브 커먼즈 저작자표시 4.0 국제 라이선스", "CC-BY-4.0"),
])
def test_kogl_and_korean_creative_commons(text, expected, index):
    assert spdx_of(text, index) == expected


def test_korean_attribution_request_alone_is_no_licence():
    assert korean_notices("사진을 쓰실 때는 저작자 표시를 꼭 해 주세요.") == []


@pytest.mark.parametrize("text", [
    "The weather in Cambridge was fine, and MIT students crowded the riverbank.",
    "Bring your driver's license and a utility bill to the office.",
    "See LICENSE for further details.",
    "저작권은 작성자에게 있습니다. 이용 문의는 메일로 주세요.",
    "",
])
def test_none_found(text, index):
    assert detect_licences(text, index) == []
    assert spdx_of(text, index) is None


def test_dual_licences_give_an_or_expression(index):
    assert spdx_of("Licensed under either of Apache License, Version 2.0 or MIT license at your option.",
                   index) == "Apache-2.0 OR MIT"
    dual = ("This software is dual-licensed under the ISC and MIT licenses.\nYou may use this software under "
            "EITHER of the following licenses.\n\n----------\n\n" + ISC_TEXT + "\n----------\n\n" + MIT_TEXT)
    assert spdx_of(dual, index) == "ISC OR MIT"


def test_two_licences_in_one_text_are_joined_with_and(index):
    assert spdx_of(MIT_TEXT + "\n\n" + APACHE_HEADER, index) == "MIT AND Apache-2.0"


def test_spdx_line_wins_unless_it_names_only_licenseref_ids(index):
    assert spdx_of("# SPDX-License-Identifier: MIT\n" + APACHE_HEADER, index) == "MIT"
    assert spdx_of("# SPDX-License-Identifier: LicenseRef-Apache2\n" + APACHE_HEADER, index) == "Apache-2.0"
    assert spdx_of("# SPDX-License-Identifier: LicenseRef-Internal\nprint()", index) == "LicenseRef-Internal"


def test_parse_spdx_lines_stops_at_comment_ends():
    assert [e for e, _, _ in parse_spdx_lines("/* SPDX-License-Identifier: MIT */ int x;")] == ["MIT"]
    assert [e for e, _, _ in parse_spdx_lines("<!-- SPDX-License-Identifier: CC-BY-4.0 -->")] == ["CC-BY-4.0"]


def test_detect_row_contract(index):
    assert detect_row({"id": 1, "text": "Licensed under the MIT license"}, index=index) == \
        {"id": 1, "spdx": "MIT", "score": 1.0}
    assert detect_row({"id": "x", "text": "nothing here"}, index=index) == {"id": "x", "spdx": None, "score": None}
    assert "error" in detect_row({"id": "y"}, index=index)
    assert "error" in detect_row(["not", "an", "object"], index=index)


def test_cli_license_detect(tmp_path, capsys):
    from haetae.cli import main

    src = tmp_path / "in.jsonl"
    rows = [
        json.dumps({"id": "mit", "text": MIT_TEXT}),
        "{not json",
        json.dumps({"id": "notext", "body": "x"}),
        json.dumps({"id": "gpl", "text": GPL3_LATER}),
        json.dumps({"id": "kogl", "text": "공공누리 제4유형"}),
        json.dumps({"id": "dual", "text": "// SPDX-License-Identifier: MIT OR Apache-2.0"}),
        json.dumps({"id": "none", "text": "hello"}),
    ]
    src.write_text("\n".join(rows) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert main(["license", "detect", str(src), "--out", str(out)]) == 0
    got = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(got) == len(rows)  # a malformed row gets an error row, never skipped
    assert [g["id"] for g in got] == ["mit", None, "notext", "gpl", "kogl", "dual", "none"]
    assert [g["spdx"] for g in got] == ["MIT", None, None, "GPL-3.0-or-later", "LicenseRef-KOGL-Type4",
                                         "MIT OR Apache-2.0", None]
    assert got[1]["line"] == 2 and "invalid JSON" in got[1]["error"]
    assert got[2]["line"] == 3 and "'text'" in got[2]["error"]
    for g in got:
        assert set(g) >= {"id", "spdx", "score"}
        assert (g["score"] is None) == (g["spdx"] is None)
    assert "7 rows" in capsys.readouterr().err


def test_cli_unreadable_input_exits_2(tmp_path):
    from haetae.cli import main

    assert main(["license", "detect", str(tmp_path / "missing.jsonl"), "--out", str(tmp_path / "o.jsonl")]) == 2
