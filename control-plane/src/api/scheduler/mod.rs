//! The Amazon EventBridge Scheduler API (REST-JSON, signing name
//! `scheduler`), on the same listener as Step Functions: boto3's
//! `scheduler` client, `aws scheduler …` and Terraform's
//! `aws_scheduler_schedule` work with only the endpoint changed.
//!
//! A request is its method and path (`POST /schedules/{Name}`, …), its
//! query string and its JSON body; they are merged into one object with
//! AWS's member names and parsed into the operation's shape.

mod groups;
mod schedules;
mod shapes;

use serde_json::{Map, Value};

use crate::api::shapes::parse;
use crate::engine::Engine;
use crate::{AwsError, Error};

/// The SigV4 signing name of the Scheduler API.
pub const SIGNING_SERVICE: &str = "scheduler";

/// Whether a path is one of the Scheduler API's.
pub fn is_scheduler_path(path: &str) -> bool {
    path == "/schedules"
        || path.starts_with("/schedules/")
        || path == "/schedule-groups"
        || path.starts_with("/schedule-groups/")
        || path.starts_with("/tags/")
}

/// Query parameters as the API names them, to the member they carry.
const QUERY_MEMBERS: [(&str, &str); 10] = [
    ("groupName", "GroupName"),
    ("ScheduleGroup", "GroupName"),
    ("clientToken", "ClientToken"),
    ("NamePrefix", "NamePrefix"),
    ("State", "State"),
    ("MaxResults", "MaxResults"),
    ("NextToken", "NextToken"),
    ("TagKeys", "TagKeys"),
    ("maxResults", "MaxResults"),
    ("nextToken", "NextToken"),
];

/// A path segment, percent-decoded (a tag ARN arrives escaped).
fn path_segment(s: &str) -> Result<String, Error> {
    percent_encoding::percent_decode_str(s)
        .decode_utf8()
        .map(|c| c.into_owned())
        .map_err(|_| Error::validation(format!("'{s}' is not UTF-8")))
}

/// The query string's members (a repeated `TagKeys` makes a list).
fn query_members(query: Option<&str>, into: &mut Map<String, Value>) -> Result<(), Error> {
    for (k, v) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        let Some((_, member)) = QUERY_MEMBERS.iter().find(|(q, _)| *q == k) else { continue };
        let value = if *member == "MaxResults" {
            Value::from(v.parse::<u64>().map_err(|_| Error::validation(format!("MaxResults '{v}' is not a number")))?)
        } else {
            Value::String(v.into_owned())
        };
        if *member == "TagKeys" {
            let list = into.entry(*member).or_insert_with(|| Value::Array(Vec::new()));
            list.as_array_mut().expect("TagKeys is a list").push(value);
        } else {
            into.insert((*member).into(), value);
        }
    }
    Ok(())
}

/// Serves one Scheduler request; the answer's body is JSON.
pub async fn call(engine: &Engine, method: &str, path: &str, query: Option<&str>, body: &[u8]) -> Result<Value, Error> {
    let mut request = if body.iter().all(u8::is_ascii_whitespace) {
        Map::new()
    } else {
        match serde_json::from_slice(body) {
            Ok(Value::Object(m)) => m,
            _ => return Err(Error::validation("The request body is not a JSON object")),
        }
    };
    query_members(query, &mut request)?;
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let decoded = path_segment;
    let op = match (method, segments.as_slice()) {
        ("POST", ["schedules", n]) => ("CreateSchedule", Some(("Name", decoded(n)?))),
        ("GET", ["schedules", n]) => ("GetSchedule", Some(("Name", decoded(n)?))),
        ("PUT", ["schedules", n]) => ("UpdateSchedule", Some(("Name", decoded(n)?))),
        ("DELETE", ["schedules", n]) => ("DeleteSchedule", Some(("Name", decoded(n)?))),
        ("GET", ["schedules"]) => ("ListSchedules", None),
        ("POST", ["schedule-groups", n]) => ("CreateScheduleGroup", Some(("Name", decoded(n)?))),
        ("GET", ["schedule-groups", n]) => ("GetScheduleGroup", Some(("Name", decoded(n)?))),
        ("DELETE", ["schedule-groups", n]) => ("DeleteScheduleGroup", Some(("Name", decoded(n)?))),
        ("GET", ["schedule-groups"]) => ("ListScheduleGroups", None),
        ("POST", ["tags", arn]) => ("TagResource", Some(("ResourceArn", decoded(arn)?))),
        ("DELETE", ["tags", arn]) => ("UntagResource", Some(("ResourceArn", decoded(arn)?))),
        ("GET", ["tags", arn]) => ("ListTagsForResource", Some(("ResourceArn", decoded(arn)?))),
        _ => {
            return Err(Error::api(
                AwsError::UnknownOperationException,
                format!("No Scheduler operation is {method} {path}"),
            ));
        }
    };
    if let (_, Some((member, value))) = &op {
        request.insert((*member).into(), Value::String(value.clone()));
    }
    let request = Value::Object(request);
    match op.0 {
        "CreateSchedule" => schedules::create(engine, parse(request)?).await,
        "GetSchedule" => schedules::get(engine, parse(request)?).await,
        "UpdateSchedule" => schedules::update(engine, parse(request)?).await,
        "DeleteSchedule" => schedules::delete(engine, parse(request)?).await,
        "ListSchedules" => schedules::list(engine, parse(request)?).await,
        "CreateScheduleGroup" => groups::create(engine, parse(request)?).await,
        "GetScheduleGroup" => groups::get(engine, parse(request)?).await,
        "DeleteScheduleGroup" => groups::delete(engine, parse(request)?).await,
        "ListScheduleGroups" => groups::list(engine, parse(request)?).await,
        "TagResource" => groups::tag(engine, parse(request)?).await,
        "UntagResource" => groups::untag(engine, parse(request)?).await,
        "ListTagsForResource" => groups::list_tags(engine, parse(request)?).await,
        other => unreachable!("{other} is routed above"),
    }
}
