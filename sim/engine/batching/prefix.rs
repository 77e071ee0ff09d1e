//! Prefix caching: a request's prompt as a chain of hashed blocks
//! ([`PromptBlocks`], stored compactly: an index into a replayed trace's
//! flat hash list, or two keys from which every block's hash follows), and
//! one server's cache of blocks ([`PrefixCache`]) with vLLM's automatic
//! prefix caching semantics: a block's hash stands for its whole prefix, so
//! a request's hit is its longest run of leading blocks found in the cache;
//! cached blocks live in the KV memory that running sequences leave free and
//! are evicted least recently used first when that memory shrinks. As vLLM
//! frees a finished request's blocks in reverse order (its last block is
//! evicted first, its first block last), blocks are touched here from the
//! last to the first, so a chain is cut from its tail, never from its head.
//! A hit never covers the whole prompt: the last token is always prefilled
//! again to produce the first output token (vLLM's `num_tokens - 1`).
//!
//! Costs: O(blocks of the prompt) per admission and completion, no
//! allocation once the cache's slab and map have grown to their working size.

use std::collections::hash_map::Entry as MapEntry;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

use crate::workload::trace::TraceBlocks;

/// A request's prompt as hashed blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PromptBlocks {
    /// No blocks: nothing of the prompt is ever found in a cache.
    #[default]
    None,
    /// Request `request` of the replayed trace's [`TraceBlocks`]: its
    /// listed hashes, blocks of the trace's `block_tokens` (the last may
    /// hold fewer).
    Listed {
        /// Index in the trace.
        request: u32,
    },
    /// Generated prompts, blocks of [`PrefixCaching::block_tokens`] (full
    /// blocks only, as vLLM hashes them): a block wholly inside the first
    /// `system_tokens` tokens (the class's shared system prompt) hashes as
    /// (`class_key`, index); a later block as (`conversation`, index) when
    /// the request belongs to a growing conversation (its prompt starts
    /// with the previous prompt and answer), and is never shared otherwise
    /// (`conversation` 0).
    Implicit {
        /// The class's key.
        class_key: u64,
        /// Tokens of the shared system prompt at the start of the prompt.
        system_tokens: u32,
        /// The conversation's key (0: none).
        conversation: u64,
    },
}

/// How a fleet caches prefixes.
#[derive(Debug, Clone)]
pub struct PrefixCaching {
    /// Tokens per block of generated prompts ([`PromptBlocks::Implicit`]).
    pub block_tokens: u32,
    /// The replayed trace's block hashes ([`PromptBlocks::Listed`]).
    pub listed: Option<Arc<TraceBlocks>>,
    /// `prefix_affinity` dispatch: a server is eligible when its KV load
    /// (in use plus queued) is at most the least loaded server's plus this
    /// share of a server's KV cache, in percent.
    pub affinity_slack_percent: u32,
}

impl PrefixCaching {
    /// Call `f(hash, tokens)` for the blocks of a prompt of `prompt`
    /// covering at most `tokens` tokens, in order, while it returns true.
    #[inline]
    pub fn for_each_block(
        &self,
        prompt: &PromptBlocks,
        tokens: u64,
        mut f: impl FnMut(u64, u32) -> bool,
    ) {
        match *prompt {
            PromptBlocks::None => {}
            PromptBlocks::Listed { request } => {
                let Some(blocks) = &self.listed else { return };
                let b = blocks.block_tokens as u64;
                for (j, &h) in blocks.of(request as usize).iter().enumerate() {
                    let start = j as u64 * b;
                    if start >= tokens {
                        return;
                    }
                    if !f(h, (tokens - start).min(b) as u32) {
                        return;
                    }
                }
            }
            PromptBlocks::Implicit {
                class_key,
                system_tokens,
                conversation,
            } => {
                let b = self.block_tokens as u64;
                let mut j = 0u64;
                while (j + 1) * b <= tokens {
                    let h = if (j + 1) * b <= system_tokens as u64 {
                        mix(class_key, j)
                    } else if conversation != 0 {
                        mix(conversation, j)
                    } else {
                        return;
                    };
                    if !f(h, b as u32) {
                        return;
                    }
                    j += 1;
                }
            }
        }
    }

