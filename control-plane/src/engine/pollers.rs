//! The workers that polled each activity last, for operators (DescribeActivity).
//! Kept in this process's memory, bounded: a poll is not worth a write to
//! the store, so under the serverless home each `api` instance knows its own.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

/// Activities whose pollers are remembered; past it, the oldest-polled is forgotten.
pub const ACTIVITIES_TRACKED_MAX: usize = 1024;
/// Workers remembered per activity, the most recent first.
pub const POLLERS_PER_ACTIVITY_MAX: usize = 5;

/// A worker's last poll of one activity.
#[derive(Debug, Clone, PartialEq)]
pub struct Poll {
    pub worker: String,
    pub at_ms: i64,
}

#[derive(Default)]
pub struct Pollers {
    by_activity: Mutex<HashMap<String, VecDeque<Poll>>>,
}

impl Pollers {
    pub fn record(&self, activity_arn: &str, worker: &str, at_ms: i64) {
        let mut all = self.by_activity.lock().unwrap_or_else(|p| p.into_inner());
        if !all.contains_key(activity_arn) && all.len() >= ACTIVITIES_TRACKED_MAX {
            let stalest = all
                .iter()
                .min_by_key(|(_, polls)| polls.front().map_or(i64::MIN, |p| p.at_ms))
                .map(|(arn, _)| arn.clone())
                .expect("the map is full, so not empty");
            all.remove(&stalest);
        }
        let polls = all.entry(activity_arn.to_string()).or_default();
        polls.retain(|p| p.worker != worker);
        polls.push_front(Poll { worker: worker.to_string(), at_ms });
        polls.truncate(POLLERS_PER_ACTIVITY_MAX);
    }

    /// The latest pollers of an activity, the most recent first.
    pub fn latest(&self, activity_arn: &str) -> Vec<Poll> {
        let all = self.by_activity.lock().unwrap_or_else(|p| p.into_inner());
        all.get(activity_arn).map(|p| p.iter().cloned().collect()).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pollers_are_bounded_per_activity_and_in_all() {
        let p = Pollers::default();
        for i in 0..(POLLERS_PER_ACTIVITY_MAX as i64 + 3) {
            p.record("a", &format!("w{i}"), i);
        }
        p.record("a", "w7", 100); // a worker seen again moves to the front, once
        let latest = p.latest("a");
        assert_eq!(latest.len(), POLLERS_PER_ACTIVITY_MAX);
        assert_eq!(latest[0], Poll { worker: "w7".into(), at_ms: 100 });
        assert_eq!(latest.iter().filter(|x| x.worker == "w7").count(), 1);
        for i in 0..ACTIVITIES_TRACKED_MAX as i64 {
            p.record(&format!("x{i}"), "w", 1_000 + i);
        }
        assert!(p.latest("a").is_empty(), "the stalest activity was forgotten");
        assert_eq!(p.latest("x0").len(), 1);
    }
}
