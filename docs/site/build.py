"""Build the static site: python docs/site/build.py [--root REPO] [--out DIR] [--serve [PORT]].

Reads paths.toml, docs/cards/*.md and labs/*/stepNN, renders every page into memory,
and writes docs/_build only when nothing is broken. A broken reference (unknown card,
missing card body, link to a missing card or file) prints one `error:` line per problem
and exits with status 1.
"""
from __future__ import annotations

import argparse
import functools
import http.server
import posixpath
import re
import shutil
import sys
from pathlib import Path
from urllib.parse import unquote

from jinja2 import Environment, FileSystemLoader, StrictUndefined

import metro
from model import Site, SiteError, load
from render import Markdown, highlight_diff, pygments_css

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

    def pages(self) -> dict[str, str]:
        site, out = self.site, {}
        lay = metro.layout(site.cards, site.paths)
        out["index.html"] = self.page("index.html", "index.html", map_svg=metro.svg(site, lay))
        for pid, path in site.paths.items():
            url = site.path_url(pid)
            out[url] = self.page("path.html", url, path=path,
                                 adds={s.number: self.step_adds(s) for s in path["steps"]})
        for cid, card in site.cards.items():
            url = site.card_url(cid)
            body = (self.md.render(card["body"], self.linker(f"docs/cards/{cid}.md", "../"))
                    if card["body"] is not None else None)
            out[url] = self.page("card.html", url, card=card, body=body)
        for step in site.all_steps():
            readme = (self.md.render(step.readme, self.linker(f"{step.rel_dir}/README.md", "../../"))
                      if step.readme else None)
            out[step.url] = self.page(
                "step.html", step.url, step=step, path=site.paths[step.path_id], readme=readme,
                diff=highlight_diff(step.diff()), diff_stat=step.diff_stat())
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
        return len(pages)


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
        count = Builder(load(root)).write(out_dir)
    except SiteError as e:
        for msg in e.args:
            print(f"error: {msg}", file=sys.stderr)
        return 1
    except RuntimeError as e:  # dot missing or failing
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(f"built {count} pages into {out_dir}")
    if args.serve is not None:
        serve(out_dir, args.serve)
    return 0


if __name__ == "__main__":
    sys.exit(main())
