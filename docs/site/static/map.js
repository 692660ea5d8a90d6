// The knowledge map: hovering or clicking a line (in the legend or on the map) highlights
// that path and dims the rest. A click pins the highlight; clicking it again, clicking
// empty map space or pressing Escape clears it.
(function () {
  const metro = document.querySelector(".metro");
  if (!metro) return;
  let pinned = "";

  function show(pathId) {
    metro.classList.toggle("has-active", pathId !== "");
    metro.dataset.active = pathId;
    metro.querySelectorAll("[data-path]").forEach((el) => {
      const on = el.dataset.path === pathId;
      el.classList.toggle("is-active", on);
      if (el.classList.contains("legend-item")) el.setAttribute("aria-pressed", String(on && pinned === pathId));
    });
    metro.querySelectorAll(".station").forEach((el) => {
      el.classList.toggle("is-active", pathId !== "" && el.dataset.paths.split(" ").includes(pathId));
    });
  }

  function pin(pathId) {
    pinned = pinned === pathId ? "" : pathId;
    show(pinned);
    if (pinned) reveal(pinned);
  }

  // Scroll the map (not the page) so the pinned line is in view.
  function reveal(pathId) {
    const box = metro.querySelector(".map-scroll");
    const rects = [...metro.querySelectorAll(`.metro-map .line[data-path="${pathId}"]`)].map((el) => el.getBoundingClientRect());
    if (!rects.length) return;
    const outer = box.getBoundingClientRect();
    const left = Math.min(...rects.map((r) => r.left)), right = Math.max(...rects.map((r) => r.right));
    const top = Math.min(...rects.map((r) => r.top)), bottom = Math.max(...rects.map((r) => r.bottom));
    box.scrollBy({
      left: (left + right) / 2 - (outer.left + outer.right) / 2,
      top: Math.min(top - outer.top - 20, (top + bottom) / 2 - (outer.top + outer.bottom) / 2),
    });
  }

  metro.querySelectorAll(".legend-item, .metro-map .line").forEach((el) => {
    el.addEventListener("mouseenter", () => show(el.dataset.path));
    el.addEventListener("mouseleave", () => show(pinned));
    el.addEventListener("focus", () => show(el.dataset.path));
    el.addEventListener("blur", () => show(pinned));
    el.addEventListener("click", (ev) => { ev.stopPropagation(); pin(el.dataset.path); });
  });
  metro.querySelector(".metro-map").addEventListener("click", (ev) => {
    if (!ev.target.closest(".station")) { pinned = ""; show(""); }
  });
  document.addEventListener("keydown", (ev) => { if (ev.key === "Escape") { pinned = ""; show(""); } });

  metro.querySelectorAll(".map-zoom").forEach((btn) => {
    btn.addEventListener("click", () => metro.classList.toggle("fit", btn.dataset.zoom === "fit"));
  });

  // index.html#line=<path-id> opens the map with that line highlighted (path pages link here).
  const m = location.hash.match(/^#line=([a-z0-9-]+)$/);
  if (m) {
    document.getElementById("map").scrollIntoView();
    pin(m[1]);
  }
})();
