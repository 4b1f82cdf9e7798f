"""Keyboard only, in a real browser (RGAA 7.3, 10.7, 12.7, 12.8): from the home page to an
establishment and on to its territory with Tab and Enter alone. Every element that takes the
focus on the way shows it (an outline or a ring that contrasts with what is behind it), none is
a dead stop (a link going nowhere, an invisible element), and « Aller au contenu » skips the
header. Screenshots of the focused elements: tests/screenshots/clavier-*.png."""
from __future__ import annotations

from typing import Any, Callable, Optional

import pytest

from tests.conftest import SCREENSHOTS
from tests.etablissements.conftest import portal  # noqa: F401 - module fixture: real sample data

MAX_TABS = 250

# What the focused element shows, computed by the browser: its outline and box-shadow, the
# colour behind it (first opaque background of it or an ancestor), and whether it is a dead stop.
FOCUS_STATE = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const parse = (text) => {
    const m = (text || '').match(/rgba?\\(([^)]+)\\)/);
    if (!m) return null;
    const p = m[1].split(',').map(Number);
    return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1};
  };
  const background = (node) => {
    for (let n = node; n && n.nodeType === 1; n = n.parentElement) {
      const c = parse(getComputedStyle(n).backgroundColor);
      if (c && c.a > 0.5) return c;
    }
    return {r: 255, g: 255, b: 255, a: 1};
  };
  const style = getComputedStyle(el);
  const rect = el.getBoundingClientRect();
  const href = el.getAttribute('href');
  return {
    tag: el.tagName, id: el.id, href: href, role: el.getAttribute('role'),
    text: (el.innerText || el.value || el.getAttribute('aria-label') || '').trim().slice(0, 60),
    outlineStyle: style.outlineStyle, outlineWidth: parseFloat(style.outlineWidth) || 0,
    outlineColor: parse(style.outlineColor), shadowColor: parse(style.boxShadow),
    behind: background(el.parentElement || el),
    width: rect.width, height: rect.height,
    visible: style.visibility !== 'hidden' && style.opacity !== '0',
    inContent: !!(document.getElementById('content') && document.getElementById('content').contains(el)),
  };
}"""


def _luminance(colour: dict[str, float]) -> float:
    def linear(channel: float) -> float:
        value = channel / 255
        return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4
    return 0.2126 * linear(colour["r"]) + 0.7152 * linear(colour["g"]) + 0.0722 * linear(colour["b"])


def contrast(first: dict[str, float], second: dict[str, float]) -> float:
    high, low = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def focus_problems(state: dict[str, Any]) -> list[str]:
    """Why a focused element fails the walk: focus not visible enough, or a dead stop."""
    problems = []
    ring_contrasts = [contrast(c, state["behind"]) for c in (state["outlineColor"], state["shadowColor"]) if c]
    if state["outlineStyle"] == "none" or state["outlineWidth"] < 2:
        problems.append(f"focus invisible (outline {state['outlineStyle']} {state['outlineWidth']}px)")
    elif not ring_contrasts or max(ring_contrasts) < 3:
        problems.append(f"focus outline contrast {max(ring_contrasts or [0]):.1f}:1 < 3:1")
    if state["tag"] == "A" and (state["href"] in (None, "", "#")) and state["role"] != "button":
        problems.append(f"dead link (href={state['href']!r})")
    if state["width"] < 1 or state["height"] < 1 or not state["visible"]:
        problems.append("invisible element takes the focus")
    return problems


class KeyboardWalk:
    """Presses Tab and records every focus stop and what is wrong with it."""

    def __init__(self, page) -> None:
        self.page = page
        self.problems: list[str] = []

    def tab(self) -> Optional[dict[str, Any]]:
        """The next focus stop; None when the focus leaves the page (after its last stop)."""
        self.page.keyboard.press("Tab")
        state = self.page.evaluate(FOCUS_STATE)
        if state is None:
            return None
        for problem in focus_problems(state):
            self.problems.append(f"{self.page.url} {state['tag']} « {state['text']} » : {problem}")
        return state

    def tab_until(self, wanted: Callable[[dict[str, Any]], bool], what: str) -> dict[str, Any]:
        for _ in range(MAX_TABS):
            state = self.tab()
            if state is not None and wanted(state):
                return state
        raise AssertionError(f"{what} never got the focus in {MAX_TABS} Tab presses on {self.page.url}")

    def enter(self) -> None:
        with self.page.expect_navigation():
            self.page.keyboard.press("Enter")


def shoot_focus(page, screenshot, name: str) -> None:
    """The whole page (the `screenshot` fixture) and, beside it, `<name>-focus.png`: the
    focused element and its surroundings at full size, where the focus ring can be seen."""
    screenshot(page, name)
    box = page.evaluate("""() => { const r = document.activeElement.getBoundingClientRect();
        return {x: r.left + window.scrollX, y: r.top + window.scrollY, w: r.width, h: r.height}; }""")
    size = page.evaluate("() => ({w: document.documentElement.scrollWidth, h: document.documentElement.scrollHeight})")
    x = max(0, min(box["x"] - 300, size["w"] - 800))
    y = max(0, min(box["y"] - 150, size["h"] - 400))
    page.screenshot(path=str(SCREENSHOTS / f"{name}-focus.png"), full_page=True,
                    clip={"x": x, "y": y, "width": min(800, size["w"]), "height": min(400, size["h"])})


@pytest.mark.usefixtures("with_plugins")
def test_keyboard_only_home_to_establishment_to_territory(portal, page, live_server, screenshot):
    college = portal.college_with_ips()
    uai = college["Identifiant_de_l_etablissement"]
    walk = KeyboardWalk(page)
    page.goto(live_server + "/")

    # 1. The first Tab shows « Aller au contenu », in view.
    skip = walk.tab()
    assert skip["text"] == "Aller au contenu" and skip["href"] == "#content"
    box = page.evaluate("() => document.activeElement.getBoundingClientRect().toJSON()")
    assert box["top"] >= 0 and box["left"] >= 0 and box["width"] > 50
    shoot_focus(page, screenshot, "clavier-1-lien-evitement")

    # 2. The main menu's « Établissements ».
    walk.tab_until(lambda s: s["tag"] == "A" and (s["href"] or "").rstrip("/").endswith("/etablissement"),
                   "the menu link « Établissements »")
    shoot_focus(page, screenshot, "clavier-2-menu-etablissements")
    walk.enter()
    assert page.url.rstrip("/").endswith("/etablissement")

    # 3. « Aller au contenu » skips the header: the next stop is in the page's content.
    assert walk.tab()["text"] == "Aller au contenu"
    page.keyboard.press("Enter")
    assert page.url.endswith("#content")
    after_skip = walk.tab()
    assert after_skip["inContent"], f"after « Aller au contenu », Tab went to {after_skip}"

    # 4. The search field: type the collège's name, Enter, then Tab to its result.
    walk.tab_until(lambda s: s["id"] == "ecarto-q", "the establishment search field")
    shoot_focus(page, screenshot, "clavier-3-recherche")
    page.keyboard.type(f"{college['Nom_etablissement']} {uai}")
    walk.enter()
    walk.tab_until(lambda s: (s["href"] or "").endswith(f"/etablissement/{uai}"), f"the result link of {uai}")
    shoot_focus(page, screenshot, "clavier-4-resultat")
    walk.enter()
    assert page.url.endswith(f"/etablissement/{uai}")
    assert uai in page.title()

    # 5. On the establishment page, the link to its département's page.
    walk.tab_until(lambda s: "/territoire/departement/" in (s["href"] or ""), "the link to the département")
    shoot_focus(page, screenshot, "clavier-5-lien-territoire")
    walk.enter()
    assert "/territoire/departement/" in page.url
    assert college["Libelle_departement"] in page.locator("h1").first.inner_text()

    # 6. The territory page: its first stops (menu, breadcrumb, the map's controls, figures…)
    #    show their focus too.
    for _ in range(40):
        walk.tab()
    shoot_focus(page, screenshot, "clavier-6-territoire")
    assert not walk.problems, "\n".join(walk.problems)


@pytest.mark.usefixtures("with_plugins")
@pytest.mark.parametrize("path", ["/", "/dataset/", "/dataset/ips-colleges-2023", "/etablissement",
                                  "/territoire/france", "/about", "/accessibilite", "/page-qui-n-existe-pas",
                                  "/dataset/ips-colleges-2023/resource/{resource}", "/etablissement/0301326D",
                                  "/documentation-api"])
def test_every_focus_stop_is_visible_and_alive(portal, page, live_server, path):
    """Tab through the whole page, from the skip link back to the top: each stop is visible,
    contrasted, and leads somewhere."""
    page.goto(live_server + path.format(resource=portal.datasets["ips-colleges-2023"]["resources"][0]["id"]))
    walk = KeyboardWalk(page)
    stops = 1 if walk.tab() else 0
    while walk.tab() is not None:          # until the focus leaves the page after its last stop
        stops += 1
        assert stops < 2 * MAX_TABS, "the focus never leaves the page (keyboard trap?)"
    assert not walk.problems, "\n".join(walk.problems)
