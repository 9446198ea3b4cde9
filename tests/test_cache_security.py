"""The cache sits in the analysed tree, so a repository can bring one of its own: nothing in it runs, is written
through, or changes a result. Every run here is compared with a run without the cache."""

from __future__ import annotations

import os
import pickle
import shutil
import stat
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from llmlint.api import lint_paths
from llmlint.cli import main
from llmlint.engine import cache as cache_module
from llmlint.engine import indexfiles as indexing
from llmlint.engine.cache import CACHE_DIR, INDEX_FORMAT, Cache, open_cache
from llmlint.engine.config import Config

DEMO = Path(__file__).resolve().parent.parent / "fixtures" / "demo-app"
VERSIONED = f"v{INDEX_FORMAT}"


@pytest.fixture(autouse=True)
def secret_home(tmp_path, monkeypatch):
    """The user's secret lives in a temporary folder: no test touches the real home."""
    home = tmp_path / "victim-home"
    monkeypatch.setenv("LLMLINT_CACHE_HOME", str(home))
    return home


@pytest.fixture
def project(tmp_path):
    root = tmp_path / "repo"
    shutil.copytree(DEMO, root)
    return root


def findings_of(root: Path, use_cache: bool = True) -> list:
    report = lint_paths([str(root)], Config(root=str(root)), jobs=1, use_cache=use_cache)
    found = sorted((f.rule_id, Path(f.location.path).relative_to(root).as_posix(), f.location.line, f.message)
                   for f in report.findings)
    return found + sorted(str(p) for p in report.problems)


def cache_files(root: Path) -> list[Path]:
    return sorted(p for p in (root / CACHE_DIR).rglob("*") if p.is_file() and not p.is_symlink() and p.name != ".gitignore")


def entry_kind(path: Path) -> tuple[str, str]:
    """(kind, name) under which the cache signs the file at `path`."""
    if path.parent.name == VERSIONED:
        return "table", path.name
    if path.name.startswith("run-"):
        return "run", path.name[len("run-"):]
    return "index", path.name


def sign(path: Path, value, secret: bytes) -> None:
    """Write `value` at `path` as a cache file authenticated with `secret`."""
    kind, name = entry_kind(path)
    payload = pickle.dumps(value)
    path.write_bytes(cache_module.MAGIC + Cache(str(path), secret)._tag(kind, name, payload) + payload)


def victim_secret(root: Path) -> bytes:
    return cache_module.user_secret(str(root))


