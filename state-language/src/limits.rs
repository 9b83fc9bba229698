//! Every bound the engine enforces, in one place. Units are the last word.

/// AWS: state input, output and task results are limited to 256 KiB.
pub const PAYLOAD_BYTES_MAX: usize = 256 * 1024;
/// AWS: a definition is limited to 1 MiB.
pub const DEFINITION_BYTES_MAX: usize = 1024 * 1024;
/// AWS: state names are at most 80 characters.
pub const STATE_NAME_CHARS_MAX: usize = 80;
/// Nesting of Map/Parallel machines inside each other.
pub const MACHINE_NESTING_DEPTH_MAX: usize = 32;
/// Nesting of JSON values walked recursively (templates, filters, merges).
pub const JSON_DEPTH_MAX: usize = 128;
/// Nesting of intrinsic calls inside intrinsic arguments.
pub const INTRINSIC_NESTING_DEPTH_MAX: usize = 16;
/// Length of one path or intrinsic expression.
pub const PATH_BYTES_MAX: usize = 16 * 1024;
/// Nesting of filter expressions inside a path.
pub const FILTER_NESTING_DEPTH_MAX: usize = 16;
/// AWS: States.ArrayRange creates at most 1000 items.
pub const ARRAY_RANGE_ITEMS_MAX: usize = 1000;
/// Number of states in one definition (AWS has no published bound; this keeps work finite).
pub const STATES_PER_DEFINITION_MAX: usize = 10_000;
/// Transitions one `step` call may take; past it the execution fails with
/// `States.Runtime`. With AWS's history limit a Pass/Choice cycle fails sooner;
/// this bounds hosts that raise that limit.
pub const TRANSITIONS_PER_STEP_MAX: usize = 5_000_000;
/// AWS: 25,000 history events per execution.
pub const HISTORY_EVENTS_MAX: u64 = 25_000;
/// History events a state may need (entered, a task's four, retries, exited):
/// a state starts only with this room left, and an execution with less left
/// cannot be redriven.
pub const HISTORY_EVENTS_PER_STATE_ROOM: u64 = 8;
/// Items one inline Map may iterate over. Every item's result is kept in the
/// execution state, so this bounds its size (payload limits bound it sooner).
pub const MAP_ITEMS_MAX: usize = 1_000_000;
/// Children of one distributed Map running at once: AWS's bound, which its
/// `MaxConcurrency` 0 ("no limit") means, and the most a higher value gives.
pub const DISTRIBUTED_MAP_CHILDREN_RUNNING_MAX: u64 = 10_000;
/// Map Run records one execution keeps for DescribeMapRun and ListMapRuns
/// (a distributed Map in a loop starts one per entry); beyond it the oldest
/// closed one goes.
pub const MAP_RUNS_PER_EXECUTION_MAX: usize = 1_000;
/// AWS: a Map Run is redriven at most 1,000 times.
pub const MAP_RUN_REDRIVES_MAX: u64 = 1_000;

/// An object a distributed Map's ItemReader reads whole (JSON, CSV, or
/// batched): its items are held in the execution state, so this bounds
/// them. An unbatched JSON Lines object is streamed instead, of any size.
pub const ITEM_READER_BYTES_MAX: usize = 8 * 1024 * 1024;
/// Bytes of a JSON Lines object one slice read asks for: the longest line
/// a streamed reader takes, and the most items one step queues at once.
pub const ITEM_SLICE_BYTES_MAX: u64 = 256 * 1024;
/// AWS: Retry MaxAttempts is at most 99,999,999.
pub const RETRY_ATTEMPTS_MAX: u64 = 99_999_999;
/// AWS: Wait seconds, task timeouts and heartbeats are at most 99,999,999 seconds.
pub const SECONDS_MAX: u64 = 99_999_999;
/// Nested evaluations of one JSONata expression (non-tail recursion depth).
pub const JSONATA_DEPTH_MAX: usize = 10_000;
/// Evaluation steps of one JSONata expression: an expression that never ends
/// fails with `States.QueryEvaluationError` instead of holding a scheduler.
pub const JSONATA_EVALUATIONS_MAX: u64 = 10_000_000;
/// What one JSONata evaluation may build in all, in 16-byte cells charged for
/// every value, object entry and function frame it makes (64 MiB charged;
/// see `jsonata::eval::FRAME_CELLS` and the others). Charges are never given
/// back, so this bounds the peak too: measured at most about 200 MiB of
/// resident memory for one evaluation (README, "Limits").
pub const JSONATA_CELLS_MAX: u64 = 4_000_000;
