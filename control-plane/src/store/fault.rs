//! Test-only faults of the AWS backend, so that the sweeper's recovery is
//! tested end to end: `STEPWISE_FAULT_INJECTION` is a comma-separated list of
//!
//! - `after-commit`: every commit "crashes" after the DynamoDB commit, before
//!   sending its outbox (only the sweeper's flush sends it);
//! - `after-send`: every commit "crashes" after sending, before deleting its
//!   outbox item (the sweeper sends it all again);
//! - `lose-timers`: SQS "loses" every delayed message (timer wake-ups and
//!   their hops), so only the sweeper's timer index fires timers.

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Faults {
    pub after_commit: bool,
    pub after_send: bool,
    pub lose_timers: bool,
}

impl Faults {
    pub fn from_env() -> Faults {
        Faults::parse(&std::env::var("STEPWISE_FAULT_INJECTION").unwrap_or_default())
    }

    /// Unknown names are ignored: a typo must not turn a production setting into a crash.
    pub fn parse(list: &str) -> Faults {
        let mut f = Faults::default();
        for name in list.split(',').map(str::trim) {
            match name {
                "after-commit" => f.after_commit = true,
                "after-send" => f.after_send = true,
                "lose-timers" => f.lose_timers = true,
                _ => {}
            }
        }
        f
    }

    pub fn any(&self) -> bool {
        *self != Faults::default()
    }
}

#[cfg(test)]
mod tests {
    use super::Faults;

    #[test]
    fn lists_parse() {
        let f = Faults::parse("after-send, lose-timers");
        assert_eq!(f, Faults { after_commit: false, after_send: true, lose_timers: true });
        assert!(!Faults::parse("").any());
        assert!(!Faults::parse("bogus").any());
    }
}
