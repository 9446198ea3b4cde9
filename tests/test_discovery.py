"""Discovery: which files a run checks, their module names and project roots."""

from __future__ import annotations

import os

import pytest

from llmlint.engine.config import Config
from llmlint.engine.discovery import DiscoveryError, compile_pattern, discover


def touch(root, *names: str) -> None:
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            path.write_text("", encoding="utf-8")


def displays(paths, config=None, **options) -> list[str]:
    return [f.display for f in discover([str(p) for p in paths], config or Config(), **options).files]


@pytest.fixture
def cwd(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_python_files_sorted_with_default_excludes(cwd):
    touch(
        cwd,
        "b.py", "a.pyi", "README.md", "setup.cfg.txt", "pkg/__init__.py", "pkg/z.py", "pkg/data.json",
        ".venv/lib/x.py", "venv/y.py", "node_modules/n.py", "build/b.py", "dist/d.py", "pkg/__pycache__/c.py",
        "pkg.egg-info/e.py", ".git/hooks/h.py", ".tox/t.py", ".llmlint_cache/c.py", "lib/site-packages/s.py",
        "myenv/pyvenv.cfg", "myenv/lib/m.py",
    )  # fmt: skip
    assert displays(["."]) == ["a.pyi", "b.py", "pkg/__init__.py", "pkg/z.py"]


def test_display_is_relative_to_cwd_else_absolute(cwd, tmp_path_factory):
    touch(cwd, "src/app.py")
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    touch(elsewhere, "other.py")
    files = discover([str(cwd / "src"), str(elsewhere)], Config()).files
    assert {f.display: f.path for f in files} == {"src/app.py": str(cwd / "src" / "app.py"), str(elsewhere / "other.py"): str(elsewhere / "other.py")}


def test_module_names(cwd):
    touch(
        cwd,
        "src/app/__init__.py", "src/app/main.py", "src/app/api/__init__.py", "src/app/api/routes.py",
        "src/app/stubs.pyi", "scripts/tool.py", "loose/__init__.py",
    )  # fmt: skip
    files = {f.display: (f.module, f.is_package) for f in discover(["."], Config()).files}
    assert files == {
        "loose/__init__.py": ("loose", True),
        "scripts/tool.py": ("tool", False),
        "src/app/__init__.py": ("app", True),
        "src/app/api/__init__.py": ("app.api", True),
        "src/app/api/routes.py": ("app.api.routes", False),
        "src/app/main.py": ("app.main", False),
        "src/app/stubs.pyi": ("app.stubs", False),
    }


def test_module_name_walks_above_the_checked_path(cwd):
    touch(cwd, "pkg/__init__.py", "pkg/sub/__init__.py", "pkg/sub/mod.py")
    [file] = discover(["pkg/sub/mod.py"], Config()).files
    assert (file.module, file.is_package) == ("pkg.sub.mod", False)


def test_gitignore(cwd):
    touch(
        cwd,
        "app.py", "generated/g.py", "x.gen.py", "keep.gen.py", "top_only.py", "sub/top_only.py", "sub/local.py",
        "sub/deep/local.py", "sub/other.py", "docs/a/b/draft_1.py", "docs/final.py", "test_a.py", "test_c.py",
        "m1.py", "m22.py", "out/keep.py", "logs/x.py", "logsdir/y.py",
    )  # fmt: skip
    (cwd / ".gitignore").write_text(
        "# build output\n"
        "\n"
        "generated/\n"
        "*.gen.py\n"
        "!keep.gen.py\n"
        "/top_only.py\n"
        "docs/**/draft_*.py\n"
        "test_[ab].py\n"
        "m?.py\n"
        "out/\n"
        "!out/keep.py\n"
        "logs/   \n",
        encoding="utf-8",
    )
    (cwd / "sub" / ".gitignore").write_text("local.py\n", encoding="utf-8")
    assert displays(["."]) == ["app.py", "docs/final.py", "keep.gen.py", "logsdir/y.py", "m22.py", "sub/other.py", "sub/top_only.py", "test_c.py"]


def test_gitignore_negation_reincludes_a_file(cwd):
    touch(cwd, "a.py", "b.py", "c.py")
    (cwd / ".gitignore").write_text("*.py\n!b.py\n", encoding="utf-8")
    assert displays(["."]) == ["b.py"]


def test_deeper_gitignore_negation_overrides_the_parent_folder(cwd):
    touch(cwd, "gen_a.py", "sub/gen_a.py", "sub/gen_keep.py", "sub/deep/gen_keep.py", "sub/deep/gen_b.py")
    (cwd / ".gitignore").write_text("gen_*.py\n", encoding="utf-8")
    (cwd / "sub" / ".gitignore").write_text("!gen_keep.py\n", encoding="utf-8")
    assert displays(["."]) == ["sub/deep/gen_keep.py", "sub/gen_keep.py"]


def test_gitignore_dir_only_pattern_skips_a_file_of_that_name(cwd):
    touch(cwd, "cache.py/inner.py")
    (cwd / "pkg").mkdir()
    (cwd / "pkg" / "cache.py").write_text("", encoding="utf-8")
    (cwd / ".gitignore").write_text("cache.py/\n", encoding="utf-8")
    assert displays(["."]) == ["pkg/cache.py"]


def test_repository_gitignore_applies_when_checking_a_subfolder(cwd):
    (cwd / ".git").mkdir()
    touch(cwd, "svc/app.py", "svc/gen/g.py")
    (cwd / ".gitignore").write_text("svc/gen/\n", encoding="utf-8")
    (cwd / ".git" / "info").mkdir()
    (cwd / ".git" / "info" / "exclude").write_text("app.py\n", encoding="utf-8")
    assert displays(["svc"]) == []
    (cwd / ".git" / "info" / "exclude").write_text("", encoding="utf-8")
    assert displays(["svc"]) == ["svc/app.py"]


def test_configured_excludes(cwd):
    touch(cwd, "app.py", "fixtures/f.py", "src/fixtures/f.py", "benchmarks/.work/w.py", "benchmarks/run.py", "src/api_pb2.py", "other/benchmarks/.work/x.py")
    config = Config(root=str(cwd), exclude=("fixtures", "benchmarks/.work"), extend_exclude=("*_pb2.py",))
    assert displays(["."], config) == ["app.py", "benchmarks/run.py", "other/benchmarks/.work/x.py"]


def test_explicit_excluded_file_is_checked_unless_force_exclude(cwd):
    touch(cwd, "build/gen.py", "fixtures/f.py", "ignored.py", "notes.txt", "ok.py")
    (cwd / ".gitignore").write_text("ignored.py\n", encoding="utf-8")
    config = Config(root=str(cwd), exclude=("fixtures",))
    named = ["build/gen.py", "fixtures/f.py", "ignored.py", "ok.py"]
    assert displays(named, config) == named
    assert displays(named, config, force_exclude=True) == ["ok.py"]
    assert displays(["build"], config) == ["build/gen.py"]
    assert displays(["build"], config, force_exclude=True) == []


def test_missing_path_is_an_error(cwd):
    touch(cwd, "a.py")
    with pytest.raises(DiscoveryError) as info:
        discover(["a.py", "nope"], Config())
    assert info.value.path == "nope"
    assert str(info.value) == "nope: no such file or directory"


def test_overlapping_paths_give_each_file_once(cwd):
    touch(cwd, "pkg/a.py", "pkg/b.py")
    assert displays(["pkg", "pkg/a.py", "./pkg/b.py", "."]) == ["pkg/a.py", "pkg/b.py"]


def test_symlink_loop_terminates(cwd):
    touch(cwd, "a/x.py", "a/b/y.py")
    os.symlink(cwd / "a", cwd / "a" / "b" / "loop")
    os.symlink(cwd / "a" / "b", cwd / "a" / "zz_again")
    os.symlink("self", cwd / "self")  # a link to itself
    assert displays(["."]) == ["a/b/y.py", "a/x.py"]


def test_symlinks_out_of_the_checked_root_are_not_followed(cwd, tmp_path_factory):
    outside = tmp_path_factory.mktemp("outside")
    touch(outside, "lib.py", "pkg/mod.py")
    touch(cwd, "proj/app.py", "proj/sibling_target/s.py")
    os.symlink(outside / "pkg", cwd / "proj" / "linked_pkg")
    os.symlink(outside / "lib.py", cwd / "proj" / "linked_lib.py")
    os.symlink(cwd / "proj" / "app.py", cwd / "proj" / "alias.py")
    os.symlink(cwd / "proj" / "nowhere.py", cwd / "proj" / "dangling.py")
    assert displays(["proj"]) == ["proj/app.py", "proj/sibling_target/s.py"]


def test_symlinked_folder_inside_the_root_does_not_duplicate(cwd):
    touch(cwd, "real/m.py")
    os.symlink(cwd / "real", cwd / "a_link")  # sorts first
    files = discover(["."], Config()).files
    assert [f.display for f in files] == ["real/m.py"]


def test_unreadable_folder_is_a_problem(cwd, monkeypatch):
    touch(cwd, "ok.py", "locked/secret.py")
    real_scandir = os.scandir

    def scandir(path):
        if os.path.basename(str(path)) == "locked":
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    result = discover(["."], Config())
    assert [f.display for f in result.files] == ["ok.py"]
    assert [str(p) for p in result.problems] == ["locked: skipped: cannot read directory: Permission denied"]


def test_unreadable_folder_with_chmod(cwd):
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        pytest.skip("root reads any folder")
    touch(cwd, "ok.py", "locked/secret.py")
    os.chmod(cwd / "locked", 0)
    try:
        result = discover(["."], Config())
    finally:
        os.chmod(cwd / "locked", 0o755)
    assert [f.display for f in result.files] == ["ok.py"]
    assert [p.path for p in result.problems] == ["locked"]


def test_monorepo_has_one_project_root_per_application(cwd):
    touch(cwd, "apps/chat/pyproject.toml", "apps/chat/chat/bot.py", "apps/search/setup.py", "apps/search/search.py", "tools/t.py", "libs/x/llmlint.toml", "libs/x/x.py")
    roots = {f.display: f.project_root for f in discover(["apps", "tools", "libs"], Config()).files}
    assert roots == {
        "apps/chat/chat/bot.py": str(cwd / "apps" / "chat"),
        "apps/search/search.py": str(cwd / "apps" / "search"),
        "apps/search/setup.py": str(cwd / "apps" / "search"),
        "libs/x/x.py": str(cwd / "libs" / "x"),
        "tools/t.py": str(cwd / "tools"),  # no marker above: the checked root
    }


def test_project_root_of_explicit_file_without_marker(cwd):
    touch(cwd, "one/two.py")
    [file] = discover(["one/two.py"], Config()).files
    assert file.project_root == str(cwd / "one")


@pytest.mark.parametrize(
    "pattern, path, is_dir, expected",
    [
        ("*.py", "a/b/c.py", False, True),
        ("/a.py", "a.py", False, True),
        ("/a.py", "x/a.py", False, False),
        ("a/b.py", "a/b.py", False, True),
        ("a/b.py", "x/a/b.py", False, False),
        ("**/gen", "x/y/gen", True, True),
        ("**/gen", "gen", True, True),
        ("a/**", "a/b/c.py", False, True),
        ("a/**/z.py", "a/z.py", False, True),
        ("a/**/z.py", "a/b/c/z.py", False, True),
        ("build/", "build", False, False),
        ("build/", "build", True, True),
        ("[!a]x.py", "bx.py", False, True),
        ("[!a]x.py", "ax.py", False, False),
        ("\\#hash.py", "#hash.py", False, True),
        ("f[", "f[", False, True),
    ],
)
def test_pattern_semantics(pattern, path, is_dir, expected):
    compiled = compile_pattern(pattern, "/base")
    assert compiled is not None
    assert compiled.matches(path, is_dir) is expected


def test_comments_and_blank_lines_are_not_patterns():
    assert compile_pattern("# comment", "/b") is None
    assert compile_pattern("   ", "/b") is None
    assert compile_pattern("!keep.py", "/b").negate


def test_namespace_folder_inside_a_package_keeps_the_package_name(tmp_path):
    from llmlint.engine.config import Config
    from llmlint.engine.discovery import discover

    (tmp_path / "sdk" / "llms" / "chat").mkdir(parents=True)
    (tmp_path / "sdk" / "__init__.py").write_text("", encoding="utf-8")
    (tmp_path / "sdk" / "llms" / "chat" / "transformation.py").write_text("x = 1\n", encoding="utf-8")
    (tmp_path / "tools").mkdir()
    (tmp_path / "tools" / "script.py").write_text("x = 1\n", encoding="utf-8")
    found = discover([str(tmp_path)], Config(root=str(tmp_path)))
    modules = {f.module for f in found.files}
    assert modules == {"sdk", "sdk.llms.chat.transformation", "script"}


def test_top_level_namespace_package_is_named_by_how_its_init_imports_itself(cwd):
    """`llama_index/core/__init__.py` (no `llama_index/__init__.py`) imports `llama_index.core...`: the modules
    are `llama_index.core...`. A plain folder above a package (`services/` above `app/`) adds nothing."""
    touch(cwd, "llama_index/core/base.py", "services/app/main.py", "services/app/__init__.py")
    (cwd / "llama_index" / "core" / "__init__.py").write_text(
        "from llama_index.core.base import Engine\n", encoding="utf-8"
    )
    files = {f.display: f.module for f in discover(["."], Config()).files}
    assert files == {
        "llama_index/core/__init__.py": "llama_index.core",
        "llama_index/core/base.py": "llama_index.core.base",
        "services/app/__init__.py": "app",
        "services/app/main.py": "app.main",
    }
