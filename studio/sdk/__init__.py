"""The pipeline SDK: what runs inside a pipeline container (or a ProcessRunner subprocess).

Standard library only — a pipeline image installs just what its Dockerfile installs, and
``studio pipeline build`` copies this folder into the image as the package ``studio.sdk``.
An entrypoint is a typed function::

    from pathlib import Path
    from studio.sdk import Context, progress, serve

    def setup() -> object:              # optional: paid once per warm worker
        return load_model()

    def predict(ctx: Context, *, prompt: str, seed: int = 0,
                source: Path | None = None) -> dict[str, Path]:
        for step in range(10):
            progress(step, 10, "denoising")  # also: ctx.progress(...), progress_bar(...)
        out = ctx.outputs_dir / "frame.png"
        ...
        return {"image": out}

    if __name__ == "__main__":
        serve(predict, setup=setup)

See ``pipelines/README.md`` for the job folder, the event lines and the error codes.
"""

from studio.sdk.runtime import (
    Canceled,
    Context,
    InputError,
    install_tqdm_hook,
    model_path,
    progress,
    progress_bar,
    serve,
)

__all__ = [
    "Canceled",
    "Context",
    "InputError",
    "install_tqdm_hook",
    "model_path",
    "progress",
    "progress_bar",
    "serve",
]
