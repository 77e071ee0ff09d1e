//! Results as rows: one definition of each table's columns feeds the
//! Parquet writer, the printed table and the summaries across
//! replications ([`table`]).

pub mod table;
