"""Configuration: `[tool.llmlint]` in pyproject.toml, or top-level keys in llmlint.toml / .llmlint.toml, as a frozen Config.

Every mistake in a configuration file is a ConfigError that names the file and the key (the CLI exits 2 on it).
Rule selection follows ruff: selectors are ids ("LLM101"), names ("missing-timeout"), id prefixes ("LLM1", "LLM")
or "ALL"; when `select` and `ignore` both match a rule, the more specific selector wins and a tie goes to `ignore`.
"""

from __future__ import annotations

import copy
import difflib
import fnmatch
import hashlib
import json
import os
import re
from dataclasses import dataclass, field, replace
from typing import Iterable

from llmlint.engine._toml import toml
from llmlint.results.finding import Severity
from llmlint.ruleset.ruledoc import RuleMeta

CONFIG_FILES = (".llmlint.toml", "llmlint.toml", "pyproject.toml")  # precedence within one folder
KEYS = ("select", "ignore", "per-file-ignores", "exclude", "extend-exclude", "fail-on", "rules", "baseline", "unsafe-fixes")
ALL = "ALL"
_EXACT = 1000  # specificity of an id or a name; a prefix scores its length, ALL scores 0


class ConfigError(Exception):
    """A configuration mistake: `path: key: why (accepted: ...)`."""

    def __init__(self, path: str, key: str, why: str, accepted: Iterable[str] = ()):
        self.path = path
        self.key = key
        self.why = why
        self.accepted = tuple(accepted)
        super().__init__(str(self))

    def __str__(self) -> str:
        text = f"{self.path}: {self.key}: {self.why}" if self.key else f"{self.path}: {self.why}"
        if self.accepted:
            text += f" (accepted: {', '.join(self.accepted)})"
        return text


@dataclass(frozen=True)
class Config:
    path: str | None = None  # the configuration file, None when running on defaults
    root: str = field(default_factory=os.getcwd)  # the folder of `path`, else the current directory
    select: tuple[str, ...] = (ALL,)
    ignore: tuple[str, ...] = ()
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    exclude: tuple[str, ...] = ()
    extend_exclude: tuple[str, ...] = ()
    fail_on: Severity = Severity.WARNING
    unsafe_fixes: bool = False  # `check --fix` applies unsafe fixes too (ruff's `unsafe-fixes`)
    baseline: str | None = None  # the baseline file (absolute; `baseline` is relative to the configuration file)
    rule_options: dict = field(default_factory=dict, hash=False)  # rule name -> options merged over the doc's defaults
    warnings: tuple[str, ...] = field(default=(), compare=False)  # one line each for stderr (a pyproject.toml passed over)


# Loading


def load_config(paths: list[str], explicit: str | None, rules: dict[str, RuleMeta]) -> Config:
    """The configuration for a run over `paths`: the file given with --config, else the closest one above the first path."""
    if explicit is not None:
        location = os.path.abspath(explicit)
        if not os.path.isfile(location):
            raise ConfigError(explicit, "", "configuration file not found")
        return _load_file(location, _read_toml(location), rules)
    found, data, warnings = _find_config(paths[0] if paths else os.curdir)
    if found is None:
        return Config(rule_options=_merge_options({}, rules, "", ""), warnings=warnings)
    return replace(_load_file(found, data, rules), warnings=warnings)


def find_config_file(start: str) -> str | None:
    """The closest .llmlint.toml, llmlint.toml or pyproject.toml with a [tool.llmlint] table, from `start` upward."""
    return _find_config(start)[0]


def _find_config(start: str) -> tuple[str | None, dict, tuple[str, ...]]:
    """(the configuration file for `start` or None, its TOML, warnings). A pyproject.toml that cannot be read and
    does not mention [tool.llmlint] is passed over with a warning (it configures other tools, as ruff treats it)."""
    folder = os.path.abspath(start)
    if not os.path.isdir(folder):
        folder = os.path.dirname(folder)
    warnings: list[str] = []
    while True:
        for name in CONFIG_FILES:
            candidate = os.path.join(folder, name)
            if not os.path.isfile(candidate):
                continue
            if name != "pyproject.toml":
                return candidate, _read_toml(candidate), tuple(warnings)
            try:
                data = _read_toml(candidate)
            except ConfigError as error:
                if _mentions_llmlint(candidate):
                    raise
                warnings.append(f"warning: {error} (ignored: it has no [tool.llmlint] table)")
                continue
            if isinstance(data.get("tool"), dict) and "llmlint" in data["tool"]:
                return candidate, data, tuple(warnings)
        parent = os.path.dirname(folder)
        if parent == folder:
            return None, {}, tuple(warnings)
        folder = parent


_LLMLINT_TABLE = re.compile(rb"""tool\s*\.\s*["']?llmlint\b|^\s*["']?llmlint["']?\s*[.=]""", re.M)


