"""The knowledge map as a subway map: cards are stations, each path is a coloured line.

Every card belongs to one region (foundations, PyTorch, inference, CUDA, distributed, JAX,
new architectures), derived from the paths that use it: the region most of its paths belong
to (PATH_REGION), ties going to the path listed first in paths.toml.

Layout is Graphviz `neato` (stress majorization): one node per card and one edge per pair of
consecutive cards on a path, an edge inside a region wanting half the length of one between
regions, so a region's stations gather and most lines run inside their region. After dot's
overlap removal a short compaction pass moves each station toward its neighbours wherever that
shortens its lines without touching another station. Station sizes come from our own
text-width estimate, not from installed fonts, so the same paths.toml gives the same map on
every machine with the same Graphviz. We draw the SVG ourselves: straight segments between
stations (parallel where several lines share a pair), stations on top, and under everything a
soft tint per region with the region's name.

`metrics` measures a layout the way the build reports it: line crossings and total line length,
both from the straight segments between consecutive stations of every path.
"""
from __future__ import annotations

import html
import itertools
import json
import math
import shutil
import subprocess
import unicodedata
from collections import Counter

FONT_PX = 11        # station label size; neato works in points, we draw 1 pt = 1 px
LINE_PX = 13        # line height of a wrapped label
BOX_H = 20          # one-line station height
PAD_X = 8
WRAP_PX = 80        # labels wider than this break at the space nearest their middle
SEP = 3             # neato's and the compaction's gap between stations (px)

# The region each path belongs to; a card goes where most of its paths go.
PATH_REGION = {
    "roofline": "foundations", "training-memory": "foundations", "transformer-tensors": "foundations",
    "numerics": "foundations",
    "torch-transformer": "pytorch", "torch-training": "pytorch", "torch-profiling": "pytorch",
    "inference-theory": "inference", "nano-vllm": "inference", "nano-vllm-kernels": "inference",
    "inference-quantization": "inference", "vllm-deep-dive": "inference",
    "cuda-first-kernel": "cuda", "cuda-kernel-basics": "cuda", "cuda-transformer-kernels": "cuda",
    "cuda-flash-attention": "cuda",
    "torch-distributed": "distributed", "training-parallelism": "distributed",
    "large-scale-parallelism": "distributed", "distributed-matmul": "distributed",
    "jax-transformer": "jax", "jax-training": "jax", "jax-profiling": "jax", "jax-distributed": "jax",
    "ssm-hybrid": "new-architectures", "dllm-serving": "new-architectures",
}
# region id -> (label on the map, tint)
REGIONS = {
    "foundations": ("기초", "#e9b949"),
    "pytorch": ("PyTorch", "#ee6c4d"),
    "inference": ("추론", "#3d8fd6"),
    "cuda": ("CUDA", "#4caf50"),
    "distributed": ("분산", "#8e6cc9"),
    "jax": ("JAX", "#d6579b"),
    "new-architectures": ("새 아키텍처", "#7d8793"),
    "other": ("기타", "#9e9e9e"),  # a path missing from PATH_REGION
}

# Today's layout before regions (Graphviz dot, rankdir=TB, ratio=compress into 20 inches, no
# regions: docs/site/metro.py at commit 6314575), measured with `metrics` on that commit's
# paths.toml (26 paths, 153 cards, 196 segments): run the old `layout` from
# `git show 6314575:docs/site/metro.py`, then metrics(). The build prints today's values
# beside these; tests/site checks both are at most half.
BASELINE = {"crossings": 111, "length": 35014}


def text_width(text: str, size: float = FONT_PX) -> float:
    """Rough rendered width: wide (Hangul, CJK) glyphs ~1 em, others ~0.6 em."""
    return size * sum(1.0 if unicodedata.east_asian_width(ch) in "WF" else 0.6 for ch in text)


