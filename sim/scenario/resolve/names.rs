//! The names a scenario file spells as strings, parsed into enums where
//! the TOML is read (with the messages of the resolvers that read them):
//! distributions of seconds and of tokens, `arrivals`, `dispatch`.

use crate::engine::fcfs::Dispatch;

/// The `distribution` of a table of seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum DistName {
    /// `exponential`: `mean_s`.
    Exponential,
    /// `deterministic`: `value_s`.
    Deterministic,
    /// `lognormal`: `mean_s` and `cv`, or `median_s` with `p99_s` or `p90_s`.
    Lognormal,
    /// `gamma`: `mean_s`, `shape`.
    Gamma,
    /// `erlang`: `mean_s`, `k`.
    Erlang,
    /// `empirical`: `file`, `column`.
    Empirical,
}

impl DistName {
    pub(super) fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "exponential" => DistName::Exponential,
            "deterministic" => DistName::Deterministic,
            "lognormal" => DistName::Lognormal,
            "gamma" => DistName::Gamma,
            "erlang" => DistName::Erlang,
            "empirical" => DistName::Empirical,
            _ => return None,
        })
    }

    /// The keys this distribution takes.
    pub(super) fn keys(self) -> &'static [&'static str] {
        match self {
            DistName::Exponential => &["mean_s"],
            DistName::Deterministic => &["value_s"],
            DistName::Lognormal => &["mean_s", "cv", "median_s", "p99_s", "p90_s"],
            DistName::Gamma => &["mean_s", "shape"],
            DistName::Erlang => &["mean_s", "k"],
            DistName::Empirical => &["file", "column"],
        }
    }
}

/// The `distribution` of a token count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TokenDistName {
    /// `fixed`: `value`.
    Fixed,
    /// `lognormal`: `median` and `p99`, or `mean` and `cv`.
    Lognormal,
    /// `empirical`: `file`, `column`.
    Empirical,
}

impl TokenDistName {
    pub(super) fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "fixed" => TokenDistName::Fixed,
            "lognormal" => TokenDistName::Lognormal,
            "empirical" => TokenDistName::Empirical,
            _ => return None,
        })
    }

    /// The keys this distribution takes.
    pub(super) fn keys(self) -> &'static [&'static str] {
        match self {
            TokenDistName::Fixed => &["value"],
            TokenDistName::Lognormal => &["median", "p99", "mean", "cv"],
            TokenDistName::Empirical => &["file", "column"],
        }
    }
}

/// `[users] arrivals`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Arrivals {
    /// Independent requests.
    Poisson,
    /// Sessions of requests separated by think times.
    Sessions,
    /// Always-on agents.
    Agent,
}

impl Arrivals {
    pub(super) fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "poisson" => Arrivals::Poisson,
            "sessions" => Arrivals::Sessions,
            "agent" => Arrivals::Agent,
            _ => return None,
        })
    }
}

/// A pooled placement's `dispatch`.
pub(super) fn parse_dispatch(s: &str) -> Option<Dispatch> {
    Some(match s {
        "central_queue" => Dispatch::CentralQueue,
        "round_robin" => Dispatch::RoundRobin,
        "join_shortest_queue" => Dispatch::JoinShortestQueue,
        "power_of_two_choices" => Dispatch::PowerOfTwoChoices,
        "least_kv_load" => Dispatch::LeastKvLoad,
        "prefix_affinity" => Dispatch::PrefixAffinity,
        _ => return None,
    })
}
