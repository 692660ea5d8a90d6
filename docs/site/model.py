"""The site's data: paths.toml, card bodies and lab steps, checked for broken references.

Everything is read through labtool's Repo (the same reader the lab tooling uses), so the
site and `nox -s list` can never disagree about what a step is.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from dlc_shared.labtool import LabError, Repo, diff_dirs


class SiteError(Exception):
    """The build cannot go on; each argument is one line naming the broken thing."""


@dataclass
class StepInfo:
    path_id: str
    number: int
    dir: Path
    meta: dict
    readme: str | None
    prev: "StepInfo | None" = None
    next: "StepInfo | None" = None

    @property
    def slug(self) -> str:
        return f"step{self.number:02d}"

    @property
    def url(self) -> str:
        return f"steps/{self.path_id}/{self.slug}.html"

    @property
    def rel_dir(self) -> str:
        return f"labs/{self.path_id}/{self.slug}"

    def diff(self) -> str:
        """What this step adds over the previous one, from the same code as `nox -s diff`."""
        prev = self.prev.dir if self.prev else None
        return diff_dirs(prev, self.dir, self.prev.slug if self.prev else "/dev/null", self.slug)

    def diff_stat(self) -> str:
        prev = self.prev.dir if self.prev else None
        return diff_dirs(prev, self.dir, self.prev.slug if self.prev else "/dev/null", self.slug,
                         stat=True)


@dataclass
class Site:
    root: Path
    cards: dict            # card id -> paths.toml entry + id, body, paths, steps, leads_to
    paths: dict            # path id -> paths.toml entry + id, steps
    start_here: list

    def card_url(self, card_id: str) -> str:
        return f"cards/{card_id}.html"

    def path_url(self, path_id: str) -> str:
        return f"paths/{path_id}.html"

    def seed_order(self) -> list[str]:
        """The "모든 학습 경로" list: the order of the seed site (docs/seed-site.txt lists each
        path as "- title — summary"), then any path the seed does not name, in catalog order."""
        seed = self.root / "docs" / "seed-site.txt"
        lines = seed.read_text(encoding="utf-8").splitlines() if seed.is_file() else []
        by_title = {p["title"]: pid for pid, p in self.paths.items()}
        order = [by_title[t] for line in lines if line.startswith("- ")
                 if (t := line[2:].split(" — ")[0].strip()) in by_title]
        order = list(dict.fromkeys(order))
        return order + [p for p in self.paths if p not in order]

    def legend_order(self) -> list[str]:
        """The seed's legend: the start-here paths first, then the rest in catalog order."""
        return self.start_here + [p for p in self.paths if p not in self.start_here]

    def all_steps(self) -> list[StepInfo]:
        return [s for p in self.paths.values() for s in p["steps"]]

    def step_by_dir(self, rel_dir: str) -> StepInfo | None:
        m = re.fullmatch(r"labs/([^/]+)/step(\d\d)", rel_dir)
        if not m or m[1] not in self.paths:
            return None
        return next((s for s in self.paths[m[1]]["steps"] if s.number == int(m[2])), None)


def load(root: Path) -> Site:
    """Read the catalog, the cards and every lab step; raise SiteError listing every problem."""
    repo = Repo(root)
    errors = []
    try:
        catalog = repo.catalog
    except LabError as e:
        raise SiteError(str(e))
    cards = {cid: {**c, "id": cid, "paths": [], "steps": [], "leads_to": [], "body": None}
             for cid, c in catalog.get("cards", {}).items()}
    paths = {pid: {**p, "id": pid, "steps": []} for pid, p in catalog.get("paths", {}).items()}

    for cid, card in cards.items():
        for req in card.get("requires", []):
            if req in cards:
                cards[req]["leads_to"].append(cid)
            else:
                errors.append(f"paths.toml: card '{cid}' requires unknown card '{req}'")
    for pid, path in paths.items():
        for cid in path.get("cards", []):
            if cid in cards:
                cards[cid]["paths"].append(pid)
            else:
                errors.append(f"paths.toml: path '{pid}' lists unknown card '{cid}'")
    start_here = catalog.get("start_here", [])
    errors += [f"paths.toml: start_here names unknown path '{p}'" for p in start_here if p not in paths]

    for pid, path in paths.items():
        if not repo.has_lab(pid):
            continue
        # labtool's own step listing (private) so that every broken step.toml is reported,
        # where repo.steps() would stop at the first one
        for number, step_dir in repo._step_dirs(pid):
            try:
                meta = repo.read_step_toml(step_dir)
            except LabError as e:  # e.g. "labs/x/step01/step.toml: key 'cards' names unknown cards: y"
                errors.append(str(e))
                continue
            readme = step_dir / "README.md"
            step = StepInfo(pid, number, step_dir, meta,
                            readme.read_text(encoding="utf-8") if readme.exists() else None)
            if path["steps"]:
                step.prev, path["steps"][-1].next = path["steps"][-1], step
            path["steps"].append(step)
            for cid in meta["cards"]:
                cards[cid]["steps"].append(step)

    card_dir = root / "docs" / "cards"
    for file in sorted(card_dir.glob("*.md")) if card_dir.is_dir() else []:
        if file.stem in cards:
            cards[file.stem]["body"] = file.read_text(encoding="utf-8")
        else:
            errors.append(f"docs/cards/{file.name}: no card '{file.stem}' in paths.toml")
    for cid, card in cards.items():
        if card["body"] is not None:
            continue
        users = [s.rel_dir for s in card["steps"]]
        users += [f"path '{p}' (status ready)" for p in card["paths"]
                  if paths[p].get("status") == "ready"]
        if users:
            errors.append(f"docs/cards/{cid}.md: missing body for card '{cid}', "
                          f"used by {', '.join(users)}")
    if errors:
        raise SiteError(*errors)
    return Site(root, cards, paths, [p for p in start_here if p in paths])
