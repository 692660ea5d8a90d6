"""Markdown to HTML: markdown-it-py, $math$ via latex2mathml (MathML), code via Pygments.

Links are rewritten by a `linker` the builder supplies, so a link to a card's markdown
file or to a lab step becomes a link to that page, and a broken one becomes a build error.
"""
from __future__ import annotations

import html
import re
import sys

from latex2mathml.converter import convert as latex_to_mathml
from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.anchors import anchors_plugin
from mdit_py_plugins.dollarmath import dollarmath_plugin
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import TextLexer, get_lexer_by_name
from pygments.util import ClassNotFound

STEP_REF = re.compile(r"labs/[a-z0-9-]+/step\d\d")


def highlight_code(code: str, lang: str = "") -> str:
    try:
        lexer = get_lexer_by_name(lang) if lang else TextLexer()
    except ClassNotFound:
        lexer = TextLexer()
    body = highlight(code, lexer, HtmlFormatter(nowrap=True))
    return f'<pre class="highlight"><code>{body}</code></pre>'


def highlight_diff(diff: str) -> str:
    return highlight_code(diff, "diff") if diff else "<p>(차이 없음)</p>"


def pygments_css() -> str:
    """Light and dark code colours, switched by the reader's prefers-color-scheme."""
    light = HtmlFormatter(style="friendly").get_style_defs(".highlight")
    dark = HtmlFormatter(style="github-dark").get_style_defs(".highlight")
    return f"{light}\n@media (prefers-color-scheme: dark) {{\n{dark}\n}}\n"


def _math(latex: str, options: dict) -> str:
    display = "block" if options.get("display_mode") else "inline"
    try:
        return latex_to_mathml(latex, display=display)
    except Exception as e:  # latex2mathml raises many types; show the source, don't stop the site
        print(f"warning: cannot convert math {latex!r}: {e}", file=sys.stderr)
        return f'<code class="math-error">{html.escape(latex)}</code>'


class Markdown:
    def __init__(self):
        self.md = (MarkdownIt("commonmark", {"html": False, "highlight": self._fence})
                   .enable(["table", "strikethrough"]))
        dollarmath_plugin(self.md, renderer=_math)
        anchors_plugin(self.md, min_level=2, max_level=3)  # GitHub-style ids, so README#section links work

    @staticmethod
    def _fence(code: str, lang: str, _attrs) -> str:
        return highlight_code(code, lang)

    def render(self, text: str, linker, drop_h1: bool = True) -> str:
        """`linker(href, kind)` returns the new href, or None to keep only the text.

        kind is "link", "image" or "step-ref" (inline code naming a lab step)."""
        tokens = self.md.parse(text)
        if drop_h1 and tokens and tokens[0].type == "heading_open" and tokens[0].tag == "h1":
            tokens = tokens[3:]  # the page header already shows the title
        for tok in tokens:
            if tok.type == "inline":
                tok.children = self._relink(tok.children or [], linker)
        return self.md.renderer.render(tokens, self.md.options, {})

    def render_inline(self, text: str) -> str:
        return self.md.renderInline(text)

    @staticmethod
    def _relink(children, linker):
        out, dropping = [], []
        for tok in children:
            if tok.type == "link_open":
                href = linker(tok.attrGet("href") or "", "link")
                dropping.append(href is None)
                if href is None:
                    continue
                tok.attrSet("href", href)
            elif tok.type == "link_close":
                if dropping.pop():
                    continue
            elif tok.type == "code_inline" and STEP_REF.fullmatch(tok.content):
                # `labs/<path>/stepNN` in a card body: link it when that step exists
                href = linker(tok.content, "step-ref")
                if href:
                    out += [_token("link_open", href), tok, _token("link_close")]
                    continue
            elif tok.type == "image":
                src = linker(tok.attrGet("src") or "", "image")
                if src is None:  # keep the alt text where the picture cannot be shown
                    tok = _text(tok.content)
                else:
                    tok.attrSet("src", src)
            out.append(tok)
        return out


def _text(content: str) -> Token:
    tok = Token("text", "", 0)
    tok.content = content
    return tok


def _token(kind: str, href: str | None = None) -> Token:
    tok = Token(kind, "a", 1 if kind == "link_open" else -1)
    if href:
        tok.attrSet("href", href)
    return tok
