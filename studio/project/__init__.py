"""A project: its layout, manifest, git/LFS repository and takes (ARCHITECTURE.md contracts 1-2)."""