    /// Tokens a device that kept the previous request's prompt and answer
    /// (`prev`, `prev_tokens` = its prompt plus output) can skip of the next
    /// prompt (`next`, `next_input` tokens): their common prefix, token
    /// exact as llama.cpp's prompt cache, at most `next_input - 1`.
    pub fn reused_tokens(
        &self,
        prev: &PromptBlocks,
        prev_input: u32,
        prev_tokens: u64,
        next: &PromptBlocks,
        next_input: u32,
    ) -> u32 {
        let common: u64 = match (*prev, *next) {
            (PromptBlocks::Listed { request: a }, PromptBlocks::Listed { request: b }) => {
                let Some(blocks) = &self.listed else { return 0 };
                let bt = blocks.block_tokens as u64;
                let (pa, pb) = (blocks.of(a as usize), blocks.of(b as usize));
                let mut n = 0u64;
                for (j, (x, y)) in pa.iter().zip(pb).enumerate() {
                    if x != y {
                        break;
                    }
                    let start = j as u64 * bt;
                    let end = (start + bt).min(prev_input as u64).min(next_input as u64);
                    n = end.max(start);
                }
                n
            }
            (
                PromptBlocks::Implicit {
                    class_key: ka,
                    system_tokens: sa,
                    conversation: ca,
                },
                PromptBlocks::Implicit {
                    class_key: kb,
                    system_tokens: sb,
                    conversation: cb,
                },
            ) => {
                if ca != 0 && ca == cb {
                    prev_tokens
                } else if ka == kb && sa == sb {
                    (sa as u64).min(prev_input as u64)
                } else {
                    0
                }
            }
            _ => 0,
        };
        common.min(next_input.saturating_sub(1) as u64) as u32
    }
}

/// The hash of block `j` of a chain keyed `key` (SplitMix64 finaliser).
#[inline]
fn mix(key: u64, j: u64) -> u64 {
    let mut z = key ^ (j.wrapping_add(1)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// `a / d`, a shift when `d` is a power of two (block sizes are, mostly:
/// a division takes as long as the rest of a cache touch).
#[inline]
fn div(a: u64, d: u64) -> u64 {
    if d.is_power_of_two() {
        a >> d.trailing_zeros()
    } else {
        a / d
    }
}

/// `a / d` rounded up, as [`div`].
#[inline]
fn div_ceil(a: u64, d: u64) -> u64 {
    div(a + d - 1, d)
}

/// KV tokens a cached block of `tokens` tokens occupies: whole engine
/// blocks of `block` tokens.
#[inline]
fn kv_unit(tokens: u64, block: u64) -> u32 {
    (div_ceil(tokens, block) * block) as u32
}

/// Evict blocks of `unit` KV tokens, of the `blocks` an entry holds, until
/// at most `room` KV tokens of `used` are cached or none is left; returns
/// how many.
#[inline]
fn shed(used: &mut u64, room: u64, unit: u32, blocks: u32) -> u32 {
    let unit = unit as u64;
    let drop = div_ceil(*used - room, unit).min(blocks as u64);
    *used -= drop * unit;
    drop as u32
}

/// Tokens of a generated prompt (`all` full blocks of `b` tokens, the
/// first `first_conv` of them inside the system prompt) found in a cache
/// holding `sys_cached` blocks of its system prompt and `conv_cached` of
/// its conversation: the system prompt's leading run, then, only when all
/// of it is there, the conversation's.
fn implicit_hit(b: u64, first_conv: u64, all: u64, sys_cached: u64, conv_cached: u64) -> u64 {
    let sys = first_conv.min(all);
    if sys_cached < sys {
        sys_cached * b
    } else {
        sys * b + conv_cached.min(all.saturating_sub(first_conv)) * b
    }
}

/// Hashes keys with one folded multiply. Keys are block hashes (mixed),
/// but also conversation and class keys whose top bits are constant and
/// trace hash ids that count up from 0; the map's table takes its bucket
/// from the low bits and its tag byte from the top 7, so both ends must
/// vary for a lookup to compare one key rather than a whole group.
#[derive(Default)]
struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        let m = self.0 as u128 * 0x9E37_79B9_7F4A_7C15_u128;
        (m as u64) ^ ((m >> 64) as u64)
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) ^ b as u64;
        }
    }
    fn write_u64(&mut self, x: u64) {
        self.0 = x;
    }
}

const NIL: u32 = u32::MAX;

/// No slot known (a hint to [`PrefixCache::admit`]).
pub const NO_SLOT: u32 = NIL;

