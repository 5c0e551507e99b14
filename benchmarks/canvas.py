"""The canvas in Chromium: a 500-node / 600-edge graph, time until rendered and frame time
while panning, against the bare Svelte Flow page (../shared/bench/svelteflow-baseline) in the
same run; and, at 50, 500 and 2000 nodes, the latency of one Python-side node update reaching
the settled canvas (a patch) against a bare anywidget trait update in the same run, with the
message sizes and the pre-patch method (the whole graph for every change) for comparison.
Needs Chromium, npm and the shared baseline folder."""

from __future__ import annotations

import functools
import http.server
import json
import random
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from playwright.sync_api import sync_playwright

from studio import Workspace
from studio.widgets.canvas import Canvas
from tests.browser.jupyter import (
    CHROMIUM,
    CHROMIUM_ARGS,
    free_port,
    open_and_run,
    run_in_kernel,
    running_lab,
    wait_idle,
    write_notebook,
)

NODES, EDGES, REPS = 500, 600, 3
BASELINE = Path(__file__).resolve().parents[2] / "shared/bench/svelteflow-baseline"
VIEWPORT: Any = {"width": 1400, "height": 900}
OPENER = "import studio, time\nws = studio.Workspace({ws!r})\n"
DISPLAY = "project = ws.open_project({name!r})\ncanvas = project.canvas()\ncanvas"

PAN_JS = """async (durationMs) => {
  const api = document.querySelector('.studio-canvas').studioFlow;
  await api.fitView();
  const raf = () => new Promise((r) => requestAnimationFrame(r));
  await raf(); await raf(); await raf();
  const v0 = api.getViewport();
  const tri = (t, p) => { const q = (t / p) % 1; return q < 0.5 ? 4 * q - 1 : 3 - 4 * q; };
  const deltas = [];
  return await new Promise((resolve) => {
    let start = null, last = null;
    const step = (ts) => {
      if (start === null) start = ts;
      if (last !== null) deltas.push(ts - last);
      last = ts;
      if (ts - start >= durationMs) {
        deltas.sort((a, b) => a - b);
        resolve({ median: deltas[Math.floor(deltas.length / 2)],
                  p95: deltas[Math.ceil(0.95 * deltas.length) - 1], frames: deltas.length });
        return;
      }
      const t = ts - start;
      api.setViewport({ x: v0.x + 400 * tri(t + 375, 1500), y: v0.y + 250 * tri(t + 575, 2300),
                        zoom: v0.zoom });
      requestAnimationFrame(step);
    };
    requestAnimationFrame(step);
  });
}"""

WATCH_RENDER_JS = """(n) => {
  window.__render = { t0: performance.now() };
  const check = () => {
    const r = window.__render;
    const root = document.querySelector('.studio-canvas');
    if (!root) return;
    if (!r.canvas) r.canvas = performance.now();
    const vp = root.querySelector('.svelte-flow__viewport');
    const tr = vp && vp.style.transform;
    if (!tr || tr === 'translate(0px, 0px) scale(1)') return;
    const els = root.querySelectorAll('.svelte-flow__nodes .svelte-flow__node');
    if (els.length < n) return;
    for (const el of els) if (el.style.visibility === 'hidden') return;
    if (r.ready) return;
    r.ready = performance.now();
    requestAnimationFrame(() => requestAnimationFrame(() => { r.painted = performance.now(); }));
    mo.disconnect();
  };
  const mo = new MutationObserver(check);
  mo.observe(document.body, { subtree: true, childList: true, attributes: true,
                              attributeFilter: ['style'] });
}"""


