"""The SARIF reporter: valid SARIF 2.1.0 (schema and Microsoft's validator with GitHub rules) and its contents."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

import llmlint
from llmlint.reporters import sarif
from llmlint.results.finding import Edit, Location, Problem, Related, Report
from tests.report_samples import finding, make_rule, sample_report, sample_rules

SOURCES = {
    "app/config.py": ["import os", "", "", 'OPENAI_KEY = "sk-proj-abcdefghijklmnopqrstuvwxyzXy9Q"'],
    "app/llm.py": [f"line {n}" for n in range(1, 30)],
}


def source_lines(path: str, line: int) -> str:
    lines = SOURCES.get(path, [])
    return lines[line - 1] if 0 < line <= len(lines) else ""


def render(report: Report, rules=None, **opts) -> dict:
    opts.setdefault("source_lines", source_lines)
    return json.loads(sarif.render(report, sample_rules() if rules is None else rules, **opts))


def the_run(report: Report | None = None, **opts) -> dict:
    return render(report or sample_report(), **opts)["runs"][0]


def the_results(report: Report | None = None, **opts) -> list[dict]:
    return the_run(report, **opts)["results"]


# --- validity -----------------------------------------------------------------------------------------------


def test_valid_against_the_sarif_schema(sarif_multitool):
    schema = json.loads(sarif_multitool.schema.read_text(encoding="utf-8-sig"))
    validator = jsonschema.validators.validator_for(schema)(schema)
    for report in (sample_report(), Report()):
        log = render(report, category="llmlint/python")
        errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(log)]
        assert errors == []


def test_microsoft_validator_with_github_rules_finds_no_errors(sarif_multitool, tmp_path):
    rules = sample_rules()
    with_absolute_path = sample_report()
    with_absolute_path.findings.append(finding(rules["LLM108"], Location("/elsewhere/lib.py", 3, 5), "m", "f"))
    logs = {"sample.sarif": sample_report(), "empty.sarif": Report(), "absolute.sarif": with_absolute_path}
    for name, report in logs.items():
        output = sarif.render(report, rules, source_lines=source_lines, category="llmlint")
        (tmp_path / name).write_text(output, encoding="utf-8")
    # A log GitHub would reject (no locations), to prove the validator is really looking.
    (tmp_path / "broken.sarif").write_text(BROKEN_LOG, encoding="utf-8")
    out = tmp_path / "validation.sarif"
    inputs = [str(tmp_path / name) for name in [*logs, "broken.sarif"]]
    run = sarif_multitool.run("validate", "--rule-kind", "Sarif;Gh", "--output", str(out), *inputs)
    assert run.returncode == 0, run.stdout + run.stderr
    # The validator exits 0 even when it reports errors: read its own SARIF output.
    results = json.loads(out.read_text(encoding="utf-8-sig"))["runs"][0]["results"]
    errors_by_file = {Path(name).name: [] for name in inputs}
    for result in results:
        if result.get("level", "warning") == "error":
            uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            errors_by_file[uri.rsplit("/", 1)[-1]].append(result["ruleId"])
    assert "GH1015" in errors_by_file.pop("broken.sarif"), run.stdout
    assert errors_by_file == {name: [] for name in logs}, run.stdout


BROKEN_LOG = json.dumps(
    {
        "version": "2.1.0",
        "runs": [{"tool": {"driver": {"name": "x"}}, "results": [{"ruleId": "R1", "message": {"text": "m"}}]}],
    }
)


# --- driver and rules ---------------------------------------------------------------------------------------


def test_driver_describes_llmlint():
    driver = the_run()["tool"]["driver"]
    assert driver["name"] == "llmlint"
    assert driver["version"] == llmlint.__version__
    assert "informationUri" not in driver  # no page that does not exist


def test_every_rule_is_described_even_without_findings():
    rules = [rule["id"] for rule in the_run()["tool"]["driver"]["rules"]]
    assert rules == ["LLM003", "LLM101", "LLM106", "LLM107", "LLM108"]


def test_rule_descriptor_comes_from_the_rule_doc():
    meta = sample_rules()["LLM101"]
    (rule,) = [r for r in the_run()["tool"]["driver"]["rules"] if r["id"] == "LLM101"]
    assert rule["name"] == "missing-timeout"
    assert rule["shortDescription"] == {"text": "Flags model calls that leave the request timeout at the SDK default."}
    assert rule["fullDescription"] == {
        "text": "The OpenAI SDK waits up to 10 minutes. A stuck request holds a worker that long."
    }
    assert rule["help"] == {"text": meta.markdown, "markdown": meta.markdown}
    assert "helpUri" not in rule  # the document itself is the help
    assert rule["properties"] == {"tags": ["latency"], "precision": "high"}


def test_security_rules_carry_security_severity_and_tag():
    (rule,) = [r for r in the_run()["tool"]["driver"]["rules"] if r["id"] == "LLM107"]
    assert rule["properties"]["security-severity"] == "8.5"
    assert rule["properties"]["tags"] == ["integration", "security"]


def test_long_descriptions_are_cut_to_1024_characters():
    long_rule = make_rule("LLM002", "retrieval-firehose", "warning", what="word " * 400, why="because " * 300)
    (rule,) = render(Report(), {"LLM002": long_rule})["runs"][0]["tool"]["driver"]["rules"]
    for key in ("shortDescription", "fullDescription"):
        assert len(rule[key]["text"]) <= 1024
        assert rule[key]["text"].endswith("…")


def test_default_configuration_level_follows_severity():
    levels = {r["id"]: r["defaultConfiguration"]["level"] for r in the_run()["tool"]["driver"]["rules"]}
    assert levels == {"LLM003": "error", "LLM101": "warning", "LLM106": "note", "LLM107": "error", "LLM108": "warning"}


# --- results ------------------------------------------------------------------------------------------------


def test_result_level_follows_severity():
    assert [(r["ruleId"], r["level"]) for r in the_results()] == [
        ("LLM107", "error"),
        ("LLM101", "warning"),
        ("LLM003", "error"),
        ("LLM106", "note"),
    ]


def test_rule_index_points_at_the_finding_rule():
    run = the_run()
    descriptors = run["tool"]["driver"]["rules"]
    for result in run["results"]:
        assert descriptors[result["ruleIndex"]]["id"] == result["ruleId"]


def test_message_and_fix_are_separated_by_a_blank_line():
    assert the_results()[2]["message"] == {
        "text": "`@retry` around `ask` has no `stop=`: tenacity retries forever."
        "\n\nFix: add `stop=stop_after_attempt(5)` to `@retry`"
    }


def test_primary_location_is_relative_with_a_full_region():
    (location,) = the_results()[1]["locations"]
    assert location["physicalLocation"] == {
        "artifactLocation": {"uri": "app/llm.py", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 12, "startColumn": 14, "endLine": 15, "endColumn": 6},
    }


def test_srcroot_is_the_root_directory_as_a_file_uri(tmp_path):
    base = the_run(root=tmp_path)["originalUriBaseIds"]["%SRCROOT%"]
    assert base == {"uri": tmp_path.resolve().as_uri() + "/"}


def test_paths_outside_the_root_become_absolute_file_uris():
    rule = sample_rules()["LLM101"]
    report = Report(findings=[finding(rule, Location("/srv/other/a b.py", 1), "m", "f")])
    (result,) = the_results(report)
    assert result["locations"][0]["physicalLocation"]["artifactLocation"] == {"uri": "file:///srv/other/a%20b.py"}


def test_relative_uris_keep_path_characters_and_encode_only_what_a_uri_cannot_hold():
    rule = sample_rules()["LLM101"]
    paths = ["pages/1_File_Q&A.py", "app/a b#1.py", "c:d.py", "docs/ünï.py"]
    report = Report(findings=[finding(rule, Location(p, 1), "m", "f") for p in paths])
    uris = [r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in the_results(report)]
    assert uris == ["pages/1_File_Q&A.py", "app/a%20b%231.py", "c%3Ad.py", "docs/%C3%BCn%C3%AF.py"]


def test_related_locations_have_ids_and_messages():
    assert the_results()[1]["relatedLocations"] == [
        {
            "id": 1,
            "message": {"text": "client created here without a timeout"},
            "physicalLocation": {
                "artifactLocation": {"uri": "app/clients.py", "uriBaseId": "%SRCROOT%"},
                "region": {"startLine": 3, "startColumn": 10, "endLine": 3, "endColumn": 18},
            },
        }
    ]


def test_fixes_present_exactly_when_the_finding_has_edits():
    results = the_results()
    assert [("fixes" in r) for r in results] == [False, True, False, False]
    (fix,) = results[1]["fixes"]
    assert fix["description"] == {"text": "pass `timeout=30` to the call or to `OpenAI(...)`"}
    assert fix["artifactChanges"] == [
        {
            "artifactLocation": {"uri": "app/llm.py", "uriBaseId": "%SRCROOT%"},
            "replacements": [
                {
                    "deletedRegion": {"startLine": 15, "startColumn": 5, "endLine": 15, "endColumn": 5},
                    "insertedContent": {"text": ", timeout=30"},
                }
            ],
        }
    ]


def test_edits_in_two_files_become_two_artifact_changes():
    rule = sample_rules()["LLM101"]
    edits = (
        Edit(Location("a.py", 1, 5, 1, 5), "x"),
        Edit(Location("b.py", 2, 1, 2, 4), ""),
        Edit(Location("a.py", 3, 1), "y"),
    )
    (result,) = the_results(Report(findings=[finding(rule, Location("a.py", 1), "m", "f", edits=edits)]))
    changes = result["fixes"][0]["artifactChanges"]
    assert [(c["artifactLocation"]["uri"], len(c["replacements"])) for c in changes] == [("a.py", 2), ("b.py", 1)]


def test_skipped_files_are_tool_notifications():
    (invocation,) = the_run()["invocations"]
    assert invocation["executionSuccessful"] is True
    assert invocation["toolExecutionNotifications"] == [
        {
            "level": "warning",
            "message": {"text": "skipped: syntax error at line 3, column 8"},
            "locations": [
                {"physicalLocation": {"artifactLocation": {"uri": "app/broken.py", "uriBaseId": "%SRCROOT%"}}}
            ],
        }
    ]
    assert "toolExecutionNotifications" not in the_run(Report())["invocations"][0]


def test_category_becomes_the_automation_id():
    assert the_run(category="llmlint/python")["automationDetails"] == {"id": "llmlint/python/"}
    assert "automationDetails" not in the_run()


def test_schema_defaults_are_left_out():
    run = the_run()
    assert "language" not in run and "newlineSequences" not in run
    assert all("kind" not in r and "rank" not in r for r in run["results"])
    unknown_rule = make_rule("LLM999", "not-in-the-catalog", "note")
    (result,) = the_results(Report(findings=[finding(unknown_rule, Location("a.py", 1), "m", "f")]))
    assert "ruleIndex" not in result


def test_log_starts_with_schema_and_version():
    log = render(sample_report())
    assert list(log)[:2] == ["$schema", "version"] and log["version"] == "2.1.0"


# --- fingerprints -------------------------------------------------------------------------------------------


def fingerprints(report: Report, lines: dict[str, list[str]]) -> list[str]:
    def read(path: str, line: int) -> str:
        return lines[path][line - 1]

    log = json.loads(sarif.render(report, sample_rules(), source_lines=read))
    return [r["partialFingerprints"]["primaryLocationLineHash"] for r in log["runs"][0]["results"]]


def shifted(report: Report, by: int) -> Report:
    moved = [
        finding(
            sample_rules()[f.rule_id],
            Location(f.location.path, f.location.line + by, f.location.column),
            f.message,
            f.fix,
        )
        for f in report.findings
    ]
    return Report(findings=moved)


def test_fingerprint_survives_blank_lines_inserted_above():
    rule = sample_rules()["LLM101"]
    source = {"app.py": ["import openai", "client = openai.OpenAI()", "client.chat.completions.create(model=m)"]}
    before = Report(findings=[finding(rule, Location("app.py", 3, 1), "m", "f")])
    moved_source = {"app.py": ["", "", ""] + source["app.py"]}
    assert fingerprints(shifted(before, 3), moved_source) == fingerprints(before, source)


def test_fingerprint_changes_with_the_line_text_and_rule():
    rules = sample_rules()
    source_a = {"app.py": ["client.chat.completions.create(model=m)"]}
    source_b = {"app.py": ["client.responses.create(model=m)"]}
    timeout = Report(findings=[finding(rules["LLM101"], Location("app.py", 1), "m", "f")])
    unobserved = Report(findings=[finding(rules["LLM106"], Location("app.py", 1), "m", "f")])
    assert fingerprints(timeout, source_a) != fingerprints(timeout, source_b)
    assert fingerprints(timeout, source_a) != fingerprints(unobserved, source_a)


def test_identical_lines_are_told_apart_by_an_occurrence_counter():
    rule = sample_rules()["LLM101"]
    source = {"app.py": ["    ask(q)", "other()", "ask(q)"]}
    report = Report(findings=[finding(rule, Location("app.py", line), "m", "f") for line in (1, 3)])
    first, second = fingerprints(report, source)
    assert first.split(":")[0] == second.split(":")[0]
    assert (first.split(":")[1], second.split(":")[1]) == ("1", "2")


def test_default_source_lines_read_files_under_the_root(tmp_path):
    (tmp_path / "app.py").write_text("x = 1\nclient.chat.completions.create(model=m)\n", encoding="utf-8")
    rule = sample_rules()["LLM101"]
    report = Report(
        findings=[finding(rule, Location("app.py", 2), "m", "f"), finding(rule, Location("gone.py", 2), "m", "f")]
    )
    log = json.loads(sarif.render(report, sample_rules(), root=tmp_path))
    hashes = [r["partialFingerprints"]["primaryLocationLineHash"] for r in log["runs"][0]["results"]]
    assert (
        hashes[0]
        == fingerprints(
            Report(findings=[report.findings[0]]), {"app.py": ["", "client.chat.completions.create(model=m)"]}
        )[0]
    )
    assert hashes[1] == fingerprints(Report(findings=[report.findings[1]]), {"gone.py": ["", ""]})[0]


def test_source_text_never_reaches_the_log():
    # The finding's line holds a key; the log carries only its hash and the (redacted) message.
    output = sarif.render(sample_report(), sample_rules(), source_lines=source_lines)
    assert "sk-proj-abcdefghijklmnopqrstuvwxyzXy9Q" not in output
    assert "sk-proj-...Xy9Q" in output


@pytest.mark.parametrize("problem_path", ["app/broken.py", "/abs/broken.py"])
def test_problem_paths_use_the_same_uri_rules(problem_path):
    (invocation,) = the_run(Report(problems=[Problem(problem_path, "unreadable")]))["invocations"]
    (location,) = invocation["toolExecutionNotifications"][0]["locations"]
    uri = location["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == ("app/broken.py" if problem_path == "app/broken.py" else "file:///abs/broken.py")


def test_related_without_region_text_is_kept_in_order():
    rule = sample_rules()["LLM003"]
    related = (Related(Location("a.py", 9), "caller"), Related(Location("b.py", 2), "helper"))
    (result,) = the_results(Report(findings=[finding(rule, Location("a.py", 1), "m", "f", related=related)]))
    assert [(r["id"], r["message"]["text"]) for r in result["relatedLocations"]] == [(1, "caller"), (2, "helper")]


# --- the demo app, end to end ---------------------------------------------------------------------------------


def test_demo_app_sarif_passes_schema_and_github_validation(sarif_multitool, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from llmlint.cli import main

    root = Path(__file__).resolve().parent.parent
    monkeypatch.chdir(root)
    out = tmp_path / "demo.sarif"
    result = CliRunner().invoke(main, ["check", "fixtures/demo-app", "--format", "sarif", "-o", str(out), "--no-cache"])
    assert result.exit_code == 1, result.output
    log = json.loads(out.read_text(encoding="utf-8"))
    results = log["runs"][0]["results"]
    assert results and all(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].startswith("fixtures/demo-app/") for r in results)
    schema = json.loads(sarif_multitool.schema.read_text(encoding="utf-8-sig"))
    validator = jsonschema.validators.validator_for(schema)(schema)
    assert [e.message for e in validator.iter_errors(log)] == []
    report = tmp_path / "validation.sarif"
    run = sarif_multitool.run("validate", "--rule-kind", "Sarif;Gh", "--output", str(report), str(out))
    assert run.returncode == 0, run.stdout + run.stderr
    problems = json.loads(report.read_text(encoding="utf-8-sig"))["runs"][0]["results"]
    assert [p["ruleId"] for p in problems if p.get("level", "warning") == "error"] == [], run.stdout


# --- paths relative to the repository, whatever the working directory ----------------------------------------

def _git_repository(root: Path) -> None:
    (root / ".git" / "refs" / "heads").mkdir(parents=True)
    (root / ".git" / "HEAD").write_text("ref: refs/heads/main\n", encoding="utf-8")
    (root / ".git" / "refs" / "heads" / "main").write_text("0123456789abcdef0123456789abcdef01234567\n", encoding="utf-8")
    (root / ".git" / "config").write_text(
        '[core]\n\tbare = false\n[remote "origin"]\n\turl = https://bot:s3cret@github.com/acme/support-bot.git\n',
        encoding="utf-8",
    )
    (root / "app").mkdir()
    (root / "app" / "llm.py").write_text(
        "import openai\n\n\ndef ask(q):\n    return openai.chat.completions.create(model='gpt-4o', messages=[{'role': 'user', 'content': q}])\n",
        encoding="utf-8",
    )


def test_sarif_from_the_repository_root_and_from_a_subfolder_is_the_same(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from llmlint.cli import main

    _git_repository(tmp_path)
    documents = []
    for where in (tmp_path, tmp_path / "app"):
        monkeypatch.chdir(where)
        result = CliRunner().invoke(main, ["check", ".", "--format", "sarif", "--no-cache", "--exit-zero"])
        assert result.exit_code == 0, result.output
        documents.append(json.loads(result.stdout))
    keys = [
        sorted((r["ruleId"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], r["partialFingerprints"]["primaryLocationLineHash"])
               for r in document["runs"][0]["results"])
        for document in documents
    ]
    assert keys[0] == keys[1] and keys[0]
    assert {uri for _, uri, _ in keys[0]} == {"app/llm.py"}
    run = documents[1]["runs"][0]
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == tmp_path.resolve().as_uri() + "/"
    assert run["versionControlProvenance"] == [{
        "repositoryUri": "https://github.com/acme/support-bot.git",
        "revisionId": "0123456789abcdef0123456789abcdef01234567",
        "mappedTo": {"uriBaseId": "%SRCROOT%"},
    }]
    assert "s3cret" not in json.dumps(documents)


def test_no_provenance_without_a_remote_and_git_metadata_is_read_defensively(tmp_path):
    from llmlint.engine.gitinfo import revision_and_remote

    _git_repository(tmp_path)
    (tmp_path / ".git" / "config").write_text("[core]\n\tbare = false\n", encoding="utf-8")
    (tmp_path / ".git" / "refs" / "heads" / "main").unlink()
    (tmp_path / ".git" / "packed-refs").write_text(
        "# pack-refs with: peeled\n89abcdef0123456789abcdef0123456789abcdef refs/heads/main\n", encoding="utf-8")
    assert revision_and_remote(str(tmp_path)) == ("89abcdef0123456789abcdef0123456789abcdef", None)
    assert "versionControlProvenance" not in the_run(root=tmp_path)
    (tmp_path / ".git" / "HEAD").write_text("ref: refs/../../../etc/passwd\n", encoding="utf-8")
    assert revision_and_remote(str(tmp_path)) == (None, None)
