"""The built site in a real browser: the home page, the map's interactions, links, screenshots."""
import re
import tomllib
from html.parser import HTMLParser
from urllib.parse import unquote, urljoin, urlparse

from site_helpers import REPO, ROOT, SCREENSHOTS

CATALOG = tomllib.loads((ROOT / "paths.toml").read_text(encoding="utf-8"))
PATHS, CARDS = CATALOG["paths"], CATALOG["cards"]


def test_home_shows_start_here_and_every_line(page, site_url):
    page.goto(site_url)
    start = page.locator(".start-here li strong")
    assert start.all_inner_texts() == [PATHS[p]["title"] for p in CATALOG["start_here"]]
    assert len(CATALOG["start_here"]) == 3
    legend = page.locator(".legend-item")
    assert legend.count() == len(PATHS) == 26
    drawn = set(page.locator(".metro-map .line").evaluate_all("els => els.map(e => e.dataset.path)"))
    assert drawn == {p for p, v in PATHS.items() if len(v["cards"]) > 1}
    assert page.locator(".metro-map .station").count() == len(CARDS)
    assert page.locator(".all-paths li").count() == len(PATHS)


def test_region_names_lie_inside_the_map(page, site_url):
    """Every region's name is drawn whole, inside the map's canvas (none clipped at an edge)."""
    page.goto(site_url)
    outside = page.locator(".metro-map").evaluate("""svg => {
        const v = svg.viewBox.baseVal, bad = [];
        for (const t of svg.querySelectorAll('.region-label')) {
            const b = t.getBBox();
            if (b.x < v.x || b.y < v.y || b.x + b.width > v.x + v.width || b.y + b.height > v.y + v.height)
                bad.push(t.textContent);
        }
        return bad;
    }""")
    assert page.locator(".metro-map .region-label").count() >= 7
    assert outside == []


def test_home_page_carries_the_seed_text(page, site_url):
    """Title, subtitle, section headings and every 'title — summary' line of the seed site."""
    seed = (REPO / "docs" / "seed-site.txt").read_text(encoding="utf-8").splitlines()
    page.goto(site_url)
    text = " ".join(page.locator("main").inner_text().split())
    expected = seed[0:4] + [seed[8], seed[9], seed[11], seed[12]]
    expected += [line[2:] for line in seed if line.startswith("- ")]
    missing = [line for line in expected if " ".join(line.split()) not in text]
    assert not missing and len(expected) == 8 + 26, missing


def _opacity(page, selector):
    return page.locator(selector).first.evaluate("e => Number(getComputedStyle(e).opacity)")


def test_clicking_a_legend_entry_highlights_that_line(page, site_url):
    page.goto(site_url)
    target, other = CATALOG["start_here"][0], CATALOG["start_here"][1]
    page.locator(f'.legend-item[data-path="{target}"]').click()
    page.mouse.move(0, 0)  # leave the legend: the click keeps the highlight pinned
    assert "has-active" in page.locator(".metro").get_attribute("class")
    active = page.locator(".metro-map .line.is-active")
    assert set(active.evaluate_all("els => els.map(e => e.dataset.path)")) == {target}
    assert active.count() == len(PATHS[target]["cards"]) - 1
    page.wait_for_timeout(300)  # the CSS transition
    assert _opacity(page, f'.metro-map .line[data-path="{target}"]') == 1
    assert _opacity(page, f'.metro-map .line[data-path="{other}"]') < 0.2
    on_line = page.locator(".metro-map .station.is-active")
    assert sorted(on_line.evaluate_all("els => els.map(e => e.dataset.card)")) == sorted(set(PATHS[target]["cards"]))
    assert page.locator(f'.legend-item[data-path="{target}"]').get_attribute("aria-pressed") == "true"
    page.keyboard.press("Escape")
    assert "has-active" not in page.locator(".metro").get_attribute("class")
    assert page.locator(".metro-map .line.is-active").count() == 0


def test_clicking_a_line_on_the_map_highlights_it(page, site_url):
    page.goto(site_url)
    target = "numerics"
    page.locator(f'.metro-map .line[data-path="{target}"]').first.scroll_into_view_if_needed()
    # Find a point on one of the line's segments where that segment is the topmost element.
    point = page.evaluate("""(pid) => {
        for (const el of document.querySelectorAll(`.metro-map .line[data-path="${pid}"]`)) {
            el.scrollIntoView({block: "center", inline: "center"});
            const len = el.getTotalLength();
            for (const t of [0.5, 0.4, 0.6, 0.3, 0.7]) {
                const p = el.getPointAtLength(len * t);
                const m = el.getScreenCTM();
                const x = m.a * p.x + m.c * p.y + m.e, y = m.b * p.x + m.d * p.y + m.f;
                if (document.elementFromPoint(x, y) === el) return {x, y};
            }
        }
        return null;
    }""", target)
    assert point is not None, f"no clickable point on line {target}"
    page.mouse.click(point["x"], point["y"])
    page.mouse.move(0, 0)
    assert page.locator(".metro").get_attribute("data-active") == target
    assert set(page.locator(".metro-map .line.is-active").evaluate_all(
        "els => els.map(e => e.dataset.path)")) == {target}


def test_clicking_a_station_opens_its_card(page, site_url):
    page.goto(site_url)
    card = PATHS[CATALOG["start_here"][0]]["cards"][0]
    page.locator(f'.metro-map .station[data-card="{card}"] rect').click()
    page.wait_for_url(re.compile(rf"cards/{card}\.html$"))
    assert page.locator("h1").inner_text() == CARDS[card]["title"]


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links, self.ids = [], set()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(a["id"])
        for key in ("href", "src"):
            if a.get(key):
                self.links.append(a[key])


