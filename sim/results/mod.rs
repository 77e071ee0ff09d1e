//! Results: the rows every table is made of ([`table`]), the names of the
//! columns code reads back ([`columns`], the only place they are spelled)
//! and typed access to replication estimates ([`measures`]).

pub mod columns;
pub(crate) mod measures;
pub(crate) mod table;

pub use measures::{Measure, Replications};

pub use table::{cell, format_number, get, join_column, rows_of_class, sum_column, Row, Value};
