//! The Scheduler API's request and response shapes (PascalCase members,
//! timestamps in epoch seconds as REST-JSON sends them).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::api::shapes::{Paged, Ts};
use crate::schedules::{FlexibleTimeWindow, Target};

macro_rules! shape {
    ($name:ident { $($field:ident : $ty:ty),* $(,)? }) => {
        #[derive(Debug, Clone, Deserialize, Serialize)]
        #[serde(rename_all = "PascalCase")]
        pub(crate) struct $name {
            $(pub $field: $ty,)*
        }
    };
}

shape!(PutSchedule {
    name: String,
    group_name: Option<String>,
    schedule_expression: String,
    schedule_expression_timezone: Option<String>,
    start_date: Option<f64>,
    end_date: Option<f64>,
    description: Option<String>,
    state: Option<String>,
    flexible_time_window: FlexibleTimeWindow,
    action_after_completion: Option<String>,
    kms_key_arn: Option<String>,
    target: Target,
    client_token: Option<String>,
});
shape!(ScheduleName { name: String, group_name: Option<String>, client_token: Option<String> });
shape!(ListSchedules {
    group_name: Option<String>,
    name_prefix: Option<String>,
    state: Option<String>,
    max_results: Option<u64>,
    next_token: Option<String>,
});
shape!(Tag { key: String, value: String });
shape!(CreateGroup { name: String, tags: Option<Vec<Tag>>, client_token: Option<String> });
shape!(GroupName { name: String, client_token: Option<String> });
shape!(ListGroups { name_prefix: Option<String>, max_results: Option<u64>, next_token: Option<String> });
shape!(TagResource { resource_arn: String, tags: Vec<Tag> });
shape!(UntagResource { resource_arn: String, tag_keys: Vec<String> });
shape!(ResourceArn { resource_arn: String });

impl Paged for ListSchedules {
    fn next_token(&self) -> Option<&str> {
        self.next_token.as_deref()
    }
}
impl Paged for ListGroups {
    fn next_token(&self) -> Option<&str> {
        self.next_token.as_deref()
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ScheduleOut {
    pub arn: String,
    pub name: String,
    pub group_name: String,
    pub schedule_expression: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schedule_expression_timezone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_date: Option<Ts>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_date: Option<Ts>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub state: crate::schedules::ScheduleState,
    pub flexible_time_window: FlexibleTimeWindow,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action_after_completion: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kms_key_arn: Option<String>,
    pub target: Target,
    pub creation_date: Ts,
    pub last_modification_date: Ts,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct TargetSummary {
    pub arn: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ScheduleSummaryOut {
    pub arn: String,
    pub name: String,
    pub group_name: String,
    pub state: crate::schedules::ScheduleState,
    pub target: TargetSummary,
    pub creation_date: Ts,
    pub last_modification_date: Ts,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct GroupOut {
    pub arn: String,
    pub name: String,
    pub state: &'static str,
    pub creation_date: Ts,
    pub last_modification_date: Ts,
}

/// A list answer: the items under `key`, and the token of the next page.
pub(crate) fn page<T: Serialize>(key: &str, items: Vec<T>, next_token: Option<String>) -> Value {
    let mut out = serde_json::Map::new();
    out.insert(key.into(), serde_json::to_value(items).expect("list items serialize"));
    if let Some(t) = next_token {
        out.insert("NextToken".into(), Value::String(t));
    }
    Value::Object(out)
}
