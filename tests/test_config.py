"""Configuration: where it is found, what it accepts, and the errors that name the file and the key."""

from __future__ import annotations

import os
import textwrap

import pytest

from llmlint.engine.config import (
    Config,
    ConfigError,
    apply_overrides,
    config_fingerprint,
    find_config_file,
    is_enabled,
    load_config,
    options_for,
)
from llmlint.results.finding import Severity
from llmlint.ruleset.ruledoc import parse_rule_doc


def make_rule(rule_id: str, name: str, severity: str = "warning", options: str = ""):
    doc = f"+++\nid = \"{rule_id}\"\nname = \"{name}\"\nseverity = \"{severity}\"\ngap = \"latency\"\n{options}\n+++\n"
    doc += f"# {name} ({rule_id})\n\n## What it does\n\nFlags things.\n"
    return parse_rule_doc(doc, f"{rule_id}-{name}.md")


RULES = {
    rule.id: rule
    for rule in (
        make_rule("LLM003", "unbounded-retry", "error", "[options]\nmax-attempts = 10"),
        make_rule("LLM101", "missing-timeout", "warning", "[options]\nmax-seconds = 120.0\nclients = [\"openai\", \"anthropic\"]\nstrict = false"),
        make_rule("LLM102", "unbounded-output", "note"),
        make_rule("LLM106", "unobserved-model-call", "note", "[options]\nlabel = \"x\"\nanything = []"),
    )
}


def write(path, text: str):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def load(tmp_path, text: str, name: str = "pyproject.toml") -> Config:
    write(tmp_path / name, text)
    return load_config([str(tmp_path)], None, RULES)


def error_of(tmp_path, text: str, name: str = "pyproject.toml") -> str:
    with pytest.raises(ConfigError) as info:
        load(tmp_path, text, name)
    return str(info.value)


# Finding the file


def test_defaults_without_a_file(in_tmp):
    config = load_config([str(in_tmp)], None, RULES)
    assert config.path is None
    assert config.root == str(in_tmp)
    assert config.select == ("ALL",) and config.ignore == ()
    assert config.fail_on is Severity.WARNING
    assert config.rule_options["missing-timeout"] == {"max-seconds": 120.0, "clients": ["openai", "anthropic"], "strict": False}
    assert config.rule_options["unbounded-output"] == {}


def test_pyproject_found_upward_from_the_first_path(in_tmp):
    write(in_tmp / "pyproject.toml", '[tool.llmlint]\nselect = ["LLM1"]\n')
    (in_tmp / "src" / "app").mkdir(parents=True)
    config = load_config([str(in_tmp / "src" / "app"), "elsewhere"], None, RULES)
    assert config.path == str(in_tmp / "pyproject.toml")
    assert config.root == str(in_tmp)
    assert config.select == ("LLM1",)


def test_pyproject_without_the_table_does_not_count(in_tmp):
    write(in_tmp / "llmlint.toml", 'ignore = ["LLM102"]\n')
    write(in_tmp / "app" / "pyproject.toml", '[project]\nname = "app"\n[tool.ruff]\nline-length = 100\n')
    write(in_tmp / "app" / "main.py", "")
    config = load_config([str(in_tmp / "app" / "main.py")], None, RULES)
    assert config.path == str(in_tmp / "llmlint.toml")
    assert config.ignore == ("LLM102",)


def test_closest_file_wins(in_tmp):
    write(in_tmp / "llmlint.toml", 'ignore = ["LLM102"]\n')
    write(in_tmp / "svc" / "pyproject.toml", '[tool.llmlint]\nignore = ["LLM106"]\n')
    config = load_config([str(in_tmp / "svc")], None, RULES)
    assert config.path == str(in_tmp / "svc" / "pyproject.toml")
    assert config.root == str(in_tmp / "svc")
    assert config.ignore == ("LLM106",)


def test_dot_llmlint_toml_takes_precedence_in_one_folder(in_tmp):
    write(in_tmp / "pyproject.toml", '[tool.llmlint]\nignore = ["LLM106"]\n')
    write(in_tmp / ".llmlint.toml", 'ignore = ["LLM102"]\n')
    assert find_config_file(str(in_tmp)) == str(in_tmp / ".llmlint.toml")


