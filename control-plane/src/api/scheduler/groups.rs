//! Schedule groups and their tags.

use serde_json::{Value, json};

use super::shapes::{self as rq, GroupOut, Tag, page};
use crate::api::shapes::Ts;
use crate::api::{decode_token, encode_token};
use crate::engine::schedules::not_found;
use crate::engine::{Engine, decode, encode};
use crate::model::keys;
use crate::schedules::{DEFAULT_GROUP, GROUPS_MAX, GroupRecord, check_name, group_arn};
use crate::store::Query;
use crate::{AwsError, Error};

/// EventBridge's bound on tags per resource.
const TAGS_MAX: usize = 200;
/// Schedules one DeleteScheduleGroup deletes per page.
const DELETE_PAGE_ITEMS: usize = 100;
/// Pages one DeleteScheduleGroup works through: its schedules' bound, in pages.
const DELETE_PAGES_MAX: usize = (crate::schedules::SCHEDULES_PER_GROUP_MAX as usize).div_ceil(DELETE_PAGE_ITEMS) + 1;

fn out(g: GroupRecord) -> GroupOut {
    GroupOut {
        arn: g.arn,
        name: g.name,
        state: "ACTIVE",
        creation_date: Ts(g.creation_ms),
        last_modification_date: Ts(g.modified_ms),
    }
}

fn check_tags(tags: &[Tag]) -> Result<(), Error> {
    if tags.len() > TAGS_MAX {
        return Err(Error::validation(format!("A resource has at most {TAGS_MAX} tags")));
    }
    if tags
        .iter()
        .any(|t| t.key.is_empty() || t.key.chars().count() > 128 || t.value.is_empty() || t.value.chars().count() > 256)
    {
        return Err(Error::validation("Tag keys are 1–128 characters and values 1–256"));
    }
    Ok(())
}

pub(super) async fn create(engine: &Engine, r: rq::CreateGroup) -> Result<Value, Error> {
    check_name(&r.name).map_err(Error::validation)?;
    let tags = r.tags.unwrap_or_default();
    check_tags(&tags)?;
    let existing = engine.schedule_group(&r.name).await?;
    if let Some((g, v)) = existing {
        if v.is_some() && r.client_token.is_some() && g.client_token == r.client_token {
            return Ok(json!({"ScheduleGroupArn": g.arn}));
        }
        return Err(Error::api(AwsError::SchedulerConflict, format!("Schedule group {} already exists.", r.name)));
    }
    let q = Query {
        pk: keys::SCHEDULE_GROUPS.into(),
        sk_prefix: String::new(),
        after: None,
        limit: GROUPS_MAX + 1,
        descending: false,
    };
    if engine.read_page(q).await?.items.len() >= GROUPS_MAX {
        return Err(Error::api(
            AwsError::ServiceQuotaExceededException,
            format!("An account has at most {GROUPS_MAX} schedule groups"),
        ));
    }
    let now = engine.now_ms();
    let arn = group_arn(&engine.scope.region, &engine.scope.account, &r.name);
    let g = GroupRecord {
        arn: arn.clone(),
        name: r.name.clone(),
        creation_ms: now,
        modified_ms: now,
        schedules: 0,
        client_token: r.client_token,
    };
    match engine.put_schedule_group(&g, None).await {
        Err(Error::ConditionFailed(_)) => {
            return Err(Error::api(AwsError::SchedulerConflict, format!("Schedule group {} already exists.", r.name)));
        }
        other => other?,
    }
    if !tags.is_empty() {
        engine.set_schedule_tags(&arn, &tags).await?;
    }
    Ok(json!({"ScheduleGroupArn": arn}))
}

pub(super) async fn get(engine: &Engine, r: rq::GroupName) -> Result<Value, Error> {
    let (g, _) =
        engine.schedule_group(&r.name).await?.ok_or_else(|| not_found(&format!("Schedule group {}", r.name)))?;
    Ok(serde_json::to_value(out(g)).expect("a group serializes"))
}

