"""Markdown to HTML: markdown-it-py, $math$ via latex2mathml (MathML), code via Pygments.

Raw HTML stays off (it is shown as text), with two exceptions the lessons need, each parsed
by its own block rule so nothing else gets through:

- folded answers: a line `<details><summary>풀이</summary>` (or `<details>` then a line
  `<summary>…</summary>`; `<details open>` starts unfolded), Markdown inside, a line
  `</details>`. They nest, and may sit inside list items.
- figures: a line `<!-- figure: ID -->` (invisible on GitHub) becomes the figure ID from
  docs/site/figures.py; the builder supplies how (`figure` in the render env).

Math must render: after inline parsing, a `$`, `\\(`, `\\)`, `\\[` or `\\]` left in the text, or
LaTeX that latex2mathml cannot convert, is a problem reported with its file line (a literal
dollar is written `\\$`). Links are rewritten by a `linker` the builder supplies, so a link to
a card's markdown file or to a lab step becomes a link to that page, and a broken one becomes
a build error.
"""
from __future__ import annotations

import functools
import html
import re

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
DETAILS_OPEN = re.compile(r"<details( open)?>\s*(?:<summary>(.*?)</summary>\s*)?$")
SUMMARY = re.compile(r"<summary>(.*?)</summary>\s*$")
DETAILS_CLOSE = "</details>"
FIGURE = re.compile(r"<!--\s*figure:\s*([a-z0-9][a-z0-9-]*)\s*-->\s*$")
TEX_ESCAPES = {"\\(", "\\)", "\\[", "\\]"}   # LaTeX's other math delimiters, which Markdown eats


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


@functools.lru_cache(maxsize=None)
def _convert(latex: str, display: str) -> str:
    return latex_to_mathml(latex, display=display)


def math_error(latex: str, display: bool) -> str | None:
    """Why latex2mathml cannot convert this, or None when it can."""
    try:
        _convert(latex.strip(), "block" if display else "inline")
    except Exception as e:  # latex2mathml raises many types
        return f"{type(e).__name__}: {e}"
    return None


def _math(latex: str, options: dict) -> str:
    try:
        return _convert(latex, "block" if options.get("display_mode") else "inline")
    except Exception:  # already reported by the audit; show the source
        return f'<code class="math-error">{html.escape(latex)}</code>'


# ---- block rules: <details> and figure markers ---------------------------------------------
def _line(state, n: int) -> str:
    return state.src[state.bMarks[n] + state.tShift[n]:state.eMarks[n]]


def _details(state, start: int, end: int, silent: bool) -> bool:
    if state.sCount[start] - state.blkIndent >= 4:
        return False
    m = DETAILS_OPEN.match(_line(state, start))
    if not m:
        return False
    summary, first = m[2], start + 1
    if summary is None and first < end:
        s = SUMMARY.match(_line(state, first))
        if s:
            summary, first = s[1], first + 1
    depth, close, indent = 1, first, min(state.blkIndent, state.sCount[start])
    while close < end:
        if state.sCount[close] < indent and not state.isEmpty(close):
            return False  # the container (a list item) ends before </details>
        text = _line(state, close).strip()
        if DETAILS_OPEN.match(text):
            depth += 1
        elif text == DETAILS_CLOSE:
            depth -= 1
            if depth == 0:
                break
        close += 1
    else:
        return False
    if silent:
        return True
    tok = state.push("details_open", "details", 1)
    tok.block, tok.map = True, [start, close + 1]
    if m[1]:
        tok.attrSet("open", "")
    if summary is not None:
        state.push("summary_open", "summary", 1).block = True
        inline = state.push("inline", "", 0)
        inline.content, inline.map, inline.children = summary.strip(), [start, start + 1], []
        state.push("summary_close", "summary", -1).block = True
    old_parent, old_max = state.parentType, state.lineMax
    state.parentType, state.lineMax = "details", close
    state.md.block.tokenize(state, first, close)
    state.parentType, state.lineMax = old_parent, old_max
    state.push("details_close", "details", -1).block = True
    state.line = close + 1
    return True


