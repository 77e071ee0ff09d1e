//! A swap pool ([`SwapFleet`]): a few servers that serve the requests of
//! several rarely used models, one request at a time, holding one model's
//! weights at a time and loading another's when a request needs it (the
//! load time is paid before its prefill, in its TTFT).
//!
//! Requests are served first come, first served from one queue: a request
//! starts when a server is free (at its arrival, or when the earliest
//! server frees up). Of the servers free then it takes one holding its
//! model if there is one, else the one whose model was used longest ago
//! (the lowest index on ties), which loads its model first. Each request
//! is O(servers) work, nothing is allocated per request, and results do
//! not depend on anything but the requests and the fleet.

/// What one request got from the swap pool.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Swapped {
    /// When a server took it, seconds.
    pub start_s: f64,
    /// When its first token was out: start + load (if any) + prefill.
    pub first_token_s: f64,
    /// When its last token was out.
    pub end_s: f64,
    /// Whether its server loaded its model for it.
    pub loaded: bool,
}

#[derive(Debug, Clone, Copy)]
struct SwapServer {
    free_at_s: f64,
    /// The model whose weights it holds (None: none yet).
    model: Option<u32>,
    /// When it last started a request (for least-recently-used choice).
    used_at_s: f64,
}

/// Servers holding one model at a time, serving requests at batch 1.
#[derive(Debug, Clone)]
pub struct SwapFleet {
    servers: Vec<SwapServer>,
    /// Model loads so far.
    pub loads: u64,
}

impl SwapFleet {
    /// `servers` idle servers holding no model.
    pub fn new(servers: usize) -> Self {
        assert!(servers >= 1, "a swap pool has at least one server");
        SwapFleet {
            servers: vec![
                SwapServer {
                    free_at_s: 0.0,
                    model: None,
                    used_at_s: f64::NEG_INFINITY,
                };
                servers
            ],
            loads: 0,
        }
    }

    /// Serve a request of `model` arriving at `arrival_s` (requests must
    /// come in arrival order) that takes `prefill_s` then `decode_s` on a
    /// server holding its model; `load_s` to load the model first.
    pub fn serve(
        &mut self,
        arrival_s: f64,
        model: u32,
        load_s: f64,
        prefill_s: f64,
        decode_s: f64,
    ) -> Swapped {
        let earliest = self
            .servers
            .iter()
            .map(|s| s.free_at_s)
            .fold(f64::INFINITY, f64::min);
        let start_s = arrival_s.max(earliest);
        let free = |s: &SwapServer| s.free_at_s <= start_s;
        let pick = self
            .servers
            .iter()
            .position(|s| free(s) && s.model == Some(model))
            .unwrap_or_else(|| {
                let mut best = None;
                for (i, s) in self.servers.iter().enumerate() {
                    if free(s)
                        && best.is_none_or(|b: usize| s.used_at_s < self.servers[b].used_at_s)
                    {
                        best = Some(i);
                    }
                }
                best.expect("a server is free at the start time")
            });
        let s = &mut self.servers[pick];
        let loaded = s.model != Some(model);
        let load = if loaded { load_s } else { 0.0 };
        if loaded {
            self.loads += 1;
        }
        let first_token_s = start_s + load + prefill_s;
        let end_s = first_token_s + decode_s;
        *s = SwapServer {
            free_at_s: end_s,
            model: Some(model),
            used_at_s: start_s,
        };
        Swapped {
            start_s,
            first_token_s,
            end_s,
            loaded,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_pays_the_load_only_when_its_model_is_not_held() {
        let mut f = SwapFleet::new(1);
        // Model 0 loads (5 s), then serves (1 + 2 s).
        let a = f.serve(0.0, 0, 5.0, 1.0, 2.0);
        assert_eq!(
            (a.start_s, a.first_token_s, a.end_s, a.loaded),
            (0.0, 6.0, 8.0, true)
        );
        // Model 0 again, after: no load.
        let b = f.serve(10.0, 0, 5.0, 1.0, 2.0);
        assert_eq!((b.first_token_s, b.end_s, b.loaded), (11.0, 13.0, false));
        // Model 1 arrives while the server is busy: waits, then loads.
        let c = f.serve(12.0, 1, 4.0, 1.0, 1.0);
        assert_eq!((c.start_s, c.first_token_s, c.loaded), (13.0, 18.0, true));
        assert_eq!(f.loads, 2);
    }

    #[test]
    fn a_free_server_holding_the_model_is_preferred_then_the_least_recently_used() {
        let mut f = SwapFleet::new(2);
        let a = f.serve(0.0, 0, 5.0, 1.0, 1.0); // server 0 loads 0
        let b = f.serve(0.0, 1, 5.0, 1.0, 1.0); // server 1 loads 1
        assert!(a.loaded && b.loaded);
        // Both free at 20: model 1 goes to server 1, which holds it.
        let c = f.serve(20.0, 1, 5.0, 1.0, 1.0);
        assert!(!c.loaded);
        // Model 2: server 0 was used longest ago, it loads model 2 ...
        let d = f.serve(30.0, 2, 5.0, 1.0, 1.0);
        assert!(d.loaded);
        // ... so model 1 is still held by server 1, model 0 by none.
        assert!(!f.serve(40.0, 1, 5.0, 1.0, 1.0).loaded);
        assert!(f.serve(50.0, 0, 5.0, 1.0, 1.0).loaded);
        assert_eq!(f.loads, 4);
    }
}
