//! Reading an execution's history: the pages its commits appended, in
//! event order, up to the record's last event (a page written by a commit
//! that then failed is never shown).

use serde_json::Value;

use super::{Engine, decode};
use crate::Error;
use crate::model::keys;
use crate::store::Query;

/// History pages one read takes at most: AWS caps a history at 25,000 events.
const PAGES_MAX: usize = 25_000;

impl Engine {
    /// The events with ids `first..=last`, in AWS's event shape.
    pub async fn history_events(&self, arn: &str, first: u64, last: u64) -> Result<Vec<Value>, Error> {
        let (pk, _) = keys::history_page(arn, 0);
        let mut events: Vec<Value> = Vec::new();
        let mut after = None;
        for _ in 0..PAGES_MAX {
            let q =
                Query { pk: pk.clone(), sk_prefix: "H#".into(), after: after.clone(), limit: 100, descending: false };
            let page = self.store.query(q).await?;
            for item in &page.items {
                let page_events: Vec<Value> = decode(&item.body)?;
                let shown = |e: &Value| e["id"].as_u64().is_some_and(|id| id >= first && id <= last);
                events.extend(page_events.into_iter().filter(shown));
            }
            match page.last {
                Some(l) => after = Some(l),
                None => break,
            }
        }
        Ok(events)
    }

    /// A code run's current history (since it last continued as new), as
    /// its workers replay it, up to event `last`.
    pub async fn code_history(
        &self,
        arn: &str,
        first: u64,
        last: u64,
    ) -> Result<Vec<stepwise_workflow_core::history::Event>, Error> {
        let events = self.history_events(arn, first, last).await?;
        events.iter().map(super::code::event_of).collect()
    }
}