class Payload:
    """A pickle that creates a marker folder when it is loaded."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return os.mkdir, (self.marker,)


# --- a cache committed to the repository ------------------------------------------------------------------------


@pytest.mark.parametrize("signer", ["attacker", "unsigned", "victim-tag-on-other-bytes"])
def test_a_poisoned_cache_in_the_repository_runs_nothing_and_changes_nothing(project, tmp_path, monkeypatch, signer):
    """The repository ships `.llmlint_cache/` whose every table, index entry and run record is a pickle that
    would run code: signed with the attacker's own llmlint secret, plain, or under a tag of the victim's that
    belongs to other bytes. Loading any of them would create the marker."""
    expected = findings_of(project, use_cache=False)
    monkeypatch.setenv("LLMLINT_CACHE_HOME", str(tmp_path / "attacker-home"))
    findings_of(project)  # the attacker fills the cache layout (the content keys do not depend on the secret)
    attacker = cache_module.user_secret(str(project))
    monkeypatch.setenv("LLMLINT_CACHE_HOME", str(tmp_path / "victim-home"))
    files = cache_files(project)
    assert {"manifest", "facts", "closure"} <= {p.name for p in files}
    assert any(p.name.startswith("run-") for p in files) and len(files) > 10
    marker = tmp_path / "pwned"
    evil = pickle.dumps(Payload(marker))
    for path in files:
        if signer == "attacker":
            sign(path, Payload(marker), attacker)
        elif signer == "unsigned":
            path.write_bytes(evil)
        else:
            genuine = path.read_bytes()
            path.write_bytes(genuine[: len(cache_module.MAGIC) + cache_module.TAG_BYTES] + evil)

    assert findings_of(project) == expected
    assert not marker.exists()
    assert findings_of(project) == expected  # the rebuilt cache serves the next run
    assert not marker.exists()
    result = CliRunner().invoke(main, ["check", str(project), "--select", "LLM101", "--output-format", "concise"])
    assert result.exit_code == 1 and "app/api.py:53:18: warning[LLM101]" in result.stdout
    assert not marker.exists()


def test_a_rebuilt_cache_is_used(project, monkeypatch):
    """After a poisoned cache is replaced, the warm run does not parse again: the cache still does its job."""
    expected = findings_of(project)
    for path in cache_files(project):
        path.write_bytes(b"not ours")
    assert findings_of(project) == expected
    monkeypatch.setattr(indexing, "parse_and_index", lambda *args: (_ for _ in ()).throw(AssertionError("parsed again")))
    for path in cache_files(project):
        if path.name.startswith("run-"):
            path.unlink()  # so that the indexes must be loaded and linked again
    assert findings_of(project) == expected


# --- entries stored under another name, or of another shape -----------------------------------------------------


def test_entries_moved_to_other_keys_change_no_result(project):
    """Every cache file is moved to the name of another one of its kind (index entries, run records, tables):
    each must be refused, since each was signed for the name it was stored under."""
    expected = findings_of(project, use_cache=False)
    findings_of(project)
    lint_paths([str(project)], Config(root=str(project), select=("LLM107",)), jobs=1)  # a second run record
    files = cache_files(project)
    by_kind: dict[str, list[Path]] = {}
    for path in files:
        by_kind.setdefault(entry_kind(path)[0], []).append(path)
    assert len(by_kind["run"]) == 2 and len(by_kind["index"]) > 5
    contents = {path: path.read_bytes() for path in files}
    for paths in by_kind.values():
        for path, other in zip(paths, paths[1:] + paths[:1]):
            path.write_bytes(contents[other])
    assert findings_of(project) == expected
    assert findings_of(project) == expected


WRONG_SHAPES = [
    None,
    "text",
    [("LLM101", 1)],
    {},
    {"key": 1, "paths": "app"},
    (None, None, None, None),  # an index entry with neither index nor digest: the file would drop out
    (None, None, "0" * 32, None),
    ([1, 2], {}, {}),  # a run record whose findings are not findings
    ([], {}, None),
    ("index", "problem", "digest", "code"),
]


@pytest.mark.parametrize("shape", WRONG_SHAPES, ids=[repr(s)[:30] for s in WRONG_SHAPES])
def test_entries_of_the_wrong_shape_change_no_result(project, shape):
    """Entries that verify (signed with the user's own secret, as a buggy or older llmlint might have written
    them) but unpickle to the wrong shape are ignored and rebuilt: the same findings, on this run and the next."""
    expected = findings_of(project, use_cache=False)
    findings_of(project)
    secret = victim_secret(project)
    for path in cache_files(project):
        sign(path, shape, secret)
    assert findings_of(project) == expected
    assert findings_of(project) == expected


def test_wrong_shapes_inside_the_tables_change_no_result(project):
    """Tables of the right type whose entries are not: a manifest entry that points every file at another
    file's content key with the wrong types, facts with the wrong arity, a closure whose paths are not paths, scans
    that are not the pre-filter's facts."""
    expected = findings_of(project, use_cache=False)
    findings_of(project)
    secret = victim_secret(project)
    top = project / CACHE_DIR / VERSIONED
    manifest = pickle.loads((top / "manifest").read_bytes()[len(cache_module.MAGIC) + cache_module.TAG_BYTES:])
    first = next(v for k, v in manifest.items() if k != "__saved__")
    sign(top / "manifest", {k: (v[0], 7, None) if k != "__saved__" else "later" for k, v in manifest.items()}, secret)
    sign(top / "scans", {v[2]: ("yes", [1], None) for k, v in manifest.items() if k != "__saved__"}, secret)
    sign(top / "facts", {first[1]: (None, None)}, secret)
    sign(top / "closure", {"key": "x", "paths": [1, 2]}, secret)
    for path in cache_files(project):
        if path.name.startswith("run-"):
            path.unlink()
    assert findings_of(project) == expected
    assert findings_of(project) == expected


def test_scans_lost_or_of_the_wrong_shape_are_worked_out_from_the_files(project):
    """The manifest records a digest of each file's pre-filter facts; the facts themselves sit in the `scans` table,
    read only when the closure must be worked out again. A scans table whose entries are not such facts, or none
    at all, makes the run read and scan the files again, with the same result."""
    expected = findings_of(project, use_cache=False)
    findings_of(project)
    secret = victim_secret(project)
    top = project / CACHE_DIR / VERSIONED
    manifest = pickle.loads((top / "manifest").read_bytes()[len(cache_module.MAGIC) + cache_module.TAG_BYTES:])
    manifest["__saved__"] = time.time_ns() + 60_000_000_000  # every file is trusted as the manifest describes it
    sign(top / "manifest", manifest, secret)
    for scans in ({v[2]: ("yes", [1], None) for k, v in manifest.items() if k != "__saved__"}, None):
        if scans is None:
            (top / "scans").unlink()
        else:
            sign(top / "scans", scans, secret)
        sign(top / "closure", {"key": "x", "paths": []}, secret)
        for path in cache_files(project):
            if path.name.startswith("run-"):
                path.unlink()
        assert findings_of(project) == expected


