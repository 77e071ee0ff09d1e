//! A min-heap with four children per node: half the depth of a binary
//! heap, and the four children of a node share a cache line or two, so a
//! pop (which walks from the root to a leaf) compares more keys per level
//! but visits half the levels. The request source's follow-up queue (one
//! entry per user thinking between requests) pops once per follow-up.
//! Ties come out in whatever order the keys give: give keys a sequence
//! number to make them total (FIFO).

/// A min-heap of `T` (the least first).
#[derive(Debug, Clone)]
pub struct QuadHeap<T> {
    items: Vec<T>,
}

impl<T> Default for QuadHeap<T> {
    fn default() -> Self {
        QuadHeap { items: Vec::new() }
    }
}

impl<T: Ord + Copy> QuadHeap<T> {
    /// An empty heap.
    pub fn new() -> Self {
        Self::default()
    }

    /// The least entry.
    #[inline]
    pub fn peek(&self) -> Option<&T> {
        self.items.first()
    }

    /// Add `item`.
    #[inline]
    pub fn push(&mut self, item: T) {
        let mut i = self.items.len();
        self.items.push(item);
        while i > 0 {
            let parent = (i - 1) / 4;
            if self.items[parent] <= item {
                break;
            }
            self.items[i] = self.items[parent];
            i = parent;
        }
        self.items[i] = item;
    }

    /// Remove and return the least entry.
    #[inline]
    pub fn pop(&mut self) -> Option<T> {
        let last = self.items.pop()?;
        let n = self.items.len();
        if n == 0 {
            return Some(last);
        }
        let top = self.items[0];
        // Move the hole from the root down to where `last` belongs.
        let mut i = 0;
        loop {
            let first = 4 * i + 1;
            if first >= n {
                break;
            }
            let mut least = first;
            if first + 4 <= n {
                // All four children: a tournament (two independent
                // compares, then one), which compiles to conditional moves.
                let a = first + (self.items[first + 1] < self.items[first]) as usize;
                let b = first + 2 + (self.items[first + 3] < self.items[first + 2]) as usize;
                least = if self.items[b] < self.items[a] { b } else { a };
            } else {
                for c in first + 1..n {
                    if self.items[c] < self.items[least] {
                        least = c;
                    }
                }
            }
            if last <= self.items[least] {
                break;
            }
            self.items[i] = self.items[least];
            i = least;
        }
        self.items[i] = last;
        Some(top)
    }
}

#[cfg(test)]
mod tests {
    use super::QuadHeap;
    use proptest::prelude::*;

    proptest! {
        /// Any mix of pushes and pops gives what a sorted list gives.
        #[test]
        fn pops_come_out_least_first(ops in prop::collection::vec(prop::option::of(0u32..50), 0..400)) {
            let mut heap = QuadHeap::new();
            let mut sorted: Vec<u32> = Vec::new();
            for op in ops {
                match op {
                    Some(x) => {
                        heap.push(x);
                        let at = sorted.partition_point(|&y| y <= x);
                        sorted.insert(at, x);
                    }
                    None => {
                        let want = (!sorted.is_empty()).then(|| sorted.remove(0));
                        prop_assert_eq!(heap.pop(), want);
                    }
                }
                prop_assert_eq!(heap.peek().copied(), sorted.first().copied());
            }
            for want in sorted {
                prop_assert_eq!(heap.pop(), Some(want));
            }
            prop_assert_eq!(heap.pop(), None);
        }
    }
}
