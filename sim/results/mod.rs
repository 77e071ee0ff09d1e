//! Results: the rows every table is made of ([`table`]), the names of the
//! columns code reads back ([`columns`], the only place they are spelled)
//! and typed access to replication estimates ([`measures`]).

pub mod columns;
pub mod measures;
pub mod table;

pub use measures::{Measure, Replications};
