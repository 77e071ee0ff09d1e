//! A server's step boundaries: close the phase that ends (retire finished
//! sequences, hand out prefill chunks), preempt until the next step's blocks
//! fit (paged cache), admit FCFS, and plan the next phase.

use std::cmp::Reverse;

use super::{BatchingFleet, Phase, PromptBlocks, Role};
use crate::metrics::LlmRecorder;

impl BatchingFleet {
    /// End of the current phase of server `s` at `t` (or a start from idle):
    /// retire, preempt (paged), admit, plan the next phase.
    pub(super) fn boundary(&mut self, s: usize, t: f64, rec: &mut LlmRecorder) {
        let w = self.window;
        let phase = self.servers[s].phase;
        self.close_phase_kv(s, t);
        if !self.servers[s].sent.is_empty() {
            self.release_sent(s, t);
        }
        // Cached blocks live in the memory the phase left free at its peak.
        let peak = self.servers[s].kv_range.1;
        self.evict_prefixes(s, t, peak);
        match phase {
            Phase::Idle => {}
            Phase::Prefill { start_s, tokens } => {
                let overlap = w.overlap_s(start_s, t);
                self.usage.busy_s += overlap;
                self.usage.active_energy_j +=
                    super::share(overlap, start_s, t) * self.cfg.step.prefill_active_j(tokens);
                rec.timeline.busy(start_s, t);
                let mut ids = std::mem::take(&mut self.servers[s].prefilling);
                for &id in &ids {
                    self.prefilled(s, id, t, rec);
                }
                ids.clear();
                self.servers[s].prefilling = ids; // keep the allocation
            }
            Phase::Mixed { start_s, chunk } => {
                let overlap = w.overlap_s(start_s, t);
                self.usage.busy_s += overlap;
                let sv = &self.servers[s];
                let weights_s = self.weights.get(&self.cfg.step, sv.batch as u64 + chunk);
                self.usage.active_energy_j += super::share(overlap, start_s, t)
                    * self
                        .cfg
                        .step
                        .mixed_active_j_reading(sv.batch, sv.context, chunk, weights_s);
                rec.timeline.busy(start_s, t);
                if self.servers[s].batch > 0 {
                    self.usage.decode_s += overlap;
                    self.usage.batch_decode_area += self.servers[s].batch as f64 * overlap;
                }
                let server = &mut self.servers[s];
                server.steps_done += 1;
                server.context += server.batch as u64;
                self.retire_finished(s, t, rec);
                // The chunk's prompt tokens go to the prefilling requests in
                // admission order; a finished prompt yields its next token.
                let mut left = chunk;
                let mut ids = std::mem::take(&mut self.servers[s].prefilling);
                let mut kept = 0;
                for i in 0..ids.len() {
                    let id = ids[i];
                    let seq = &mut self.seqs[id as usize];
                    let take = (seq.prompt_left as u64).min(left);
                    seq.prompt_left -= take as u32;
                    left -= take;
                    if seq.prompt_left > 0 {
                        ids[kept] = id;
                        kept += 1;
                    } else {
                        self.prefilled(s, id, t, rec);
                    }
                }
                ids.truncate(kept);
                self.servers[s].prefilling = ids;
            }
            Phase::Decode {
                start_s,
                steps,
                run,
            } => {
                let overlap = w.overlap_s(start_s, t);
                self.usage.busy_s += overlap;
                self.usage.active_energy_j +=
                    super::share(overlap, start_s, t) * self.cfg.step.run_active_j(&run, steps);
                rec.timeline.busy(start_s, t);
                self.usage.decode_s += overlap;
                self.usage.batch_decode_area += self.servers[s].batch as f64 * overlap;
                let server = &mut self.servers[s];
                server.steps_done += steps;
                server.context += server.batch as u64 * steps;
                self.retire_finished(s, t, rec);
            }
        }
        self.preempt_to_fit(s, t);
        // Admission, FCFS from this server's queue, then the central queue.
        self.note_kv(t);
        let mut prompt_tokens = 0u64;
        loop {
            let server = &self.servers[s];
            let head = if let Some(&id) = server.queue.front() {
                Some((id, false))
            } else if server.accepting {
                self.central.front().map(|&id| (id, true))
            } else {
                None
            };
            let Some((id, central)) = head else { break };
            let need = self.seqs[id as usize].need;
            if !server.can_admit(need, &self.cfg, self.kv_cap) {
                break;
            }
            if central {
                self.central.pop_front();
            } else {
                self.servers[s].queue.pop_front();
                self.servers[s].queued_kv -= need;
            }
            self.stamps += 1;
            let seq = &mut self.seqs[id as usize];
            if seq.start_s.is_nan() {
                seq.start_s = t; // a readmission keeps its first start
            }
            seq.stamp = self.stamps;
            let sv = &mut self.servers[s];
            if let (Some(cfg), Some(cache), 0) = (&self.cfg.prefix, &mut sv.prefix, seq.generated) {
                let block = sv.paged.as_ref().map_or(1, |p| p.block);
                let hit = cache.admit(
                    cfg,
                    &seq.prompt,
                    seq.input as u64,
                    block,
                    &mut seq.cache_slot,
                );
                seq.cached = hit as u32;
                if self.window.measures(seq.arrival_s) {
                    self.usage.prompt_tokens += seq.input as u64;
                    self.usage.prefix_hit_tokens += hit;
                }
            }
            // A decode server receives the prompt's KV: nothing to prefill
            // (after a preemption here it recomputes, as any server does).
            let received = self.role == Role::Decode && seq.generated == 0;
            seq.prompt_left = seq.compute_len() as u32;
            if !received {
                prompt_tokens += seq.compute_len();
            }
            self.servers[s].prefilling.push(id);
            self.reserve_admitted(s, id, need);
            if received {
                self.servers[s].prefilling.pop();
                self.prefilled(s, id, t, rec);
            }
        }
        if self.servers[s].prefix.is_some() {
            let now = self.servers[s].kv_in_use();
            self.evict_prefixes(s, t, now);
        }
        self.plan(s, t, prompt_tokens);
        self.refresh_row(s);
    }