def _mentions_llmlint(path: str) -> bool:
    """Whether a pyproject.toml that cannot be parsed may hold llmlint's table: then its mistakes are ours to report."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError:
        return False
    return b"llmlint" in data and _LLMLINT_TABLE.search(data) is not None


def _read_toml(path: str) -> dict:
    try:
        with open(path, "rb") as handle:
            return toml.load(handle)
    except OSError as error:
        raise ConfigError(_display(path), "", f"cannot read: {error.strerror or error}") from None
    except toml.TOMLDecodeError as error:
        raise ConfigError(_display(path), "", f"invalid TOML: {error}") from None
    except UnicodeDecodeError as error:
        line = error.object[: error.start].count(b"\n") + 1
        raise ConfigError(_display(path), "", f"invalid TOML: not UTF-8 text (byte 0x{error.object[error.start]:02x} on line {line})") from None
    except RecursionError:
        raise ConfigError(_display(path), "", "invalid TOML: nested too deeply to read") from None
    except MemoryError:
        raise ConfigError(_display(path), "", "invalid TOML: too large to read") from None


def _load_file(path: str, data: dict, rules: dict[str, RuleMeta]) -> Config:
    prefix = ""
    if os.path.basename(path) == "pyproject.toml":
        prefix = "tool.llmlint."
        data = data.get("tool", {}).get("llmlint", {}) if isinstance(data.get("tool"), dict) else {}
        if not isinstance(data, dict):
            raise ConfigError(_display(path), "tool.llmlint", "must be a table")
    shown = _display(path)
    return parse_config(data, shown, os.path.dirname(path), rules, prefix=prefix, path=path)


def parse_config(data: dict, shown: str, root: str, rules: dict[str, RuleMeta], prefix: str = "", path: str | None = None) -> Config:
    """Validate the keys of one configuration table. `shown` names the file in errors, `prefix` the table's own key."""
    for key in data:
        if key not in KEYS:
            raise ConfigError(shown, prefix + key, "unknown key" + _did_you_mean(key, KEYS), KEYS)
    values: dict = {}
    for key, attr in (("select", "select"), ("ignore", "ignore")):
        if key in data:
            values[attr] = _selectors(data[key], shown, prefix + key, rules)
    for key, attr in (("exclude", "exclude"), ("extend-exclude", "extend_exclude")):
        if key in data:
            values[attr] = _exclude_patterns(data[key], shown, prefix + key)
    if "per-file-ignores" in data:
        values["per_file_ignores"] = _per_file_ignores(data["per-file-ignores"], shown, prefix + "per-file-ignores", rules)
    if "fail-on" in data:
        values["fail_on"] = _severity(data["fail-on"], shown, prefix + "fail-on")
    if "unsafe-fixes" in data:
        if not isinstance(data["unsafe-fixes"], bool):
            raise ConfigError(shown, prefix + "unsafe-fixes", f"must be true or false, not {_describe(data['unsafe-fixes'])}", ("true", "false"))
        values["unsafe_fixes"] = data["unsafe-fixes"]
    if "baseline" in data:
        if not isinstance(data["baseline"], str) or not data["baseline"].strip():
            raise ConfigError(shown, prefix + "baseline", f"must be the path of a baseline file, not {_describe(data['baseline'])}",
                              ('"llmlint-baseline.json"',))
        values["baseline"] = os.path.normpath(os.path.join(os.path.abspath(root), data["baseline"]))
    user_options = data.get("rules", {})
    if not isinstance(user_options, dict):
        raise ConfigError(shown, prefix + "rules", "must be a table of tables keyed by rule name", ("[tool.llmlint.rules.<rule-name>]",))
    values["rule_options"] = _merge_options(user_options, rules, shown, prefix + "rules")
    return Config(path=path, root=root, **values)


def _display(path: str) -> str:
    try:
        relative = os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return path
    return path if relative.startswith("..") else relative.replace(os.sep, "/")


