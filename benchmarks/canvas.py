"""The canvas in Chromium: a 500-node / 600-edge graph, time until rendered and frame time
while panning, against the bare Svelte Flow page (../shared/bench/svelteflow-baseline) in the
same run; and the latency of one Python-side node update reaching the browser, against a bare
anywidget traitlet. Needs Chromium, npm and the shared baseline folder."""

from __future__ import annotations

import functools
import http.server
import random
import shutil
import statistics
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import Any

from playwright.sync_api import sync_playwright

from studio import Workspace
from tests.browser.jupyter import (
    CHROMIUM,
    CHROMIUM_ARGS,
    free_port,
    running_lab,
    write_notebook,
)

NODES, EDGES, REPS = 500, 600, 3
BASELINE = Path(__file__).resolve().parents[2] / "shared/bench/svelteflow-baseline"
VIEWPORT: Any = {"width": 1400, "height": 900}

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

LATENCY_JS = """() => {
  window.__seen = {};
  const loop = () => {
    const now = Date.now();
    for (const el of document.querySelectorAll('[data-latency-probe]')) {
      const v = el.value ?? el.textContent;
      if (v && v.startsWith('stamp-') && !(v in window.__seen)) window.__seen[v] = now;
    }
    requestAnimationFrame(loop);
  };
  requestAnimationFrame(loop);
}"""


def make_graph(project: Any) -> str:
    """400 shots feeding 100 assemblers (their clips input takes many): acyclic, all valid."""
    rng = random.Random(42)
    graph = project.graph
    cols = 25
    shots = [
        graph.add_node("Shot", position=(i % cols * 320, i // cols * 700), prompt=f"shot {i}").id
        for i in range(NODES - 100)
    ]
    assemblers = [
        graph.add_node("VSEAssembler", position=(i % cols * 320, 12000 + i // cols * 400)).id
        for i in range(100)
    ]
    pairs = {(s, assemblers[i % 100]) for i, s in enumerate(shots)}
    while len(pairs) < EDGES:
        pairs.add((rng.choice(shots), rng.choice(assemblers)))
    for source, target in sorted(pairs):
        graph.connect(source, "output", target, "clips")
    graph.save()
    return str(shots[0])


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


def studio_figures(page_factory: Any) -> tuple[list[dict[str, Any]], dict[str, list[float]]]:
    root, home = Path(tempfile.mkdtemp()), Path(tempfile.mkdtemp())
    workspace = Workspace(root / "workspace")
    project = workspace.create_project("Bench")
    probe_node = make_graph(project)
    small = workspace.create_project("Small")
    small_node = small.graph.add_node("Shot").id
    small.graph.save()
    opener = "import studio, time\nws = studio.Workspace({ws!r})\n"
    display = "project = ws.open_project({name!r})\ncanvas = project.canvas()\ncanvas"
    stamp_loop = (
        "for i in range(15):\n    time.sleep(0.3)\n"
        "    project.graph.update_node({node!r}, prompt=f'stamp-{{time.time() * 1000:.0f}}')"
    )
    probe_widget = (
        "import anywidget, traitlets\n"
        "class Probe(anywidget.AnyWidget):\n"
        '    _esm = "export default { render({ model, el }) {'
        " el.setAttribute('data-latency-probe', '');"
        " model.on('change:value', () => { el.textContent = model.get('value'); }); } }\"\n"
        "    value = traitlets.Unicode('').tag(sync=True)\n"
        "probe = Probe()\nprobe"
    )
    probe_loop = (
        "for i in range(15):\n    time.sleep(0.3)\n"
        "    probe.value = f'stamp-{time.time() * 1000:.0f}'"
    )
    write_notebook(root / "render.ipynb", opener.format(ws=str(workspace.path))
                   + display.format(name=project.name))  # fmt: skip
    latency: dict[str, list[float]] = {}
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
        for label, target, node in (("studio 500 nodes", project, probe_node),
                                    ("studio 1 node", small, small_node)):  # fmt: skip
            name = f"latency-{target.name}.ipynb"
            write_notebook(root / name, opener.format(ws=str(workspace.path))
                           + display.format(name=target.name), stamp_loop.format(node=node),
                           probe_widget, probe_loop)  # fmt: skip
            page = page_factory()
            page.add_init_script(
                "document.addEventListener('DOMContentLoaded', () => {"
                " new MutationObserver(() => { for (const t of document.querySelectorAll("
                f"'.svelte-flow__node[data-id=\"{node}\"] textarea[data-field=prompt]'))"
                " t.setAttribute('data-latency-probe', ''); })"
                ".observe(document.body, {subtree: true, childList: true}); });"
            )
            page.goto(lab.notebook_url(name))
            page.locator("#jp-main-statusbar >> text=/Idle/").wait_for(timeout=60_000)
            page.evaluate(LATENCY_JS)
            page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")
            try:
                page.wait_for_function("Object.keys(window.__seen).length >= 30", timeout=120_000)
            except Exception:
                print(
                    label,
                    page.evaluate("window.__seen"),
                    page.evaluate("document.querySelectorAll('[data-latency-probe]').length"),
                )
                page.screenshot(path="/tmp/latency.png")
                raise
            seen = page.evaluate("window.__seen")
            page.close()
            stamps = sorted(seen.items())
            studio = [t - float(v[6:]) for v, t in stamps[:15]]
            raw = [t - float(v[6:]) for v, t in stamps[15:]]
            latency[label] = studio
            latency[f"bare anywidget ({label})"] = raw
    return results, latency


def med(rows: list[dict[str, Any]], key: str) -> float:
    return float(statistics.median(row[key] for row in rows))


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
    for label in ("studio 1 node", "studio 500 nodes"):
        ours = statistics.median(latency[label])
        raw = statistics.median(latency[f"bare anywidget ({label})"])
        print(f"  Python update -> browser, {label}: {ours:.0f} ms vs bare anywidget trait "
              f"{raw:.0f} ms -> ratio {ours / raw:.2f}x")  # fmt: skip


if __name__ == "__main__":
    main()
