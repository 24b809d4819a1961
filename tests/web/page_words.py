"""What a page says, as a reader sees it, and the internal words it must not say.

``visible_text`` keeps the text a reader sees or hears: element text outside <script> and <style>, and
the ``title``, ``placeholder``, ``aria-label`` and ``alt`` attributes (shown on hover, in an empty
field, or read aloud). ``leaks`` names every internal word found in it: parameter keys and other
snake_case identifiers, field paths (person.employment[0].travel_cost_fen), English role and level
words and any other English word, policy document ids, command lines, environment variables, and 分
written as a unit of money.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from html.parser import HTMLParser

SPOKEN_ATTRIBUTES = ("title", "placeholder", "aria-label", "alt")
HIDDEN_ELEMENTS = {"script", "style", "template"}

SNAKE_CASE = re.compile(r"(?<![A-Za-z0-9_])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![A-Za-z0-9_])")
FIELD_PATH = re.compile(r"(?<![A-Za-z0-9_.])[a-z_]+(?:\[\d+\])?(?:\.[a-z_]+(?:\[\d+\])?)+(?![A-Za-z0-9_])")
KEY_PREFIX = re.compile(r"\b(?:parameter|fact|benefit|rule):[a-z_]+")
ROLE_WORDS = re.compile(
    r"(?<![A-Za-z])(province|provincial|city|county|township|village|district|admin|administrator|auditor"
    r"|role|level|region|superuser)(?![A-Za-z])",
    re.IGNORECASE,
)
COMMAND = re.compile(r"(?<![A-Za-z])bangfu\s+[a-z-]+|\.venv/|(?<![A-Za-z])(?:pip|python3?|alembic)\s+[a-z-]+")
# 分 as money: after a figure (300 分, 300分), as the unit of a field ((分), 单位：分) or of amounts (以分计).
# Other words holding 分 (部分, 分类, 身份, 分钟, 百分之) are not money.
ENVIRONMENT_NAME = re.compile(r"(?<![A-Za-z0-9_])[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+(?![A-Za-z0-9_])")
# Any other English word: a page is in Chinese. Allowed: the product's name, file formats, the second
# factor's name, the pinyin-initials example of the name field, and long capitals (a TOTP secret to type).
ENGLISH_WORD = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{2,}(?![A-Za-z0-9])")
ALLOWED_WORDS = {"Bangfu", "Excel", "CSV", "XLSX", "TOTP", "lh", "ID"}
# The extension of a file name the reader uploaded (兴县人口信息.csv): their word, not the app's.
FILE_EXTENSION = re.compile(r"(?<=\S)\.(?:csv|xlsx|xls)(?![A-Za-z0-9])", re.IGNORECASE)
FEN = re.compile(r"\d\s*分(?![钟类别之配期批段组析享离布散])|[（(]分[)）]|单位[：:]\s*分|以分(?:计|为单位)|分为单位")


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in HIDDEN_ELEMENTS:
            self.hidden += 1
        for name, value in attrs:
            if name in SPOKEN_ATTRIBUTES and value:
                self.parts.append(value)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in SPOKEN_ATTRIBUTES and value:
                self.parts.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in HIDDEN_ELEMENTS and self.hidden:
            self.hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self.hidden and data.strip():
            self.parts.append(data.strip())


def visible_text(html: str) -> str:
    """The page's words, one piece per line."""
    parser = _Text()
    parser.feed(html)
    parser.close()
    return "\n".join(parser.parts)


def leaks(text: str, document_ids: Iterable[str], data: Iterable[str] = ()) -> list[str]:
    """Each internal word in ``text`` as "kind: word"; ``data`` (names and addresses the registry holds,
    which tests write in ASCII) is taken out first, being the reader's own records rather than the app's words."""
    for value in sorted(set(data), key=len, reverse=True):
        # Whole words only, and bounded by punctuation or space, not by Chinese: "x" typed into a field must
        # not take the x out of Excel, nor the account named "province" hide "由province制定".
        if value:
            text = re.sub(rf"(?<!\w){re.escape(value)}(?!\w)", "", text)
    text = FILE_EXTENSION.sub("", text)
    found: list[str] = []
    checks = [
        ("参数键或标识符", SNAKE_CASE),
        ("字段路径", FIELD_PATH),
        ("内部键", KEY_PREFIX),
        ("英文角色或层级词", ROLE_WORDS),
        ("命令行", COMMAND),
        ("环境变量", ENVIRONMENT_NAME),
        ("以分为金额单位", FEN),
    ]
    for kind, pattern in checks:
        found += [f"{kind}: {m.group(0)}" for m in pattern.finditer(text)]
    found += [
        f"英文词: {word}"
        for word in ENGLISH_WORD.findall(text)
        if word not in ALLOWED_WORDS and not (word.isupper() and len(word) >= 16)
    ]
    for document_id in document_ids:
        if re.search(rf"(?<![A-Za-z0-9-]){re.escape(document_id)}(?![A-Za-z0-9-])", text):
            found.append(f"文件编号: {document_id}")
    return found
