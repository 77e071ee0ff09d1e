//! What requests are: a generic `[service]` time, or an LLM (`[model]`
//! from the catalogue) with its token counts (`[requests]`, or the
//! `[trace]`'s); and `[costs]` / `[catalog]`, which only catalogue devices use.

use std::path::Path;

use crate::core::dist::Dist;
use crate::workload::trace::TraceRequest;

use super::super::check::Check;
use super::super::raw::{RawModelChoice, RawRequests, RawScenario};
use super::super::{LlmWorkload, ScenarioError, Workload};
use super::catalogue::load_catalog;
use super::dist::resolve_dist;
use super::tokens::resolve_tokens;

/// Short description of a class's workload for messages.
pub(super) fn workload_label(w: &Workload) -> String {
    match w {
        Workload::Generic { .. } => "a generic service time".into(),
        Workload::Llm(l) => format!("{} {}", l.model.name, l.quantisation),
    }
}

/// The scenario's workload, and its memory price multiplier.
pub(super) fn resolve_workload(
    c: &Check,
    raw: &RawScenario,
    trace: Option<&[TraceRequest]>,
    base_dir: &Path,
) -> Result<(Workload, f64), ScenarioError> {
    let workload = match (&raw.service, &raw.model, &raw.requests) {
        (Some(svc), None, None) => {
            let service = resolve_dist(c, &c.section("service"), svc, base_dir)?;
            if service.mean() <= 0.0 {
                return Err(c.err(c.section("service"), "the mean service time must be greater than 0"));
            }
            Workload::Generic { service }
        }
        (None, Some(m), req) if req.is_some() || raw.trace.is_some() => {
            Workload::Llm(Box::new(resolve_llm(
                c,
                raw,
                m,
                req.as_ref(),
                trace,
                base_dir,
            )?))
        }
        (Some(_), _, _) => {
            return Err(c.err(
                c.section("service"),
                "give either [service] (a generic service time) or [model] with [requests] (an LLM), not both",
            ))
        }
        (None, None, None) => {
            return Err(c.err(
                c.section("service"),
                "missing: give [service] (a generic service time) or [model] with [requests] (an LLM)",
            ))
        }
        (None, None, Some(_)) => return Err(c.err(c.section("model"), "missing: [requests] needs a [model] with `name` and `quantisation`")),
        (None, Some(_), _) => return Err(c.err(c.section("requests"), "missing: an LLM scenario needs [requests] with `input_tokens` and `output_tokens` (or a [trace])")),
    };
    let any_device = raw.placements.iter().any(|p| p.device.is_some());
    if let (Workload::Generic { .. }, Some(_), false) = (&workload, &raw.costs, any_device) {
        return Err(c.err(
            "costs",
            "prices apply to catalogue devices (LLM scenarios, or placements with `device`): remove [costs]",
        ));
    }
    if let (Workload::Generic { .. }, Some(_), false) = (&workload, &raw.catalog, any_device) {
        return Err(c.err(
            "catalog",
            "the catalogue applies to LLM scenarios and placements with `device`: remove [catalog]",
        ));
    }
    let memory_price_multiplier = memory_price_multiplier(c, raw)?;
    Ok((workload, memory_price_multiplier))
}

/// `[costs] memory_price_multiplier` (default 1).
fn memory_price_multiplier(c: &Check, raw: &RawScenario) -> Result<f64, ScenarioError> {
    let multiplier = raw
        .costs
        .as_ref()
        .and_then(|x| x.memory_price_multiplier)
        .unwrap_or(1.0);
    c.positive("costs.memory_price_multiplier", multiplier)
}

/// The LLM `m` and its token counts: `[requests]`, or the trace's.
fn resolve_llm(
    c: &Check,
    raw: &RawScenario,
    m: &RawModelChoice,
    req: Option<&RawRequests>,
    trace: Option<&[TraceRequest]>,
    base_dir: &Path,
) -> Result<LlmWorkload, ScenarioError> {
    let model_key = c.section("model");
    let catalog = load_catalog(c, raw.catalog.as_ref(), base_dir)?;
    let model = catalog
        .model(&m.name)
        .map_err(|e| c.err_because(format!("{model_key}.name"), e.to_string(), e))?
        .clone();
    if !model.weights_gb.contains_key(&m.quantisation) {
        return Err(c.err(
            format!("{model_key}.quantisation"),
            format!(
                "{:?} is not listed for {}: use one of {}",
                m.quantisation,
                model.name,
                model.quantisations()
            ),
        ));
    }
    let multiplier = memory_price_multiplier(c, raw)?;
    let requests_key = c.section("requests");
    let observed = |t: &[TraceRequest], pick: fn(&TraceRequest) -> u32| Dist::Empirical {
        values: t.iter().map(|r| pick(r) as f64).collect::<Vec<_>>().into(),
    };
    let (input_tokens, output_tokens) = match (req, trace) {
        (Some(_), Some(_)) => {
            return Err(c.err(
                requests_key,
                "token counts come from the [trace]: remove [requests]",
            ))
        }
        (Some(req), None) => (
            resolve_tokens(
                c,
                &format!("{requests_key}.input_tokens"),
                &req.input_tokens,
                base_dir,
            )?,
            resolve_tokens(
                c,
                &format!("{requests_key}.output_tokens"),
                &req.output_tokens,
                base_dir,
            )?,
        ),
        (None, Some(t)) => (
            observed(t, |r| r.input_tokens),
            observed(t, |r| r.output_tokens),
        ),
        (None, None) => unreachable!("an LLM workload has [requests] or a [trace]"),
    };
    let system_prompt_tokens = match req.and_then(|r| r.system_prompt_tokens) {
        Some(n) if n > 10_000_000 => {
            return Err(c.err(
                format!("{requests_key}.system_prompt_tokens"),
                format!("must be at most 10000000 tokens (got {n})"),
            ))
        }
        Some(n) => n as u32,
        None => 0,
    };
    Ok(LlmWorkload {
        model,
        quantisation: m.quantisation.clone(),
        input_tokens,
        output_tokens,
        memory_price_multiplier: multiplier,
        token_draws: Default::default(),
        system_prompt_tokens,
        growing_context: req.and_then(|r| r.growing_context).unwrap_or(false),
    })
}