    /// Reserve the KV of sequence `id`, just admitted to server `s` and
    /// needing `need` tokens: whole-context tokens, or its prefill's blocks
    /// (and its entry in the admission order, compacted now and then).
    fn reserve_admitted(&mut self, s: usize, id: u32, need: u64) {
        let server = &mut self.servers[s];
        match &mut server.paged {
            None => {
                server.kv_reserved += need;
                self.kv_total += need;
            }
            Some(p) => {
                p.add_prefill(need / p.block);
                server.admitted.push((self.stamps, id));
                let live = server.batch as usize + server.prefilling.len();
                if server.admitted.len() > 2 * live + 32 {
                    let seqs = &self.seqs;
                    server
                        .admitted
                        .retain(|&(stamp, id)| seqs[id as usize].stamp == stamp);
                }
            }
        }
    }

    /// Prefix caching: evict server `s`'s least recently used cached blocks
    /// until they fit in the KV memory left free by `in_use` tokens.
    #[inline]
    fn evict_prefixes(&mut self, s: usize, t: f64, in_use: u64) {
        let room = self.kv_cap.saturating_sub(in_use);
        if let Some(cache) = &mut self.servers[s].prefix {
            if cache.used > room {
                let n = cache.evict_to(room);
                if self.window.measures(t) {
                    self.usage.prefix_evictions += n;
                }
            }
        }
    }

    /// Sequence `id` finished its prefill at `t`, which yields its next
    /// token (its first unless it was preempted): it completes or decodes.
    fn prefilled(&mut self, s: usize, id: u32, t: f64, rec: &mut LlmRecorder) {
        let seq = &mut self.seqs[id as usize];
        if seq.first_token_s.is_nan() {
            seq.first_token_s = t; // TTFT is the first first token
        }
        let len = seq.prefill_len();
        let left = (seq.output - seq.generated) as u64;
        let server = &mut self.servers[s];
        if self.role == Role::Prefill && left > 1 {
            // Its KV stays here until the transfer to a decode server ends.
            self.handoff.push((s as u32, id, t));
            return;
        }
        if let Some(p) = &mut server.paged {
            p.remove_prefill(p.blocks_for(len + 1));
        }
        if left <= 1 {
            self.complete(s, id, t, rec);
            return;
        }
        let stamp = seq.stamp;
        server
            .running
            .push(Reverse((server.steps_done + left - 1, id, stamp)));
        server.batch += 1;
        server.context += len + 1;
        if let Some(p) = &mut server.paged {
            seq.offset = (len + 1) as i64 - server.steps_done as i64;
            seq.running = true;
            p.add_running(seq.offset);
        }
    }