def baseline_figures(page_factory: Any) -> list[dict[str, Any]]:
    work = Path(tempfile.mkdtemp(prefix="sfbench-"))
    shutil.copytree(BASELINE, work / "b", ignore=shutil.ignore_patterns("node_modules", "dist"))
    subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=work / "b",
                   check=True)  # fmt: skip
    subprocess.run(["npx", "vite", "build", "--logLevel", "error"], cwd=work / "b", check=True)
    port = free_port()
    handler = functools.partial(
        http.server.SimpleHTTPRequestHandler, directory=str(work / "b/dist")
    )
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    results = []
    try:
        for _ in range(REPS):
            page = page_factory()
            page.goto(f"http://127.0.0.1:{port}/index.html")
            page.wait_for_function("window.sfbench !== undefined")
            page.wait_for_timeout(300)
            mount = page.evaluate("(o) => window.sfbench.mount(o)", {"n": NODES, "vis": False})
            page.wait_for_timeout(500)
            pan = page.evaluate("(o) => window.sfbench.pan(o)", {"mode": "fit", "durationMs": 3000})
            results.append({"paint_ms": mount["firstPaintMs"], "pan_median": pan["median"],
                            "pan_p95": pan["p95"]})  # fmt: skip
            page.context.close()
    finally:
        server.shutdown()
        shutil.rmtree(work, ignore_errors=True)
    return results


LATENCY_SIZES, SAMPLES, WHOLE_SAMPLES = (50, 500, 2000), 30, 10

SETTLED_JS = """async (n) => {
  const root = () => document.querySelector('.studio-canvas');
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  while (!root() || root().querySelectorAll('.svelte-flow__node').length < n) await sleep(100);
  // then quiet: nothing in the canvas changes for a second (mounted, measured, fitted)
  await new Promise((resolve) => {
    const done = () => { observer.disconnect(); resolve(); };
    let timer = setTimeout(done, 1000);
    const observer = new MutationObserver(() => {
      clearTimeout(timer);
      timer = setTimeout(done, 1000);
    });
    observer.observe(root(), { subtree: true, childList: true, attributes: true });
  });
  await new Promise((r) => requestIdleCallback(r));
}"""

# When each stamp ("p-<ms>": patch, "b-<ms>": bare trait, "w-<ms>": whole graph) first shows in
# a probe element: checked every frame and every few milliseconds in between.
LATENCY_JS = """() => {
  window.__seen = {};
  const check = () => {
    const now = Date.now();
    for (const el of document.querySelectorAll('[data-latency-probe]')) {
      const v = el.value ?? el.textContent;
      if (v && /^[pbw]-\\d+$/.test(v) && !(v in window.__seen)) window.__seen[v] = now;
    }
  };
  const frame = () => { check(); requestAnimationFrame(frame); };
  requestAnimationFrame(frame);
  setInterval(check, 2);
}"""

PROBE_WIDGET = (
    "import anywidget, traitlets\n"
    "class Probe(anywidget.AnyWidget):\n"
    '    _esm = "export default { render({ model, el }) {'
    " el.setAttribute('data-latency-probe', '');"
    " model.on('change:value', () => { el.textContent = model.get('value'); }); } }\"\n"
    "    value = traitlets.Unicode('').tag(sync=True)\n"
    "probe = Probe()\nprobe"
)
# One Python node update (a patch) and one bare trait update, in turns: the same run, the same
# conditions for both.
PATCH_AND_BARE_LOOP = """
for i in range({samples}):
    time.sleep(0.2)
    project.graph.update_node({node!r}, prompt=f"p-{{time.time() * 1000:.0f}}")
    time.sleep(0.2)
    probe.value = f"b-{{time.time() * 1000:.0f}}"
"""
# The pre-patch method, nearly: the whole graph for every change and every node redrawn (sent
# here as a full sync at the current patch number, so patches still follow it; it also carries
# the node status, which the pre-patch graph trait did not).
WHOLE_GRAPH_LOOP = """
seq = next(m["payload"]["seq"] for m in reversed(canvas.sent) if m["event"] == "server:graph_patch")
for i in range({samples}):
    time.sleep({gap})
    stamp = f"w-{{time.time() * 1000:.0f}}"
    whole = project.graph.to_json()
    next(n for n in whole["nodes"] if n["id"] == {node!r})["data"]["prompt"] = stamp
    canvas.emit("server:full_sync", graph=whole, node_status=canvas.node_status, seq=seq)
"""