/// Deletes a group and every schedule in it (EventBridge does this in the
/// background, with the group DELETING meanwhile; here before answering).
pub(super) async fn delete(engine: &Engine, r: rq::GroupName) -> Result<Value, Error> {
    if r.name == DEFAULT_GROUP {
        return Err(Error::validation("The default schedule group cannot be deleted"));
    }
    engine.schedule_group(&r.name).await?.ok_or_else(|| not_found(&format!("Schedule group {}", r.name)))?;
    for _ in 0..DELETE_PAGES_MAX {
        let q = Query {
            pk: keys::SCHEDULES_INDEX.into(),
            sk_prefix: format!("{}/", r.name),
            after: None,
            limit: DELETE_PAGE_ITEMS,
            descending: false,
        };
        let page = engine.read_page(q).await?;
        if page.items.is_empty() {
            break;
        }
        for it in page.items {
            let name = it.sk.split_once('/').map(|(_, n)| n.to_string()).expect("index keys are group/name");
            if let Some((s, v)) = engine.schedule(&r.name, &name).await? {
                engine.delete_schedule(&s, v).await?;
            }
        }
    }
    match engine.schedule_group(&r.name).await? {
        Some((_, Some(v))) => engine.delete_schedule_group(&r.name, v).await?,
        _ => return Err(not_found(&format!("Schedule group {}", r.name))),
    }
    Ok(json!({}))
}

pub(super) async fn list(engine: &Engine, r: rq::ListGroups) -> Result<Value, Error> {
    let limit = match r.max_results {
        None => 100,
        Some(n @ 1..=100) => n as usize,
        Some(n) => return Err(Error::validation(format!("MaxResults {n} is not between 1 and 100"))),
    };
    let after = decode_token(engine, &r, "ListScheduleGroups").await?;
    // The default group is listed first, whether or not its record was written yet.
    let mut items = Vec::new();
    if after.is_none() && r.name_prefix.as_deref().is_none_or(|p| DEFAULT_GROUP.starts_with(p)) {
        let (g, _) = engine.schedule_group(DEFAULT_GROUP).await?.expect("the default group always exists");
        items.push(out(g));
    }
    let q = Query {
        pk: keys::SCHEDULE_GROUPS.into(),
        sk_prefix: r.name_prefix.clone().unwrap_or_default(),
        after,
        limit,
        descending: false,
    };
    let found = engine.read_page(q).await?;
    for it in &found.items {
        let g: GroupRecord = decode(&it.body)?;
        if g.name != DEFAULT_GROUP {
            items.push(out(g));
        }
    }
    let token = match found.last {
        Some(l) => Some(encode_token(engine, &r, "ListScheduleGroups", &l).await?),
        None => None,
    };
    Ok(page("ScheduleGroups", items, token))
}

/// Only schedule groups take tags (as on EventBridge).
async fn group_for_tags(engine: &Engine, arn: &str) -> Result<(), Error> {
    let prefix = group_arn(&engine.scope.region, &engine.scope.account, "");
    let name =
        arn.strip_prefix(&prefix).ok_or_else(|| Error::validation(format!("{arn} is not a schedule group ARN")))?;
    engine.schedule_group(name).await?.ok_or_else(|| not_found(&format!("Schedule group {name}")))?;
    Ok(())
}

pub(super) async fn tag(engine: &Engine, r: rq::TagResource) -> Result<Value, Error> {
    group_for_tags(engine, &r.resource_arn).await?;
    let mut tags = engine.schedule_tags(&r.resource_arn).await?;
    for t in r.tags {
        match tags.iter_mut().find(|x| x.key == t.key) {
            Some(x) => x.value = t.value,
            None => tags.push(t),
        }
    }
    check_tags(&tags)?;
    engine.set_schedule_tags(&r.resource_arn, &tags).await?;
    Ok(json!({}))
}

pub(super) async fn untag(engine: &Engine, r: rq::UntagResource) -> Result<Value, Error> {
    group_for_tags(engine, &r.resource_arn).await?;
    let mut tags = engine.schedule_tags(&r.resource_arn).await?;
    tags.retain(|t| !r.tag_keys.contains(&t.key));
    engine.set_schedule_tags(&r.resource_arn, &tags).await?;
    Ok(json!({}))
}

pub(super) async fn list_tags(engine: &Engine, r: rq::ResourceArn) -> Result<Value, Error> {
    group_for_tags(engine, &r.resource_arn).await?;
    let tags = engine.schedule_tags(&r.resource_arn).await?;
    Ok(json!({"Tags": tags}))
}

impl Engine {
    async fn schedule_tags(&self, arn: &str) -> Result<Vec<Tag>, Error> {
        Ok(self.get_record(&keys::tags(arn)).await?.unwrap_or_default())
    }
    async fn set_schedule_tags(&self, arn: &str, tags: &[Tag]) -> Result<(), Error> {
        self.write_catalog(vec![crate::store::Write::put(
            keys::tags(arn),
            encode(&tags),
            crate::store::Condition::None,
        )])
        .await
    }
}
