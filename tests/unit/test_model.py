"""The linked Site: derived sides of references, facets and their terms, sort order."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dossier.build import BuildOptions, load_site
from dossier.content.records import Record
from dossier.core.diagnostics import Diagnostic
from dossier.model.facets import Facet
from dossier.model.site import Site, facet_values, sort_key

SECTIONS = "\n".join(f"## {s}\n\nTekst.\n" for s in
                     ("Aanleiding", "Doel", "Aanpak", "Samenwerking", "Resultaten"))


def add_project(site_dir: Path, slug: str, fields: str) -> None:
    """Write a project with the required fields plus `fields` (YAML lines)."""
    text = (f"---\ntitel: {slug}\nsamenvatting: Gegenereerd.\nuitvoerder: org-a\n{fields}"
            f"---\n{SECTIONS}")
    (site_dir / "content" / "projecten" / f"{slug}.md").write_text(text, encoding="utf-8")


def load(site_dir: Path) -> Site:
    problems: list[Diagnostic] = []
    site = load_site(site_dir, BuildOptions(), problems)
    assert [p for p in problems if p.is_error] == []
    return site


def slugs(records: list[Record] | tuple[Record, ...]) -> list[str]:
    return [r.slug for r in records]


def facet(site: Site, collection: str, name: str) -> Facet:
    return next(f for f in site.facets[collection] if f.name == name)


@pytest.fixture
def site(base_site: Path) -> Site:
    return load(base_site)


# --- references and their derived side --------------------------------------------------

def test_organisation_backlinks_name_the_referring_field(site: Site) -> None:
    links = {(b.source.slug, b.field) for b in site.backlinks[("organisaties", "org-a")]}
    assert links == {("project-een", "uitvoerder"), ("project-een", "contact.organisatie"),
                     ("project-drie", "uitvoerder"), ("dossier-een", "beheerder")}


def test_partner_reference_inside_a_list_is_a_backlink(site: Site) -> None:
    links = {(b.source.slug, b.field) for b in site.backlinks[("organisaties", "org-b")]}
    assert links == {("project-een", "partners.organisatie"), ("project-twee", "uitvoerder")}


def test_referrers_from_projecten_are_each_project_once(site: Site) -> None:
    org_a = site.get("organisaties", "org-a")
    # project-een names org-a twice (uitvoerder and contact.organisatie)
    assert slugs(site.referrers(org_a, "projecten")) == ["project-drie", "project-een"]


def test_referrers_via_partners(site: Site) -> None:
    org_b = site.get("organisaties", "org-b")
    assert set(slugs(site.referrers(org_b, "projecten"))) == {"project-een", "project-twee"}
    assert slugs(site.referrers(org_b, fields=["partners.organisatie"])) == ["project-een"]


def test_referrers_filtered_by_field(site: Site) -> None:
    org_a = site.get("organisaties", "org-a")
    assert slugs(site.referrers(org_a, fields=["contact.organisatie"])) == ["project-een"]
    assert slugs(site.referrers(org_a, fields=["uitvoerder"])) == ["project-drie", "project-een"]


def test_referrers_filtered_by_collection(site: Site) -> None:
    org_a = site.get("organisaties", "org-a")
    assert slugs(site.referrers(org_a, "dossiers")) == ["dossier-een"]


def test_dossier_projects_are_its_referrers(site: Site) -> None:
    dossier = site.get("dossiers", "dossier-een")
    assert set(slugs(site.referrers(dossier, "projecten"))) == {"project-een", "project-twee"}


def test_record_without_referrers(site: Site) -> None:
    assert list(site.referrers(site.get("paginas", "over"))) == []


def test_refs_are_the_records_a_record_names(site: Site) -> None:
    assert slugs(site.refs(site.get("projecten", "project-een"), "organisaties")) == [
        "org-a", "org-b"]
    assert slugs(site.refs(site.get("dossiers", "dossier-een"), "organisaties")) == ["org-a"]


def test_draft_is_not_in_the_site_and_gives_no_backlinks(base_site: Path) -> None:
    add_project(base_site, "concept-project", "concept: true\ndossiers: [dossier-een]\n")
    site = load(base_site)
    assert "concept-project" not in slugs(site.records["projecten"])
    dossier = site.get("dossiers", "dossier-een")
    assert "concept-project" not in slugs(site.referrers(dossier))


def test_records_are_grouped_per_collection_sorted_by_slug(site: Site) -> None:
    assert slugs(site.records["projecten"]) == ["project-drie", "project-een", "project-twee"]
    assert slugs(site.records["organisaties"]) == ["org-a", "org-b"]


def test_publisher_is_the_configured_organisation(site: Site) -> None:
    assert site.publisher is not None and site.publisher.slug == "org-a"


def test_build_date_is_the_newest_bijgewerkt(
    base_site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    assert load(base_site).build_date == "2012-06-14"


# --- facets -----------------------------------------------------------------------------

def test_facet_term_counts_equal_records_carrying_the_term(site: Site) -> None:
    for f in site.facets["projecten"]:
        for term in f.terms:
            carriers = [r for r in site.records["projecten"]
                        if term.key in facet_values(r, f.field)]
            assert term.count == len(carriers), (f.name, term.key)
            assert set(slugs(term.records)) == set(slugs(carriers))


def test_jeugdzorg_has_two_projects(site: Site) -> None:
    [term] = [t for t in facet(site, "projecten", "thema").terms if t.key == "jeugdzorg"]
    assert term.count == 2
    assert set(slugs(term.records)) == {"project-een", "project-twee"}


def test_term_listed_twice_in_one_record_counts_once(base_site: Path) -> None:
    add_project(base_site, "dubbel", "thema: [gezondheid, gezondheid]\n")
    site = load(base_site)
    [term] = [t for t in facet(site, "projecten", "thema").terms if t.key == "gezondheid"]
    assert slugs(term.records) == ["dubbel", "project-drie"]


def test_unused_terms_are_not_listed(site: Site) -> None:
    assert "veiligheid" not in [t.key for t in facet(site, "projecten", "thema").terms]


def test_enum_facet_terms_follow_vocabulary_order(site: Site) -> None:
    assert [t.key for t in facet(site, "projecten", "thema").terms] == [
        "opvoedingsondersteuning", "jeugdzorg", "gezondheid"]
    assert [t.key for t in facet(site, "projecten", "status").terms] == ["lopend", "afgerond"]


def test_enum_facet_terms_have_vocabulary_labels_and_key_slugs(site: Site) -> None:
    [term] = [t for t in facet(site, "projecten", "provincie").terms if t.key == "noord-holland"]
    assert (term.label, term.slug, term.url) == (
        "Noord-Holland", "noord-holland", "provincie/noord-holland/")


def test_string_facet_terms_get_slugs(base_site: Path) -> None:
    add_project(base_site, "haags-project", "plaats: Den Haag\n")
    add_project(base_site, "fries-project", "plaats: Fryslân\n")
    site = load(base_site)
    terms = {t.key: (t.label, t.slug, t.url) for t in facet(site, "projecten", "plaats").terms}
    assert terms["Den Haag"] == ("Den Haag", "den-haag", "plaats/den-haag/")
    assert terms["Fryslân"] == ("Fryslân", "fryslan", "plaats/fryslan/")


def test_string_facet_values_with_one_slug_get_distinct_slugs(base_site: Path) -> None:
    add_project(base_site, "haags-project", "plaats: Den Haag\n")
    add_project(base_site, "ander-haags-project", "plaats: den haag\n")
    site = load(base_site)
    found = {t.key: t.slug for t in facet(site, "projecten", "plaats").terms}
    assert sorted([found["Den Haag"], found["den haag"]]) == ["den-haag", "den-haag-2"]


def test_a_very_long_string_facet_value_gets_a_short_slug(base_site: Path) -> None:
    long, longer = "Plaats " * 40 + "een", "Plaats " * 40 + "twee"  # alike for 280 characters
    add_project(base_site, "lang-project", f"plaats: {long}\n")
    add_project(base_site, "langer-project", f"plaats: {longer}\n")
    site = load(base_site)
    found = {t.key: t.slug for t in facet(site, "projecten", "plaats").terms}
    assert len(found[long]) <= 80 and not found[long].endswith("-")
    assert found[longer] == found[long] + "-2"


def test_string_facet_terms_sort_case_insensitively(base_site: Path) -> None:
    add_project(base_site, "a-project", "plaats: amersfoort\n")
    site = load(base_site)
    assert [t.key for t in facet(site, "projecten", "plaats").terms] == [
        "amersfoort", "Utrecht", "Zaandam"]


def test_facets_of_a_collection_without_facet_root_live_in_its_folder(site: Site) -> None:
    types = facet(site, "organisaties", "type")
    assert types.url == "organisaties/type/"
    assert [t.url for t in types.terms] == [
        "organisaties/type/migrantenorganisatie/", "organisaties/type/jeugdvoorziening/"]


def test_facet_root_collection_has_facets_at_the_root(site: Site) -> None:
    assert facet(site, "projecten", "thema").url == "thema/"


# --- sort order -------------------------------------------------------------------------

def titled(site: Site, *titles: str) -> list[Record]:
    base = site.get("projecten", "project-een")
    return [Record(base.collection, f"p{i}", base.path, {**base.data, "titel": title},
                   base.body, base.body_line) for i, title in enumerate(titles)]


def test_sort_key_sorts_by_title_case_insensitively(site: Site) -> None:
    records = titled(site, "beta", "Gamma", "Alpha", "alpha")
    assert [r.title for r in sorted(records, key=sort_key)] == ["Alpha", "alpha", "beta", "Gamma"]


def test_sort_key_breaks_title_ties_by_slug(site: Site) -> None:
    records = titled(site, "Zelfde", "zelfde")
    assert [r.slug for r in sorted(reversed(records), key=sort_key)] == ["p0", "p1"]


def test_sort_key_sorts_accented_titles_with_their_letter(site: Site) -> None:
    records = titled(site, "Twee", "Één", "Drie")
    assert [r.title for r in sorted(records, key=sort_key)] == ["Drie", "Één", "Twee"]


@given(st.text(max_size=12) | st.text(alphabet="aAzZ09 -'éÉĳ", max_size=12))
@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_a_title_sorts_as_its_letters_without_case_or_accents(site: Site, title: str) -> None:
    decomposed = unicodedata.normalize("NFKD", title.casefold())
    letters = "".join(c for c in decomposed if not unicodedata.combining(c))
    assert titled(site, title)[0].unrecorded_sort_key() == (letters, "p0")


def test_pagination_window_links_first_last_and_neighbours() -> None:
    from dossier.plan.pages import Pagination

    urls = tuple(f"p{n}/" for n in range(1, 21))
    assert Pagination(1, 20, urls, 400).window() == [1, 2, 3, 0, 20]
    assert Pagination(10, 20, urls, 400).window() == [1, 0, 8, 9, 10, 11, 12, 0, 20]
    assert Pagination(4, 5, urls[:5], 100).window() == [1, 2, 3, 4, 5]


def test_related_projects_are_those_sharing_most_facet_terms(tmp_path: Path) -> None:
    """The bit-mask computation gives what a plain pairwise comparison gives."""
    from dossier.model.site import facet_values
    from helpers import generated_site

    site_dir = generated_site(tmp_path, 60, organisations=8, words=20)
    site = load_site(site_dir, BuildOptions(), [])
    projects = site.records["projecten"]
    facets = projects[0].collection.facets

    def terms(record: Record) -> set[tuple[str, str]]:
        return {(f.name, v) for f in facets for v in facet_values(record, f)}

    for record in projects:
        scored = sorted((-len(terms(record) & terms(o)), o.sort_key, o.slug)
                         for o in projects if o is not record and terms(record) & terms(o))
        expected = [slug for _, _, slug in scored[:3]]
        assert [r.slug for r in site.related[record.key]] == expected
