"""Real code: the CPython standard library calls no model, so llmlint must end cleanly with no finding."""

from __future__ import annotations

import sysconfig

import pytest

from llmlint.api import lint_paths
from llmlint.engine.config import Config


@pytest.mark.slow
def test_stdlib_has_no_findings_and_no_crash(tmp_path):
    stdlib = sysconfig.get_paths()["stdlib"]
    report = lint_paths([stdlib], Config(root=str(tmp_path)), use_cache=False)
    assert report.files_checked > 500
    assert [f"{f.rule_id} {f.location.path}:{f.location.line}" for f in report.findings] == []
    for problem in report.problems:  # every skipped file is named with a reason
        assert problem.path and problem.reason
