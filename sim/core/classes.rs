//! User classes hold contiguous ranges of user ids, in class order: the
//! population, the sources and the recorders find a user's class the same way.

/// The class of `user`, given each class's exclusive end user id
/// (one past the last user id of each class, in class order); the last class for ids beyond them.
#[inline]
pub fn class_index(class_ends: &[u32], user: u32) -> usize {
    class_ends
        .iter()
        .position(|&end| user < end)
        .unwrap_or(class_ends.len().saturating_sub(1))
}
