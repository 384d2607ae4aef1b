"""Syntax trees of C# and C++ sources (tree-sitter), with Unreal's reflection macros set aside.

Unreal headers put ``UCLASS(...)``, ``UPROPERTY(...)``, ``GENERATED_BODY()`` and ``MODULE_API``
where plain C++ has none, which throws tree-sitter-cpp off (a class becomes a function). They are
blanked out with spaces, byte for byte, before parsing, so every node keeps its true line and
column; each macro is kept as a :class:`Macro` with its line, for the splitter and the linter to
attach to the declaration that follows it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache

import tree_sitter_c_sharp
import tree_sitter_cpp
from tree_sitter import Language, Node, Parser, Tree

REFLECTION_MACRO = re.compile(
    rb"\b(UCLASS|USTRUCT|UENUM|UINTERFACE|UPROPERTY|UFUNCTION|UDELEGATE|UMETA|UPARAM|"
    rb"GENERATED_BODY|GENERATED_UCLASS_BODY|GENERATED_USTRUCT_BODY|GENERATED_IINTERFACE_BODY)\s*\("
)
API_MACRO = re.compile(rb"\b[A-Z][A-Z0-9_]*_API\b")


@dataclass(frozen=True)
class Macro:
    """An Unreal reflection macro: its name, its arguments as written, and its 1-based line."""

    name: str
    arguments: str
    line: int


@dataclass(frozen=True)
class Source:
    """A parsed file: its tree, its bytes as parsed, and (C++ only) the macros set aside."""

    tree: Tree
    code: bytes
    macros: tuple[Macro, ...] = ()

    @property
    def root(self) -> Node:
        return self.tree.root_node


@cache
def _parser(language: str) -> Parser:
    grammar = tree_sitter_c_sharp.language() if language == "csharp" else tree_sitter_cpp.language()
    return Parser(Language(grammar))


def parse_csharp(code: bytes) -> Source:
    return Source(_parser("csharp").parse(code), code)


def parse_cpp(code: bytes) -> Source:
    """Parse C++ with Unreal's macros blanked out (see the module's docstring)."""
    blanked, macros = set_macros_aside(code)
    return Source(_parser("cpp").parse(blanked), blanked, macros)


def set_macros_aside(code: bytes) -> tuple[bytes, tuple[Macro, ...]]:
    """The code with every reflection macro (arguments included) and ``*_API`` replaced by spaces
    (line breaks kept), and the reflection macros found."""
    out = bytearray(code)
    macros: list[Macro] = []
    for match in REFLECTION_MACRO.finditer(code):
        end = _closing_parenthesis(code, match.end() - 1)
        macros.append(Macro(match.group(1).decode(), code[match.end() : end].decode(errors="replace").strip(),
                            code.count(b"\n", 0, match.start()) + 1))
        _blank(out, match.start(), end + 1)
    for match in API_MACRO.finditer(code):
        _blank(out, match.start(), match.end())
    return bytes(out), tuple(macros)


def _closing_parenthesis(code: bytes, opening: int) -> int:
    depth = 0
    for position in range(opening, len(code)):
        if code[position] == ord("("):
            depth += 1
        elif code[position] == ord(")"):
            depth -= 1
            if depth == 0:
                return position
    return len(code) - 1


def _blank(out: bytearray, start: int, end: int) -> None:
    for position in range(start, end):
        if out[position] != ord("\n"):
            out[position] = ord(" ")


def text(node: Node | None) -> str:
    return node.text.decode(errors="replace") if node is not None and node.text is not None else ""


def first_line(node: Node) -> int:
    return node.start_point[0] + 1


def last_line(node: Node) -> int:
    """The 1-based last line of ``node`` (a node ending at column 0 ends on the line before)."""
    row, column = node.end_point
    return row + (1 if column > 0 or row == node.start_point[0] else 0)


def walk(node: Node) -> Iterator[Node]:
    """Every named node under ``node``, itself included, depth first."""
    yield node
    for child in node.named_children:
        yield from walk(child)


def calls_in(node: Node, call_type: str) -> list[str]:
    """What ``node`` calls (``Input.GetAxis``, ``Jump``), each once, in order of first
    appearance; ``call_type`` is the grammar's call node (``invocation_expression`` in C#,
    ``call_expression`` in C++)."""
    seen: dict[str, None] = {}
    for inner in walk(node):
        if inner.type == call_type:
            seen.setdefault(" ".join(text(inner.child_by_field_name("function")).split())[:80], None)
    return list(seen)


def comments_above(node: Node, code: bytes) -> list[Node]:
    """The comments right above ``node`` (its doc comment), with nothing but blanks (or blanked
    macros) between them, in order."""
    found: list[Node] = []
    below, sibling = node, node.prev_named_sibling
    while sibling is not None and sibling.type == "comment" and not code[sibling.end_byte : below.start_byte].strip():
        found.insert(0, sibling)
        below, sibling = sibling, sibling.prev_named_sibling
    return found


def leading_comments_start(node: Node, code: bytes) -> int:
    """The first line of ``node``'s doc comment, else its own first line."""
    comments = comments_above(node, code)
    return first_line(comments[0]) if comments else first_line(node)


def doc_comment(node: Node, code: bytes) -> str:
    """The comment right above ``node``, without its markers (``///``, ``/** */``, ``<summary>``)."""
    raw = "\n".join(text(c) for c in comments_above(node, code))
    cleaned = re.sub(r"</?summary>|^\s*(///|/\*\*|\*/|\*|//)|\*/\s*$", " ", raw, flags=re.MULTILINE)
    return " ".join(cleaned.split())
