"""The web editor in Chromium on `dossier serve` of the example: a project made through
the form is saved through the local backend, checked, and shown by the preview."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest

from browser import AXE, WCAG_TAGS, launch
from helpers import EXAMPLE_IMAGE, Editor, poll

pytestmark = pytest.mark.browser
NEW = "content/projecten/ouders-in-gesprek/index.md"


@pytest.fixture
def admin(editor: Editor) -> Iterator[object]:
    with launch() as browser:
        page = browser.new_page()
        page.on("dialog", lambda dialog: dialog.accept())
        page.goto(editor.url + "admin/")
        page.get_by_role("button", name="Inloggen").click()
        page.get_by_text("Organisaties").first.wait_for(timeout=30000)
        yield page


def _pick(page: object, field: str, text: str) -> None:
    page.locator(f"[id^={field}-field]").click()  # type: ignore[attr-defined]
    page.keyboard.type(text)  # type: ignore[attr-defined]
    page.get_by_text(text).last.wait_for(timeout=10000)  # type: ignore[attr-defined]
    page.keyboard.press("Enter")  # type: ignore[attr-defined]


def _publish(page: object) -> None:
    page.get_by_role("button", name="Publiceer").click()  # type: ignore[attr-defined]
    page.get_by_role("menuitem", name="Publiceer nu").click()  # type: ignore[attr-defined]


def test_a_project_made_in_the_form_is_saved_checked_and_shown(
        editor: Editor, admin: object) -> None:
    page: object = admin
    body = page.inner_text("body")  # type: ignore[attr-defined]
    assert all(label in body for label in ("Projecten", "Organisaties", "Dossiers",
                                           "Pagina's"))
    page.goto(editor.url + "admin/#/collections/projecten/new")  # type: ignore[attr-defined]
    title = page.get_by_label("Titel", exact=True)  # type: ignore[attr-defined]
    title.fill("Ouders in gesprek")
    page.get_by_label("Samenvatting").fill("Gesprekken met ouders.")  # type: ignore
    _pick(page, "thema", "Jeugdzorg")
    _pick(page, "thema", "Gezondheid")
    _pick(page, "uitvoerder", "Al Amal")
    page.get_by_role("button", name="Kies een afbeelding").click()  # type: ignore
    with page.expect_file_chooser() as chooser:  # type: ignore[attr-defined]
        page.get_by_text("Nieuwe uploaden").first.click()  # type: ignore[attr-defined]
    chooser.value.set_files(str(editor.site / EXAMPLE_IMAGE))
    page.get_by_role("button", name="Gebruik selectie").click()  # type: ignore
    page.get_by_label("Alternatieve tekst").fill("Schema van de succesfactoren.")  # type: ignore
    _publish(page)

    record = editor.site / NEW
    assert poll(record.is_file, 30)
    text = record.read_text("utf-8")
    for line in ("titel: Ouders in gesprek", "- jeugdzorg", "- gezondheid",
                 "uitvoerder: al-amal", "bestand: succesfactoren.png",
                 "alt: Schema van de succesfactoren."):
        assert line in text
    assert (record.parent / "succesfactoren.png").is_file()
    checked = subprocess.run([sys.executable, "-m", "dossier", "check", str(editor.site)],
                             capture_output=True, text=True, timeout=120)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert poll(lambda: "Ouders in gesprek" in editor.get("projecten/ouders-in-gesprek/")[2])

    # A changed title, through the form.
    page.wait_for_timeout(1000)  # type: ignore[attr-defined]
    page.goto(editor.url + "admin/#/collections/projecten/entries/"  # type: ignore
              "ouders-in-gesprek/index")
    title = page.get_by_label("Titel", exact=True)  # type: ignore[attr-defined]
    title.fill("Ouders in gesprek, vernieuwd")
    _publish(page)
    assert poll(lambda: "vernieuwd" in editor.get("projecten/ouders-in-gesprek/")[2], 30)

    # Deleted through the form: the file and its photo go, and so does the page.
    page.wait_for_timeout(1000)  # type: ignore[attr-defined]
    page.goto(editor.url + "admin/#/collections/projecten/entries/"  # type: ignore
              "ouders-in-gesprek/index")
    page.get_by_role("button", name="Verwijder").first.click()  # type: ignore
    assert poll(lambda: not record.exists(), 30)
    assert not (record.parent / "succesfactoren.png").exists()
    assert poll(lambda: editor.get("projecten/ouders-in-gesprek/")[0] == 404, 30)


def test_a_save_the_build_refuses_shows_its_message(editor: Editor,
                                                    admin: object) -> None:
    page: object = admin
    before = (editor.site / "content/organisaties/al-amal.md").read_bytes()
    page.goto(editor.url + "admin/#/collections/organisaties/entries/al-amal")  # type: ignore
    page.get_by_role("button", name="Verwijder").first.click()  # type: ignore
    notice = page.get_by_text("Niet opgeslagen")  # type: ignore[attr-defined]
    notice.first.wait_for(timeout=30000)
    assert "al-amal" in notice.first.inner_text()
    assert (editor.site / "content/organisaties/al-amal.md").read_bytes() == before


def test_the_editor_page_s_own_shell_passes_axe(editor: Editor) -> None:
    """What dossier writes of /admin/ (language, title, the link to the report, the
    message without JavaScript) has no axe violation; Decap's own interface, in its root
    element, is Decap's."""
    if not AXE.is_file():
        pytest.skip("axe-core is not installed: run `make test` (npm ci into .cache/node)")
    with launch() as browser:
        page = browser.new_page(bypass_csp=True)
        page.goto(editor.url + "admin/")
        page.get_by_role("button", name="Inloggen").wait_for(timeout=30000)
        page.add_script_tag(path=str(AXE))
        result = page.evaluate(
            "tags => axe.run({exclude: [['#nc-root']]},"
            " {runOnly: {type: 'tag', values: tags}})", WCAG_TAGS)
        assert result["passes"], "axe ran no rule"
        assert [f"{v['id']}: {[n['target'] for n in v['nodes']][:3]}"
                for v in result["violations"]] == []
        report = page.get_by_role("link", name="Wat redacteuren nu kunnen oppakken")
        report.click()
        page.get_by_role("heading", level=1).wait_for(timeout=10000)
        assert "Wat redacteuren nu kunnen oppakken" in page.inner_text("h1")
