"""The replication report: `neurometarl reproduce` writes it, failing claims show, a real browser loads it."""

import ast
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import matplotlib.pyplot as plt
import pytest
import xarray as xr

from neurometarl.cli import main
from neurometarl.experiments import get_experiment
from neurometarl.report import write_report

ROOT = Path(__file__).resolve().parents[1]
#: the paper's figures and the experiment behind each (analyses/figN.py redraws figure N)
FIGURES = {"fig1": "fig1", "fig2": "sim1", "fig3": "sim2", "fig4": "sim3", "fig5": "sim4", "fig6": "sim5",
           "fig7": "sim6"}

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")


def fake_experiment(results: Path, name: str = "sim6") -> None:
    """An experiment folder as run_experiment writes it, with one failing claim."""
    out = results / name
    out.mkdir(parents=True)
    fig, ax = plt.subplots(figsize=(2, 2))
    ax.plot([0, 1], [0, 1])
    fig.savefig(out / "fig7.png")
    plt.close(fig)
    claims = [{"claim": "good", "statement": "a claim that holds", "paper": "≈90%", "threshold": "> 50%",
               "measured": 89.9, "pass": True},
              {"claim": "bad", "statement": "a claim that does not", "paper": "≈97%", "threshold": "≥ 90%",
               "measured": "81% (seeds 70..88)", "pass": False}]
    card = {"experiment": name, "title": "A fake experiment", "n_seeds": 2, "retrained": False,
            "checkpoints": {}, "figures": [str(out / "fig7.png")], "claims": claims, "all_pass": False}
    (out / "scorecard.json").write_text(json.dumps(card))
    xr.Dataset({"unrelated": ((), 1, {"long_name": "a number no reference table reads", "units": "1"})}).to_netcdf(out / "numbers.nc")


def test_report_shows_failing_claims_with_their_values_and_skipped_experiments(tmp_path):
    fake_experiment(tmp_path)
    path = write_report(tmp_path, ["sim6", "sim9"], skipped={"sim9": "no shipped checkpoints"})
    html = path.read_text()
    assert path == tmp_path / "report.html"
    assert "1 of 2 claims pass" in html
    assert html.count(">FAIL<") == 1 and html.count(">PASS<") == 1
    assert "81% (seeds 70..88)" in html and "≈97%" in html
    assert "NOT RUN: no shipped checkpoints" in html
    # sim6 promises reference rows; numbers without them say so instead of silently dropping them
    assert "reference rows not available" in html
    assert 'src="data:image/png;base64,' in html and "http://" not in html and "https://" not in html


def test_reproduce_writes_the_report_and_reuses_finished_stages(tmp_path, capsys):
    out = tmp_path / "results"
    assert main(["reproduce", "--only", "fig1", "--out", str(out), "--quiet"]) == 0
    first = capsys.readouterr().out
    assert "[1/1] fig1: done in" in first and "5/5 claims pass" in first
    stage = json.loads((out / "fig1" / "stage.json").read_text())
    assert len(stage["checkpoint_sha256"]["correlated"]["seed0"]) == 64
    html = (out / "report.html").read_text()
    assert "regret_correlated" in html and stage["checkpoint_sha256"]["correlated"]["seed0"] in html

    assert main(["reproduce", "--only", "fig1,fig1", "--out", str(out), "--quiet"]) == 0
    assert "reusing the finished run" in capsys.readouterr().out
    stage["config"]["seed"] = 1  # a different configuration is not reused
    (out / "fig1" / "stage.json").write_text(json.dumps(stage))
    assert main(["reproduce", "--only", "fig1", "--out", str(out), "--quiet"]) == 0
    assert "fig1: done in" in capsys.readouterr().out

    # the thin analysis script redraws the figure from the saved recordings and numbers
    (out / "fig1" / "fig1.png").unlink()
    script = subprocess.run([sys.executable, str(ROOT / "analyses" / "fig1.py"), str(out / "fig1")],
                            capture_output=True, text=True, timeout=300, env={**os.environ, "MPLBACKEND": "Agg"})
    assert script.returncode == 0, script.stderr
    assert "regret at trial 100" in script.stdout and (out / "fig1" / "fig1.png").is_file()

    if CHROMIUM is None or CHROMEDRIVER is None:
        pytest.skip("headless check needs Chromium and chromedriver (apt-get install chromium chromium-driver; `make test` does it)")
    page = load_in_chromium(out / "report.html")
    assert len(page["images"]) >= 1 and all(w > 0 for w in page["images"]), page["images"]
    header, *rows = page["scorecard"]
    assert header[:6] == ["claim", "statement", "paper", "ours (across seeds)", "criterion", "result"], header
    assert len(rows) == 5 and all(row[-1] in ("PASS", "FAIL") and row[2] and row[3] for row in rows), rows


def test_one_analysis_script_per_paper_figure():
    """analyses/fig1.py … fig7.py each redraw their figure through the experiment that made it."""
    for figure, experiment in FIGURES.items():
        tree = ast.parse((ROOT / "analyses" / f"{figure}.py").read_text())
        assert ast.get_docstring(tree), figure
        named = {node.args[0].value for node in ast.walk(tree) if isinstance(node, ast.Call)
                 and getattr(node.func, "id", None) == "get_experiment"}
        assert named == {experiment}, (figure, named)
        assert f"Fig. {figure[3:]}" in get_experiment(experiment).title, (figure, experiment)


def test_unknown_experiment_fails_before_any_work(tmp_path, capsys):
    assert main(["reproduce", "--only", "fig1,nope", "--out", str(tmp_path)]) == 2
    assert "unknown experiment 'nope'" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


def load_in_chromium(path: Path) -> dict:
    """The page as headless Chromium shows it once loaded: ``images``, the naturalWidth of every <img>
    (0 = broken image), and ``scorecard``, the rendered text of the first scorecard table's cells."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        driver.get(path.resolve().as_uri())
        driver.execute_async_script("const done = arguments[0]; "
                                    "if (document.readyState === 'complete') done(); else window.addEventListener('load', () => done());")
        return driver.execute_script(
            "const table = document.querySelector('table.scorecard');"
            "return {images: Array.from(document.images, img => img.complete ? img.naturalWidth : 0),"
            "        scorecard: table ? Array.from(table.rows, r => Array.from(r.cells, c => c.innerText.trim()))"
            "                         : []};")
    finally:
        driver.quit()