def wrap(title: str, limit: float = WRAP_PX) -> list[str]:
    """One line, or two split at the space that makes the wider half narrowest."""
    if text_width(title) <= limit or " " not in title.strip():
        return [title]
    cuts = [i for i, ch in enumerate(title) if ch == " "]
    i = min(cuts, key=lambda i: (max(text_width(title[:i]), text_width(title[i + 1:])), i))
    return [title[:i], title[i + 1:]]


def station_size(title: str) -> tuple[float, float, list[str]]:
    lines = wrap(title)
    return (max(text_width(line) for line in lines) + 2 * PAD_X,
            BOX_H + LINE_PX * (len(lines) - 1), lines)


def card_regions(cards: dict, paths: dict) -> dict[str, str]:
    """card id -> region: the region most of the paths through it belong to (ties: first path)."""
    through: dict[str, list[str]] = {}
    for pid, path in paths.items():
        for cid in path["cards"]:
            through.setdefault(cid, []).append(PATH_REGION.get(pid, "other"))
    out = {}
    for cid, regions in through.items():
        count = Counter(regions)
        out[cid] = next(r for r in regions if count[r] == max(count.values()))
    return out


def _q(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def segments(paths: dict) -> list[tuple[str, str, str]]:
    """(path id, card, next card) for every consecutive pair on every path."""
    return [(pid, a, b) for pid, p in paths.items() for a, b in zip(p["cards"], p["cards"][1:])]


def neato_source(cards: dict, paths: dict, sizes: dict, region: dict) -> str:
    lines = ["graph map {",
             f'  overlap=prism; overlap_scaling=-1; sep="+{SEP}"; mode=major; start=1; splines=false;',
             '  node [shape=box fixedsize=true label=""];']
    for cid in sorted(sizes):
        w, h, _ = sizes[cid]
        lines.append(f"  {_q(cid)} [width={w / 72:.4f} height={h / 72:.4f}];")
    for _, a, b in segments(paths):
        lines.append(f"  {_q(a)} -- {_q(b)} [len={0.3 if region[a] == region[b] else 0.6}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _compact(pos: dict, sizes: dict, paths: dict, sweeps: int = 8) -> dict:
    """Move each station toward the mean of its line neighbours when that shortens its lines
    and keeps SEP px clear of every other station (a few sweeps, stations in id order)."""
    nbrs: dict[str, list[str]] = {c: [] for c in pos}
    for _, a, b in segments(paths):
        nbrs[a].append(b)
        nbrs[b].append(a)
    pos = dict(pos)

    def free(c, x, y):
        w, h, _ = sizes[c]
        return all(abs(x - u) >= (w + sizes[d][0]) / 2 + SEP or abs(y - v) >= (h + sizes[d][1]) / 2 + SEP
                   for d, (u, v) in pos.items() if d != c)

    for _ in range(sweeps):
        for c in sorted(pos):
            if not nbrs[c]:
                continue
            x, y = pos[c]
            tx = sum(pos[n][0] for n in nbrs[c]) / len(nbrs[c])
            ty = sum(pos[n][1] for n in nbrs[c]) / len(nbrs[c])
            now = sum(math.dist((x, y), pos[n]) for n in nbrs[c])
            for f in (1.0, 0.75, 0.5, 0.25, 0.1):
                nx, ny = x + f * (tx - x), y + f * (ty - y)
                if sum(math.dist((nx, ny), pos[n]) for n in nbrs[c]) < now and free(c, nx, ny):
                    pos[c] = (nx, ny)
                    break
    return pos


def layout(cards: dict, paths: dict) -> dict:
    """Run neato and compact; return {width, height, nodes: {id: (cx, cy, w, h, lines)},
    edges: [(path_id, svg_d, a, b)], regions: {card: region}, labels: {region: (x, y)}}."""
    neato = shutil.which("neato")
    if neato is None:
        raise RuntimeError("Graphviz `neato` not found: install it (Debian: apt-get install graphviz)")
    used = {c for p in paths.values() for c in p["cards"]}
    sizes = {c: station_size(cards[c]["title"]) for c in used}
    region = card_regions(cards, paths)
    if not used:
        return {"width": 0, "height": 0, "nodes": {}, "edges": [], "regions": {}, "labels": {}}
    proc = subprocess.run([neato, "-Tjson"], input=neato_source(cards, paths, sizes, region), text=True,
                          capture_output=True)
    if proc.returncode != 0:
        raise RuntimeError(f"neato failed: {proc.stderr.strip()}")
    g = json.loads(proc.stdout)
    pos = {obj["name"]: tuple(float(v) for v in obj["pos"].split(","))
           for obj in g.get("objects", []) if "pos" in obj}
    pos = {c: (x, -y) for c, (x, y) in pos.items()}  # neato's y axis points up
    pos = _compact(pos, sizes, paths)
    # shift into a box starting at (0, 0)
    left = min(x - sizes[c][0] / 2 for c, (x, _) in pos.items())
    top = min(y - sizes[c][1] / 2 for c, (_, y) in pos.items())
    pos = {c: (round(x - left, 1), round(y - top, 1)) for c, (x, y) in pos.items()}
    width = max(x + sizes[c][0] / 2 for c, (x, _) in pos.items())
    height = max(y + sizes[c][1] / 2 for c, (_, y) in pos.items())
    nodes = {c: (*pos[c], *sizes[c]) for c in sorted(pos)}
    return {"width": width, "height": height, "nodes": nodes, "edges": _edges(paths, pos),
            "regions": {c: region[c] for c in nodes}, "labels": _region_labels(pos, sizes, region)}


def _edges(paths: dict, pos: dict) -> list[tuple[str, str, str, str]]:
    """Straight segments; lines sharing a pair of stations run side by side, 5 px apart."""
    shared: dict[frozenset, list[str]] = {}
    for pid, a, b in segments(paths):
        shared.setdefault(frozenset((a, b)), []).append(pid)
    edges = []
    for pid, a, b in segments(paths):
        group = shared[frozenset((a, b))]
        k = group.index(pid) - (len(group) - 1) / 2
        (x1, y1), (x2, y2) = sorted((pos[a], pos[b]))  # the same normal for both directions
        length = math.dist((x1, y1), (x2, y2)) or 1.0
        ox, oy = -(y2 - y1) / length * 5 * k, (x2 - x1) / length * 5 * k
        (ax, ay), (bx, by) = pos[a], pos[b]
        edges.append((pid, f"M{ax + ox:.1f},{ay + oy:.1f}L{bx + ox:.1f},{by + oy:.1f}", a, b))
    return edges


def _region_labels(pos: dict, sizes: dict, region: dict) -> dict[str, tuple[float, float]]:
    """Each region's name goes just outside the region, on the side facing away from the map's
    centre: past its station that lies farthest in that direction."""
    mx = sum(x for x, _ in pos.values()) / len(pos)
    my = sum(y for _, y in pos.values()) / len(pos)
    out = {}
    for r in sorted(set(region[c] for c in pos)):
        members = [c for c in sorted(pos) if region[c] == r]
        cx = sum(pos[c][0] for c in members) / len(members)
        cy = sum(pos[c][1] for c in members) / len(members)
        d = math.dist((cx, cy), (mx, my))
        ux, uy = ((cx - mx) / d, (cy - my) / d) if d > 1 else (0.0, -1.0)
        far = max(members, key=lambda c: (pos[c][0] - cx) * ux + (pos[c][1] - cy) * uy)
        reach = abs(ux) * sizes[far][0] / 2 + abs(uy) * sizes[far][1] / 2 + 26
        out[r] = (round(pos[far][0] + ux * reach, 1), round(pos[far][1] + uy * reach, 1))
    return out


def metrics(lay: dict, paths: dict) -> tuple[int, float]:
    """(line crossings, total line length) of a layout, from the straight segments between the
    laid-out centres of consecutive stations of every path. A crossing is a pair of segments of
    different paths that properly intersect (segments sharing a station do not count)."""
    nodes = lay["nodes"]
    segs = [(pid, nodes[a][:2], nodes[b][:2], a, b) for pid, a, b in segments(paths)]

    def side(p, q, r):
        v = (q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0])
        return (v > 1e-9) - (v < -1e-9)

    def cross(s, t):
        _, p1, p2, a1, b1 = s
        _, q1, q2, a2, b2 = t
        if {a1, b1} & {a2, b2}:
            return False
        return side(p1, p2, q1) * side(p1, p2, q2) < 0 and side(q1, q2, p1) * side(q1, q2, p2) < 0

    crossings = sum(1 for s, t in itertools.combinations(segs, 2) if s[0] != t[0] and cross(s, t))
    return crossings, sum(math.dist(s[1], s[2]) for s in segs)


def svg(site, lay: dict, root: str = "") -> str:
    """Inline SVG: region tints, lines, stations, region names; every line and station says
    which path(s) it belongs to."""
    w, h = lay["width"], lay["height"]
    m = 70  # room for the region names outside the stations
    out = [f'<svg class="metro-map" xmlns="http://www.w3.org/2000/svg" viewBox="{-m} {-m} {w + 2 * m:.0f} {h + 2 * m:.0f}" '
           f'width="{w + 2 * m:.0f}" height="{h + 2 * m:.0f}" role="img" aria-label="전체 지식 지도">',
           '<g class="regions" aria-hidden="true">']
    for cid, (cx, cy, bw, bh, _) in lay["nodes"].items():
        r = lay["regions"][cid]
        out.append(f'<rect class="region-tint" data-region="{r}" x="{cx - bw / 2 - 14:.1f}" y="{cy - bh / 2 - 14:.1f}" '
                   f'width="{bw + 28:.1f}" height="{bh + 28:.1f}" rx="{(bh + 28) / 2:.1f}" fill="{REGIONS[r][1]}"/>')
    out.append('</g><g class="lines">')
    for pid, d, a, b in lay["edges"]:
        color = site.paths[pid]["color"]
        out.append(f'<path class="line" data-path="{pid}" d="{d}" stroke="{color}">'
                   f'<title>{html.escape(site.paths[pid]["title"])}: '
                   f'{html.escape(site.cards[a]["title"])} → {html.escape(site.cards[b]["title"])}'
                   f'</title></path>')
    out.append('</g><g class="stations">')
    for cid, (cx, cy, bw, bh, lines) in lay["nodes"].items():
        card = site.cards[cid]
        kind = "station interchange" if len(set(card["paths"])) > 1 else "station"
        tip = f'{card["title"]} ({card["title_en"]}): {card["summary"]}'
        first = cy - LINE_PX * (len(lines) - 1) / 2
        text = "".join(f'<tspan x="{cx:.1f}" y="{first + i * LINE_PX:.1f}">{html.escape(line)}</tspan>'
                       for i, line in enumerate(lines))
        out.append(
            f'<a class="{kind}" href="{root}{site.card_url(cid)}" data-card="{cid}" '
            f'data-region="{lay["regions"][cid]}" data-paths="{" ".join(dict.fromkeys(card["paths"]))}">'
            f'<title>{html.escape(tip)}</title>'
            f'<rect x="{cx - bw / 2:.1f}" y="{cy - bh / 2:.1f}" width="{bw:.1f}" height="{bh:.1f}" rx="{min(bh, 22) / 2:.1f}"/>'
            f'<text>{text}</text></a>')
    out.append('</g><g class="region-labels" aria-hidden="true">')
    for r, (x, y) in lay["labels"].items():
        # keep the whole name on the canvas: 22px Hangul is about 22px a glyph, centred on x
        half = 11 * len(REGIONS[r][0]) + 6
        x, y = min(max(x, -m + half), w + m - half), min(max(y, -m + 16), h + m - 16)
        out.append(f'<text class="region-label" data-region="{r}" x="{x:.1f}" y="{y:.1f}" '
                   f'fill="{REGIONS[r][1]}">{html.escape(REGIONS[r][0])}</text>')
    out.append("</g></svg>")
    return "\n".join(out)
