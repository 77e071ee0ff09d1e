//! Building [`ScenarioError`]s with their final key path: a [`Check`] knows
//! the file and, while one `[[classes]]` entry is resolved on its own, where
//! that class's keys were written (its own key when it set it, `[users]` or
//! the top-level table when it inherited it, each placement's index in the
//! file). Resolvers ask it for key paths ([`Check::users`],
//! [`Check::section`], [`Check::placement`]) and for the checks every
//! section shares (positive numbers, keys a distribution does not take).

use std::path::Path;

use super::raw::RawClass;
use super::ScenarioError;

/// Builds `Invalid` errors for one file (and one class of it).
#[derive(Clone)]
pub(crate) struct Check<'a> {
    file: &'a Path,
    class: Option<ClassKeys<'a>>,
}

/// Where the keys of one class, resolved on its own, were written.
#[derive(Clone)]
struct ClassKeys<'a> {
    /// Index in `[[classes]]`.
    index: usize,
    /// Its name, which every message names.
    name: &'a str,
    /// `[users]` keys and sections (`model`, `requests`, `service`,
    /// `service_level`) the class sets itself.
    own: Vec<&'static str>,
    /// File index of each placement its resolution sees, in order.
    placements: &'a [usize],
}

/// The keys a class can set itself, and whether `k` sets each.
fn own_keys(k: &RawClass) -> Vec<&'static str> {
    [
        ("requests_per_day", k.requests_per_day.is_some()),
        ("duty_cycle", k.duty_cycle.is_some()),
        ("profile", k.profile.is_some()),
        ("timezones", k.timezones.is_some()),
        ("arrivals", k.arrivals.is_some()),
        ("session_requests_mean", k.session_requests_mean.is_some()),
        ("think_time", k.think_time.is_some()),
        ("agent_gap", k.agent_gap.is_some()),
        ("agent_start_spread_s", k.agent_start_spread_s.is_some()),
        ("requests_per_day_cv", k.requests_per_day_cv.is_some()),
        ("model", k.model.is_some()),
        ("requests", k.requests.is_some()),
        ("service", k.service.is_some()),
        ("service_level", k.service_level.is_some()),
    ]
    .into_iter()
    .filter(|(_, set)| *set)
    .map(|(n, _)| n)
    .collect()
}

impl<'a> Check<'a> {
    /// Checks of `file`'s top level.
    pub(crate) fn new(file: &'a Path) -> Self {
        Check { file, class: None }
    }

    /// Checks of class `index` (`k`) resolved on its own, seeing the file's
    /// placements `placements` (in order, as placements 0, 1, ...).
    pub(crate) fn for_class(&self, index: usize, k: &'a RawClass, placements: &'a [usize]) -> Self {
        Check {
            file: self.file,
            class: Some(ClassKeys {
                index,
                name: &k.name,
                own: own_keys(k),
                placements,
            }),
        }
    }

    /// The same checks with messages that do not name the class (for
    /// messages quoted inside another, e.g. a device alternative's).
    pub(crate) fn unscoped(&self) -> Self {
        Check {
            file: self.file,
            class: None,
        }
    }

    /// The key `name` of the class when the class being resolved set it.
    fn own(&self, name: &str) -> Option<String> {
        let k = self.class.as_ref()?;
        k.own
            .contains(&name)
            .then(|| format!("classes[{}].{name}", k.index))
    }

    /// Key path of `[users]` key `field` (or the class's own).
    pub(crate) fn users(&self, field: &str) -> String {
        self.own(field).unwrap_or_else(|| format!("users.{field}"))
    }

    /// Key path of the top-level section `name` (`model`, `requests`,
    /// `service`, `service_level`), or of the class's own.
    pub(crate) fn section(&self, name: &str) -> String {
        self.own(name).unwrap_or_else(|| name.to_string())
    }

    /// Key path of the placement resolved as number `i`, as the file numbers it.
    pub(crate) fn placement(&self, i: usize) -> String {
        let j = match &self.class {
            Some(k) => k.placements.get(i).copied().unwrap_or(i),
            None => i,
        };
        format!("placements[{j}]")
    }

    /// Key path of `field` of the placement resolved as number `i`.
    pub(crate) fn placement_key(&self, i: usize, field: &str) -> String {
        format!("{}.{field}", self.placement(i))
    }

    fn message(&self, message: String) -> String {
        match &self.class {
            Some(k) => format!("in class {:?}: {message}", k.name),
            None => message,
        }
    }

    /// `key` is not valid: `message` says why and what would be.
    pub(crate) fn err(&self, key: impl Into<String>, message: impl Into<String>) -> ScenarioError {
        ScenarioError::Invalid {
            file: self.file.to_path_buf(),
            key: key.into(),
            message: self.message(message.into()),
        }
    }

    /// As [`Check::err`], because of `source` (kept as the error's source).
    pub(crate) fn err_because(
        &self,
        key: impl Into<String>,
        message: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> ScenarioError {
        ScenarioError::InvalidBecause {
            file: self.file.to_path_buf(),
            key: key.into(),
            message: self.message(message.into()),
            source: Box::new(source),
        }
    }

    /// Reject keys of a distribution table that its `distribution` does not
    /// use (they would be silently ignored): `given` pairs each key with
    /// whether it is set, `allowed` lists the ones this distribution takes.
    pub(crate) fn only_keys(
        &self,
        key: &str,
        distribution: &str,
        given: &[(&str, bool)],
        allowed: &[&str],
    ) -> Result<(), ScenarioError> {
        match given.iter().find(|(n, set)| *set && !allowed.contains(n)) {
            Some((extra, _)) => Err(self.err(
                format!("{key}.{extra}"),
                format!(
                    "not used by a {distribution} distribution (it takes {})",
                    allowed.join(", ")
                ),
            )),
            None => Ok(()),
        }
    }

    /// A finite number > 0.
    pub(crate) fn positive(&self, key: &str, v: f64) -> Result<f64, ScenarioError> {
        if v.is_finite() && v > 0.0 {
            Ok(v)
        } else {
            Err(self.err(key, format!("must be a number greater than 0 (got {v})")))
        }
    }

    /// A finite number >= 0.
    pub(crate) fn non_negative(&self, key: &str, v: f64) -> Result<f64, ScenarioError> {
        if v.is_finite() && v >= 0.0 {
            Ok(v)
        } else {
            Err(self.err(key, format!("must be a number of at least 0 (got {v})")))
        }
    }

    /// Exactly one of a seconds key and an hours key.
    pub(crate) fn seconds_or_hours(
        &self,
        s_key: &str,
        s: Option<f64>,
        h_key: &str,
        h: Option<f64>,
    ) -> Result<Option<f64>, ScenarioError> {
        match (s, h) {
            (Some(_), Some(_)) => Err(self.err(
                s_key,
                format!("give either `{s_key}` or `{h_key}`, not both"),
            )),
            (Some(s), None) => Ok(Some(s)),
            (None, Some(h)) => Ok(Some(h * 3600.0)),
            (None, None) => Ok(None),
        }
    }
}
