"""Wikitext → plain text organised by section, with the page's links and categories.

Parsing is mwparserfromhell's; this module only decides what each node becomes. Templates are
dropped unless they carry a fact (infoboxes become ``Field: value`` lines, ``convert``, dates,
``lang`` and friends become their text); references, files, categories and comments go; tables
keep their cells' text row by row; headings give every piece of text its section path, which the
knowledge index uses to build passages.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import mwparserfromhell
from mwparserfromhell.nodes import (
    Comment,
    ExternalLink,
    Heading,
    HTMLEntity,
    Node,
    Tag,
    Template,
    Text,
    Wikilink,
)
from mwparserfromhell.wikicode import Wikicode

#: Sections that hold references and navigation, not facts.
SKIPPED_SECTIONS = frozenset(
    {
        "references", "external links", "see also", "further reading", "notes", "bibliography",
        "sources", "citations", "footnotes", "notes and references", "works cited",
        "general references", "literature", "reference",
    }
)
#: Link prefixes that are not articles (namespaces and interwiki/interlanguage links).
NON_ARTICLE_PREFIX = re.compile(
    r"^\s*:?\s*(file|image|media|category|template|wikipedia|wp|help|portal|user|talk|special|"
    r"wikt|wiktionary|commons|s|q|b|n|v|voy|meta|mw|species|d|[a-z]{2,3}(-[a-z]+)?|simple)\s*:",
    re.IGNORECASE,
)
_CATEGORY = re.compile(r"^\s*:?\s*category\s*:", re.IGNORECASE)
_DISAMBIGUATION_NAMES = frozenset(
    {"disambig", "disambiguation", "dab", "disamb", "hndis", "geodis", "numberdis", "hospitaldis",
     "schooldis", "roaddis", "mathdab", "letter-numbercombdisambig", "set index", "sia"}
)
_DROPPED_TAGS = frozenset({"ref", "references", "gallery", "math", "chem", "score", "timeline",
                           "imagemap", "syntaxhighlight", "source", "templatedata", "mapframe"})
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")
_MAGIC_WORD = re.compile(r"__[A-Z]+__")
_SPACES = re.compile(r"[ \t\u00a0]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")
_EMPTY_BRACKETS = re.compile(r"\(\s*[,;:]?\s*\)")
_SPACE_BEFORE_PUNCT = re.compile(r" +([,.;:!?])")
_RANGE_WORDS = frozenset({"to", "-", "–", "and", "or", "by", "x", "×", "+/-", "±"})
_FILE_NAME = re.compile(r"\.(png|jpe?g|svg|gif|tiff?|webm|ogg)\s*$", re.IGNORECASE)
_INFOBOX_SKIPPED_FIELDS = re.compile(r"image|caption|map|logo|signature|alt|width|size|footnote|"
                                     r"coat|flag|symbol|seal|pushpin|module|embed|website|url", re.IGNORECASE)


@dataclass(frozen=True)
class Section:
    """A section's text and where it sits: ``("History", "Early years")``; ``()`` is the lead."""

    path: tuple[str, ...]
    text: str


@dataclass(frozen=True)
class ParsedPage:
    """What the index and the graph need of one page."""

    title: str
    sections: tuple[Section, ...]
    links: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    is_disambiguation: bool = False
    infobox: dict[str, str] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return "\n\n".join(s.text for s in self.sections if s.text)

    @property
    def summary(self) -> str:
        """The lead's first two sentences: what a graph node shows."""
        lead = next((s.text for s in self.sections if s.text and not s.path), "")
        if not lead:
            lead = next((s.text for s in self.sections if s.text), "")
        sentences = re.split(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(])", lead.replace("\n", " "))
        return " ".join(sentences[:2])[:500]


def parse_page(title: str, wikitext: str) -> ParsedPage:
    """Parse one page's wikitext into sections of plain text, links and categories."""
    code = mwparserfromhell.parse(wikitext)
    links, categories = _links_and_categories(code)
    templates = code.filter_templates(recursive=False)
    return ParsedPage(
        title=title,
        sections=tuple(_sections(code)),
        links=links,
        categories=categories,
        is_disambiguation=any(_is_disambiguation_template(t) for t in templates),
        infobox=next((_infobox_fields(t) for t in templates if _is_infobox(t)), {}),
    )


def is_disambiguation(wikitext: str) -> bool:
    """True when the page carries a disambiguation template (as MediaWiki's Disambiguator sees it)."""
    code = mwparserfromhell.parse(wikitext)
    return any(_is_disambiguation_template(t) for t in code.filter_templates(recursive=False))


