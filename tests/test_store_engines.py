"""Other engines read a table exactly: polars, DuckDB, pandas and Daft, on disk and on S3."""

from __future__ import annotations

from typing import Any

import duckdb
import pytest
from _s3 import S3Server

import weave_nb as wnb


def _fill(root: str) -> tuple[list[Any], dict[Any, str]]:
    """A table written in several commits and compacted; returns its ids and feedback."""
    table = wnb.StreamTable("engines", root=root, flush_interval=3600)
    for batch in range(10):
        table.log(
            [{"_id": batch * 10 + i, "score": float(i), "tag": f"b{batch}"} for i in range(10)]
        )
        table.flush()
    table.compact()  # readers must see each row once after compaction too
    table.log([{"_id": 100 + i, "score": 0.5} for i in range(5)])
    table.annotate(3, {"feedback": "down"})
    table.annotate(3, {"feedback": "up"})  # the latest wins
    table.annotate(42, {"feedback": "down"})
    table.close()
    ids = wnb.open_table("engines", root=root).to_arrow()["_id"].to_pylist()
    return ids, {3: "up", 42: "down"}


_LATEST_FEEDBACK = """
    SELECT r._id, a.feedback
    FROM rows AS r
    LEFT JOIN (
        SELECT _target_id, arg_max(feedback, _timestamp) AS feedback
        FROM ann WHERE list_contains(_fields, 'feedback') GROUP BY _target_id
    ) AS a ON a._target_id = r._id
    WHERE a.feedback IS NOT NULL ORDER BY r._id
"""


def _check_all_engines(uri: str, options: dict[str, str] | None, ids: list[Any]) -> None:
    import daft
    import polars as pl
    from deltalake import DeltaTable

    rows, ann = f"{uri}/rows", f"{uri}/annotations"
    given = options

    def options_copy() -> dict[str, str] | None:  # readers may change the dict they get
        return dict(given) if given is not None else None

    frame = pl.read_delta(rows, storage_options=options_copy())
    assert sorted(frame["_id"].to_list()) == sorted(ids)
    assert (
        pl.scan_delta(rows, storage_options=options_copy()).select(pl.len()).collect().item() == 105
    )

    assert sorted(DeltaTable(rows, storage_options=options_copy()).to_pandas()["_id"]) == sorted(
        ids
    )

    con = duckdb.connect()
    con.register("rows", DeltaTable(rows, storage_options=options_copy()).to_pyarrow_dataset())
    con.register("ann", DeltaTable(ann, storage_options=options_copy()).to_pyarrow_dataset())
    assert con.sql("SELECT count(*), count(DISTINCT _id) FROM rows").fetchall() == [(105, 105)]
    assert con.sql(_LATEST_FEEDBACK).fetchall() == [(3, "up"), (42, "down")]

    io_config = None
    if options is not None:
        io_config = daft.io.IOConfig(
            s3=daft.io.S3Config(
                endpoint_url=options["AWS_ENDPOINT_URL"],
                key_id=options["AWS_ACCESS_KEY_ID"],
                access_key=options["AWS_SECRET_ACCESS_KEY"],
                region_name=options["AWS_REGION"],
                use_ssl=False,
            )
        )
    daft_ids = daft.read_deltalake(rows, io_config=io_config).to_pydict()["_id"]
    assert sorted(daft_ids) == sorted(ids)


@pytest.mark.slow
def test_engines_read_a_local_table_exactly(tmp_path: Any) -> None:
    ids, _ = _fill(str(tmp_path))
    assert len(ids) == 105
    _check_all_engines(str(tmp_path / "engines"), None, ids)


@pytest.mark.slow
def test_engines_read_an_s3_table_exactly(s3: S3Server, s3_root: str) -> None:
    ids, _ = _fill(s3_root)
    _check_all_engines(f"{s3_root}/engines", dict(s3.environment), ids)