/// A cached run of blocks: one listed block (a trace's hash), or the first
/// `blocks` blocks of a generated chain (a class's system prompt, or a
/// conversation from its first block after the system prompt). A chain's
/// blocks are always touched together, so they sit side by side in the
/// recency order and one entry stands for them: evicting from its tail is
/// what evicting those blocks one by one, least recent first, would do.
#[derive(Debug, Clone, Copy)]
struct Node {
    key: u64,
    /// Blocks it holds.
    blocks: u32,
    /// KV tokens one of its blocks occupies (rounded up to whole engine
    /// blocks).
    unit: u32,
    prev: u32,
    next: u32,
}

/// One server's cached blocks, least recently used first.
#[derive(Debug, Clone, Default)]
pub(super) struct PrefixCache {
    map: HashMap<u64, u32, BuildHasherDefault<KeyHasher>>,
    nodes: Vec<Node>,
    free: Vec<u32>,
    /// Least recently used (evicted first).
    head: u32,
    /// Most recently used.
    tail: u32,
    /// KV tokens the cached blocks occupy.
    pub used: u64,
    /// A prompt's blocks while they are looked up (kept allocated).
    scratch: Vec<(u64, u32)>,
    /// The slot of the last system prompt touched (a hint, checked before
    /// use): every generated prompt of a class touches it twice.
    class_slot: u32,
    /// The system prompt, while it is the only one this cache has seen.
    solo: SoloPrompt,
}

/// A cache whose prompts all start with one class's system prompt touches
/// that entry last at every admission and completion, so it is always the
/// most recently used: it is kept off the recency list, evicted only when
/// the list is empty, which is where the list would have it. A second
/// system prompt, a prompt without one, or a listed (trace) prompt ends
/// this: the entry joins the list at its tail, where it belongs then.
#[derive(Debug, Clone, Copy, Default)]
enum SoloPrompt {
    /// No system prompt seen yet.
    #[default]
    Unseen,
    /// The one system prompt: its key, blocks held and KV tokens a block.
    One { key: u64, blocks: u32, unit: u32 },
    /// On the list with the rest.
    Listed,
}

impl PrefixCache {
    pub fn new() -> Self {
        PrefixCache {
            head: NIL,
            tail: NIL,
            class_slot: NIL,
            ..Default::default()
        }
    }

    fn unlink(&mut self, i: u32) {
        let Node { prev, next, .. } = self.nodes[i as usize];
        if prev == NIL {
            self.head = next;
        } else {
            self.nodes[prev as usize].next = next;
        }
        if next == NIL {
            self.tail = prev;
        } else {
            self.nodes[next as usize].prev = prev;
        }
    }

    fn push_tail(&mut self, i: u32) {
        self.nodes[i as usize].prev = self.tail;
        self.nodes[i as usize].next = NIL;
        if self.tail == NIL {
            self.head = i;
        } else {
            self.nodes[self.tail as usize].next = i;
        }
        self.tail = i;
    }

    /// Make entry `key` the most recently used, holding at least `blocks`
    /// blocks of `unit` KV tokens, adding it if absent; returns the blocks
    /// it held before (0 when absent) and its slot.
    fn touch(&mut self, key: u64, blocks: u32, unit: u32) -> (u64, u32) {
        debug_assert!(blocks > 0, "an entry holds a block at least");
        let slot = match self.map.entry(key) {
            MapEntry::Occupied(o) => *o.get(),
            MapEntry::Vacant(v) => {
                let node = Node {
                    key,
                    blocks,
                    unit,
                    prev: NIL,
                    next: NIL,
                };
                let slot = match self.free.pop() {
                    Some(i) => {
                        self.nodes[i as usize] = node;
                        i
                    }
                    None => {
                        self.nodes.push(node);
                        (self.nodes.len() - 1) as u32
                    }
                };
                v.insert(slot);
                self.push_tail(slot);
                self.used += blocks as u64 * unit as u64;
                return (0, slot);
            }
        };
        (self.touch_slot(slot, blocks, unit), slot)
    }

    /// [`PrefixCache::touch`] of an entry known to sit in `slot`.
    #[inline]
    fn touch_slot(&mut self, slot: u32, blocks: u32, unit: u32) -> u64 {
        let node = &mut self.nodes[slot as usize];
        let before = node.blocks;
        if blocks > before {
            self.used += (blocks - before) as u64 * unit as u64;
            node.blocks = blocks;
        }
        if self.tail != slot {
            self.unlink(slot);
            self.push_tail(slot);
        }
        before as u64
    }