def test_explicit_file(in_tmp):
    write(in_tmp / "pyproject.toml", '[tool.llmlint]\nignore = ["LLM106"]\n')
    write(in_tmp / "conf" / "strict.toml", 'fail-on = "note"\n')
    config = load_config([str(in_tmp)], str(in_tmp / "conf" / "strict.toml"), RULES)
    assert config.path == str(in_tmp / "conf" / "strict.toml")
    assert config.root == str(in_tmp / "conf")
    assert config.fail_on is Severity.NOTE
    assert config.ignore == ()


def test_explicit_file_that_does_not_exist(in_tmp):
    with pytest.raises(ConfigError) as info:
        load_config([str(in_tmp)], "missing.toml", RULES)
    assert str(info.value) == "missing.toml: configuration file not found"


def test_all_keys(in_tmp):
    config = load(
        in_tmp,
        """
        [tool.llmlint]
        select = ["LLM", "missing-timeout"]
        ignore = ["LLM106"]
        exclude = ["fixtures"]
        extend-exclude = ["benchmarks/.work"]
        fail-on = "error"

        [tool.llmlint.per-file-ignores]
        "tests/*" = ["LLM1"]

        [tool.llmlint.rules.missing-timeout]
        max-seconds = 60
        clients = ["openai"]
        """,
    )
    assert config.select == ("LLM", "missing-timeout")
    assert config.ignore == ("LLM106",)
    assert config.exclude == ("fixtures",)
    assert config.extend_exclude == ("benchmarks/.work",)
    assert config.fail_on is Severity.ERROR
    assert config.per_file_ignores == (("tests/*", ("LLM1",)),)
    assert config.rule_options["missing-timeout"] == {"max-seconds": 60.0, "clients": ["openai"], "strict": False}
    assert isinstance(config.rule_options["missing-timeout"]["max-seconds"], float)
    assert config.rule_options["unbounded-retry"] == {"max-attempts": 10}
    assert options_for(config, RULES["LLM101"])["max-seconds"] == 60.0
    # the rule's own defaults are never mutated
    assert RULES["LLM101"].options["clients"] == ["openai", "anthropic"]


# Errors name the file and the key


def test_unknown_key(in_tmp):
    message = error_of(in_tmp, "[tool.llmlint]\nper_file_ignores = {}\n")
    assert message == (
        "pyproject.toml: tool.llmlint.per_file_ignores: unknown key; did you mean 'per-file-ignores'? "
        "(accepted: select, ignore, per-file-ignores, exclude, extend-exclude, fail-on, rules, baseline, unsafe-fixes)"
    )


def test_unknown_key_in_llmlint_toml_is_named_without_prefix(in_tmp):
    message = error_of(in_tmp, "selct = []\n", "llmlint.toml")
    assert message.startswith("llmlint.toml: selct: unknown key; did you mean 'select'?")


def test_select_must_be_a_list(in_tmp):
    message = error_of(in_tmp, '[tool.llmlint]\nselect = "LLM1"\n')
    assert message == (
        'pyproject.toml: tool.llmlint.select: must be a list of rule ids, names or id prefixes, not a string ("LLM1") '
        '(accepted: ["LLM1", "unbounded-retry"])'
    )


def test_unknown_selector(in_tmp):
    message = error_of(in_tmp, '[tool.llmlint]\nignore = ["missing-timout"]\n')
    assert message.startswith("pyproject.toml: tool.llmlint.ignore: unknown rule selector 'missing-timout'; did you mean 'missing-timeout'?")
    assert "ALL" in message


def test_unknown_selector_in_per_file_ignores(in_tmp):
    message = error_of(in_tmp, '[tool.llmlint.per-file-ignores]\n"tests/*" = ["LLM9"]\n')
    assert message.startswith("pyproject.toml: tool.llmlint.per-file-ignores.\"tests/*\": unknown rule selector 'LLM9'")


def test_unknown_rule_name(in_tmp):
    message = error_of(in_tmp, "[tool.llmlint.rules.missing-timeouts]\nmax-seconds = 60\n")
    assert message.startswith("pyproject.toml: tool.llmlint.rules.missing-timeouts: unknown rule 'missing-timeouts'; did you mean 'missing-timeout'?")
    assert "(accepted: missing-timeout, unbounded-output, unbounded-retry, unobserved-model-call)" in message


def test_rule_id_as_options_table(in_tmp):
    message = error_of(in_tmp, "[tool.llmlint.rules.LLM101]\nmax-seconds = 60\n")
    assert "tool.llmlint.rules.LLM101: unknown rule 'LLM101'; options are keyed by rule name: [tool.llmlint.rules.missing-timeout]" in message