def _did_you_mean(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f"; did you mean '{close[0]}'?" if close else ""


def _strings(value, shown: str, key: str, what: str, example: str) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise ConfigError(shown, key, f"must be {what}, not {_describe(value)}", (example,))
    for item in value:
        if not isinstance(item, str):
            raise ConfigError(shown, key, f"must be {what}; found {_describe(item)}", (example,))
    return tuple(value)


def _exclude_patterns(value, shown: str, key: str) -> tuple[str, ...]:
    """A list of gitignore-style patterns, each of which compiles."""
    from llmlint.engine.discovery import (
        compile_pattern,  # (discovery imports this module)
    )

    patterns = _strings(value, shown, key, "a list of glob patterns", '["tests/fixtures", "*_pb2.py"]')
    for pattern in patterns:
        try:
            compile_pattern(pattern, "/")
        except (re.error, RecursionError) as error:
            raise ConfigError(shown, key, f"'{pattern}' is not a valid glob pattern: {_reason(error)}", ('"tests/fixtures"', '"*_pb2.py"')) from None
    return patterns


def _reason(error: Exception) -> str:
    return error.msg if isinstance(error, re.error) else "nested too deeply"


def _selectors(value, shown: str, key: str, rules: dict[str, RuleMeta]) -> tuple[str, ...]:
    selectors = _strings(value, shown, key, "a list of rule ids, names or id prefixes", '["LLM1", "unbounded-retry"]')
    for selector in selectors:
        check_selector(selector, rules, shown, key)
    return selectors


def _per_file_ignores(value, shown: str, key: str, rules: dict[str, RuleMeta]) -> tuple:
    if not isinstance(value, dict):
        raise ConfigError(shown, key, f"must be a table of glob = [selectors], not {_describe(value)}", ('"tests/*" = ["LLM101"]',))
    entries = []
    for glob, selectors in value.items():
        try:
            re.compile(fnmatch.translate(glob.replace("\\", "/")))
        except (re.error, RecursionError) as error:
            raise ConfigError(shown, f'{key}."{glob}"', f"not a valid glob pattern: {_reason(error)}", ('"tests/**"', '"*_pb2.py"')) from None
        entries.append((glob, _selectors(selectors, shown, f'{key}."{glob}"', rules)))
    return tuple(entries)


def _severity(value, shown: str, key: str) -> Severity:
    accepted = tuple(s.value for s in Severity)
    if not isinstance(value, str):
        raise ConfigError(shown, key, f"must be a string, not {_describe(value)}", accepted)
    try:
        return Severity.parse(value)
    except ValueError:
        raise ConfigError(shown, key, f"unknown severity '{value}'", accepted) from None


_KINDS = {
    bool: ("a boolean", "booleans"),
    int: ("an integer", "integers"),
    float: ("a number", "numbers"),
    str: ("a string", "strings"),
    list: ("a list", "lists"),
    dict: ("a table", "tables"),
}


def _kind(value) -> str:
    return _KINDS.get(type(value), (type(value).__name__,))[0]


def _describe(value) -> str:
    kind = _kind(value)
    return f"{kind} ({json.dumps(value)})" if isinstance(value, (str, int, float, bool)) else kind


def _merge_options(user: dict, rules: dict[str, RuleMeta], shown: str, key: str) -> dict:
    by_name = {rule.name: rule for rule in rules.values()}
    merged = {rule.name: copy.deepcopy(rule.options) for rule in rules.values()}
    for name, options in user.items():
        rule_key = f"{key}.{name}"
        if name not in by_name:
            why = f"unknown rule '{name}'"
            if name.upper() in rules:
                why += f"; options are keyed by rule name: [tool.llmlint.rules.{rules[name.upper()].name}]"
            else:
                why += _did_you_mean(name, by_name)
            raise ConfigError(shown, rule_key, why, sorted(by_name))
        if not isinstance(options, dict):
            raise ConfigError(shown, rule_key, f"must be a table of options, not {_describe(options)}")
        defaults = by_name[name].options
        for option, value in options.items():
            option_key = f"{rule_key}.{option}"
            if option not in defaults:
                accepted = sorted(defaults) or ["(this rule has no options)"]
                raise ConfigError(shown, option_key, "unknown option" + _did_you_mean(option, defaults), accepted)
            merged[name][option] = _check_option(value, defaults[option], shown, option_key)
    return merged


def _check_option(value, default, shown: str, key: str):
    """`value` if it has the type of `default` (an int is accepted for a float); None defaults accept anything."""
    if default is None:
        return value
    expected = type(default)
    if expected is float and type(value) is int:
        return float(value)
    accepted = (f"default: {json.dumps(default)}",)
    if type(value) is not expected:
        raise ConfigError(shown, key, f"must be {_kind(default)}, not {_describe(value)}", accepted)
    if isinstance(default, list) and default:
        item_type = type(default[0])
        if not all(type(item) is item_type or (item_type is float and type(item) is int) for item in value):
            plural = _KINDS.get(item_type, ("", item_type.__name__))[1]
            raise ConfigError(shown, key, f"must be a list of {plural}", accepted)
    return value


# Selection


def selector_specificity(selector: str, rule: RuleMeta) -> int | None:
    """How specifically `selector` names `rule` (higher is more specific), or None when it does not match."""
    if selector == ALL:
        return 0
    upper = selector.upper()
    if upper == rule.id.upper() or selector.lower() == rule.name.lower():
        return _EXACT
    if rule.id.upper().startswith(upper):
        return len(upper)
    return None


def check_selector(selector: str, rules: dict[str, RuleMeta], shown: str, key: str) -> None:
    if any(selector_specificity(selector, rule) is not None for rule in rules.values()):
        return
    choices = [rule.id for rule in rules.values()] + [rule.name for rule in rules.values()]
    accepted = ("rule ids", "rule names", "id prefixes such as 'LLM1'", ALL)
    raise ConfigError(shown, key, f"unknown rule selector '{selector}'" + _did_you_mean(selector, choices), accepted)


def _best(selectors: Iterable[str], rule: RuleMeta) -> int:
    scores = [s for s in (selector_specificity(sel, rule) for sel in selectors) if s is not None]
    return max(scores) if scores else -1


def is_enabled(config: Config, rule: RuleMeta, path: str | None = None) -> bool:
    """Whether `rule` runs (on `path`, when given): selected more specifically than ignored, and not ignored for the file."""
    if _best(config.select, rule) <= _best(config.ignore, rule):
        return False
    if path is not None and config.per_file_ignores:
        relative = relative_to_root(config, path)
        for glob, selectors in config.per_file_ignores:
            if matches_path_glob(glob, relative) and _best(selectors, rule) >= 0:
                return False
    return True


def relative_to_root(config: Config, path: str) -> str:
    """`path` (absolute or relative to the current directory) relative to the configuration root, POSIX separators."""
    absolute = os.path.abspath(path)
    try:
        relative = os.path.relpath(absolute, config.root)
    except ValueError:
        relative = absolute
    return relative.replace(os.sep, "/")


def matches_path_glob(glob: str, relative: str) -> bool:
    """fnmatch on the relative path; a glob without '/' also matches the file name, and any glob matches files under a folder it names."""
    glob = glob.replace("\\", "/").rstrip("/")
    if glob.startswith("./"):
        glob = glob[2:]
    candidates = [relative]
    parts = relative.split("/")
    candidates += ["/".join(parts[:i]) for i in range(1, len(parts))]  # the folders holding the file
    if "/" not in glob:
        candidates += parts
    globs = [glob, glob[3:]] if glob.startswith("**/") else [glob]
    return any(fnmatch.fnmatchcase(candidate, g) for g in globs for candidate in candidates)


def options_for(config: Config, rule: RuleMeta) -> dict:
    """The effective options of `rule`: the configured values over the doc's defaults."""
    return config.rule_options.get(rule.name, rule.options)


# Command-line overrides and the cache key


def apply_overrides(
    config: Config,
    rules: dict[str, RuleMeta],
    *,
    select: Iterable[str] | None = None,
    ignore: Iterable[str] | None = None,
    fail_on: Severity | str | None = None,
    exclude: Iterable[str] | None = None,
    extend_exclude: Iterable[str] | None = None,
) -> Config:
    """A new Config with the command line's choices on top (ruff's layering).

    `select` replaces the file's selection, including its `ignore`; `ignore` alone switches rules off whatever the file
    selects (it is stored as exact ids so that it outranks any `select`). `exclude` replaces the file's `exclude` (the
    default excludes stay, as in ruff), `extend_exclude` adds to its `extend-exclude`.
    """
    changes: dict = {}
    cli_ignore: tuple[str, ...] = ()
    if ignore is not None:
        cli_ignore = tuple(ignore)
        for selector in cli_ignore:
            check_selector(selector, rules, "command line", "--ignore")
    if select is not None:
        changes["select"] = tuple(select)
        for selector in changes["select"]:
            check_selector(selector, rules, "command line", "--select")
        changes["ignore"] = cli_ignore
    elif cli_ignore:
        exact = tuple(rule.id for rule in rules.values() if _best(cli_ignore, rule) >= 0)
        changes["ignore"] = config.ignore + tuple(rid for rid in exact if rid not in config.ignore)
    if fail_on is not None:
        changes["fail_on"] = fail_on if isinstance(fail_on, Severity) else _severity(fail_on, "command line", "--fail-on")
    if exclude is not None:
        changes["exclude"] = _exclude_patterns(list(exclude), "command line", "--exclude")
    if extend_exclude is not None:
        changes["extend_exclude"] = config.extend_exclude + _exclude_patterns(list(extend_exclude), "command line", "--extend-exclude")
    return replace(config, **changes)


def config_fingerprint(config: Config) -> str:
    """A stable hash of everything in the Config that changes a file's findings (not paths, excludes or fail-on).

    Per-file-ignores match paths relative to the root, so a cache must key entries by that relative path as well.
    """
    from llmlint import __version__

    payload = {
        "version": __version__,
        "select": list(config.select),
        "ignore": list(config.ignore),
        "per_file_ignores": [[glob, list(selectors)] for glob, selectors in config.per_file_ignores],
        "rule_options": config.rule_options,
    }
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
