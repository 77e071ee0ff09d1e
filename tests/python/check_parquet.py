"""Independent readers (pyarrow, DuckDB) open sharesim's Parquet output.

usage: check_parquet.py RESULTS_DIR   (a folder holding results.parquet and summary.parquet)
Exits non-zero with a message when a file does not open or a documented column is missing.
"""
import pathlib
import re
import sys

import duckdb
import pyarrow.parquet as pq

root = pathlib.Path(__file__).resolve().parents[2]
documented = set(re.findall(r"`([a-z0-9_]+)`", (root / "docs" / "results-schema.md").read_text()))
folder = pathlib.Path(sys.argv[1])

for name in ("results.parquet", "summary.parquet"):
    path = folder / name
    table = pq.read_table(path)
    assert table.num_rows > 0, f"{path}: no rows"
    for col in table.column_names:
        base = col[: -len("_ci95")] if col.endswith("_ci95") else col
        assert base in documented, f"{path}: column {col} is not in docs/results-schema.md"
    n = duckdb.sql(f"select count(*) from read_parquet('{path}')").fetchall()[0][0]
    assert n == table.num_rows, f"{path}: duckdb sees {n} rows, pyarrow {table.num_rows}"

res = pq.read_table(folder / "results.parquet").to_pylist()
for row in res:
    assert row["arrived"] == row["completed_by_horizon"] + row["in_flight_at_horizon"] + row["rejected"], row
    assert 0.0 <= row["utilization_share"] <= 1.0 + 1e-9, row
print(f"pyarrow and duckdb read {folder}: {len(res)} replication rows, columns documented")