def _figure(state, start: int, end: int, silent: bool) -> bool:
    if state.sCount[start] - state.blkIndent >= 4:
        return False
    m = FIGURE.match(_line(state, start))
    if not m:
        return False
    if not silent:
        tok = state.push("figure", "figure", 0)
        tok.block, tok.info, tok.map = True, m[1], [start, start + 1]
        state.line = start + 1
    return True


def _render_figure(self, tokens, idx, options, env) -> str:
    tok = tokens[idx]
    make = env.get("figure")
    return (make(tok.info, tok.map[0] + 1) if make else None) or ""


def _render_math_display_inline(self, tokens, idx, options, env) -> str:
    # `$$…$$` inside a paragraph: display math, in a span so the paragraph stays valid HTML
    return f'<span class="math display">{_math(tokens[idx].content.strip(), {"display_mode": True})}</span>'


# ---- the math audit (a core rule between inline parsing and text_join) ---------------------
def _audit(state) -> None:
    problems = state.env.setdefault("math_problems", [])
    for tok in state.tokens:
        if tok.type == "math_block" or tok.type == "math_block_label":
            err = math_error(tok.content, True)
            if err:
                problems.append((tok.map[0] + 1, f"cannot convert math: {err}"))
        if tok.type != "inline" or not tok.children:
            continue
        line = (tok.map[0] if tok.map else 0) + 1
        for child in tok.children:
            if child.type in ("softbreak", "hardbreak"):
                line += 1
            elif child.type == "text" and re.search(r"\$|\\[()\[\]]", child.content):
                snippet = child.content.strip()[:60]
                problems.append((line, f"unrendered math delimiter in text: {snippet!r}"))
            elif child.type == "text_special" and child.info == "escape":
                if child.markup in TEX_ESCAPES:
                    problems.append((line, f"unrendered math delimiter {child.markup!r} (write math as $…$)"))
                elif child.content == "$":  # a literal dollar, written \$: kept out of the audit of the page
                    child.type, child.content = "html_inline", "&#36;"
            elif child.type in ("math_inline", "math_inline_double"):
                err = math_error(child.content, child.type == "math_inline_double")
                if err:
                    problems.append((line, f"cannot convert math ${child.content.strip()[:50]}$: {err}"))
            line += child.content.count("\n") if child.type.startswith("math") else 0


class Markdown:
    def __init__(self):
        self.md = (MarkdownIt("commonmark", {"html": False, "highlight": self._fence})
                   .enable(["table", "strikethrough"]))
        dollarmath_plugin(self.md, renderer=_math, double_inline=True)
        anchors_plugin(self.md, min_level=2, max_level=3)  # GitHub-style ids, so README#section links work
        alt = {"alt": ["paragraph", "reference", "blockquote", "list"]}
        self.md.block.ruler.before("html_block", "details", _details, alt)
        self.md.block.ruler.before("html_block", "figure", _figure, alt)
        self.md.core.ruler.before("text_join", "math_audit", _audit)
        self.md.add_render_rule("figure", _render_figure)
        self.md.add_render_rule("math_inline_double", _render_math_display_inline)

    @staticmethod
    def _fence(code: str, lang: str, _attrs) -> str:
        return highlight_code(code, lang)

    def render(self, text: str, linker, drop_h1: bool = True, figure=None,
               problems: list | None = None) -> str:
        """`linker(href, kind)` returns the new href, or None to keep only the text.

        kind is "link", "image" or "step-ref" (inline code naming a lab step).
        `figure(id, line)` returns a figure's HTML (or None after recording why it cannot).
        Math problems are appended to `problems` as (line, message)."""
        env = {"figure": figure}
        tokens = self.md.parse(text, env)
        if problems is not None:
            problems += env.get("math_problems", [])
        if drop_h1 and tokens and tokens[0].type == "heading_open" and tokens[0].tag == "h1":
            tokens = tokens[3:]  # the page header already shows the title
        for tok in tokens:
            if tok.type == "inline":
                tok.children = self._relink(tok.children or [], linker)
        return self.md.renderer.render(tokens, self.md.options, env)

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