def make_graph(project: Any, nodes: int) -> str:
    """``nodes`` nodes, a fifth of them assemblers fed by the shots (their clips input takes
    many), 1.2 edges a node: acyclic, all valid. Returns a shot's id."""
    rng = random.Random(42)
    graph = project.graph
    cols, assemblers = 25, nodes // 5
    shots = [
        graph.add_node("Shot", position=(i % cols * 320, i // cols * 700), prompt=f"shot {i}").id
        for i in range(nodes - assemblers)
    ]
    below = -(-len(shots) // cols) * 700 + 800  # the assemblers under the shots
    cuts = [
        graph.add_node("VSEAssembler", position=(i % cols * 320, below + i // cols * 400)).id
        for i in range(assemblers)
    ]
    pairs = {(s, cuts[i % assemblers]) for i, s in enumerate(shots)}
    while len(pairs) < nodes * 6 // 5:
        pairs.add((rng.choice(shots), rng.choice(cuts)))
    for source, target in sorted(pairs):
        graph.connect(source, "output", target, "clips")
    graph.save()
    return str(shots[0])


def message_sizes(project: Any, node: str) -> dict[str, int]:
    """Bytes of the comm message for one node update: a patch, the bare trait, and the whole
    graph as the pre-patch canvas sent it (a ``graph`` trait update)."""
    canvas = Canvas(project.graph, project=project, autosave_delay=-1)
    try:
        project.graph.update_node(node, prompt=f"p-{time.time() * 1000:.0f}")
        patch = next(m for m in reversed(canvas.sent) if m["event"] == "server:graph_patch")
        whole = {"method": "update", "state": {"graph": canvas.graph}}
    finally:
        canvas.close()
        project.graph.undo()
    bare = {"method": "update", "state": {"value": f"b-{time.time() * 1000:.0f}"}}
    return {"patch": len(json.dumps(patch)), "bare": len(json.dumps(bare)),
            "whole": len(json.dumps(whole))}  # fmt: skip


def latency_figures(lab: Any, workspace: Any, page_factory: Any, nodes: int) -> dict[str, Any]:
    """One Python node update -> shown in the browser, on a settled canvas of ``nodes`` nodes."""
    project = workspace.create_project(f"Latency {nodes}")
    node = make_graph(project, nodes)
    sizes = message_sizes(project, node)
    name = f"latency-{nodes}.ipynb"
    write_notebook(lab.root / name, OPENER.format(ws=str(workspace.path))
                   + DISPLAY.format(name=project.name), PROBE_WIDGET)  # fmt: skip
    page = page_factory()
    page.add_init_script(
        "document.addEventListener('DOMContentLoaded', () => {"
        " new MutationObserver(() => { for (const t of document.querySelectorAll("
        f"'.svelte-flow__node[data-id=\"{node}\"] textarea[data-field=prompt]'))"
        " t.setAttribute('data-latency-probe', ''); })"
        ".observe(document.body, {subtree: true, childList: true}); });"
    )
    open_and_run(page, lab, name)
    page.wait_for_function("document.querySelector('[data-latency-probe]:not(textarea)')",
                           timeout=120_000)  # fmt: skip
    page.evaluate(SETTLED_JS, nodes)
    wait_idle(page)
    page.evaluate(LATENCY_JS)
    run_in_kernel(page, PATCH_AND_BARE_LOOP.format(samples=SAMPLES, node=node))
    gap = 0.3 + nodes / 1000  # let the browser redraw everything before the next one
    run_in_kernel(page, WHOLE_GRAPH_LOOP.format(samples=WHOLE_SAMPLES, node=node, gap=gap))
    page.wait_for_timeout(gap * 1000 + 2000)
    seen: dict[str, float] = page.evaluate("window.__seen")
    page.evaluate("window.jupyterapp.commands.execute('kernelmenu:shutdown')")
    page.context.close()
    latency: dict[str, list[float]] = {"p": [], "b": [], "w": []}
    for stamp, shown in seen.items():
        latency[stamp[0]].append(shown - float(stamp[2:]))
    assert len(latency["p"]) == len(latency["b"]) == SAMPLES, {
        k: len(v) for k, v in latency.items()
    }
    return {"nodes": nodes, "edges": nodes * 6 // 5, "sizes": sizes, **latency}


def studio_figures(page_factory: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    root, home = Path(tempfile.mkdtemp()), Path(tempfile.mkdtemp())
    workspace = Workspace(root / "workspace")
    project = workspace.create_project("Bench")
    make_graph(project, NODES)
    write_notebook(root / "render.ipynb", OPENER.format(ws=str(workspace.path))
                   + DISPLAY.format(name=project.name))  # fmt: skip
    results = []
    with running_lab(root, home) as lab:
        for _ in range(REPS):
            page = page_factory()
            page.goto(lab.notebook_url("render.ipynb"))
            page.locator("#jp-main-statusbar >> text=/Idle/").wait_for(timeout=60_000)
            page.evaluate(WATCH_RENDER_JS, NODES)
            page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
            page.wait_for_function("window.__render && window.__render.painted", timeout=120_000)
            render = page.evaluate("window.__render")
            page.wait_for_timeout(500)
            pan = page.evaluate(PAN_JS, 3000)
            results.append({"paint_ms": render["painted"] - render["t0"],
                            "from_canvas_ms": render["painted"] - render["canvas"],
                            "pan_median": pan["median"], "pan_p95": pan["p95"]})  # fmt: skip
            page.evaluate("window.jupyterapp.commands.execute('kernelmenu:shutdown')")
            page.context.close()
        latency = [latency_figures(lab, workspace, page_factory, n) for n in LATENCY_SIZES]
    return results, latency


def med(rows: list[dict[str, Any]], key: str) -> float:
    return float(statistics.median(row[key] for row in rows))


def p90(values: list[float]) -> float:
    return statistics.quantiles(values, n=10)[-1]


def main() -> None:
    if not Path(CHROMIUM).exists() or not BASELINE.is_dir():
        print(f"skipped: needs {CHROMIUM} and {BASELINE}")
        return
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)

        def page_factory() -> Any:
            return browser.new_context(viewport=VIEWPORT).new_page()

        bare = baseline_figures(page_factory)
        studio, latency = studio_figures(page_factory)
        browser.close()
    print(f"{NODES} nodes / {EDGES} edges, median of {REPS} runs (software rendering):")
    print(f"  time to rendered: studio {med(studio, 'paint_ms'):.0f} ms (run cell -> painted; "
          f"{med(studio, 'from_canvas_ms'):.0f} ms from the widget's first element) vs bare "
          f"Svelte Flow {med(bare, 'paint_ms'):.0f} ms -> ratio "
          f"{med(studio, 'paint_ms') / med(bare, 'paint_ms'):.2f}x")  # fmt: skip
    print(f"  pan frame time: studio median {med(studio, 'pan_median'):.1f} ms / p95 "
          f"{med(studio, 'pan_p95'):.1f} ms vs bare {med(bare, 'pan_median'):.1f} / "
          f"{med(bare, 'pan_p95'):.1f} ms -> ratio "
          f"{med(studio, 'pan_median') / med(bare, 'pan_median'):.2f}x")  # fmt: skip
    print(f"One Python node update -> shown in the browser, on a settled canvas; median / p90 ms "
          f"of {SAMPLES} (whole graph: {WHOLE_SAMPLES}); message bytes in brackets:")  # fmt: skip
    print(f"  {'nodes':>5} {'edges':>5}   {'patch':>18}   {'bare anywidget trait':>20}   "
          f"{'ratio':>5}   {'whole graph (pre-patch)':>24}")  # fmt: skip
    for row in latency:
        patch, raw, whole, size = row["p"], row["b"], row["w"], row["sizes"]
        ratio = statistics.median(patch) / statistics.median(raw)
        print(f"  {row['nodes']:>5} {row['edges']:>5}   "
              f"{statistics.median(patch):>4.0f} / {p90(patch):>3.0f} [{size['patch']:>5}]   "
              f"{statistics.median(raw):>8.0f} / {p90(raw):>3.0f} [{size['bare']:>5}]   "
              f"{ratio:>4.2f}x   "
              f"{statistics.median(whole):>6.0f} / {p90(whole):>4.0f} "
              f"[{size['whole']:>7}]")  # fmt: skip


if __name__ == "__main__":
    main()
