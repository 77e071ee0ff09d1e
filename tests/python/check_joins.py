"""Parquet that joins (docs/results-schema.md, "One type per column name"),
checked with independent readers. Used by tests/parquet_joins.rs:

    check_joins.py types DIR...     every column name has one type across all
                                    *.parquet files under the folders (pyarrow)
    check_joins.py concat FILE...   every pair of the files stacks in polars
                                    (concat how="diagonal") and pandas (concat)
    check_joins.py parts SWEEP_DIR  SWEEP_DIR/parts reads in pandas, pyarrow
                                    datasets, polars and DuckDB, with the
                                    point ids and rows of sweep.parquet

Exits 1 naming what failed.
"""

import itertools
import pathlib
import sys
from collections import defaultdict


def fail(message):
    print(message, file=sys.stderr)
    sys.exit(1)


def types(folders):
    import pyarrow.parquet as pq

    seen = defaultdict(lambda: defaultdict(list))
    files = [p for d in folders for p in sorted(pathlib.Path(d).rglob("*.parquet"))]
    if not files:
        fail(f"no Parquet file under {folders}")
    for p in files:
        for field in pq.read_schema(p):
            seen[field.name][str(field.type)].append(str(p))
    clashes = []
    for name, by_type in sorted(seen.items()):
        if len(by_type) > 1:
            detail = "; ".join(f"{t} in {len(fs)} files, e.g. {fs[0]}" for t, fs in by_type.items())
            clashes.append(f"column {name}: {detail}")
    if clashes:
        fail("columns with more than one type:\n" + "\n".join(clashes))
    print(f"{len(seen)} column names, one type each, over {len(files)} files")


def concat(files):
    import pandas as pd
    import polars as pl

    if len(files) < 2:
        fail(f"need two files or more, got {files}")
    for a, b in itertools.combinations(files, 2):
        fa, fb = pl.read_parquet(a), pl.read_parquet(b)
        try:
            both = pl.concat([fa, fb], how="diagonal")
        except Exception as e:  # noqa: BLE001 - the message names the column
            fail(f"polars cannot concat {a} and {b}: {e}")
        if both.height != fa.height + fb.height:
            fail(f"polars concat of {a} and {b}: {both.height} rows")
        pa_, pb = pd.read_parquet(a), pd.read_parquet(b)
        try:
            joined = pd.concat([pa_, pb], ignore_index=True)
        except Exception as e:  # noqa: BLE001
            fail(f"pandas cannot concat {a} and {b}: {e}")
        if len(joined) != len(pa_) + len(pb):
            fail(f"pandas concat of {a} and {b}: {len(joined)} rows")
    print(f"{len(files)} files, every pair concatenates in polars and pandas")


def parts(sweep_dir):
    import duckdb
    import pandas as pd
    import polars as pl
    import pyarrow.dataset as ds

    sweep_dir = pathlib.Path(sweep_dir)
    parts_dir = sweep_dir / "parts"
    combined = pl.read_parquet(sweep_dir / "sweep.parquet")
    want_ids = sorted(combined["point_id"].to_list())
    rows = combined.height

    df = pd.read_parquet(parts_dir)
    got = {
        "pandas": (len(df), sorted(df["point_id"].astype(str))),
    }
    table = ds.dataset(parts_dir, format="parquet", partitioning="hive").to_table()
    got["pyarrow.dataset"] = (table.num_rows, sorted(str(v) for v in table.column("point_id").to_pylist()))
    pf = pl.read_parquet(str(parts_dir / "**" / "*.parquet"), hive_partitioning=True)
    got["polars"] = (pf.height, sorted(str(v) for v in pf["point_id"].to_list()))
    duck = duckdb.sql(
        f"SELECT point_id FROM read_parquet('{parts_dir}/*/*.parquet', hive_partitioning = true)"
    ).fetchall()
    got["duckdb"] = (len(duck), sorted(str(r[0]) for r in duck))
    for reader, (n, ids) in got.items():
        if n != rows or ids != want_ids:
            fail(f"{reader} reads {n} rows of parts/ with point ids {ids[:4]}...; sweep.parquet has {rows} rows, ids {want_ids[:4]}...")
    # The parts hold the same columns as sweep.parquet (which adds `partial`).
    missing = set(combined.columns) - set(pf.columns) - {"partial"}
    if missing:
        fail(f"parts/ lacks columns of sweep.parquet: {sorted(missing)}")
    print(f"parts/ of {sweep_dir}: {rows} rows in pandas, pyarrow.dataset, polars and DuckDB")


if __name__ == "__main__":
    if len(sys.argv) < 3:
        fail(__doc__)
    {"types": types, "concat": concat, "parts": lambda a: parts(a[0])}[sys.argv[1]](sys.argv[2:])
