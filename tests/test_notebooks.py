"""The tutorials in notebooks/ execute top to bottom in a Jupyter kernel, as a reader would run them.

Each is a jupytext percent-format text notebook; it is converted to a notebook and run by nbclient in a
fresh ``python3`` kernel (this interpreter's ipykernel) from an empty folder, so a notebook that depends
on the current directory, or whose own assertions fail, fails here.
"""

import sys
from pathlib import Path

import pytest

jupytext = pytest.importorskip("jupytext")
nbclient = pytest.importorskip("nbclient")
nbformat = pytest.importorskip("nbformat")

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.py"))
#: the three tutorials the docs promise (docs/tutorials.md)
TUTORIALS = {"record_like_a_monkey.py", "fit_models_to_agent_and_rats.py", "decode_value_from_units.py"}


def test_every_tutorial_is_here_and_listed_in_the_docs():
    assert TUTORIALS <= {p.name for p in NOTEBOOKS}
    page = (ROOT / "docs" / "tutorials.md").read_text()
    assert all(f"notebooks/{p.name}" in page for p in NOTEBOOKS)


#: notebooks that read other people's data (skipped, like the data tests, where it is absent)
NEEDS = {"monkey_neurons_and_agents.py": "monkey-twostep"}


@pytest.mark.parametrize("path", [pytest.param(p, marks=[pytest.mark.dataset(NEEDS[p.name])] if p.name in NEEDS else [])
                                  for p in NOTEBOOKS], ids=[p.stem for p in NOTEBOOKS])
def test_notebook_executes(path, tmp_path, monkeypatch):
    notebook = jupytext.read(path)
    assert notebook.metadata["kernelspec"]["name"] == "python3"
    # the kernel must be this environment's python (a user-level 'python3' kernel spec could point elsewhere)
    check = f"import sys\nassert sys.prefix == {sys.prefix!r}, 'the python3 kernel is not ' + {sys.executable!r}"
    notebook.cells.insert(0, nbformat.v4.new_code_cell(check))
    monkeypatch.setenv("NEUROMETARL_THREADS", "1")
    client = nbclient.NotebookClient(notebook, timeout=240, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()  # raises CellExecutionError, with the failing cell and its traceback, on any error
    images = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.get("outputs", [])
              if "image/png" in o.get("data", {})]
    assert images, f"{path.name} shows no figure"
    assert not any(tmp_path.iterdir()), f"{path.name} left files behind: {list(tmp_path.iterdir())}"
