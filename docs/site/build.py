"""Build the static site: python docs/site/build.py [--root REPO] [--out DIR] [--serve [PORT]].

Reads paths.toml, docs/cards/*.md and labs/*/stepNN, renders every page into memory,
draws the figures (figures.py), and writes docs/_build only when nothing is broken. A broken
reference (unknown card, missing card body, link to a missing card or file, unknown figure),
math left unrendered (file and line of the Markdown, or of the page when the text came from
elsewhere) or a figure that cannot be drawn prints one `error:` line per problem and exits
with status 1. The build also prints the map's line crossings and total line length.
"""
from __future__ import annotations

import argparse
import functools
import html
import http.server
import posixpath
import re
import shutil
import sys
from pathlib import Path
from urllib.parse import unquote

from html.parser import HTMLParser

from jinja2 import Environment, FileSystemLoader, StrictUndefined

import figures
import metro
from model import Site, SiteError, load
from render import FIGURE, Markdown, highlight_diff, pygments_css

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
GPU_LABEL = {"none": "필요 없음 (CPU)", "optional": "있으면 사용 (optional)", "required": "필요 (CUDA)"}
EXTERNAL = re.compile(r"^(?:[a-z][a-z0-9+.-]*:|#)", re.I)


class Builder:
    def __init__(self, site: Site):
        self.site = site
        self.md = Markdown()
        self.errors: list[str] = []
        self.files: dict[str, Path] = {}   # copied assets (images): site path -> source
        self.drawn: dict[str, str] = {}    # figures: site path -> SVG text
        self.figure_text: dict[str, figures.Drawn] = {}
        self.map_report = ""
        self.sources: dict[str, tuple[str, bool]] = {}  # page -> (its Markdown source, math reported)
        self.env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=True,
                               undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
        self.env.globals.update(site=site, gpu_label=GPU_LABEL)

    # ---- links inside markdown -------------------------------------------
    def linker(self, source: str, root: str):
        """A link rewriter for markdown read from repo file `source`, shown on a page at `root`."""
        def link(href: str, kind: str):
            if kind == "step-ref":
                step = self.site.step_by_dir(href)
                return root + step.url if step else None
            if not href or EXTERNAL.match(href):
                return href
            target, _, frag = href.partition("#")
            target = unquote(target)  # markdown-it percent-encodes non-ASCII in links
            rel = posixpath.normpath(posixpath.join(posixpath.dirname(source), target))
            frag = f"#{frag}" if frag else ""
            card = re.fullmatch(r"docs/cards/([^/]+)\.md", rel)
            if card:
                if card[1] in self.site.cards:
                    return root + self.site.card_url(card[1]) + frag
                self.errors.append(f"{source}: link to missing card '{card[1]}' ({href})")
                return None
            exists = not rel.startswith("..") and (self.site.root / rel).exists()
            if kind == "image":
                if exists:
                    self.files[f"files/{rel}"] = self.site.root / rel
                    return f"{root}files/{rel}"
                print(f"warning: {source}: image not found: {href}", file=sys.stderr)
                return None
            step = self.site.step_by_dir("/".join(rel.split("/")[:3]))
            if step and (rel == step.rel_dir or rel == f"{step.rel_dir}/README.md"):
                return root + step.url + frag
            if not exists:
                self.errors.append(f"{source}: broken link to '{href}'")
            return None  # a real file the site has no page for: keep the text only
        return link

    # ---- pages -----------------------------------------------------------
    def page(self, template: str, url: str, **ctx) -> str:
        root = "../" * url.count("/")
        return self.env.get_template(template).render(root=root, url=url, **ctx)

    def step_adds(self, step) -> str:
        """The first paragraph under the README's '이 단계에서 더하는 것' heading."""
        m = re.search(r"^##\s*이 단계에서 더하는 것[^\n]*\n+((?:[^\n]+\n?)+)", step.readme or "", re.M)
        return self.md.render_inline(m[1].strip()) if m else ""

    def markdown(self, text: str, source: str, root: str, step=None, page: str = "") -> str:
        """Render one Markdown file; its math problems and bad figures become errors."""
        problems: list = []
        out = self.md.render(text, self.linker(source, root), problems=problems,
                             figure=self.figure_maker(source, root, step))
        by_line: dict[int, list[str]] = {}
        for line, msg in problems:
            by_line.setdefault(line, []).append(msg)
        self.errors += [f"{source}:{line}: {'; '.join(dict.fromkeys(msgs))}" for line, msgs in sorted(by_line.items())]
        self.sources[page] = (source, bool(problems))
        return out

    # ---- figures ---------------------------------------------------------------------
    def figure_maker(self, source: str, root: str, step):
        def make(fid: str, line: int):
            fig = figures.FIGURES.get(fid)
            if fig is None:
                self.errors.append(f"{source}:{line}: unknown figure '{fid}' "
                                   f"(known: {', '.join(sorted(figures.FIGURES))})")
                return None
            if fig.per_step and step is None:
                self.errors.append(f"{source}:{line}: figure '{fid}' draws a step's recorded run: "
                                   "place it in that step's README")
                return None
            return self.figure(fid, root, step, where=f"{source}:{line}")
        return make

    def figure(self, fid: str, root: str, step, where: str) -> str | None:
        fig = figures.FIGURES[fid]
        rel = f"figures/{step.path_id}-{step.slug}-{fid}.svg" if fig.per_step else f"figures/{fid}.svg"
        if rel not in self.figure_text:
            try:
                drawn = figures.draw(fid, figures.Context(self.site.root, step.dir if fig.per_step else None))
            except figures.FigureError as e:
                self.errors.append(f"{where}: {e}")
                return None
            self.figure_text[rel], self.drawn[rel] = drawn, drawn.svg
        drawn = self.figure_text[rel]
        return (f'<figure class="fig" id="fig-{fid}"><img src="{root}{rel}" alt="{html.escape(drawn.alt)}">'
                f'<figcaption>{self.md.render_inline(drawn.caption)}</figcaption></figure>\n')

    def step_plots(self, step) -> list[str]:
        """The plots this step's run draws (run.py calls the figure's function), unless the
        README already places them."""
        run = step.dir / "run.py"
        code = run.read_text(encoding="utf-8") if run.is_file() else ""
        placed = {m[1] for line in (step.readme or "").splitlines() if (m := FIGURE.match(line.strip()))}
        out = []
        for fid, fig in figures.FIGURES.items():
            if fig.step_plot and f"{fig.step_plot}(" in code and fid not in placed:
                made = self.figure(fid, "../../", step, where=f"{step.rel_dir}/run.py")
                if made:
                    out.append(made)
        return out

    def pages(self) -> dict[str, str]:
        site, out = self.site, {}
        lay = metro.layout(site.cards, site.paths)
        crossings, length = metro.metrics(lay, site.paths)
        self.map_report = (f"map: {crossings} line crossings, total line length {length:.0f} px "
                           f"(before regions: {metro.BASELINE['crossings']} and {metro.BASELINE['length']})")
        out["index.html"] = self.page("index.html", "index.html", map_svg=metro.svg(site, lay))
        for pid, path in site.paths.items():
            url = site.path_url(pid)
            out[url] = self.page("path.html", url, path=path,
                                 adds={s.number: self.step_adds(s) for s in path["steps"]})
        for cid, card in site.cards.items():
            url = site.card_url(cid)
            body = (self.markdown(card["body"], f"docs/cards/{cid}.md", "../", page=url)
                    if card["body"] is not None else None)
            out[url] = self.page("card.html", url, card=card, body=body)
        for step in site.all_steps():
            readme = (self.markdown(step.readme, f"{step.rel_dir}/README.md", "../../", step, page=step.url)
                      if step.readme else None)
            out[step.url] = self.page(
                "step.html", step.url, step=step, path=site.paths[step.path_id], readme=readme,
                plots=self.step_plots(step), diff=highlight_diff(step.diff()), diff_stat=step.diff_stat())
        for url, text in out.items():
            source, reported = self.sources.get(url, ("", False))
            if not reported:
                self.errors += [f"{url}:{line}: unrendered math delimiter in the page's text {snippet!r}, "
                                "from text that is not Markdown (paths.toml, step.toml or a template)"
                                for line, snippet in raw_math(text)]
        return out

    def write(self, out_dir: Path) -> int:
        pages = self.pages()
        if self.errors:
            raise SiteError(*self.errors)
        if out_dir.exists():
            if any(out_dir.iterdir()) and not (out_dir / "index.html").exists():
                raise SiteError(f"{out_dir}: not empty and not a previous build; choose another --out")
            shutil.rmtree(out_dir)
        for rel, text in pages.items():
            dest = out_dir / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_text(text, encoding="utf-8")
        static = out_dir / "static"
        shutil.copytree(HERE / "static", static)
        (static / "pygments.css").write_text(pygments_css(), encoding="utf-8")
        for rel, src in self.files.items():
            (out_dir / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, out_dir / rel)
        for rel, svg in self.drawn.items():
            (out_dir / rel).parent.mkdir(parents=True, exist_ok=True)
            (out_dir / rel).write_text(svg, encoding="utf-8")
        return len(pages)


