//! The servers: pooled FCFS fleets and dedicated devices ([`fcfs`]), LLM
//! servers with continuous batching ([`batching`]) and the event queue they
//! share ([`events`]). The engine takes requests and a placement's
//! parameters, and reports into [`crate::metrics`] recorders; it knows
//! nothing of scenarios or result rows.

pub mod batching;
pub mod events;
pub mod fcfs;