    /// [`PrefixCache::touch`], looking first in `hint`, the slot where the
    /// entry sat when last seen: a freed slot holds no blocks, and a live
    /// one holding `key` is its entry, since keys are unique.
    #[inline]
    fn touch_hinted(&mut self, key: u64, hint: u32, blocks: u32, unit: u32) -> (u64, u32) {
        match self.nodes.get(hint as usize) {
            Some(n) if n.key == key && n.blocks > 0 => (self.touch_slot(hint, blocks, unit), hint),
            _ => self.touch(key, blocks, unit),
        }
    }

    /// The system prompt kept off the list joins it (at its tail: it is
    /// the most recently used), and every later one goes there too.
    #[cold]
    fn list_solo(&mut self) {
        if let SoloPrompt::One { key, blocks, unit } = self.solo {
            if blocks > 0 {
                self.used -= blocks as u64 * unit as u64;
                (_, self.class_slot) = self.touch(key, blocks, unit);
            }
        }
        self.solo = SoloPrompt::Listed;
    }

    /// Blocks entry `key` holds (0 when absent).
    #[inline]
    fn blocks_of(&self, key: u64) -> u64 {
        if let SoloPrompt::One {
            key: solo, blocks, ..
        } = self.solo
        {
            if solo == key {
                return blocks as u64;
            }
        }
        self.map
            .get(&key)
            .map_or(0, |&i| self.nodes[i as usize].blocks as u64)
    }

    /// Tokens of the longest cached leading run of `prompt`'s blocks over
    /// its first `tokens` tokens, without touching anything.
    pub fn peek_hit(&self, cfg: &PrefixCaching, prompt: &PromptBlocks, tokens: u64) -> u64 {
        if let PromptBlocks::Implicit {
            class_key,
            system_tokens,
            conversation,
        } = *prompt
        {
            let b = cfg.block_tokens as u64;
            let (first_conv, all) = (div(system_tokens as u64, b), div(tokens, b));
            let conv = if conversation != 0 && all > first_conv {
                self.blocks_of(conversation)
            } else {
                0
            };
            return implicit_hit(b, first_conv, all, self.blocks_of(class_key), conv);
        }
        let mut hit = 0u64;
        cfg.for_each_block(prompt, tokens, |h, n| {
            let found = self.map.contains_key(&h);
            if found {
                hit += n as u64;
            }
            found
        });
        hit
    }

    /// Admit a prompt of `tokens` tokens: the tokens its longest cached
    /// prefix covers (at most `tokens - 1`), after which all its blocks are
    /// cached, most recently used, the first block last evicted. `block`
    /// is the engine's KV block (a cached block occupies whole ones).
    /// `conversation_slot` is where a generated prompt's conversation
    /// entry was last seen ([`NO_SLOT`]: unknown), a hint kept with the
    /// request and updated here, so that its completion finds the entry
    /// without a lookup.
    pub fn admit(
        &mut self,
        cfg: &PrefixCaching,
        prompt: &PromptBlocks,
        tokens: u64,
        block: u64,
        conversation_slot: &mut u32,
    ) -> u64 {
        if let PromptBlocks::Implicit {
            class_key,
            system_tokens,
            conversation,
        } = *prompt
        {
            let b = cfg.block_tokens as u64;
            let unit = kv_unit(b, block);
            let (first_conv, all) = (div(system_tokens as u64, b), div(tokens, b));
            let sys = first_conv.min(all);
            let solo_here = match self.solo {
                SoloPrompt::Unseen => sys > 0,
                SoloPrompt::One { key, .. } => sys > 0 && key == class_key,
                SoloPrompt::Listed => false,
            };
            if !solo_here && !matches!(self.solo, SoloPrompt::Listed) {
                self.list_solo();
            }
            // The conversation first, then the system prompt: its blocks
            // are the last evicted. The hit is what they held before, as
            // `peek_hit` finds it.
            let conv = conversation != 0 && all > first_conv;
            let conv_before = if conv {
                let (before, slot) = self.touch_hinted(
                    conversation,
                    *conversation_slot,
                    (all - first_conv) as u32,
                    unit,
                );
                *conversation_slot = slot;
                before
            } else {
                0
            };
            let sys_before = if solo_here {
                let (before, unit) = match self.solo {
                    SoloPrompt::One { blocks, unit, .. } => (blocks, unit),
                    _ => (0, unit),
                };
                let now = before.max(sys as u32);
                self.used += (now - before) as u64 * unit as u64;
                self.solo = SoloPrompt::One {
                    key: class_key,
                    blocks: now,
                    unit,
                };
                before as u64
            } else if sys > 0 {
                let (before, slot) =
                    self.touch_hinted(class_key, self.class_slot, sys as u32, unit);
                self.class_slot = slot;
                before
            } else {
                0
            };
            let hit = implicit_hit(b, first_conv, all, sys_before, conv_before);
            return hit.min(tokens.saturating_sub(1));
        }
        if !matches!(self.solo, SoloPrompt::Listed) {
            self.list_solo();
        }
        let mut blocks = std::mem::take(&mut self.scratch);
        blocks.clear();
        cfg.for_each_block(prompt, tokens, |h, n| {
            blocks.push((h, n));
            true
        });
        let mut hit = 0u64;
        for &(h, n) in &blocks {
            if !self.map.contains_key(&h) {
                break;
            }
            hit += n as u64;
        }
        for &(h, n) in blocks.iter().rev() {
            self.touch(h, 1, kv_unit(n as u64, block));
        }
        self.scratch = blocks;
        hit.min(tokens.saturating_sub(1))
    }