# --- symlinks -----------------------------------------------------------------------------------------------------


def symlink(link: Path, target: Path, is_folder: bool = False) -> None:
    try:
        link.symlink_to(target, target_is_directory=is_folder)
    except (OSError, NotImplementedError):
        pytest.skip("this system does not let the tests create symlinks")


def link_every_entry_folder(root: Path, target: Path) -> None:
    top = root / CACHE_DIR / VERSIONED
    top.mkdir(parents=True)
    for name in [f"{i:02x}" for i in range(256)] + ["ru"]:
        symlink(top / name, target, is_folder=True)


@pytest.mark.parametrize("where", [".llmlint_cache", "v", "entry folders"])
def test_a_symlinked_cache_folder_is_never_written_through(project, tmp_path, where):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "keep.txt").write_text("mine\n", encoding="utf-8")
    expected = findings_of(project, use_cache=False)
    if where == ".llmlint_cache":
        symlink(project / CACHE_DIR, elsewhere, is_folder=True)
    elif where == "v":
        (project / CACHE_DIR).mkdir()
        symlink(project / CACHE_DIR / VERSIONED, elsewhere, is_folder=True)
    else:
        link_every_entry_folder(project, elsewhere)
    assert findings_of(project) == expected
    assert findings_of(project) == expected
    assert sorted(p.name for p in elsewhere.iterdir()) == ["keep.txt"]
    assert (elsewhere / "keep.txt").read_text(encoding="utf-8") == "mine\n"


def test_symlinked_cache_files_are_replaced_not_followed(project, tmp_path):
    """A committed `.gitignore` or table that links elsewhere: the link is replaced (or left), its target is
    neither created nor changed."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "bashrc").write_text("export PATH=/usr/bin\n", encoding="utf-8")
    top = project / CACHE_DIR / VERSIONED
    top.mkdir(parents=True)
    symlink(project / CACHE_DIR / ".gitignore", outside / "created-by-llmlint")
    symlink(top / "manifest", outside / "bashrc")
    symlink(top / "facts", outside / "facts-made-here")
    expected = findings_of(project, use_cache=False)
    assert findings_of(project) == expected
    assert sorted(p.name for p in outside.iterdir()) == ["bashrc"]
    assert (outside / "bashrc").read_text(encoding="utf-8") == "export PATH=/usr/bin\n"
    assert not (top / "manifest").is_symlink()  # replaced by the cache's own file


def test_a_fifo_in_the_cache_does_not_hang_the_run(project):
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs on this platform")
    expected = findings_of(project, use_cache=False)
    top = project / CACHE_DIR / VERSIONED
    top.mkdir(parents=True)
    os.mkfifo(top / "manifest")
    assert findings_of(project) == expected


def test_clean_removes_a_symlinked_cache_but_not_what_it_points_to(project, tmp_path, monkeypatch):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "keep.txt").write_text("mine\n", encoding="utf-8")
    symlink(project / CACHE_DIR, elsewhere, is_folder=True)
    monkeypatch.chdir(project)
    result = CliRunner().invoke(main, ["clean"])
    assert result.exit_code == 0
    assert not os.path.lexists(project / CACHE_DIR)
    assert (elsewhere / "keep.txt").read_text(encoding="utf-8") == "mine\n"


# --- the user's secret ------------------------------------------------------------------------------------------


def test_the_secret_is_private_and_outside_the_tree(project, secret_home):
    findings_of(project)
    secret = secret_home / "secret"
    assert secret.stat().st_size == cache_module.SECRET_BYTES
    if os.name == "posix":
        assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert not list(project.rglob("secret"))


def test_a_secret_inside_the_analysed_tree_is_not_used(project, monkeypatch):
    """A repository that ships `.cache/llmlint/secret` (with the secret folder pointed into the checkout, as a CI
    job might) could sign its own cache: the run goes on without a cache."""
    planted = project / ".cache" / "llmlint"
    planted.mkdir(parents=True)
    (planted / "secret").write_bytes(b"k" * cache_module.SECRET_BYTES)
    os.chmod(planted / "secret", 0o600)
    monkeypatch.setenv("LLMLINT_CACHE_HOME", str(planted))
    expected = findings_of(project, use_cache=False)
    assert open_cache(str(project)) is None
    assert findings_of(project) == expected
    assert not (project / CACHE_DIR).exists()


def test_without_a_place_for_the_secret_the_run_goes_on_without_a_cache(project, tmp_path, monkeypatch):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the secret's folder should be\n", encoding="utf-8")
    monkeypatch.setenv("LLMLINT_CACHE_HOME", str(blocked / "llmlint"))
    assert open_cache(str(project)) is None
    result = CliRunner().invoke(main, ["check", str(project), "--select", "LLM101", "--output-format", "concise"])
    assert result.exit_code == 1 and "app/api.py:53:18: warning[LLM101]" in result.stdout
    assert not (project / CACHE_DIR).exists()


def test_a_run_from_the_home_folder_keeps_its_cache(tmp_path, monkeypatch):
    """The secret's folder is inside the analysed tree when that tree is the home folder: that tree is the
    user's own, so the cache is kept."""
    home = tmp_path / "home"
    (home / "app").mkdir(parents=True)
    (home / "app" / "bot.py").write_text(CLIENT.format(timeout="600"), encoding="utf-8")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("LLMLINT_CACHE_HOME")
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    assert open_cache(str(home)) is not None
    assert ("LLM101", "app/bot.py", 7) in {f[:3] for f in findings_of(home)}
    assert (home / ".cache" / "llmlint" / "secret").is_file() and (home / CACHE_DIR).is_dir()


