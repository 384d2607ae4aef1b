"""Wikitext → text: what is kept, what is turned into text, what is dropped."""

from __future__ import annotations

from lumina_crawler.wikitext import normalise_title, parse_page

ARTICLE = """{{Infobox spaceflight
| name = Apollo 8
| image = Apollo-8-patch.png
| operator = [[NASA]]
| launch_date = {{start date|1968|12|21}}
}}
'''Apollo 8''' was the first crewed spacecraft to reach the [[Moon]].<ref>{{cite web|title=NASA}}</ref>
It flew {{convert|240000|mi|km}} from [[Earth|home]].{{citation needed|date=May 2015}}
[[File:Earthrise.jpg|thumb|Earthrise, taken by [[William Anders]]]]
<!-- an editor's note -->

== Crew ==
{| class="wikitable"
! Position !! Astronaut
|-
| Commander || [[Frank Borman]]
|-
| Pilot || {{nowrap|James Lovell}}
|}

=== Backup ===
Neil Armstrong was the backup commander.

== References ==
{{reflist}}
* A book nobody should index.

[[Category:Apollo program]]
[[fr:Apollo 8]]
"""


def test_sections_keep_their_heading_path_and_reference_sections_are_dropped():
    page = parse_page("Apollo 8", ARTICLE)
    assert [s.path for s in page.sections] == [(), ("Crew",), ("Crew", "Backup")]
    assert "nobody should index" not in page.text


def test_infobox_becomes_field_lines_without_images():
    page = parse_page("Apollo 8", ARTICLE)
    lead = page.sections[0].text
    assert "Operator: NASA" in lead and "Launch date: 21 December 1968" in lead
    assert ".png" not in lead
    assert page.infobox["Operator"] == "NASA"


def test_templates_carrying_facts_become_text_and_the_rest_goes():
    lead = parse_page("Apollo 8", ARTICLE).sections[0].text
    assert "It flew 240000 mi from home." in lead
    assert "citation needed" not in lead and "cite web" not in lead and "NASA}}" not in lead
    assert "Earthrise" not in lead and "editor's note" not in lead and "<ref>" not in lead
    assert "Apollo 8 was the first crewed spacecraft to reach the Moon." in lead


def test_tables_keep_their_cells_text_row_by_row():
    crew = parse_page("Apollo 8", ARTICLE).sections[1].text
    assert crew.splitlines() == ["Position; Astronaut", "Commander; Frank Borman", "Pilot; James Lovell"]


def test_links_and_categories_are_collected_without_files_or_interlanguage_links():
    page = parse_page("Apollo 8", ARTICLE)
    assert page.links == ("NASA", "Moon", "Earth", "William Anders", "Frank Borman")
    assert page.categories == ("Apollo program",)


def test_disambiguation_pages_are_recognised_by_their_template():
    page = parse_page("Alien", "'''Alien''' may refer to:\n* [[Alien (film)]]\n{{disambiguation}}")
    assert page.is_disambiguation and page.links == ("Alien (film)",)
    assert not parse_page("Apollo 8", ARTICLE).is_disambiguation


def test_summary_is_the_first_two_sentences_of_the_lead():
    page = parse_page("X", "X is a thing. It has parts. It is old.\n== More ==\nText.")
    assert page.summary == "X is a thing. It has parts."


def test_titles_are_normalised_as_mediawiki_does():
    assert normalise_title("apollo_8") == "Apollo 8"
    assert normalise_title(" Ayn  Rand#Early life") == "Ayn Rand"
