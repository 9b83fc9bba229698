//! Names and ARNs in AWS's formats, and their validation.

use crate::AwsError;
use crate::Error;

/// AWS's limit on state machine, execution, activity and alias names.
pub const NAME_CHARS_MAX: usize = 80;
/// AWS's limit on ARNs given to the API.
pub const ARN_CHARS_MAX: usize = 2048;

/// Where resources are said to live. AWS's defaults for Step Functions Local.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    pub region: String,
    pub account: String,
}

impl Default for Scope {
    fn default() -> Self {
        Scope { region: "us-east-1".into(), account: "123456789012".into() }
    }
}

impl Scope {
    fn prefix(&self) -> String {
        format!("arn:aws:states:{}:{}", self.region, self.account)
    }
    pub fn state_machine(&self, name: &str) -> String {
        format!("{}:stateMachine:{name}", self.prefix())
    }
    pub fn execution(&self, machine: &str, name: &str, express: bool) -> String {
        format!("{}:{}:{machine}:{name}", self.prefix(), if express { "express" } else { "execution" })
    }
    pub fn activity(&self, name: &str) -> String {
        format!("{}:activity:{name}", self.prefix())
    }
}

/// A parsed Step Functions ARN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Arn {
    StateMachine {
        machine: String,
    },
    /// A qualified state machine ARN: a version number or an alias name.
    Version {
        machine: String,
        version: u64,
    },
    Alias {
        machine: String,
        alias: String,
    },
    Execution {
        machine: String,
        name: String,
    },
    Activity {
        name: String,
    },
    /// `mapRun:<machine>/<label>:<id>`.
    MapRun {
        machine: String,
        label: String,
        id: String,
    },
}

impl Arn {
    pub fn parse(s: &str) -> Result<Arn, Error> {
        let bad = || Error::api(AwsError::InvalidArn, format!("Invalid Arn: '{s}'"));
        if s.len() > ARN_CHARS_MAX {
            return Err(bad());
        }
        let parts: Vec<&str> = s.split(':').collect();
        if parts.len() < 7 || parts[0] != "arn" || parts[2] != "states" || parts[1].is_empty() {
            return Err(bad());
        }
        let rest = &parts[6..];
        let ok = |n: &str| check_name(n).is_ok();
        match (parts[5], rest) {
            ("stateMachine", [m]) if ok(m) => Ok(Arn::StateMachine { machine: m.to_string() }),
            ("stateMachine", [m, q]) if ok(m) && !q.is_empty() => match q.parse::<u64>() {
                Ok(v) if v > 0 => Ok(Arn::Version { machine: m.to_string(), version: v }),
                Ok(_) => Err(bad()),
                Err(_) if ok(q) => Ok(Arn::Alias { machine: m.to_string(), alias: q.to_string() }),
                Err(_) => Err(bad()),
            },
            ("execution" | "express", [m, n]) if ok(m) && ok(n) => {
                Ok(Arn::Execution { machine: m.to_string(), name: n.to_string() })
            }
            // A Map Run's child: `execution:<machine>/<label>:<name>`.
            ("execution", [ml, n]) if ok(n) => match ml.split_once('/') {
                Some((m, l)) if ok(m) && ok(l) => Ok(Arn::Execution { machine: ml.to_string(), name: n.to_string() }),
                _ => Err(bad()),
            },
            ("activity", [n]) if ok(n) => Ok(Arn::Activity { name: n.to_string() }),
            ("mapRun", [ml, id]) if ok(id) => match ml.split_once('/') {
                Some((m, l)) if ok(m) && ok(l) => {
                    Ok(Arn::MapRun { machine: m.to_string(), label: l.to_string(), id: id.to_string() })
                }
                _ => Err(bad()),
            },
            _ => Err(bad()),
        }
    }

    pub fn state_machine(s: &str) -> Result<String, Error> {
        match Arn::parse(s)? {
            Arn::StateMachine { machine } => Ok(machine),
            _ => Err(Error::api(
                AwsError::InvalidArn,
                format!("Invalid Arn: 'Resource type not valid in this context: {s}'"),
            )),
        }
    }
}

/// AWS's name rule: 1–80 characters, none of whitespace, brackets, wildcards,
/// `"#%\^|~`$&,;:/` or control characters.
pub fn check_name(name: &str) -> Result<(), Error> {
    let n = name.chars().count();
    let bad = name.chars().any(|c| {
        c.is_whitespace()
            || "<>{}[]?*\"#%\\^|~`$&,;:/".contains(c)
            || (c as u32) <= 0x1f
            || (0x7f..=0x9f).contains(&(c as u32))
    });
    if n == 0 || n > NAME_CHARS_MAX || bad {
        return Err(Error::api(AwsError::InvalidName, format!("Invalid Name: '{name}'")));
    }
    Ok(())
}

/// The account and region part of an ARN must be ours.
pub fn in_scope(scope: &Scope, arn: &str) -> bool {
    arn.starts_with(&format!("{}:", scope.prefix()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_kind() {
        let p = |s: &str| Arn::parse(s).ok();
        let base = "arn:aws:states:us-east-1:123456789012";
        assert_eq!(p(&format!("{base}:stateMachine:m")), Some(Arn::StateMachine { machine: "m".into() }));
        assert_eq!(p(&format!("{base}:stateMachine:m:3")), Some(Arn::Version { machine: "m".into(), version: 3 }));
        assert_eq!(
            p(&format!("{base}:stateMachine:m:prod")),
            Some(Arn::Alias { machine: "m".into(), alias: "prod".into() })
        );
        assert_eq!(p(&format!("{base}:execution:m:e")), Some(Arn::Execution { machine: "m".into(), name: "e".into() }));
        let child = Arn::Execution { machine: "m/Label".into(), name: "e".into() };
        assert_eq!(p(&format!("{base}:execution:m/Label:e")), Some(child));
        assert_eq!(p(&format!("{base}:execution:m/:e")), None);
        assert_eq!(p(&format!("{base}:express:m/L:e")), None);
        assert_eq!(p(&format!("{base}:activity:a")), Some(Arn::Activity { name: "a".into() }));
        for bad in [
            "",
            "arn",
            "arn:aws:states:::stateMachine:",
            "arn:aws:lambda:r:1:function:f",
            &format!("{base}:stateMachine:m:0"),
        ] {
            assert!(Arn::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn names_follow_aws_rules() {
        for ok in ["a", "My-Machine_1", "x".repeat(80).as_str(), "naïve"] {
            assert!(check_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", "a b", "a:b", "a/b", "x".repeat(81).as_str(), "a\u{7f}", "a{b}", "a*"] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
    }
}