def test_unknown_option(in_tmp):
    message = error_of(in_tmp, "[tool.llmlint.rules.missing-timeout]\nmax_seconds = 60\n")
    assert message == (
        "pyproject.toml: tool.llmlint.rules.missing-timeout.max_seconds: unknown option; did you mean 'max-seconds'? "
        "(accepted: clients, max-seconds, strict)"
    )


def test_option_of_a_rule_without_options(in_tmp):
    message = error_of(in_tmp, "[tool.llmlint.rules.unbounded-output]\nlimit = 1\n")
    assert message == "pyproject.toml: tool.llmlint.rules.unbounded-output.limit: unknown option (accepted: (this rule has no options))"


@pytest.mark.parametrize(
    "line, why",
    [
        ('max-seconds = "60"', 'must be a number, not a string ("60")'),
        ("strict = 1", "must be a boolean, not an integer (1)"),
        ('clients = "openai"', 'must be a list, not a string ("openai")'),
        ("clients = [1, 2]", "must be a list of strings"),
    ],
)
def test_option_type_must_match_its_default(in_tmp, line, why):
    message = error_of(in_tmp, f"[tool.llmlint.rules.missing-timeout]\n{line}\n")
    option = line.split(" =")[0]
    assert message.startswith(f"pyproject.toml: tool.llmlint.rules.missing-timeout.{option}: {why} (accepted: default: ")


def test_bool_is_not_an_integer(in_tmp):
    message = error_of(in_tmp, "[tool.llmlint.rules.unbounded-retry]\nmax-attempts = true\n")
    assert "tool.llmlint.rules.unbounded-retry.max-attempts: must be an integer, not a boolean (true)" in message


def test_empty_list_default_accepts_any_list(in_tmp):
    config = load(in_tmp, '[tool.llmlint.rules.unobserved-model-call]\nanything = [1, "a"]\n')
    assert config.rule_options["unobserved-model-call"]["anything"] == [1, "a"]


def test_fail_on(in_tmp):
    message = error_of(in_tmp, '[tool.llmlint]\nfail-on = "fatal"\n')
    assert message == "pyproject.toml: tool.llmlint.fail-on: unknown severity 'fatal' (accepted: error, warning, note)"


def test_rules_must_be_a_table(in_tmp):
    message = error_of(in_tmp, '[tool.llmlint]\nrules = ["LLM101"]\n')
    assert message.startswith("pyproject.toml: tool.llmlint.rules: must be a table of tables keyed by rule name")


def test_invalid_toml(in_tmp):
    message = error_of(in_tmp, "[tool.llmlint\n")
    assert message.startswith("pyproject.toml: invalid TOML: ")


def test_error_names_file_relative_to_cwd(in_tmp):
    write(in_tmp / "svc" / "pyproject.toml", "[tool.llmlint]\nbogus = 1\n")
    with pytest.raises(ConfigError) as info:
        load_config([str(in_tmp / "svc")], None, RULES)
    assert info.value.path == "svc/pyproject.toml"
    assert info.value.key == "tool.llmlint.bogus"
    assert str(info.value).startswith("svc/pyproject.toml: tool.llmlint.bogus: unknown key")


# Selection


def enabled(config: Config, path: str | None = None) -> list[str]:
    return [rule_id for rule_id, rule in RULES.items() if is_enabled(config, rule, path)]


def test_selection_by_id_name_prefix_and_all(in_tmp):
    assert enabled(Config()) == ["LLM003", "LLM101", "LLM102", "LLM106"]
    assert enabled(Config(select=("LLM1",))) == ["LLM101", "LLM102", "LLM106"]
    assert enabled(Config(select=("LLM",), ignore=("unbounded-output",))) == ["LLM003", "LLM101", "LLM106"]
    assert enabled(Config(select=("missing-timeout", "llm003"))) == ["LLM003", "LLM101"]
    assert enabled(Config(select=("ALL",), ignore=("ALL",))) == []


def test_more_specific_selector_wins_and_a_tie_goes_to_ignore():
    assert enabled(Config(select=("LLM101",), ignore=("LLM1",))) == ["LLM101"]
    assert enabled(Config(select=("LLM1",), ignore=("LLM10",))) == []
    assert enabled(Config(select=("LLM10",), ignore=("LLM1",))) == ["LLM101", "LLM102", "LLM106"]
    assert enabled(Config(select=("LLM101",), ignore=("missing-timeout",))) == []


