"""The pure half of the plumbing commit (studio.project.plumbing) and the in-process LFS clean
step (studio.project.lfs), checked against what git and git-lfs themselves say."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import pytest

from studio import Project
from studio.project import lfs, plumbing


@pytest.mark.parametrize(
    ("attributes", "expected"),
    [
        ({"filter": "lfs", "ident": "unspecified", "working-tree-encoding": "unspecified"}, "lfs"),
        ({"filter": "unspecified"}, "plain"),
        ({"filter": "unset"}, "plain"),
        ({}, "plain"),
        ({"filter": "upper"}, None),  # another clean filter: only git can run it
        ({"filter": "unspecified", "ident": "set"}, None),
        ({"filter": "unspecified", "working-tree-encoding": "UTF-16"}, None),
        ({"filter": "lfs", "lockable": "set"}, None),  # git-lfs's hook makes it read-only
    ],
)
def test_route(attributes: dict[str, str], expected: str | None) -> None:
    assert plumbing.route(attributes) == expected


def test_check_attr_and_config_output_are_read() -> None:
    out = "a.png\0filter\0lfs\0a.png\0ident\0unspecified\0b c.json\0filter\0unspecified\0"
    assert plumbing.parse_check_attr(out) == {
        "a.png": {"filter": "lfs", "ident": "unspecified"},
        "b c.json": {"filter": "unspecified"},
    }
    config = "filter.lfs.clean\ngit-lfs clean -- %f\0core.filemode\ntrue\0"
    assert plumbing.parse_config(config) == {
        "filter.lfs.clean": "git-lfs clean -- %f",
        "core.filemode": "true",
    }


@pytest.mark.parametrize(
    ("config", "reason"),
    [
        ({"filter.lfs.clean": "git-lfs clean -- %f"}, None),
        ({"commit.gpgsign": "false"}, None),
        ({"commit.gpgsign": "true"}, "commits are signed (commit.gpgSign)"),
        ({"core.hookspath": "/hooks"}, "hooks are configured (core.hooksPath)"),
        ({"lfs.storage": "/elsewhere"}, "lfs.storage moves the LFS store"),
        ({"lfs.extension.foo.clean": "foo"}, "Git LFS extensions are configured"),
    ],
)
def test_configurations_that_need_git_commit(config: dict[str, str], reason: str | None) -> None:
    assert plumbing.refusal(config) == reason


def test_the_hook_git_lfs_installs_is_recognised(project: Project) -> None:
    hook = (project.path / ".git/hooks/post-commit").read_text()
    assert plumbing.is_lfs_post_commit_hook(hook)
    assert not plumbing.is_lfs_post_commit_hook(hook + "\n./notify-the-team\n")
    assert not plumbing.is_lfs_post_commit_hook("#!/bin/sh\n")


@pytest.mark.parametrize(
    "message",
    [
        "Generate SHOT-010_v01_take01.png (t2i-draft, low)",
        "  subject  \n\n\n\nbody line   \n\n",
        "\n\nleading blank lines\n",
        "tabs\tinside\tstay",
        "",
    ],
)
def test_messages_are_cleaned_as_git_commit_does(message: str) -> None:
    expected = subprocess.run(
        ["git", "stripspace"], input=message, capture_output=True, text=True, check=True
    ).stdout
    assert plumbing.clean_message(message) == (expected or "studio\n")


def test_control_characters_become_spaces() -> None:
    assert plumbing.clean_message("a\0b\x1bc") == "a b c\n"


def test_identity_is_written_as_git_writes_it() -> None:
    assert plumbing.identity("  Ada  ", "<ada@example.org>") == plumbing.Identity(
        "Ada", "ada@example.org"
    )
    assert plumbing.identity("A <b>", "a@b") is None


def test_paths_are_quoted_only_when_fast_import_needs_it() -> None:
    assert plumbing.quote_path("03_Renders/SCENE_01/a b.png") == b"03_Renders/SCENE_01/a b.png"
    assert plumbing.quote_path('say "hi"\n.txt') == b'"say \\"hi\\"\\n.txt"'
    assert plumbing.quote_path("tab\there") == b'"tab\\there"'


def test_marks_are_read_and_checked() -> None:
    commit, blob = "a" * 40, "b" * 40
    assert plumbing.parse_marks(f"{commit}\n{blob}\n".encode(), entries=1) == (commit, [blob])
    with pytest.raises(ValueError, match="not 2 object ids"):
        plumbing.parse_marks(b"fatal: nope\n", entries=1)


def test_refs_are_read_from_packed_refs() -> None:
    oid = "c" * 40
    packed = f"# pack-refs with: peeled fully-peeled sorted\n{oid} refs/heads/main\n^{'d' * 40}\n"
    assert plumbing.packed_ref(packed, "refs/heads/main") == oid
    assert plumbing.packed_ref(packed, "refs/heads/other") is None


def test_the_stream_names_the_parent_and_every_path() -> None:
    entries = [plumbing.Entry("a/b.png", "100644", b"pointer"), plumbing.Entry("c", "100755", b"")]
    stream = plumbing.fast_import_stream(
        entries=entries, parent="e" * 40, who=plumbing.Identity("A", "a@b"), message="m\n"
    )
    assert b"from " + b"e" * 40 + b"\n" in stream
    assert b"M 100644 :1 a/b.png\nM 100755 :2 c\n" in stream
    assert stream.endswith(b"get-mark :3\nget-mark :1\nget-mark :2\ndone\n")
    assert plumbing.index_info(entries, ["1" * 40, "2" * 40]) == (
        b"100644 " + b"1" * 40 + b"\ta/b.png\0" + b"100755 " + b"2" * 40 + b"\tc\0"
    )


def test_store_object_is_git_lfs_clean(project: Project, tmp_path: Path) -> None:
    """Pointer and object are byte for byte what git-lfs's own clean filter makes."""
    source = tmp_path / "take.png"
    source.write_bytes(b"\x89PNG" + bytes(range(256)) * 40)
    lfs_dir = project.path / ".git" / "lfs"
    pointer = lfs.store_object(lfs_dir=lfs_dir, source=source)
    expected = subprocess.run(
        ["git", "lfs", "clean"],
        input=source.read_bytes(),
        cwd=project.path,
        capture_output=True,
        check=True,
    ).stdout
    assert pointer.text() == expected
    assert pointer.oid == hashlib.sha256(source.read_bytes()).hexdigest()
    stored = lfs.object_path(lfs_dir=lfs_dir, oid=pointer.oid)
    assert stored.read_bytes() == source.read_bytes()
    assert stored.stat().st_mode & 0o777 == 0o644
    assert lfs.store_object(lfs_dir=lfs_dir, source=source) == pointer  # again: kept as is
    assert list((lfs_dir / "tmp").glob("studio-clean-*")) == []


