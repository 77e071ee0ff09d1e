//! Base scenarios that several test modules start from: TOML text that the
//! tests edit line by line (`text.replacen(from, to, 1)`, as a user edits a
//! file). They are macros expanding to string literals, so that each module
//! builds its own constants from them with `concat!`.

/// The placements most generic scenarios compare: a device per user
/// ("local") against a pool ("pool"), whose `servers` and other keys follow.
macro_rules! local_and_pool {
    () => {
        "[[placements]]\nname = \"local\"\nkind = \"dedicated\"\n\n\
         [[placements]]\nname = \"pool\"\nkind = \"pooled\"\n"
    };
}
pub(crate) use local_and_pool;

/// The placements most LLM scenarios compare: a Framework Desktop per user
/// ("desktop") against a pool of H100s ("pool"), whose `servers` and other
/// keys follow.
macro_rules! desktop_and_h100_pool {
    () => {
        "[[placements]]\nname = \"desktop\"\nkind = \"dedicated\"\ndevice = \"framework_desktop\"\n\n\
         [[placements]]\nname = \"pool\"\nkind = \"pooled\"\ndevice = \"h100_sxm\"\n"
    };
}
pub(crate) use desktop_and_h100_pool;

/// The generic base scenario: seed 3, then `$run` (horizon, warm-up,
/// replications), 50 users sending 100 requests a day each, exponential
/// service of 20 s, `$classes` (`[[classes]]` tables, or ""), a device per
/// user against a pool of 4 servers ([`local_and_pool`]), and `$tail`: by
/// default a 5 s bound on the p99 wait.
macro_rules! generic {
    ($run:literal) => {
        $crate::support::scenarios::generic!($run, "", "[service_level]\nwait_p99_s = 5.0\n")
    };
    ($run:literal, $classes:literal, $tail:literal) => {
        concat!(
            "\nseed = 3\n",
            $run,
            "\n\n[users]\ncount = 50\nrequests_per_day = 100.0\n\n\
             [service]\ndistribution = \"exponential\"\nmean_s = 20.0\n",
            $classes,
            "\n",
            $crate::support::scenarios::local_and_pool!(),
            "servers = 4\n\n",
            $tail
        )
    };
}
pub(crate) use generic;
