"""SARIF 2.1.0 output for GitHub code scanning and other SARIF viewers, built from `sarif_om` objects.

Messages from the analysed code go through `safe_text`, paths and fix replacements through `redact` (their
control characters are escaped by URI quoting and JSON encoding)."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Callable
from urllib.parse import quote

import attr
import sarif_om as om

from llmlint import __version__
from llmlint.engine.gitinfo import report_base, repository_top, revision_and_remote
from llmlint.engine.redact import redact, safe_text
from llmlint.reporters import message_and_fix
from llmlint.results.finding import Finding, Location, Report, Severity
from llmlint.ruleset.ruledoc import RuleMeta

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
# No informationUri or helpUri: llmlint has no public home page yet, and a link that does not exist is worse than
# none. The whole rule document travels as each rule's `help`; `llmlint explain ID` prints it.
SRCROOT = "%SRCROOT%"
# RFC 3986 path characters other than ":" (which would read as a scheme in a first segment) are not encoded
URI_PATH_SAFE = "/!$&'()*+,;=@"
MAX_DESCRIPTION = 1024  # GitHub truncates rule descriptions longer than this
MAX_SHORT_DESCRIPTION = 100  # the title GitHub shows on every alert: the rule document's one-sentence `title`
_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTE: "note"}

SourceLines = Callable[[str, int], str]


def render(
    report: Report,
    rules: dict[str, RuleMeta],
    *,
    source_lines: SourceLines | None = None,
    category: str | None = None,
    root: str | Path | None = None,
    **_other_format_opts,
) -> str:
    """The SARIF log as JSON text.

    `source_lines(path, line)` returns a line's text for the fingerprints (default: read the file under `root`).
    `category` becomes run.automationDetails.id (GitHub's analysis category). `root` (default: the top of the git
    work tree holding the current directory, else the current directory, as for every reported path) is what
    %SRCROOT% and relative paths refer to; in a git work tree with an `origin` remote, versionControlProvenance
    names the repository and the commit checked out.
    """
    root_dir = Path(root) if root is not None else Path(report_base())
    descriptors = sorted(rules.values(), key=lambda rule: rule.id)
    rule_index = {rule.id: i for i, rule in enumerate(descriptors)}
    fingerprints = line_hashes(report.findings, source_lines or read_source_lines(root_dir))
    run = om.Run(
        tool=om.Tool(
            driver=om.ToolComponent(
                name="llmlint",
                version=__version__,
                semantic_version=__version__,
                rules=[_descriptor(rule) for rule in descriptors],
            )
        ),
        automation_details=om.RunAutomationDetails(id=_automation_id(category)) if category else None,
        original_uri_base_ids={SRCROOT: om.ArtifactLocation(uri=_directory_uri(root_dir))},
        version_control_provenance=_provenance(root_dir),
        column_kind="unicodeCodePoints",
        invocations=[
            om.Invocation(
                execution_successful=True,
                tool_execution_notifications=[_skipped_notification(p.path, p.reason) for p in report.problems] or None,
            )
        ],
        results=[_result(f, rule_index.get(f.rule_id), fp) for f, fp in zip(report.findings, fingerprints)],
    )
    log = om.SarifLog(version="2.1.0", schema_uri=SCHEMA_URI, runs=[run])
    document = to_sarif_dict(log)
    header = {key: document.pop(key) for key in ("$schema", "version")}  # first, as readers expect them
    return json.dumps({**header, **document}, indent=2) + "\n"


def _descriptor(rule: RuleMeta) -> om.ReportingDescriptor:
    tags = list(rule.tags)
    properties: dict = {"precision": rule.precision}
    if rule.security_severity:
        properties["security-severity"] = rule.security_severity
        if "security" not in tags:
            tags.append("security")
    properties["tags"] = tags
    return om.ReportingDescriptor(
        id=rule.id,
        name=rule.name,
        short_description=om.MultiformatMessageString(text=_clip(rule.title or rule.summary or rule.name, MAX_SHORT_DESCRIPTION)),
        full_description=om.MultiformatMessageString(
            text=_clip(rule.sections.get("Why is this bad?") or rule.summary or rule.name)
        ),
        help=om.MultiformatMessageString(text=rule.markdown, markdown=rule.markdown),
        default_configuration=om.ReportingConfiguration(level=_LEVEL[rule.severity]),
        properties=properties,
    )


def _provenance(root: Path) -> list | None:
    """The repository and commit of the work tree at `root` (GitHub matches alerts to commits with it)."""
    top = repository_top(str(root))
    if top is None or Path(top).resolve() != root.resolve():
        return None
    revision, remote = revision_and_remote(top)
    if remote is None:
        return None  # (repositoryUri is required)
    return [om.VersionControlDetails(repository_uri=remote, revision_id=revision,
                                     mapped_to=om.ArtifactLocation(uri_base_id=SRCROOT))]


def _result(finding: Finding, rule_index: int | None, fingerprint: str) -> om.Result:
    text = message_and_fix(finding)
    properties = {key: value for key, value in (("api", finding.api), ("projectNote", finding.note)) if value}
    related = [
        om.Location(id=i, physical_location=_physical(r.location), message=om.Message(text=safe_text(r.message)))
        for i, r in enumerate(finding.related, start=1)
    ]
    return om.Result(
        rule_id=finding.rule_id,
        rule_index=rule_index if rule_index is not None else -1,
        level=_LEVEL[finding.severity],
        message=om.Message(text=text),
        locations=[om.Location(physical_location=_physical(finding.location))],
        related_locations=related or None,
        partial_fingerprints={"primaryLocationLineHash": fingerprint},
        fixes=[_fix(finding)] if finding.edits else None,
        properties=properties or None,
    )


def _fix(finding: Finding) -> om.Fix:
    changes: dict[str, list[om.Replacement]] = {}
    for edit in finding.edits:
        replacement = om.Replacement(
            deleted_region=_region(edit.location), inserted_content=om.ArtifactContent(text=redact(edit.replacement))
        )
        changes.setdefault(edit.location.path, []).append(replacement)
    return om.Fix(
        description=om.Message(text=safe_text(finding.fix)) if finding.fix else None,
        artifact_changes=[
            om.ArtifactChange(artifact_location=_artifact(path), replacements=replacements)
            for path, replacements in changes.items()
        ],
    )


def _skipped_notification(path: str, reason: str) -> om.Notification:
    return om.Notification(
        level="warning",
        message=om.Message(text=f"skipped: {safe_text(reason)}"),
        locations=[om.Location(physical_location=om.PhysicalLocation(artifact_location=_artifact(path)))],
    )


def _physical(loc: Location) -> om.PhysicalLocation:
    return om.PhysicalLocation(artifact_location=_artifact(loc.path), region=_region(loc))


def _region(loc: Location) -> om.Region:
    return om.Region(start_line=loc.line, start_column=loc.column, end_line=loc.end_line, end_column=loc.end_column)


def _artifact(path: str) -> om.ArtifactLocation:
    """A relative path becomes a %SRCROOT%-relative URI; an absolute one (outside the root) a file:// URI."""
    path = redact(path)
    if PurePosixPath(path).is_absolute() or PureWindowsPath(path).is_absolute():
        return om.ArtifactLocation(uri=Path(path).as_uri())
    # `pages/1_File_Q&A.py` stays as it is: a percent-encoded sub-delimiter is, strictly, another URI
    raw = path.replace("\\", "/").encode("utf-8", "surrogateescape")  # a name that is not UTF-8 keeps its bytes
    return om.ArtifactLocation(uri=quote(raw, safe=URI_PATH_SAFE), uri_base_id=SRCROOT)


