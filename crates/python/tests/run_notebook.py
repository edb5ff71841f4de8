"""Executes a notebook top to bottom with nbclient, in WORKDIR (so its runs/ folder goes
there), and fails on any cell error. Usage: run_notebook.py NOTEBOOK WORKDIR."""

import sys

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

notebook, workdir = sys.argv[1], sys.argv[2]
nb = nbformat.read(notebook, as_version=4)
client = NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": workdir}})
try:
    client.execute()
except CellExecutionError as e:
    sys.exit(f"{notebook}: a cell failed:\n{e}")
cells = [c for c in nb.cells if c.cell_type == "code"]
errors = [o for c in cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
if errors:
    sys.exit(f"{notebook}: {len(errors)} cells raised")
print(f"{notebook}: {len(cells)} code cells ran without an error")