def normalise_title(title: str) -> str:
    """MediaWiki's title normalisation: underscores are spaces, the first letter is upper case."""
    cleaned = _SPACES.sub(" ", title.replace("_", " ")).strip()
    cleaned = cleaned.split("#", 1)[0].strip()
    return cleaned[:1].upper() + cleaned[1:]


# --- sections ----------------------------------------------------------------------------------


def _sections(code: Wikicode) -> Iterable[Section]:
    """Walk the top-level nodes, cutting at headings and tracking the heading path."""
    path: list[tuple[int, str]] = []
    buffer: list[str] = []
    skipping = False

    def flush() -> Section | None:
        text = _tidy("".join(buffer))
        buffer.clear()
        if skipping or not text:
            return None
        return Section(tuple(title for _, title in path), text)

    for node in code.nodes:
        if isinstance(node, Heading):
            section = flush()
            if section:
                yield section
            title = _tidy(_render_code(node.title)).strip("= ")
            path = [(level, t) for level, t in path if level < node.level] + [(node.level, title)]
            skipping = any(t.lower() in SKIPPED_SECTIONS for _, t in path)
            continue
        buffer.append(_render(node))
    section = flush()
    if section:
        yield section


def _tidy(text: str) -> str:
    text = _MAGIC_WORD.sub("", html.unescape(text))
    text = _EMPTY_BRACKETS.sub("", text)
    lines = [_SPACE_BEFORE_PUNCT.sub(r"\1", _SPACES.sub(" ", line)).strip() for line in text.split("\n")]
    lines = [line.lstrip("*#:; ").strip() if line[:1] in "*#:;" else line for line in lines]
    return _BLANK_LINES.sub("\n\n", "\n".join(line for line in lines if line != "|")).strip()


# --- rendering nodes ---------------------------------------------------------------------------


def _render_code(code: Wikicode | None) -> str:
    return "".join(_render(node) for node in code.nodes) if code is not None else ""


def _render(node: Node) -> str:
    if isinstance(node, Text):
        return str(node)
    if isinstance(node, Wikilink):
        return _render_link(node)
    if isinstance(node, Template):
        return _render_template(node)
    if isinstance(node, Tag):
        return _render_tag(node)
    if isinstance(node, ExternalLink):
        return _render_code(node.title) if node.title else ""
    if isinstance(node, HTMLEntity):
        return " " if node.normalize() == "\u00a0" else node.normalize()
    if isinstance(node, (Comment, Heading)):
        return ""
    return ""


def _render_link(link: Wikilink) -> str:
    target = str(link.title)
    if NON_ARTICLE_PREFIX.match(target):
        return ""
    return _render_code(link.text) if link.text else target.split("#", 1)[-1 if target.startswith("#") else 0]


def _render_tag(tag: Tag) -> str:
    name = str(tag.tag).lower()
    if name in _DROPPED_TAGS:
        return ""
    if name == "table":
        return "\n" + _render_table(tag) + "\n"
    if name == "br":
        return "\n"
    if name in ("li", "p", "div", "blockquote"):
        return "\n" + _render_code(tag.contents) + "\n"
    return _render_code(tag.contents) if tag.contents is not None else ""


def _render_table(table: Tag) -> str:
    """One line per row, its cells' text joined by ``; ``; captions and headers included."""
    rows: list[str] = []
    loose: list[str] = []
    for node in table.contents.nodes:
        if isinstance(node, Tag) and str(node.tag).lower() == "tr":
            rows.append(_row_text(node.contents.nodes))
        elif isinstance(node, Tag) and str(node.tag).lower() in ("th", "td", "caption"):
            loose.append(_cell_text(node))
    if loose:
        rows.insert(0, "; ".join(c for c in loose if c))
    return "\n".join(row for row in rows if row)


def _row_text(nodes: Iterable[Node]) -> str:
    cells = [_cell_text(n) for n in nodes if isinstance(n, Tag) and str(n.tag).lower() in ("td", "th")]
    return "; ".join(c for c in cells if c)


def _cell_text(cell: Tag) -> str:
    return _SPACES.sub(" ", _render_code(cell.contents).replace("\n", " ")).strip()


# --- templates ---------------------------------------------------------------------------------


def _template_name(template: Template) -> str:
    return _SPACES.sub(" ", str(template.name).replace("_", " ")).strip().lower()


def _positional(template: Template) -> list[str]:
    return [_tidy(_render_code(p.value)) for p in template.params if not p.showkey]


def _param(template: Template, name: str) -> str:
    return _tidy(_render_code(template.get(name).value)) if template.has(name) else ""