def test_a_pointer_file_is_recognised(tmp_path: Path) -> None:
    pointer = tmp_path / "p"
    pointer.write_bytes(lfs.Pointer("f" * 64, 3).text())
    media = tmp_path / "m"
    media.write_bytes(b"\x00" * 2000)
    assert lfs.looks_like_pointer(pointer) and not lfs.looks_like_pointer(media)


def test_attribute_patterns_matched_by_name_alone() -> None:
    text = "# header\n\n[attr]media filter=lfs\n*.png filter=lfs -text\nMakefile text\n* -ident\n"
    assert plumbing.attribute_patterns(text) == ("*.png", "Makefile", "*")
    for only_git in ("03_Renders/*.png x", "*.p?g x", "[ab].png x", '"a b.png" x', "!*.png x",
                     "**/x.png x", "docs/ x", "*.png* x"):  # fmt: skip
        assert plumbing.attribute_patterns(only_git) is None, only_git
    # git splits on ASCII whitespace only and strips a byte-order mark: such files are git's
    for unusual in ("clip\xa0final.mov filter=lfs\n", "\ufeffREADME filter=lfs\n",
                    "*.png\x1cfilter=lfs\n", "*.mov filter=lfs\r\n"):  # fmt: skip
        assert plumbing.attribute_patterns(unusual) is None, unusual


