"""Shared pytest fixtures."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

# --- sarif_multitool: Microsoft's official SARIF validator, installed once from npm -------------------------

SARIF_MULTITOOL_CACHE = Path.home() / ".cache" / "llmlint-tests" / "sarif-multitool"


@dataclass(frozen=True)
class SarifMultitool:
    binary: Path  # the self-contained Sarif.Multitool executable
    schema: Path  # the SARIF 2.1.0 JSON schema shipped beside it

    def run(self, *args: str) -> subprocess.CompletedProcess:
        # The .NET runtime needs ICU unless globalization-invariant mode is on; minimal images lack ICU.
        env = {**os.environ, "DOTNET_SYSTEM_GLOBALIZATION_INVARIANT": "1"}
        return subprocess.run([str(self.binary), *args], capture_output=True, text=True, env=env, timeout=120)


def _multitool_unavailable(reason: str):
    """Skip locally; in CI (CI=true) a missing validator is a failure, not a silent pass."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"SARIF multitool required in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def sarif_multitool() -> SarifMultitool:
    """`npm install @microsoft/sarif-multitool` into ~/.cache/llmlint-tests/sarif-multitool, reused across runs."""
    platform = {"linux": "linux", "darwin": "darwin", "win32": "win32"}.get(sys.platform)
    if platform is None:
        _multitool_unavailable(f"no sarif-multitool build for platform {sys.platform}")
    package = Path("node_modules", "@microsoft", f"sarif-multitool-{platform}")
    binary_name = "Sarif.Multitool.exe" if platform == "win32" else "Sarif.Multitool"
    binary = SARIF_MULTITOOL_CACHE / package / binary_name
    if not binary.exists():
        _install_sarif_multitool()
        if not binary.exists():
            _multitool_unavailable(f"npm install did not produce {binary}")
    # npm may not run the package's `chmod u+x` postinstall script (install scripts can be disabled).
    binary.chmod(binary.stat().st_mode | 0o111)
    return SarifMultitool(binary=binary, schema=SARIF_MULTITOOL_CACHE / package / "sarif-2.1.0.json")


def _install_sarif_multitool() -> None:
    npm = shutil.which("npm")
    if npm is None:
        _multitool_unavailable("npm is not installed; it is needed to install @microsoft/sarif-multitool")
    # Install beside the cache and rename into place, so concurrent pytest-xdist workers never see half a tree.
    staging = SARIF_MULTITOOL_CACHE.with_name(f"sarif-multitool.{os.getpid()}.tmp")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    command = [npm, "install", "--prefix", str(staging), "--no-audit", "--no-fund", "@microsoft/sarif-multitool"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        _multitool_unavailable(f"npm install @microsoft/sarif-multitool failed:\n{result.stderr[-2000:]}")
    if SARIF_MULTITOOL_CACHE.exists() and not any(
        SARIF_MULTITOOL_CACHE.glob("node_modules/@microsoft/sarif-multitool-*")
    ):
        shutil.rmtree(SARIF_MULTITOOL_CACHE, ignore_errors=True)  # an earlier install that broke off
    try:
        staging.rename(SARIF_MULTITOOL_CACHE)
    except OSError:  # another worker got there first
        shutil.rmtree(staging, ignore_errors=True)


# --- the cache's per-user secret ------------------------------------------------------------------------------


@pytest.fixture(scope="session", autouse=True)
def llmlint_cache_home(tmp_path_factory):
    """Runs that use the cache keep their secret in a temporary folder (LLMLINT_CACHE_HOME, inherited by the
    subprocesses tests start), never in the real home."""
    home = tmp_path_factory.mktemp("llmlint-cache-home")
    previous = os.environ.get("LLMLINT_CACHE_HOME")
    os.environ["LLMLINT_CACHE_HOME"] = str(home)
    yield home
    if previous is None:
        os.environ.pop("LLMLINT_CACHE_HOME", None)
    else:
        os.environ["LLMLINT_CACHE_HOME"] = previous