def test_no_broken_internal_links_and_every_page_reachable(built_site):
    """Crawl from index.html over the built files: every internal link and #anchor resolves."""
    base = "http://site/"
    parsed, broken, todo, seen = {}, [], ["index.html"], set()
    while todo:
        rel = todo.pop()
        if rel in seen:
            continue
        seen.add(rel)
        if not rel.endswith(".html"):
            continue
        parser = _Links()
        parser.feed((built_site / rel).read_text(encoding="utf-8"))
        parsed[rel] = parser
        for link in parser.links:
            url = urlparse(urljoin(base + rel, link))
            if url.netloc != "site":
                continue  # an external link: not ours to check offline
            target = unquote(url.path.lstrip("/")) or "index.html"
            if not (built_site / target).is_file():
                broken.append(f"{rel} -> {link}")
                continue
            if url.fragment and "=" not in url.fragment:  # "#line=<path>" is read by map.js
                parsed.setdefault("#frag", []).append((rel, link, target, unquote(url.fragment)))
            todo.append(target)
    for rel, link, target, frag in parsed.pop("#frag", []):
        if frag not in parsed[target].ids:
            broken.append(f"{rel} -> {link} (no id '{frag}')")
    assert not broken, "broken links:\n" + "\n".join(broken)
    pages = {p.relative_to(built_site).as_posix() for p in built_site.rglob("*.html")}
    assert pages - seen == set(), "pages no link reaches"
    assert len(pages) >= 1 + len(PATHS) + len(CARDS)


def test_screenshots(browser, site_url):
    """Screenshots of the home page, the map and one path page (artifacts, not assertions on pixels)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path_id = CATALOG["start_here"][0]
    for scheme in ("light", "dark"):
        context = browser.new_context(viewport={"width": 1400, "height": 1000}, color_scheme=scheme)
        pg = context.new_page()
        pg.goto(site_url)
        pg.screenshot(path=SCREENSHOTS / f"home-{scheme}.png", full_page=True)
        pg.goto(f"{site_url}paths/{path_id}.html")
        pg.screenshot(path=SCREENSHOTS / f"path-{path_id}-{scheme}.png", full_page=True)
        context.close()
    context = browser.new_context(viewport={"width": 2000, "height": 2000})
    pg = context.new_page()
    pg.goto(site_url)
    pg.locator(".metro-map").screenshot(path=SCREENSHOTS / "map.png")
    context.close()
    shots = sorted(SCREENSHOTS.glob("*.png"))
    assert len(shots) == 5 and all(p.stat().st_size > 10_000 for p in shots)


def test_all_paths_list_follows_the_seed_order(page, site_url):
    seed = (REPO / "docs" / "seed-site.txt").read_text(encoding="utf-8").splitlines()
    titles = [line[2:].split(" — ")[0] for line in seed if line.startswith("- ")]
    page.goto(site_url)
    shown = page.locator(".all-paths li a").all_inner_texts()
    assert shown == titles and len(shown) == len(PATHS) == 26


def _pages_with(built_site, needle: str, under: str) -> list[str]:
    return sorted(p.relative_to(built_site).as_posix() for p in (built_site / under).rglob("*.html")
                  if needle in p.read_text(encoding="utf-8"))


def test_a_worked_answer_is_folded_until_clicked(page, site_url, built_site):
    cards = _pages_with(built_site, "<summary>풀이</summary>", "cards")
    steps = _pages_with(built_site, "<summary>풀이</summary>", "steps")
    assert cards or steps, "no page has a folded 풀이"
    for rel in (cards[:1] + steps[:1]):
        page.goto(site_url + rel)
        fold = page.locator("details", has=page.locator("summary", has_text="풀이")).first
        assert fold.get_attribute("open") is None
        body = fold.locator(":scope > :not(summary)").first
        assert not body.is_visible()
        fold.locator("summary").click()
        assert fold.get_attribute("open") is not None and body.is_visible()
        assert "<details" not in page.locator(".prose").first.inner_text()  # not shown as text


def _check_figures(page, url):
    page.goto(url)
    figs = page.locator("figure.fig img")
    assert figs.count() >= 1, url
    for i in range(figs.count()):
        img = figs.nth(i)
        img.scroll_into_view_if_needed()
        img.evaluate("i => i.complete ? null : new Promise(r => { i.onload = i.onerror = r; })")
        size = img.evaluate("i => [i.naturalWidth, i.naturalHeight]")
        assert size[0] > 0 and size[1] > 0, f"{url}: {img.get_attribute('src')} did not load"
        assert len(img.get_attribute("alt") or "") > 20, f"{url}: {img.get_attribute('src')} has no alt text"


def test_every_card_with_a_figure_shows_it(page, site_url, built_site):
    """Each card page with a figure marker shows an image that loads, with alt text."""
    for rel in _pages_with(built_site, '<figure class="fig"', "cards"):
        _check_figures(page, site_url + rel)


def test_steps_whose_run_draws_a_plot_show_it(page, site_url, built_site):
    plotting = [step for step in sorted((ROOT / "labs").glob("*/step[0-9][0-9]"))
                if (step / "run.py").is_file() and re.search(r"\bplot_\w+\(", (step / "run.py").read_text(encoding="utf-8"))]
    assert plotting, "no step's run draws a plot"
    for step in plotting:
        url = f"{site_url}steps/{step.parent.name}/{step.name}.html"
        _check_figures(page, url)
        assert page.locator(".run-plots figure, .prose figure").count() >= 1
