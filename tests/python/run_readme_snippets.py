"""Run every ```python block of notebooks-output/README.md against a fresh output folder.

usage: run_readme_snippets.py README.md OUT_DIR
OUT_DIR holds the scenario folders a run wrote (it stands in for notebooks-output/).
Each block runs in a fresh namespace with the working directory set so that the
README's paths (notebooks-output/...) resolve to OUT_DIR. Exits non-zero on the first
failing block, naming it.
"""
import os
import pathlib
import re
import sys
import tempfile

readme, out_dir = pathlib.Path(sys.argv[1]).resolve(), pathlib.Path(sys.argv[2]).resolve()
blocks = re.findall(r"```python\n(.*?)```", readme.read_text(), flags=re.S)
assert blocks, f"{readme}: no python blocks"
with tempfile.TemporaryDirectory() as tmp:
    os.symlink(out_dir, pathlib.Path(tmp) / "notebooks-output")
    os.chdir(tmp)
    for i, code in enumerate(blocks, 1):
        try:
            exec(compile(code, f"{readme.name} block {i}", "exec"), {})
        except Exception as e:  # noqa: BLE001 - report any failure with its block
            print(f"{readme}: python block {i} failed: {e!r}", file=sys.stderr)
            sys.exit(1)
print(f"{len(blocks)} README snippets ran against {out_dir}")
