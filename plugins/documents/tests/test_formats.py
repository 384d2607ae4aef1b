"""Every supported format read into sections, from real files; bad files refused with a reason."""

from __future__ import annotations

import pytest

from lumina_documents.formats import Section, Unreadable, UnsupportedFormat, detect, parse, reflow


def test_a_pdf_keeps_its_page_numbers_and_its_title(kit):
    document = parse(kit.make_pdf(kit.manual_pages), "pdf", "manual.pdf")
    assert document.title == "Heron manual" and document.pages == 3
    assert [s.page for s in document.sections] == [1, 2, 3]
    assert document.sections[0].path == ("Page 1",)
    assert "descaled every forty days" in document.sections[0].text
    assert "three years" in document.sections[2].text


def test_a_pdf_without_a_text_layer_fails_with_what_to_do(kit):
    with pytest.raises(Unreadable, match="no text layer.*OCR"):
        parse(kit.make_scan_pdf(), "pdf", "scan.pdf")


def test_a_corrupt_pdf_fails_with_a_reason(kit):
    broken = kit.make_pdf(kit.manual_pages)[:300]  # cut off: no pages, no cross-reference table
    with pytest.raises(Unreadable, match="PDF is damaged"):
        parse(broken, "pdf", "broken.pdf")


def test_a_docx_reads_its_title_headings_paragraphs_and_tables(kit):
    data = kit.make_docx("Holidays", ["Every employee has twenty-six days of leave a year."],
                         table=[["Team", "Lead"], ["Support", "Ines Alves"]])
    document = parse(data, "docx", "handbook.docx")
    assert document.title == "Team handbook"
    (section,) = document.sections
    assert section.path == ("Holidays",)
    assert "twenty-six days of leave" in section.text and "Support | Ines Alves" in section.text


def test_a_damaged_docx_fails_with_a_reason():
    with pytest.raises(Unreadable, match="DOCX file is damaged"):
        parse(b"PK\x03\x04 not really a zip", "docx", "x.docx")


def test_markdown_sections_follow_its_headings(kit):
    document = parse(kit.garden_note.encode(), "markdown", "garden.md")
    assert document.title == "Garden journal"
    assert [s.path for s in document.sections] == [("Spring",), ("Summer",)]
    assert document.sections[1].text == "The tomatoes were watered at dawn; the courgettes gave forty kilos this year."


def test_html_keeps_the_text_and_drops_scripts_styles_and_navigation():
    html = (b"<html><head><title>Recipes</title><style>p {color: red}</style></head><body><nav>Home | About</nav>"
            b"<h1>Bread</h1><p>Knead the dough for <b>ten</b> minutes.</p><script>track()</script>"
            b"<h2>Baking</h2><p>Bake at 220 degrees.</p></body></html>")
    document = parse(html, "html", "recipes.html")
    assert document.title == "Recipes"
    assert document.sections == (Section(("Bread",), "Knead the dough for ten minutes."),
                                 Section(("Bread", "Baking"), "Bake at 220 degrees."))


def test_csv_rows_become_lines_of_column_value_pairs():
    data = "name;city;born\nAda Lovelace;London;1815\nAlan Turing;London;1912\n".encode()
    (section,) = parse(data, "csv", "people.csv").sections
    assert section.path == ("Rows 2-3",)
    assert section.text.splitlines() == ["name: Ada Lovelace; city: London; born: 1815",
                                         "name: Alan Turing; city: London; born: 1912"]


def test_plain_text_paragraphs_are_reflowed_and_latin1_is_read():
    text = "The meeting moved to\nThursday at ten.\n\nBring the budget-\nsheets, café included.".encode("cp1252")
    (section,) = parse(text, "text", "memo.txt").sections
    assert section.text == "The meeting moved to Thursday at ten.\nBring the budgetsheets, café included."
    assert reflow("one\ntwo") == "one two"


def test_a_binary_file_named_txt_is_refused():
    with pytest.raises(Unreadable, match="binary"):
        parse(b"\x00\x01\x02 binary", "text", "data.txt")


@pytest.mark.parametrize(("name", "head", "kind"), [
    ("a.PDF", b"%PDF-1.7", "pdf"), ("noext", b"%PDF-1.4", "pdf"), ("n.md", b"# x", "markdown"),
    ("p.htm", b"<html>", "html"), ("t.csv", b"a,b", "csv"), ("r.txt", b"hi", "text"), ("w.docx", b"PK", "docx"),
])
def test_formats_are_told_by_name_and_first_bytes(name, head, kind):
    assert detect(name, head) == kind


@pytest.mark.parametrize(("name", "head", "words"), [
    ("movie.mp4", b"\x00\x00\x00 ftyp", "not supported"), ("fake.pdf", b"hello", "does not start like a PDF"),
])
def test_unsupported_files_are_refused_with_415(name, head, words):
    with pytest.raises(UnsupportedFormat, match=words) as caught:
        detect(name, head)
    assert caught.value.status == 415
