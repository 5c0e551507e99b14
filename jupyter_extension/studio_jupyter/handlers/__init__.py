"""Request handlers, one module per role: projects, tasks, media, status (+ OpenAPI), ws."""
