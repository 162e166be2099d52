import polars as pl

from cleaners import schema as S
from flows.storage import Storage


def _rows(ids):
    return pl.DataFrame({S.DOC_ID: ids, S.TEXT: [f"text {i}" for i in ids], S.SOURCE: [f"/in/{i}.txt" for i in ids]})


def test_insert_new_is_idempotent(tmp_path):
    st = Storage(tmp_path)
    assert not st.exists("articles")
    assert st.read("articles").schema == S.ARTICLES_SCHEMA
    r1 = st.insert_new("articles", _rows(["a", "b", "b"]))  # duplicate inside one batch too
    assert r1.rows_inserted == 2
    r2 = st.insert_new("articles", _rows(["b", "c"]))
    assert r2.rows_inserted == 1
    r3 = st.insert_new("articles", _rows(["a", "b", "c"]))
    assert r3.rows_inserted == 0
    df = st.read("articles")
    assert sorted(df[S.DOC_ID].to_list()) == ["a", "b", "c"]
    assert df.schema == S.ARTICLES_SCHEMA


def test_tables_readable_by_duckdb(tmp_path):
    import duckdb

    st = Storage(tmp_path)
    st.insert_new("rejected", pl.DataFrame({S.DOC_ID: ["x"], S.SOURCE: ["/in/x"], S.REASON: ["too_short"]}))
    files = list((tmp_path / "rejected").glob("*.parquet"))
    n = duckdb.sql(f"select count(*) from read_parquet('{files[0]}')").fetchall()[0][0]
    assert n == 1


def test_table_written_by_older_schema_gains_new_columns(tmp_path):
    """A table written before a column existed accepts rows of the current schema."""
    from deltalake import write_deltalake

    old = S.conform(_rows(["a"]), S.ARTICLES_SCHEMA).drop(S.N_WORDS_RAW)
    write_deltalake(str(tmp_path / "articles"), old.to_arrow(compat_level=pl.CompatLevel.oldest()), mode="append", partition_by=[S.PUBLISHED])
    st = Storage(tmp_path)
    new = _rows(["b"]).with_columns(pl.lit(42).alias(S.N_WORDS_RAW))
    assert st.insert_new("articles", new).rows_inserted == 1
    df = st.read("articles").sort(S.DOC_ID)
    assert df[S.N_WORDS_RAW].to_list() == [None, 42]


def test_insert_new_appends_in_slices_and_a_cut_off_insert_completes(tmp_path, monkeypatch):
    """Rows go in APPEND_SLICE_ROWS at a time; an insert that stopped after some slices (a killed
    run) is completed by inserting the same rows again, without duplicates."""
    from deltalake import DeltaTable

    from flows import storage as storage_mod

    monkeypatch.setattr(storage_mod, "APPEND_SLICE_ROWS", 2)
    st = Storage(tmp_path)
    st.ensure_tables()
    before = DeltaTable(str(tmp_path / "articles")).version()
    ids = [f"d{i}" for i in range(5)]
    assert st.insert_new("articles", _rows(ids[:3])).rows_inserted == 3  # as if cut off after 3 of 5
    assert DeltaTable(str(tmp_path / "articles")).version() == before + 2  # slices of 2 and 1
    assert st.insert_new("articles", _rows(ids)).rows_inserted == 2
    assert sorted(st.read("articles")[S.DOC_ID].to_list()) == ids