    /// Cache the blocks of a finished request's first `tokens` tokens (a
    /// growing conversation's prompt and answer), as [`PrefixCache::admit`]
    /// does; `slot` is the request's hint from its admission.
    pub fn keep(
        &mut self,
        cfg: &PrefixCaching,
        prompt: &PromptBlocks,
        tokens: u64,
        block: u64,
        slot: u32,
    ) {
        let mut hint = slot;
        self.admit(cfg, prompt, tokens, block, &mut hint);
    }

    /// Evict least recently used blocks (an entry's from its tail) until at
    /// most `room` KV tokens are cached; returns how many were evicted.
    pub fn evict_to(&mut self, room: u64) -> u64 {
        let mut evicted = 0;
        while self.used > room && self.head != NIL {
            let i = self.head;
            let node = self.nodes[i as usize];
            let drop = shed(&mut self.used, room, node.unit, node.blocks);
            evicted += drop as u64;
            if drop == node.blocks {
                self.unlink(i);
                self.map.remove(&node.key);
                // A freed slot holds no blocks: hints to it fail.
                self.nodes[i as usize].blocks = 0;
                self.free.push(i);
            } else {
                self.nodes[i as usize].blocks -= drop;
            }
        }
        // Then the system prompt kept off the list (the most recent).
        if let SoloPrompt::One { blocks, unit, .. } = &mut self.solo {
            if self.used > room && *blocks > 0 {
                let drop = shed(&mut self.used, room, *unit, *blocks);
                *blocks -= drop;
                evicted += drop as u64;
            }
        }
        // The next eviction starts from the head: load it meanwhile.
        if let Some(head) = self.nodes.get(self.head as usize) {
            crate::core::prefetch::prefetch(head);
        }
        evicted
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Keeping a sole system prompt off the recency list changes
        /// nothing: any run of admissions, completions and evictions (one
        /// class, or a second arriving, or prompts without a system
        /// prompt) gives the same hits, evictions and contents as a cache
        /// that lists it from the start.
        #[test]
        fn a_system_prompt_kept_off_the_list_is_where_the_list_has_it(
            ops in prop::collection::vec(
                (0u32..3, 0u64..6, 40u64..400, 0u64..2000, 0u8..4), 1..300),
            second_class in any::<bool>(),
        ) {
            let cfg = PrefixCaching { block_tokens: 16, listed: None, affinity_slack_percent: 0 };
            let mut solo = PrefixCache::new();
            let mut listed = PrefixCache::new();
            listed.solo = SoloPrompt::Listed;
            let (mut hint_a, mut hint_b) = ([NO_SLOT; 6], [NO_SLOT; 6]);
            for (class, conversation, tokens, room, op) in ops {
                let class = if second_class { class } else { class.min(1) };
                // Class 2 has no system prompt.
                let prompt = PromptBlocks::Implicit {
                    class_key: 0x5eed_c1a5_0000_0000 | class as u64,
                    system_tokens: [40, 40, 0][class as usize] + 16 * (class % 2),
                    conversation: if conversation == 0 { 0 } else { (1 << 63) | conversation },
                };
                let c = conversation as usize;
                match op {
                    0 | 1 => prop_assert_eq!(
                        solo.admit(&cfg, &prompt, tokens, 16, &mut hint_a[c]),
                        listed.admit(&cfg, &prompt, tokens, 16, &mut hint_b[c])
                    ),
                    2 => {
                        solo.keep(&cfg, &prompt, tokens + 30, 16, hint_a[c]);
                        listed.keep(&cfg, &prompt, tokens + 30, 16, hint_b[c]);
                    }
                    _ => prop_assert_eq!(solo.evict_to(room), listed.evict_to(room)),
                }
                prop_assert_eq!(solo.used, listed.used);
                prop_assert_eq!(solo.peek_hit(&cfg, &prompt, tokens), listed.peek_hit(&cfg, &prompt, tokens));
            }
        }
    }

