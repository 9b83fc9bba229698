//! DescribeMapRun, ListMapRuns and UpdateMapRun. A Map Run's record lives in
//! its execution's interpreter state (`state_language::interpreter::map_run`);
//! an index item written with the step that started it names the execution.

use state_language::interpreter::{Execution, Input, MapRun, MapRunStatus, MapRunUpdate};

use super::executions::{load, no_execution};
use super::shapes::requests as rq;
use super::shapes::responses::{DescribeMapRun, Empty, ListMapRuns, MapRunItem};
use super::shapes::{Ts, max_results};
use super::{decode_token, encode_token};
use crate::arn::Arn;
use crate::engine::Engine;
use crate::model::ExecutionRecord;
use crate::{AwsError, Error};

/// AWS's bound on a Map Run's MaxConcurrency and ToleratedFailureCount (an int).
const AMOUNT_MAX: i64 = i32::MAX as i64;

fn not_found(arn: &str) -> Error {
    Error::api(AwsError::ResourceNotFound, format!("Resource not found: '{arn}'"))
}

/// The execution that holds the Map Run, and its interpreter state.
async fn owner(engine: &Engine, arn: &str) -> Result<ExecutionRecord, Error> {
    let Arn::MapRun { .. } = Arn::parse(arn)? else {
        return Err(Error::api(
            AwsError::InvalidArn,
            format!("Invalid Arn: 'Resource type not valid in this context: {arn}'"),
        ));
    };
    owner_if_any(engine, arn).await?.ok_or_else(|| not_found(arn))
}

/// The execution that holds the Map Run `arn`, if it is recorded.
pub(super) async fn owner_if_any(engine: &Engine, arn: &str) -> Result<Option<ExecutionRecord>, Error> {
    let Some(execution) = engine.map_run_owner(arn).await? else { return Ok(None) };
    let rec = engine.execution(&execution).await?.map(|(r, _)| r);
    Ok(rec.filter(|r| r.asl().and_then(|s| s.map_run(arn)).is_some()))
}

/// ListExecutions(mapRunArn): the index key its children are listed under.
pub(super) async fn children_listed_under(engine: &Engine, arn: &str) -> Result<String, Error> {
    owner(engine, arn).await?;
    Ok(arn.to_string())
}

fn asl(rec: &ExecutionRecord) -> &Execution {
    rec.asl().expect("a Map Run's execution is an ASL one")
}

pub(super) async fn describe(engine: &Engine, r: rq::MapRunArn) -> Result<DescribeMapRun, Error> {
    let rec = owner(engine, &r.map_run_arn).await?;
    let state = asl(&rec);
    let run = state.map_run(&r.map_run_arn).expect("checked by owner");
    let (executions, items) = state.map_run_counts(&r.map_run_arn).expect("a recorded Map Run has counts");
    Ok(DescribeMapRun {
        map_run_arn: run.arn.clone(),
        execution_arn: rec.arn.clone(),
        status: run.status.as_str(),
        start_date: Ts(run.start_ms),
        stop_date: run.stop_ms.map(Ts),
        max_concurrency: run.max_concurrency,
        tolerated_failure_percentage: run.tolerated_failure_percentage,
        tolerated_failure_count: run.tolerated_failure_count,
        item_counts: items,
        execution_counts: executions,
        redrive_count: run.redrive_count,
        redrive_date: run.redrive_ms.map(Ts),
    })
}

fn list_item(execution_arn: &str, run: &MapRun) -> MapRunItem {
    MapRunItem {
        execution_arn: execution_arn.to_string(),
        map_run_arn: run.arn.clone(),
        state_machine_arn: state_language::interpreter::map_run::run_machine_arn(&run.arn),
        start_date: Ts(run.start_ms),
        stop_date: run.stop_ms.map(Ts),
    }
}

/// Newest first; the token resumes after a position in that order.
pub(super) async fn list(engine: &Engine, r: rq::ListMapRuns) -> Result<ListMapRuns, Error> {
    let rec = load(engine, &r.execution_arn).await?;
    let limit = max_results(r.max_results, 100)?;
    let after = decode_token(engine, &r, "ListMapRuns").await?;
    let skip = match after {
        Some(n) => n.parse::<usize>().map_err(|_| Error::Corrupt(format!("a ListMapRuns position {n}")))?,
        None => 0,
    };
    let runs: Vec<&MapRun> = rec.asl().map(|s| s.map_runs.iter().rev().collect()).unwrap_or_default();
    let page: Vec<MapRunItem> = runs.iter().skip(skip).take(limit).map(|run| list_item(&rec.arn, run)).collect();
    let next_token = match skip + page.len() < runs.len() {
        true => Some(encode_token(engine, &r, "ListMapRuns", &(skip + page.len()).to_string()).await?),
        false => None,
    };
    Ok(ListMapRuns { map_runs: page, next_token })
}

fn amount(field: &str, value: Option<i64>) -> Result<Option<u64>, Error> {
    match value {
        Some(v) if !(0..=AMOUNT_MAX).contains(&v) => Err(Error::validation(format!(
            "1 validation error detected: Value '{v}' at '{field}' failed to satisfy constraint: \
             Member must have value between 0 and {AMOUNT_MAX}"
        ))),
        v => Ok(v.map(|v| v as u64)),
    }
}

pub(super) async fn update(engine: &Engine, r: rq::UpdateMapRun) -> Result<Empty, Error> {
    let update = MapRunUpdate {
        max_concurrency: amount("maxConcurrency", r.max_concurrency)?,
        tolerated_failure_count: amount("toleratedFailureCount", r.tolerated_failure_count)?,
        tolerated_failure_percentage: r.tolerated_failure_percentage,
    };
    if let Some(p) = update.tolerated_failure_percentage
        && !(0.0..=100.0).contains(&p)
    {
        return Err(Error::validation(format!(
            "1 validation error detected: Value '{p}' at 'toleratedFailurePercentage' failed to satisfy constraint: \
             Member must have value between 0 and 100"
        )));
    }
    if update == MapRunUpdate::default() {
        return Err(Error::validation(
            "Must provide at least one of maxConcurrency, toleratedFailurePercentage or toleratedFailureCount",
        ));
    }
    let rec = owner(engine, &r.map_run_arn).await?;
    let running = asl(&rec).map_run(&r.map_run_arn).is_some_and(|m| m.status == MapRunStatus::Running);
    if !running {
        return Err(Error::validation(format!("Map Run is not running: '{}'", r.map_run_arn)));
    }
    let input = Input::UpdateMapRun { map_run_arn: r.map_run_arn.clone(), update };
    engine.advance(&rec.arn, None, &[input]).await?.ok_or_else(|| no_execution(&rec.arn))?;
    Ok(Empty {})
}