    /// Prefill pool: free the KV of the sequences whose transfer to the
    /// decode pool has ended (vLLM frees a sent request's blocks at the
    /// scheduler step after its connector reports the send done).
    fn release_sent(&mut self, s: usize, t: f64) {
        let mut ids = std::mem::take(&mut self.servers[s].sent);
        for &id in &ids {
            let seq = &mut self.seqs[id as usize];
            seq.stamp = 0;
            let seq = *seq;
            match &mut self.servers[s].paged {
                Some(p) => p.remove_prefill(p.blocks_for(seq.prefill_len() + 1)),
                None => {
                    self.servers[s].kv_reserved -= seq.need;
                    self.note_kv(t);
                    self.kv_total -= seq.need;
                }
            }
            let server = &mut self.servers[s];
            if let (Some(cfg), Some(cache)) = (&self.cfg.prefix, &mut server.prefix) {
                let block = server.paged.as_ref().map_or(1, |p| p.block);
                cache.keep(cfg, &seq.prompt, seq.input as u64, block, seq.cache_slot);
            }
            self.free_ids.push(id);
        }
        ids.clear();
        self.servers[s].sent = ids; // keep the allocation
    }

    /// Paged: preempt the most recently admitted sequences (running or
    /// prefilling) until the blocks of the next step fit; each goes back to
    /// the front of this server's queue and will re-prefill its prompt and
    /// the tokens it generated (vLLM's recompute preemption).
    fn preempt_to_fit(&mut self, s: usize, t: f64) {
        loop {
            let server = &mut self.servers[s];
            let Some(p) = &server.paged else { return };
            if p.demand(server.steps_done) <= p.total {
                return;
            }
            let id = loop {
                let (stamp, id) = server.admitted.pop().expect("an admitted sequence");
                if self.seqs[id as usize].stamp == stamp {
                    break id;
                }
            };
            self.preempt(s, id, t);
        }
    }

    fn preempt(&mut self, s: usize, id: u32, t: f64) {
        let server = &mut self.servers[s];
        let p = server.paged.as_mut().expect("paged");
        let seq = &mut self.seqs[id as usize];
        let recomputed = if seq.running {
            let context = (seq.offset + server.steps_done as i64) as u64;
            p.remove_running(seq.offset);
            server.batch -= 1;
            server.context -= context;
            seq.generated = (context - seq.input as u64) as u32;
            seq.running = false;
            context
        } else {
            let at = server.prefilling.iter().position(|&x| x == id);
            server.prefilling.remove(at.expect("prefilling"));
            p.remove_prefill(p.blocks_for(seq.prefill_len() + 1));
            seq.compute_len() - seq.prompt_left as u64
        };
        seq.stamp = 0;
        seq.cached = 0;
        seq.prompt_left = seq.prefill_len() as u32;
        seq.need = p.blocks_for(seq.prefill_len() + 1) * p.block;
        server.queue.push_front(id);
        server.queued_kv += seq.need;
        if self.window.measures(t) {
            self.usage.preemptions += 1;
            self.usage.recomputed_tokens += recomputed;
        }
    }

    /// Paged: account the blocks server `s` held during the phase ending at
    /// `t` (its first and last steps' blocks; they grow linearly in between).
    fn close_phase_kv(&mut self, s: usize, t: f64) {
        let server = &self.servers[s];
        let Some(p) = &server.paged else { return };
        let (start_s, last) = match server.phase {
            Phase::Idle => return,
            Phase::Prefill { start_s, .. } | Phase::Mixed { start_s, .. } => (start_s, 0),
            Phase::Decode { start_s, steps, .. } => (start_s, steps - 1),
        };
        // The plan's range (kept exact when a run is cut short in `poke`).
        let (first, last_tokens) = server.kv_range;
        debug_assert_eq!(first, p.demand(server.steps_done) * p.block);
        debug_assert_eq!(last_tokens, p.demand(server.steps_done + last) * p.block);
        let last = last_tokens;
        debug_assert!(last <= self.kv_cap);
        let mean = (first + last) as f64 / 2.0;
        self.usage.kv_area += mean * self.window.overlap_s(start_s, t);
        self.usage.max_kv_reserved_tokens = self.usage.max_kv_reserved_tokens.max(last);
    }