    fn listed(lists: &[&[u64]]) -> PrefixCaching {
        PrefixCaching {
            block_tokens: 16,
            listed: Some(Arc::new(TraceBlocks::from_lists(4, lists.iter().copied()))),
            affinity_slack_percent: 0,
        }
    }

    #[test]
    fn a_hit_is_the_longest_cached_leading_run() {
        let cfg = listed(&[&[1, 2, 3], &[1, 2, 9], &[7, 2, 3]]);
        let mut c = PrefixCache::new();
        let p = |i| PromptBlocks::Listed { request: i };
        assert_eq!(c.admit(&cfg, &p(0), 11, 1, &mut NO_SLOT.clone()), 0);
        assert_eq!(c.used, 11);
        // Blocks 1, 2 cached (8 tokens); block 9 is new.
        assert_eq!(c.admit(&cfg, &p(1), 12, 1, &mut NO_SLOT.clone()), 8);
        // First block differs: nothing, although 2 and 3 are cached.
        assert_eq!(c.admit(&cfg, &p(2), 12, 1, &mut NO_SLOT.clone()), 0);
        // The whole prompt cached: the last token is prefilled again.
        assert_eq!(c.admit(&cfg, &p(0), 11, 1, &mut NO_SLOT.clone()), 10);
    }

    #[test]
    fn eviction_cuts_chains_from_their_tail() {
        let cfg = listed(&[&[1, 2, 3], &[4, 5]]);
        let mut c = PrefixCache::new();
        let p = |i| PromptBlocks::Listed { request: i };
        c.admit(&cfg, &p(0), 12, 4, &mut NO_SLOT.clone());
        c.admit(&cfg, &p(1), 8, 4, &mut NO_SLOT.clone());
        assert_eq!(c.used, 20);
        // The least recently used are request 0's, its last block first.
        assert_eq!(c.evict_to(16), 1);
        assert_eq!(c.peek_hit(&cfg, &p(0), 12), 8);
        assert_eq!(c.evict_to(8), 2);
        assert_eq!(c.peek_hit(&cfg, &p(0), 12), 0);
        assert_eq!(c.peek_hit(&cfg, &p(1), 8), 8);
    }

    #[test]
    fn implicit_blocks_share_the_system_prompt_and_the_conversation() {
        let cfg = PrefixCaching {
            block_tokens: 16,
            listed: None,
            affinity_slack_percent: 0,
        };
        let a = PromptBlocks::Implicit {
            class_key: 5,
            system_tokens: 40,
            conversation: 0,
        };
        let b = PromptBlocks::Implicit {
            class_key: 5,
            system_tokens: 40,
            conversation: 77,
        };
        let mut c = PrefixCache::new();
        // 40 system tokens: two full blocks hashed by the class.
        assert_eq!(c.admit(&cfg, &a, 100, 16, &mut NO_SLOT.clone()), 0);
        assert_eq!(c.used, 32);
        assert_eq!(c.admit(&cfg, &b, 100, 16, &mut NO_SLOT.clone()), 32);
        // The conversation's prompt and answer, 130 tokens: 8 blocks.
        c.keep(&cfg, &b, 130, 16, NO_SLOT);
        assert_eq!(c.admit(&cfg, &b, 200, 16, &mut NO_SLOT.clone()), 128);
        assert_eq!(cfg.reused_tokens(&b, 100, 130, &b, 200), 130);
        // Least recent first: the conversation (10 blocks of 16 after
        // the last admission), from its tail; the system prompt (touched
        // last) survives.
        assert_eq!(c.used, 16 * (2 + 10));
        assert_eq!(c.evict_to(16 * 7), 5);
        assert_eq!(c.peek_hit(&cfg, &b, 200), 16 * 7);
        assert_eq!(c.evict_to(16), 6);
        assert_eq!(c.peek_hit(&cfg, &b, 200), 16);
        assert_eq!(cfg.reused_tokens(&a, 100, 130, &b, 200), 40);
    }
}