@pytest.mark.skipif(os.name != "posix", reason="file modes")
def test_a_secret_others_can_read_is_not_used(project, secret_home):
    secret_home.mkdir()
    (secret_home / "secret").write_bytes(b"k" * cache_module.SECRET_BYTES)
    os.chmod(secret_home / "secret", 0o644)
    assert open_cache(str(project)) is None
    assert findings_of(project) == findings_of(project, use_cache=False)
    assert not (project / CACHE_DIR).exists()


# --- stale content and file names -------------------------------------------------------------------------------

CLIENT = """\
from openai import OpenAI

client = OpenAI(timeout={timeout})


def summarise(text):
    return client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{{"role": "user", "content": text}}],
        max_tokens=200,
    )
"""


def test_an_edit_that_keeps_size_and_mtime_is_seen(tmp_path):
    """The same size and modification time (restored after the edit, as `touch -r` or a build tool does): the
    inode change time tells the survey that the file changed."""
    root = tmp_path / "work"
    root.mkdir()
    app = root / "app.py"
    app.write_text(CLIENT.format(timeout="6.0"), encoding="utf-8")
    past = time.time_ns() - 3_600_000_000_000
    os.utime(app, ns=(past, past))  # old enough for the racy-file rule to trust the manifest
    assert not [f for f in findings_of(root) if f[0] == "LLM101"]
    assert (root / CACHE_DIR / VERSIONED / "manifest").is_file()
    assert findings_of(root) == findings_of(root, use_cache=False)  # a warm run, from the manifest
    app.write_text(CLIENT.format(timeout="600"), encoding="utf-8")
    os.utime(app, ns=(past, past))
    assert [(f[0], f[1], f[2]) for f in findings_of(root) if f[0] == "LLM101"] == [("LLM101", "app.py", 7)]


def test_a_file_name_that_is_not_utf8_does_not_crash(tmp_path):
    root = tmp_path / "work"
    root.mkdir()
    try:
        (root / os.fsdecode(b"r\xe9sum\xe9.py")).write_text(CLIENT.format(timeout="600"), encoding="utf-8")
    except (OSError, UnicodeError):
        pytest.skip("the file system refuses names that are not UTF-8")
    (root / "app.py").write_text(CLIENT.format(timeout="600"), encoding="utf-8")
    for use_cache in (False, True, True):
        report = lint_paths([str(root)], Config(root=str(root)), jobs=1, use_cache=use_cache)
        assert (root / CACHE_DIR).is_dir() == use_cache
        found = sorted((f.rule_id, f.location.line) for f in report.findings if f.rule_id == "LLM101")
        assert found == [("LLM101", 7), ("LLM101", 7)], use_cache
        assert any(os.fsencode(f.location.path).endswith(b"r\xe9sum\xe9.py") for f in report.findings)