class _Text(HTMLParser):
    """The text of a page outside code, math, scripts and styles, with its line numbers. Character
    references stay out of the text: a literal dollar is written &#36; (Markdown `\\$`)."""
    SKIP = {"code", "pre", "math", "script", "style"}

    def __init__(self):
        super().__init__(convert_charrefs=False)
        self.depth, self.hits = 0, []

    def handle_starttag(self, tag, attrs):
        self.depth += tag in self.SKIP

    def handle_endtag(self, tag):
        self.depth -= tag in self.SKIP

    def handle_data(self, data):
        if self.depth == 0:
            for m in re.finditer(r"\$|\\[()\[\]]", data):
                line = self.getpos()[0] + data.count("\n", 0, m.start())
                self.hits.append((line, data[max(0, m.start() - 20):m.end() + 20].strip()))


def raw_math(page: str) -> list[tuple[int, str]]:
    """(line, snippet) for every math delimiter left in a page's visible text."""
    parser = _Text()
    parser.feed(page)
    parser.close()
    return parser.hits


def serve(out_dir: Path, port: int) -> None:
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(out_dir))
    with http.server.ThreadingHTTPServer(("127.0.0.1", port), handler) as httpd:
        print(f"serving {out_dir} at http://127.0.0.1:{httpd.server_address[1]}/ (Ctrl+C stops)",
              flush=True)
        try:
            httpd.serve_forever()
        except KeyboardInterrupt:
            pass


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Build the How Deep Learning Computes site.")
    ap.add_argument("--root", type=Path, default=REPO, help="repository root (default: this repo)")
    ap.add_argument("--out", type=Path, help="output folder (default: ROOT/docs/_build)")
    ap.add_argument("--serve", nargs="?", const=8000, type=int, metavar="PORT",
                    help="after building, serve the site on 127.0.0.1:PORT (default 8000; 0 = any)")
    args = ap.parse_args(argv)
    root = args.root.resolve()
    out_dir = (args.out or root / "docs" / "_build").resolve()
    try:
        builder = Builder(load(root))
        count = builder.write(out_dir)
    except SiteError as e:
        for msg in e.args:
            print(f"error: {msg}", file=sys.stderr)
        return 1
    except RuntimeError as e:  # dot missing or failing
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(builder.map_report)
    print(f"built {count} pages into {out_dir}")
    if args.serve is not None:
        serve(out_dir, args.serve)
    return 0


if __name__ == "__main__":
    sys.exit(main())