def test_per_file_ignores(in_tmp):
    config = Config(
        root=str(in_tmp),
        per_file_ignores=(("tests/*", ("LLM1",)), ("*_test.py", ("LLM003",)), ("scripts", ("missing-timeout",)), ("**/gen/*.py", ("ALL",))),
    )
    assert enabled(config, "tests/test_app.py") == ["LLM003"]
    assert enabled(config, str(in_tmp / "tests" / "deep" / "test_app.py")) == ["LLM003"]
    assert enabled(config, "src/app_test.py") == ["LLM101", "LLM102", "LLM106"]
    assert enabled(config, "scripts/run.py") == ["LLM003", "LLM102", "LLM106"]
    assert enabled(config, "gen/x.py") == []
    assert enabled(config, "a/b/gen/x.py") == []
    assert enabled(config, "src/app.py") == ["LLM003", "LLM101", "LLM102", "LLM106"]
    assert enabled(config) == ["LLM003", "LLM101", "LLM102", "LLM106"]


def test_per_file_ignores_are_relative_to_the_config_root(in_tmp):
    write(in_tmp / "svc" / "pyproject.toml", '[tool.llmlint.per-file-ignores]\n"tests/*" = ["LLM101"]\n')
    config = load_config([str(in_tmp / "svc")], None, RULES)
    assert not is_enabled(config, RULES["LLM101"], "svc/tests/test_x.py")
    assert is_enabled(config, RULES["LLM101"], "tests/test_x.py")  # outside svc/


# Command-line overrides


def test_cli_select_replaces_the_file_selection_and_its_ignores():
    config = Config(select=("LLM1",), ignore=("LLM101",))
    merged = apply_overrides(config, RULES, select=["LLM101", "LLM003"])
    assert merged.select == ("LLM101", "LLM003") and merged.ignore == ()
    assert enabled(merged) == ["LLM003", "LLM101"]
    assert config.select == ("LLM1",)  # the original is untouched


def test_cli_ignore_outranks_any_file_selection():
    config = Config(select=("LLM101", "LLM102"))
    merged = apply_overrides(config, RULES, ignore=["LLM1"])
    assert enabled(merged) == []
    assert merged.select == ("LLM101", "LLM102")


def test_cli_select_and_ignore_together():
    merged = apply_overrides(Config(ignore=("LLM003",)), RULES, select=["ALL"], ignore=["LLM10"])
    assert enabled(merged) == ["LLM003"]


def test_cli_fail_on_and_extend_exclude():
    merged = apply_overrides(Config(extend_exclude=("a",)), RULES, fail_on="error", extend_exclude=["b"])
    assert merged.fail_on is Severity.ERROR
    assert merged.extend_exclude == ("a", "b")
    assert apply_overrides(Config(), RULES, fail_on=Severity.NOTE).fail_on is Severity.NOTE


def test_cli_unknown_selector():
    with pytest.raises(ConfigError) as info:
        apply_overrides(Config(), RULES, select=["LLM9"])
    assert str(info.value).startswith("command line: --select: unknown rule selector 'LLM9'")


# Fingerprint


def test_fingerprint_is_stable_and_tracks_what_changes_findings(in_tmp):
    write(in_tmp / "pyproject.toml", "[tool.llmlint.rules.missing-timeout]\nmax-seconds = 60\n")
    first = config_fingerprint(load_config([str(in_tmp)], None, RULES))
    assert first == config_fingerprint(load_config([str(in_tmp)], None, RULES))
    assert len(first) == 64
    base = load_config([str(in_tmp)], None, RULES)
    assert config_fingerprint(apply_overrides(base, RULES, fail_on="error", extend_exclude=["x"])) == first
    assert config_fingerprint(apply_overrides(base, RULES, ignore=["LLM101"])) != first
    write(in_tmp / "pyproject.toml", "[tool.llmlint.rules.missing-timeout]\nmax-seconds = 90\n")
    assert config_fingerprint(load_config([str(in_tmp)], None, RULES)) != first


def test_config_is_frozen():
    with pytest.raises(AttributeError):
        Config().select = ("LLM1",)  # type: ignore[misc]
    assert os.path.isabs(Config().root)
