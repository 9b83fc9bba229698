//! DescribeExecution of an EXPRESS Map Run child. Such a child runs inside
//! its parent and has no record: AWS still describes it ("unless a Map Run
//! dispatched them"), so its list entry answers. Its name carries a tag of
//! its Map Run and its item's index; a pointer item written with the Map
//! Run's start leads from the tag to the Map Run, and from there to the entry.

use state_language::interpreter::children::{express_child_execution_arn, parse_express_child_name};

use super::executions::item;
use super::shapes::responses::{DescribeExecution, ExecutionItem, Included};
use crate::Error;
use crate::engine::Engine;
use crate::model::{EXPRESS_NOT_REDRIVABLE, ExpressChildEntry, ExpressRun, keys};

/// The EXPRESS child named `arn`, if it is one of a recorded Map Run.
pub(super) async fn describe(engine: &Engine, arn: &str) -> Result<Option<DescribeExecution>, Error> {
    let name = arn.rsplit(':').next().expect("an ARN has a name");
    let Some((tag, index)) = parse_express_child_name(name) else { return Ok(None) };
    let Some(pointer) = engine.read::<ExpressRun>(keys::express_run(tag)).await? else { return Ok(None) };
    let run_arn = pointer.map_run_arn;
    // The tag has 74 bits of a digest; the whole ARN must still match.
    if express_child_execution_arn(&run_arn, index) != arn {
        return Ok(None);
    }
    let Some(rec) = super::map_runs::owner_if_any(engine, &run_arn).await? else { return Ok(None) };
    let run = rec.asl().and_then(|s| s.map_run(&run_arn)).expect("owner_if_any checked the Map Run");
    let key = keys::execution_index(&run_arn, run.start_ms, &format!("{index:010}"));
    Ok(engine.read::<ExpressChildEntry>(key).await?.map(|entry| answer(entry, rec.arn)))
}

/// AWS's answer for the child. Stepwise keeps no EXPRESS child's input or
/// output (they are in the Map Run's result files, with a ResultWriter), so
/// both are marked as not included.
fn answer(entry: ExpressChildEntry, parent: String) -> DescribeExecution {
    let closed = entry.summary.stop_ms.is_some();
    DescribeExecution {
        // AWS gives `itemCount` in ListExecutions(mapRunArn) only.
        item: ExecutionItem { item_count: None, ..item(&entry.summary) },
        input: None,
        input_details: Included { included: false },
        output: None,
        output_details: closed.then_some(Included { included: false }),
        redrive_count: Some(0),
        redrive_status: Some("NOT_REDRIVABLE"),
        // Not by itself: a redrive of its Map Run's parent runs it again.
        redrive_status_reason: Some(EXPRESS_NOT_REDRIVABLE.to_string()),
        redrive_date: None,
        error: entry.error,
        cause: entry.cause,
        trace_header: None,
        // Stepwise's addition, as for STANDARD children: the console links to the parent.
        parent_execution_arn: Some(parent),
        billing_details: None,
    }
}