def _render_template(template: Template) -> str:
    name = _template_name(template)
    if _is_infobox(template):
        return "\n" + "\n".join(f"{k}: {v}" for k, v in _infobox_fields(template).items()) + "\n"
    for prefixes, render in _TEMPLATE_RENDERERS:
        if name in prefixes or any(name.startswith(p + "-") for p in prefixes if p in ("lang",)):
            return render(template)
    return ""


def _render_convert(template: Template) -> str:
    values = _positional(template)
    shown: list[str] = []
    for index, value in enumerate(values):
        shown.append(value)
        if not (_is_number(value) or value.lower() in _RANGE_WORDS) or index + 1 == len(values):
            break
    return " ".join(shown)


def _render_date(template: Template) -> str:
    numbers = [v for v in _positional(template) if v.isdigit()][:3]
    if len(numbers) == 3 and 1 <= int(numbers[1]) <= 12:
        return f"{int(numbers[2])} {_MONTHS[int(numbers[1]) - 1]} {numbers[0]}"
    return " ".join(_positional(template)[:3])


def _render_last_text(template: Template) -> str:
    values = [v for v in _positional(template) if v]
    return values[-1] if values else ""


def _render_first(template: Template) -> str:
    values = _positional(template)
    return values[0] if values else ""


def _render_nihongo(template: Template) -> str:
    values = _positional(template)
    return values[0] if values else ""


def _render_as_of(template: Template) -> str:
    values = [v for v in _positional(template) if v]
    return "as of " + " ".join(values[:3]) if values else ""


def _render_circa(template: Template) -> str:
    values = _positional(template)
    return "c. " + values[0] if values else "c."


_TEMPLATE_RENDERERS: tuple[tuple[frozenset[str], Callable[[Template], str]], ...] = (
    (frozenset({"convert", "cvt"}), _render_convert),
    (frozenset({"birth date", "death date", "birth date and age", "death date and age", "start date",
                "end date", "dts", "date", "birth-date", "film date"}), _render_date),
    (frozenset({"lang", "transl", "native name", "linktext"}), _render_last_text),
    (frozenset({"nowrap", "nobr", "small", "smaller", "big", "sic", "em", "strong", "vanchor", "longitem",
                "abbr", "keypress", "mvar", "math", "var", "sub", "sup", "nts", "val", "w", "tooltip",
                "proper name", "not a typo", "bartable", "chem", "sc", "smallcaps", "visible anchor"}),
     _render_first),
    (frozenset({"nihongo"}), _render_nihongo),
    (frozenset({"as of"}), _render_as_of),
    (frozenset({"circa", "c."}), _render_circa),
    (frozenset({"nbsp", "spaces", "·", "dot", "middot"}), lambda _t: " "),
    (frozenset({"!"}), lambda _t: "|"),
    (frozenset({"'s"}), lambda _t: "'s"),
    (frozenset({"ndash", "snd", "spnd"}), lambda _t: " – "),
)


def _is_number(value: str) -> bool:
    return bool(re.fullmatch(r"[-+]?[\d,]*\.?\d+(e[-+]?\d+)?", value.strip().lower()))


def _is_infobox(template: Template) -> bool:
    name = _template_name(template)
    return name.startswith(("infobox", "taxobox")) or name == "automatic taxobox"


def _infobox_fields(template: Template) -> dict[str, str]:
    """An infobox's named fields as readable ``Field: value`` pairs (images and styling dropped)."""
    fields: dict[str, str] = {}
    for param in template.params:
        if not param.showkey:
            continue
        key = str(param.name).strip()
        value = _SPACES.sub(" ", _tidy(_render_code(param.value)).replace("\n", ", ")).strip(" ,")
        if not value or _INFOBOX_SKIPPED_FIELDS.search(key) or _FILE_NAME.search(value):
            continue
        fields[key.replace("_", " ").strip().capitalize()] = value
    return fields


def _is_disambiguation_template(template: Template) -> bool:
    name = _template_name(template)
    return name in _DISAMBIGUATION_NAMES or name.endswith(" disambiguation")


# --- links -------------------------------------------------------------------------------------


def _links_and_categories(code: Wikicode) -> tuple[tuple[str, ...], tuple[str, ...]]:
    links: dict[str, None] = {}
    categories: dict[str, None] = {}
    for link in code.filter_wikilinks(recursive=True):
        target = str(link.title).strip()
        if _CATEGORY.match(target):
            categories[normalise_title(target.lstrip(": ").split(":", 1)[1])] = None
        elif target and not target.startswith("#") and not NON_ARTICLE_PREFIX.match(target):
            title = normalise_title(target)
            if title:
                links[title] = None
    return tuple(links), tuple(categories)
