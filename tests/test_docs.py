"""The documentation site builds with warnings as errors, and the code it shows runs."""

import ast
import importlib
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from neurometarl.tasks import TASKS

ROOT = Path(__file__).resolve().parents[1]


def python_blocks(page: str) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```$", (ROOT / "docs" / page).read_text(), flags=re.M | re.S)


def run_snippet(code: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "MPLBACKEND": "Agg", "NEUROMETARL_THREADS": "1"}
    return subprocess.run([sys.executable, "-c", "import torch; torch.set_num_threads(1)\n" + code], cwd=cwd,
                          env=env, capture_output=True, text=True, timeout=300)


def test_site_builds_strict_with_a_page_per_protocol(tmp_path):
    site = tmp_path / "site"
    build = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)], cwd=ROOT,
                           capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stdout + build.stderr
    assert "WARNING" not in build.stderr, build.stderr
    for name in TASKS:
        page = (site / "protocols" / name / "index.html").read_text()
        assert "Citation:" in page and "Parameters" in page
    cli = (site / "cli" / "index.html").read_text()
    assert all(f"neurometarl {command}" in cli for command in ("train", "record", "reproduce", "experiment"))
    assert "Q_MF(a1)" in (site / "model-equations" / "index.html").read_text()
    # offline: nothing on any page is fetched from the network
    for html in site.rglob("*.html"):
        assert not re.search(r'<(script|link|img)[^>]+(src|href)="(https?:)?//', html.read_text()), html


def test_quickstart_runs_train_record_analyse_figure(tmp_path):
    (quickstart,) = python_blocks("index.md")
    assert len([line for line in quickstart.splitlines() if line.strip()]) <= 10
    result = run_snippet(quickstart, tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "runs" / "quick" / "checkpoint.pt").is_file()
    assert (tmp_path / "regret.png").stat().st_size > 10_000


def test_add_a_task_example_registers_and_records(tmp_path):
    example = next(b for b in python_blocks("add-a-task.md") if "record_session" in b)  # the complete example
    result = run_snippet(example + "\nassert 'bandit-midswap' in __import__('neurometarl.tasks').tasks.TASKS\n", tmp_path)
    assert result.returncode == 0, result.stderr
    assert "'episode': 50, 'trial': 40" in result.stdout


@pytest.mark.parametrize("page", ["analysis.md", "perturbations.md", "models.md"])
def test_guide_pages_name_existing_functions(page):
    """Every `from neurometarl... import names` shown on a guide page imports (blocks of session excerpts
    that are not whole Python programs are left out; each page has some that are)."""
    n_checked = 0
    for block in python_blocks(page):
        try:
            tree = ast.parse(block)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module.startswith("neurometarl"):
                module = importlib.import_module(node.module)
                missing = [a.name for a in node.names if not hasattr(module, a.name)]
                assert not missing, f"{page}: {node.module} has no {missing}"
                n_checked += 1
    assert n_checked > 0


def test_every_written_page_is_in_the_nav():
    """Strict builds only note pages left out of the nav (the generated protocol pages are, on purpose);
    a hand-written page missing from it would be unreachable, so it fails here."""
    import yaml

    def pages(node):
        if isinstance(node, str):
            yield node
        elif isinstance(node, list):
            for item in node:
                yield from pages(item)
        elif isinstance(node, dict):
            for value in node.values():
                yield from pages(value)

    nav = set(pages(yaml.safe_load((ROOT / "mkdocs.yml").read_text())["nav"]))
    written = {str(p.relative_to(ROOT / "docs")) for p in (ROOT / "docs").rglob("*.md")}
    assert written <= nav, f"pages missing from the nav in mkdocs.yml: {sorted(written - nav)}"
    for page in ("install.md", "recording.md", "models.md", "model-equations.md", "analysis.md", "cli.md",
                 "add-a-task.md", "protocols/index.md", "tutorials.md", "reproduce.md", "emergence.md"):
        assert page in nav, page
