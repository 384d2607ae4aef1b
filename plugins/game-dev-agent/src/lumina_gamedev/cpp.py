"""C++ files (Unreal headers and sources): chunks and symbols, reflection macros included.

Headers: a class's header (doc comment, ``UCLASS(...)``, declaration) is one chunk, its members
(each with its ``UPROPERTY``/``UFUNCTION`` line and comment) are packed into small chunks.
Sources: each function definition (``AShooterCharacter::Fire``) is a chunk. Symbols remember
each member's macro, whether it is a pointer, the calls a function makes, and whether a
constructor switches Tick on, for ``explain`` and the linter.
"""

from __future__ import annotations

from collections.abc import Sequence

from tree_sitter import Node

from lumina_gamedev import lint
from lumina_gamedev.outline import FileOutline, Reader, Symbol, pack
from lumina_gamedev.syntax import (
    Macro, calls_in, doc_comment, first_line, last_line, leading_comments_start, parse_cpp, text, walk,
)

CLASSES = frozenset({"class_specifier", "struct_specifier"})
WRAPPERS = frozenset({"declaration", "type_definition", "template_declaration"})
NAMED_DECLARATORS = frozenset({"identifier", "field_identifier", "qualified_identifier", "destructor_name",
                               "operator_name", "type_identifier"})


def outline(file: str, content: str) -> FileOutline:
    reader = _Reader(file, content, parse_cpp(content.encode()))
    reader.visit(reader.source.root)
    return reader.outline(lint.cpp_findings(reader.source, file, reader.symbols))


class _Reader(Reader):
    def visit(self, node: Node) -> None:
        for child in node.named_children:
            if child.type == "namespace_definition":
                self.visit(child.child_by_field_name("body") or child)
            elif child.type == "function_definition":
                self.function(child, "")
            elif (found := class_with_body(child)) is not None:
                self.class_declaration(found, child)

    def class_declaration(self, node: Node, outer: Node) -> None:
        name = text(node.child_by_field_name("name"))
        body = node.child_by_field_name("body")
        macro = macro_before(outer, self.source.macros)
        start = min(leading_comments_start(outer, self.source.code), macro.line if macro else first_line(outer))
        kind = node.type.removesuffix("_specifier")
        self.chunks.extend(self.lines.chunks(self.file, start, first_line(body), name, kind))
        self.symbols.append(Symbol(self.file, name, kind, first_line(outer), last_line(outer), "", {
            "bases": base_types(node), "doc": doc_comment(outer, self.source.code), "macro": _macro_dict(macro),
        }))
        self.members(body, name)

    def members(self, body: Node, owner: str) -> None:
        spans: list[tuple[int, int, str]] = []
        access = "private"
        for member in body.named_children:
            if member.type == "access_specifier":
                access = text(member)
            elif member.type == "function_definition":
                self.function(member, owner)
            elif member.type in {"field_declaration", "declaration"}:
                macro = macro_before(member, self.source.macros)
                start = min(leading_comments_start(member, self.source.code), macro.line if macro else first_line(member))
                name = declared_name(member)
                spans.append((start, last_line(member), name))
                kind = "constructor" if name == owner else member_kind(member)
                self.symbols.append(Symbol(self.file, name, kind, first_line(member), last_line(member), owner, {
                    "type": text(member.child_by_field_name("type")), "pointer": is_pointer(member), "access": access,
                    "macro": _macro_dict(macro), "doc": doc_comment(member, self.source.code),
                }))
        for start, end in pack((s, e) for s, e, _ in spans):
            names = [n for s, e, n in spans if start <= s and e <= end]
            self.chunks.extend(self.lines.chunks(self.file, start, end, f"{owner} members: {', '.join(names)}", "members"))

    def function(self, node: Node, owner: str) -> None:
        declarator = function_declarator(node)
        name_node = declarator.child_by_field_name("declarator") if declarator is not None else None
        scope = text(name_node.child_by_field_name("scope")) if name_node is not None and name_node.type == "qualified_identifier" else ""
        name = text(name_node.child_by_field_name("name")) if scope else text(name_node)
        parent = owner or scope
        start = leading_comments_start(node, self.source.code)
        symbol = f"{parent}::{name}" if parent else name
        self.chunks.extend(self.lines.chunks(self.file, start, last_line(node), symbol, "function"))
        body = node.child_by_field_name("body")
        self.symbols.append(Symbol(self.file, name, "constructor" if name == parent else "method", first_line(node),
                                   last_line(node), parent, {
            "calls": calls_in(node, "call_expression"), "doc": doc_comment(node, self.source.code),
            "enables_tick": tick_enabled_at(body), "only_calls_super": only_calls_super(body),
        }))


def class_with_body(node: Node) -> Node | None:
    """The class or struct defined (with a body) by a top-level node, if any."""
    if node.type in CLASSES and node.child_by_field_name("body") is not None:
        return node
    if node.type in WRAPPERS:
        return next((found for child in node.named_children if (found := class_with_body(child)) is not None), None)
    return None


def macro_before(node: Node, macros: Sequence[Macro]) -> Macro | None:
    """The reflection macro written between the previous declaration and ``node``."""
    previous = node.prev_named_sibling
    after = last_line(previous) if previous is not None else 0
    return next((m for m in reversed(macros) if after < m.line <= first_line(node) and m.name != "GENERATED_BODY"), None)


def base_types(node: Node) -> list[str]:
    clause = next((c for c in node.named_children if c.type == "base_class_clause"), None)
    return [text(c) for c in clause.named_children if c.type != "access_specifier"] if clause is not None else []


def declared_name(member: Node) -> str:
    declarator = member.child_by_field_name("declarator")
    while declarator is not None and declarator.type not in NAMED_DECLARATORS:
        declarator = declarator.child_by_field_name("declarator") or (declarator.named_children or [None])[0]
    return text(declarator)


def function_declarator(node: Node) -> Node | None:
    declarator = node.child_by_field_name("declarator")
    while declarator is not None and declarator.type != "function_declarator":
        declarator = declarator.child_by_field_name("declarator")
    return declarator


def member_kind(member: Node) -> str:
    return "method" if any(n.type == "function_declarator" for n in walk(member)) else "field"


def is_pointer(member: Node) -> bool:
    declarator = member.child_by_field_name("declarator")
    return declarator is not None and declarator.type == "pointer_declarator"


def tick_enabled_at(body: Node | None) -> int | None:
    """The line of ``PrimaryActorTick.bCanEverTick = true`` (or the component's) in ``body``."""
    for inner in walk(body) if body is not None else ():
        if inner.type == "assignment_expression" and text(inner.child_by_field_name("left")).endswith(".bCanEverTick") \
                and text(inner.child_by_field_name("right")) == "true":
            return first_line(inner)
    return None


def only_calls_super(body: Node | None) -> bool:
    """True when a function body does nothing but call its ``Super::`` version (or nothing)."""
    statements = [s for s in body.named_children if s.type != "comment"] if body is not None else []
    return all(s.type == "expression_statement" and text(s).startswith("Super::") for s in statements)


def _macro_dict(macro: Macro | None) -> dict[str, object] | None:
    return {"name": macro.name, "arguments": macro.arguments, "line": macro.line} if macro else None
