"""Run the canvas front end's pure TypeScript modules under Node (no browser, no bundler):
each module is transpiled with the TypeScript compiler the widget builds with, and the
functions are called with JSON arguments. Tests compare what they answer with Python."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

WIDGETS = Path(__file__).resolve().parents[2] / "widgets"
TYPESCRIPT = WIDGETS / "node_modules/typescript/lib/typescript.js"

_DRIVER = r"""
import { createRequire } from "node:module";
import { readFileSync, writeFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, basename } from "node:path";
import { pathToFileURL } from "node:url";

const { typescript, sources, entry, calls } = JSON.parse(readFileSync(0, "utf8"));
const ts = createRequire(import.meta.url)(typescript);
const dir = mkdtempSync(join(tmpdir(), "studio-ts-"));
const flat = (spec) => `./${basename(spec)}.mjs`;
for (const source of sources) {
  const { outputText } = ts.transpileModule(readFileSync(source, "utf8"), {
    compilerOptions: {
      module: ts.ModuleKind.ESNext,
      target: ts.ScriptTarget.ES2022,
      verbatimModuleSyntax: true,
    },
  });
  // Every module lands in one folder: relative imports become flat `.mjs` names.
  const code = outputText.replace(/from "(\.{1,2}\/[^"]+)"/g, (_, spec) => `from "${flat(spec)}"`);
  writeFileSync(join(dir, `${basename(source, ".ts")}.mjs`), code);
}
const module = await import(pathToFileURL(join(dir, `${basename(entry, ".ts")}.mjs`)).href);
const results = calls.map(({ fn, args }) => {
  try {
    return { value: module[fn](...args) ?? null };
  } catch (error) {
    return { error: String(error) };
  }
});
process.stdout.write(JSON.stringify(results));
"""


def node_problem() -> str | None:
    if shutil.which("node") is None:
        return "Node.js is not installed (apt-get install nodejs npm)"
    if not TYPESCRIPT.is_file():
        return "the widget's node_modules are not installed (make widget)"
    return None


def call_module(entry: str, deps: list[str], calls: list[tuple[str, list[Any]]]) -> list[Any]:
    """Call ``fn(*args)`` of ``widgets/src/<entry>`` for each of ``calls`` (``deps``: the
    modules it imports values from); each result's JSON value (an exception fails)."""
    problem = node_problem()
    if problem:
        pytest.skip(problem)
    request = {
        "typescript": str(TYPESCRIPT),
        "sources": [str(WIDGETS / "src" / p) for p in [*deps, entry]],
        "entry": entry,
        "calls": [{"fn": fn, "args": args} for fn, args in calls],
    }
    done = subprocess.run(
        ["node", "--input-type=module", "-e", _DRIVER],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)
    errors = [r["error"] for r in results if "error" in r]
    assert not errors, errors
    return [r["value"] for r in results]