def _directory_uri(directory: Path) -> str:
    uri = directory.resolve().as_uri()
    return uri if uri.endswith("/") else uri + "/"


def _automation_id(category: str) -> str:
    # GitHub reads the category as everything up to the last "/", as the upload-sarif action writes it.
    return category if category.endswith("/") else category + "/"


def _clip(text: str, limit: int = MAX_DESCRIPTION) -> str:
    """Whitespace collapsed, cut at a word boundary to at most `limit` characters."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return text[: limit - 1].rsplit(" ", 1)[0] + "…"


def line_hashes(findings: list[Finding], source_lines: SourceLines) -> list[str]:
    """GitHub-style `primaryLocationLineHash` per finding: "<hash of rule, path, line text>:<occurrence>".

    The line's text (whitespace-normalised), not its number, is hashed, so inserting lines above a finding
    keeps its fingerprint; the occurrence counter separates findings of one rule on identical lines.
    """
    seen: Counter[str] = Counter()
    hashes = []
    for finding in findings:
        loc = finding.location
        text = " ".join(source_lines(loc.path, loc.line).split())
        digest = hashlib.sha256(f"{finding.rule_id}\0{loc.path}\0{text}".encode("utf-8", "surrogateescape")).hexdigest()[:16]
        seen[digest] += 1
        hashes.append(f"{digest}:{seen[digest]}")
    return hashes


def read_source_lines(root: Path) -> SourceLines:
    """A `source_lines` that reads files under `root` once each; a missing or unreadable file reads as empty."""
    cache: dict[str, list[str]] = {}

    def line_text(path: str, line: int) -> str:
        if path not in cache:
            try:
                cache[path] = (root / path).read_text(encoding="utf-8", errors="replace").splitlines()
            except OSError:
                cache[path] = []
        lines = cache[path]
        return lines[line - 1] if 0 < line <= len(lines) else ""

    return line_text


# Keep these even when they equal the schema default: viewers read them directly.
_ALWAYS_EMITTED = {"level"}


def to_sarif_dict(value):
    """Plain JSON data from sarif_om objects: attrs fields under their schema names, None and defaults dropped."""
    if attr.has(type(value)):
        out = {}
        for field in attr.fields(type(value)):
            item = getattr(value, field.name)
            if item is None or (field.name not in _ALWAYS_EMITTED and _is_default(field, item)):
                continue
            out[field.metadata["schema_property_name"]] = to_sarif_dict(item)
        return out
    if isinstance(value, (list, tuple)):
        return [to_sarif_dict(item) for item in value]
    if isinstance(value, dict):
        return {key: to_sarif_dict(item) for key, item in value.items()}
    return value


def _is_default(field: attr.Attribute, value) -> bool:
    default = field.default
    if isinstance(default, attr.Factory):
        default = default.factory()
    return default is not attr.NOTHING and value == default
