"""C# files (Unity scripts, Unreal's ``.Build.cs``): chunks and symbols from the tree-sitter tree.

Each method, constructor or property with a body is a chunk of its own, doc comment included;
runs of fields and auto-properties are packed together; a type's header (attributes, doc
comment, declaration up to its opening brace) is a chunk too, so "what is GameSettings?" finds it.
"""

from __future__ import annotations

from collections.abc import Sequence

from tree_sitter import Node

from lumina_gamedev import lint
from lumina_gamedev.outline import FileOutline, Reader, Symbol, pack
from lumina_gamedev.syntax import calls_in, doc_comment, first_line, last_line, leading_comments_start, parse_csharp, text, walk

TYPES = frozenset({"class_declaration", "struct_declaration", "interface_declaration", "record_declaration",
                   "enum_declaration"})
NAMESPACES = frozenset({"namespace_declaration", "file_scoped_namespace_declaration"})
CALLABLES = frozenset({"method_declaration", "constructor_declaration", "destructor_declaration",
                       "operator_declaration", "conversion_operator_declaration", "indexer_declaration"})
DECLARATIONS = frozenset({"field_declaration", "event_field_declaration", "property_declaration",
                          "event_declaration", "delegate_declaration"})


def outline(file: str, content: str) -> FileOutline:
    reader = _Reader(file, content, parse_csharp(content.encode()))
    reader.visit(reader.source.root, ())
    return reader.outline(lint.csharp_findings(reader.source, file))


class _Reader(Reader):
    def visit(self, node: Node, parents: Sequence[str]) -> None:
        for child in node.named_children:
            if child.type in NAMESPACES:
                self.visit(child.child_by_field_name("body") or child, parents)
            elif child.type in TYPES:
                self.type_declaration(child, parents)

    def type_declaration(self, node: Node, parents: Sequence[str]) -> None:
        name = text(node.child_by_field_name("name"))
        qualified = ".".join([*parents, name])
        body = node.child_by_field_name("body")
        start = leading_comments_start(node, self.source.code)
        kind = node.type.removesuffix("_declaration")
        header_end = first_line(body) if body is not None and node.type != "enum_declaration" else last_line(node)
        self.chunks.extend(self.lines.chunks(self.file, start, header_end, qualified, kind))
        self.symbols.append(Symbol(self.file, name, kind, first_line(node), last_line(node), ".".join(parents), {
            "bases": base_types(node), "doc": doc_comment(node, self.source.code),
            "attributes": [text(a) for a in node.named_children if a.type == "attribute_list"],
        }))
        if body is not None and node.type != "enum_declaration":
            self.members(body, [*parents, name])

    def members(self, body: Node, parents: list[str]) -> None:
        owner = ".".join(parents)
        declarations: list[tuple[int, int, list[str]]] = []
        for member in body.named_children:
            if member.type in TYPES:
                self.type_declaration(member, parents)
            elif member.type in DECLARATIONS and not _has_body(member):
                names = declared_names(member)
                declarations.append((leading_comments_start(member, self.source.code), last_line(member), names))
                self.symbols.extend(Symbol(self.file, n, _member_kind(member), first_line(member), last_line(member),
                                           owner, _declaration_detail(member, self.source.code)) for n in names)
            elif member.type in CALLABLES or member.type in DECLARATIONS:
                self.callable(member, owner)
        for start, end in pack((s, e) for s, e, _ in declarations):
            names = [n for s, e, group in declarations if start <= s and e <= end for n in group]
            self.chunks.extend(self.lines.chunks(self.file, start, end, f"{owner} fields: {', '.join(names)}", "fields"))

    def callable(self, member: Node, owner: str) -> None:
        name = text(member.child_by_field_name("name")) or member.type.removesuffix("_declaration")
        start = leading_comments_start(member, self.source.code)
        self.chunks.extend(self.lines.chunks(self.file, start, last_line(member), f"{owner}.{name}", _member_kind(member)))
        self.symbols.append(Symbol(self.file, name, _member_kind(member), first_line(member), last_line(member), owner, {
            **_declaration_detail(member, self.source.code), "calls": calls_in(member, "invocation_expression"),
        }))


def base_types(node: Node) -> list[str]:
    bases = next((c for c in node.named_children if c.type == "base_list"), None)
    return [text(b) for b in bases.named_children] if bases is not None else []


def declared_names(member: Node) -> list[str]:
    if member.type in {"field_declaration", "event_field_declaration"}:
        declaration = next((c for c in member.named_children if c.type == "variable_declaration"), None)
        declarators = [c for c in declaration.named_children if c.type == "variable_declarator"] if declaration else []
        return [text(d.child_by_field_name("name") or d.named_children[0]) for d in declarators]
    return [text(member.child_by_field_name("name"))]


def modifiers(member: Node) -> list[str]:
    return [text(c) for c in member.named_children if c.type == "modifier"]


def attributes(member: Node) -> list[str]:
    return [text(a.child_by_field_name("name")) for lst in member.named_children if lst.type == "attribute_list"
            for a in lst.named_children if a.type == "attribute"]


def _declaration_detail(member: Node, code: bytes) -> dict[str, object]:
    type_node = member.child_by_field_name("type") or member.child_by_field_name("returns")
    if type_node is None:
        declaration = next((c for c in member.named_children if c.type == "variable_declaration"), None)
        type_node = declaration.child_by_field_name("type") if declaration is not None else None
    return {"type": text(type_node), "modifiers": modifiers(member), "attributes": attributes(member),
            "doc": doc_comment(member, code)}


def _member_kind(member: Node) -> str:
    return {"field_declaration": "field", "event_field_declaration": "event", "property_declaration": "property",
            "constructor_declaration": "constructor"}.get(member.type, "method")


def _has_body(member: Node) -> bool:
    """A property with statements in an accessor (not ``{ get; set; }``) is a chunk of its own."""
    return member.type == "property_declaration" and any(n.type == "block" for n in walk(member))