    /// Plan the next phase of server `s` from `t`: prefill what was just
    /// admitted, else decode up to the next completion (paged: or the last
    /// step whose blocks fit), else idle.
    fn plan(&mut self, s: usize, t: f64, prompt_tokens: u64) {
        let step = self.cfg.step;
        let server = &mut self.servers[s];
        if server.paged.is_none() {
            self.usage.max_kv_reserved_tokens =
                self.usage.max_kv_reserved_tokens.max(server.kv_reserved);
        }
        self.usage.max_batch_seen = self
            .usage
            .max_batch_seen
            .max(server.batch + server.prefilling.len() as u32);
        if let (false, Some(budget)) = (
            server.prefilling.is_empty(),
            self.cfg.chunked_prefill_tokens,
        ) {
            let pending: u64 = server
                .prefilling
                .iter()
                .map(|&id| self.seqs[id as usize].prompt_left as u64)
                .sum();
            let chunk = pending.min(budget as u64);
            server.phase = Phase::Mixed { start_s: t, chunk };
            let weights_s = self.weights.get(&step, server.batch as u64 + chunk);
            let (time_s, _) =
                step.mixed_parts_reading(server.batch, server.context, chunk, weights_s);
            server.end_s = t + time_s;
            server.note_constant_kv_range();
        } else if !server.prefilling.is_empty() {
            server.phase = Phase::Prefill {
                start_s: t,
                tokens: prompt_tokens,
            };
            server.end_s = t + step.prefill_s(prompt_tokens);
            server.note_constant_kv_range();
        } else if server.batch > 0 {
            let next_finish = loop {
                let Reverse((finish, id, stamp)) = *server.running.peek().expect("batch > 0");
                if server.paged.is_none() || self.seqs[id as usize].stamp == stamp {
                    break finish;
                }
                server.running.pop(); // preempted
            };
            if let Some(&Reverse((_, id, _))) = server.running.peek() {
                self.finishing.push(self.seqs[id as usize].user);
            }
            let mut steps = next_finish - server.steps_done;
            if !self.cfg.fast_forward {
                steps = 1;
            }
            match &server.paged {
                Some(p) => {
                    let (fit, last_blocks) = p.steps_that_fit(server.steps_done, steps);
                    steps = fit;
                    server.kv_range =
                        (p.demand(server.steps_done) * p.block, last_blocks * p.block);
                }
                None => server.note_constant_kv_range(),
            }
            let weights_s = self.weights.get(&step, server.batch as u64);
            let run = step.decode_run_reading(server.batch, server.context, weights_s);
            server.phase = Phase::Decode {
                start_s: t,
                steps,
                run,
            };
            server.end_s = t + run.time_s(steps);
        } else {
            server.phase = Phase::Idle;
            server.note_constant_kv_range();
            return;
        }
        server.epoch = server.epoch.wrapping_add(1);
        self.events.push(server.end_s, s as u32);
    }

    /// Complete every running sequence whose last step is done.
    fn retire_finished(&mut self, s: usize, t: f64, rec: &mut LlmRecorder) {
        while let Some(&Reverse((finish, id, stamp))) = self.servers[s].running.peek() {
            let paged = self.servers[s].paged.is_some();
            if paged && self.seqs[id as usize].stamp != stamp {
                self.servers[s].running.pop(); // preempted
                continue;
            }
            if finish > self.servers[s].steps_done {
                break;
            }
            self.servers[s].running.pop();
            let seq = &self.seqs[id as usize];
            let server = &mut self.servers[s];
            server.batch -= 1;
            server.context -= seq.input as u64 + seq.output as u64;
            if let Some(p) = &mut server.paged {
                p.remove_running(seq.offset);
            }
            self.complete(s, id, t, rec);
        }
    }

    fn complete(&mut self, s: usize, id: u32, t: f64, rec: &mut LlmRecorder) {
        let seq = &mut self.seqs[id as usize];
        seq.stamp = 0;
        seq.running = false;
        let seq = *seq;
        let server = &mut self.servers[s];
        if let (Some(cfg), Some(cache)) = (&self.cfg.prefix, &mut server.prefix) {
            // Its blocks are freed: most recently used now; a growing
            // conversation's answer is cached too (vLLM hashes every full
            // block, generated ones included).
            let block = server.paged.as_ref().map_or(1, |p| p.block);
            let tokens = match seq.prompt {
                PromptBlocks::Implicit { conversation, .. } if conversation != 0 => {
                    seq.input as u64 + seq.output as u64
                }
                _ => seq.input as u64,
            };
            cache.keep(cfg, &seq.prompt, tokens, block, seq.cache_slot);
        }
        if server.paged.is_none() {
            server.kv_reserved -= seq.need;
            self.note_kv(t);
            self.kv_total -= seq.need;
        }
        let before = (rec.measured, rec.attained);
        rec.record(
            seq.arrival_s,
            seq.start_s,
            seq.first_token_s,
            t,
            seq.output,
            seq.user,
        );
        if let Some(sc) = self.scale.as_mut() {
            sc.note_in_flight(t, -1);
            if seq.scaleup {
                sc.usage.scaleup_measured += rec.measured - before.0;
                sc.usage.scaleup_attained += rec.attained - before.1;
            }
        }
        self.done.push((seq.user, t));
        self.free_ids.push(id);
    }
}