def test_names_with_the_same_matching_lines_share_an_answer() -> None:
    patterns = ("*.png", "*.PNG", "Makefile", "*")
    take = plumbing.matching_patterns("SHOT-010_v01_take01.png", patterns)
    assert take == plumbing.matching_patterns("SHOT-010_v01_take02.png", patterns)
    assert take != plumbing.matching_patterns("SHOT-010_v01_take01.json", patterns)
    # Ignoring case (core.ignoreCase) a name matches more lines: both answers are in the key.
    assert take != plumbing.matching_patterns("SHOT-010_v01_take01.Png", patterns)
    assert plumbing.matching_patterns("Makefile", patterns) != plumbing.matching_patterns(
        "makefile", patterns
    )


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        ("ref: refs/heads/main\n", ("ref", "refs/heads/main")),
        ("ref: refs/heads/feature/x-1\n", ("ref", "refs/heads/feature/x-1")),
        ("c" * 40 + "\n", ("commit", "c" * 40)),
        ("d" * 64, ("commit", "d" * 64)),
        ("ref: refs/heads/../../config\n", None),  # never read outside the refs
        ("ref: HEAD\n", None),
        ("ref: refs/heads/main.lock\n", None),
        ("ref: /etc/passwd\n", None),
        ("C" * 40, None),
        ("", None),
    ],
)
def test_head_file_is_read_or_left_to_git(head: str, expected: tuple[str, str] | None) -> None:
    assert plumbing.head_target(head) == expected


def test_fast_imports_pack_goes_unsynced_only_when_git_would_not_keep_it() -> None:
    take = [
        plumbing.Entry(f"03_Renders/SCENE_01/SHOT_010/{name}", "100644", b"x")
        for name in ("t.png", "t.take.json", "active_take.json")
    ]
    assert plumbing.skip_pack_fsync(take, {})  # 3 blobs, 4 trees, 1 commit: written loose
    assert not plumbing.skip_pack_fsync(take, {"core.fsync": "loose-object"})  # the user's
    assert not plumbing.skip_pack_fsync(take, {"core.fsyncobjectfiles": "true"})
    assert not plumbing.skip_pack_fsync(take, {"fastimport.unpacklimit": "8"})  # a kept pack
    assert plumbing.skip_pack_fsync(take, {"transfer.unpacklimit": "9"})
    many = [plumbing.Entry(f"d{i}/f", "100644", b"x") for i in range(50)]
    assert not plumbing.skip_pack_fsync(many, {})  # 50 blobs + 51 trees + a commit: packed


def test_reflog_entry_is_written_as_git_writes_one() -> None:
    who = plumbing.Identity("Ana", "ana@example.org")
    line = plumbing.reflog_entry(
        old="a" * 40, new="b" * 40, who=who, when=1700000000, utc_offset_s=-(5 * 3600 + 1800),
        message="  commit: two\tspaces  and\nlines  ",
    )  # fmt: skip
    assert (
        line
        == (
            f"{'a' * 40} {'b' * 40} Ana <ana@example.org> 1700000000 -0530"
            "\tcommit: two spaces and lines\n"
        ).encode()
    )


def test_refs_are_left_to_git_when_it_is_set_to_write_them_otherwise() -> None:
    assert plumbing.refs_refusal({"core.logallrefupdates": "true"}, {}) is None
    for config in (
        {"core.logallrefupdates": "always"},
        {"core.fsync": "reference"},
        {"core.sharedrepository": "group"},
        {"extensions.objectformat": "sha256"},
    ):
        assert plumbing.refs_refusal(config, {}) is not None
    assert plumbing.refs_refusal({}, {"GIT_COMMITTER_DATE": "@0 +0000"}) is not None


def test_a_tree_lists_a_folder_as_git_sorts_it() -> None:
    """``a.txt`` < ``a/`` < ``a0``: a folder's name sorts as ``name/``."""
    oid = "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"
    items = [
        plumbing.TreeItem(b"100644", b"a0", oid),
        plumbing.TreeItem(plumbing.TREE_MODE, b"a", oid),
        plumbing.TreeItem(b"100644", b"a.txt", oid),
    ]
    payload = plumbing.tree_payload(items)
    assert [i.name for i in plumbing.parse_tree(payload) or []] == [b"a.txt", b"a", b"a0"]
    raw = plumbing.object_bytes(b"tree", payload)
    assert plumbing.split_object(raw) == (b"tree", payload)
    assert plumbing.object_name(plumbing.object_bytes(b"blob", b"")) == oid  # git's empty blob


def test_changed_folders_come_deepest_first() -> None:
    entries = [
        plumbing.Entry("03_Renders/SCENE_01/SHOT_010/a.png", "100644", b""),
        plumbing.Entry("03_Renders/SCENE_02/SHOT_020/b.png", "100644", b""),
        plumbing.Entry("top.txt", "100644", b""),
    ]
    folders = plumbing.changed_folders(entries)
    assert folders[-1] == "" and folders.index("03_Renders") == len(folders) - 2
    assert set(folders[:2]) == {"03_Renders/SCENE_01/SHOT_010", "03_Renders/SCENE_02/SHOT_020"}
