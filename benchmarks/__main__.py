"""Run every benchmark module (``python -m benchmarks [NAME ...]``)."""

import importlib
import sys

BENCHMARKS = [
    "canvas",
    "page_load",
    "project_create",
    "takes_listing",
    "job_log",
    "runner_overhead",
    "runner_warm",
    "engine",
    "server",
    "render",
    "gallery",
]


def main() -> None:
    for name in sys.argv[1:] or BENCHMARKS:
        print(f"\n== {name} ==", flush=True)
        importlib.import_module(f"benchmarks.{name}").main()


if __name__ == "__main__":
    main()
