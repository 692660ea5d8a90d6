"""The knowledge map as a subway map: cards are stations, each path is a coloured line.

Layout is Graphviz `dot` (a layered layout with crossing minimisation): its graph has
one node per card and one edge per pair of consecutive cards on a path, so each line
runs top to bottom through its stations in order, and a card on several paths is one
interchange station where those lines meet. Station sizes come from our own text-width
estimate, not from installed fonts, so the same paths.toml gives the same map on every
machine with the same Graphviz. We render the SVG ourselves from dot's JSON output.
"""
from __future__ import annotations

import html
import json
import shutil
import subprocess
import unicodedata

FONT_PX = 12        # station label size; dot works in points, we draw 1 pt = 1 px
BOX_H = 22
PAD_X = 10


def text_width(text: str, size: float = FONT_PX) -> float:
    """Rough rendered width: wide (Hangul, CJK) glyphs ~1 em, others ~0.6 em."""
    return size * sum(1.0 if unicodedata.east_asian_width(ch) in "WF" else 0.6 for ch in text)


def _q(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def dot_source(cards: dict, paths: dict) -> str:
    lines = ["digraph map {",
             "  rankdir=TB; nodesep=0.18; ranksep=0.32; splines=true; remincross=true;",
             # squeeze the layout toward 20 inches wide (dot never shrinks the stations)
             "  ratio=compress; size=\"20,40\";",
             f"  node [shape=box fixedsize=true height={BOX_H / 72:.4f} label=\"\"];",
             "  edge [arrowhead=none];"]
    used = {c for p in paths.values() for c in p["cards"]}
    for cid, card in cards.items():
        if cid in used:
            lines.append(f"  {_q(cid)} [width={(text_width(card['title']) + 2 * PAD_X) / 72:.4f}];")
    for pid, path in paths.items():
        for a, b in zip(path["cards"], path["cards"][1:]):
            lines.append(f"  {_q(a)} -> {_q(b)} [line={_q(pid)} penwidth=4];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def layout(cards: dict, paths: dict) -> dict:
    """Run dot; return {width, height, nodes: {id: (cx, cy, w, h)}, edges: [(path_id, svg_d)]}."""
    dot = shutil.which("dot")
    if dot is None:
        raise RuntimeError("Graphviz `dot` not found: install it (Debian: apt-get install graphviz)")
    proc = subprocess.run([dot, "-Tjson"], input=dot_source(cards, paths), text=True,
                          capture_output=True)
    if proc.returncode != 0:
        raise RuntimeError(f"dot failed: {proc.stderr.strip()}")
    g = json.loads(proc.stdout)
    _, _, width, height = (float(v) for v in g["bb"].split(","))
    flip = lambda x, y: (round(x, 1), round(height - y, 1))  # dot's y axis points up
    nodes, names = {}, {}
    for obj in g.get("objects", []):
        x, y = (float(v) for v in obj["pos"].split(","))
        nodes[obj["name"]] = (*flip(x, y), float(obj["width"]) * 72, float(obj["height"]) * 72)
        names[obj["_gvid"]] = obj["name"]
    edges = []
    for e in g.get("edges", []):
        pts = [flip(*map(float, p.split(","))) for p in e["pos"].split() if not p[:2] in ("e,", "s,")]
        d = f"M{pts[0][0]},{pts[0][1]}" + "".join(
            f"C{a[0]},{a[1]} {b[0]},{b[1]} {c[0]},{c[1]}"
            for a, b, c in zip(pts[1::3], pts[2::3], pts[3::3]))
        edges.append((e["line"], d, names[e["tail"]], names[e["head"]]))
    return {"width": width, "height": height, "nodes": nodes, "edges": edges}


def svg(site, lay: dict, root: str = "") -> str:
    """Inline SVG: lines under stations; every element says which path(s) it belongs to."""
    w, h = lay["width"], lay["height"]
    out = [f'<svg class="metro-map" xmlns="http://www.w3.org/2000/svg" viewBox="-4 -4 {w + 8:.0f} {h + 8:.0f}" '
           f'width="{w + 8:.0f}" height="{h + 8:.0f}" role="img" aria-label="전체 지식 지도">',
           '<g class="lines">']
    for pid, d, a, b in lay["edges"]:
        color = site.paths[pid]["color"]
        out.append(f'<path class="line" data-path="{pid}" d="{d}" stroke="{color}">'
                   f'<title>{html.escape(site.paths[pid]["title"])}: '
                   f'{html.escape(site.cards[a]["title"])} → {html.escape(site.cards[b]["title"])}'
                   f'</title></path>')
    out.append('</g><g class="stations">')
    for cid, (cx, cy, bw, bh) in lay["nodes"].items():
        card = site.cards[cid]
        kind = "station interchange" if len(set(card["paths"])) > 1 else "station"
        tip = f'{card["title"]} ({card["title_en"]}): {card["summary"]}'
        out.append(
            f'<a class="{kind}" href="{root}{site.card_url(cid)}" data-card="{cid}" '
            f'data-paths="{" ".join(dict.fromkeys(card["paths"]))}">'
            f'<title>{html.escape(tip)}</title>'
            f'<rect x="{cx - bw / 2:.1f}" y="{cy - bh / 2:.1f}" width="{bw:.1f}" height="{bh:.1f}" rx="{bh / 2:.1f}"/>'
            f'<text x="{cx:.1f}" y="{cy:.1f}">{html.escape(card["title"])}</text></a>')
    out.append("</g></svg>")
    return "\n".join(out)
