//! The 18 intrinsic functions (`States.Format(...)` and friends).

pub(crate) mod functions;
mod parse;

use serde_json::Value;

use crate::path::Path;
pub use functions::signature;

/// A parsed intrinsic call.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub name: String,
    pub args: Vec<Arg>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    /// A literal. Strings are unescaped; `template` keeps `\{`/`\}` for States.Format.
    Literal {
        value: Value,
        template: Option<String>,
    },
    Path(Path),
    Call(Call),
}

/// Why a string is not an intrinsic call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid intrinsic function '{text}': {reason}")]
pub struct ParseError {
    pub text: String,
    pub reason: String,
}

/// A failure while running an intrinsic.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EvalError {
    /// A path argument selected nothing.
    #[error("{0}")]
    Path(#[from] crate::path::PathError),
    #[error("{0}")]
    Variable(String),
    /// The function rejected its arguments (`States.IntrinsicFailure` on AWS).
    #[error("{0}")]
    Failure(String),
}

/// What an intrinsic reads: the state input, the context object, variables,
/// and a source of randomness supplied by the host.
pub trait Env {
    fn read(&self, path: &Path) -> Result<Value, EvalError>;
    fn next_u64(&mut self) -> u64;
}

impl Call {
    /// True when `text` looks like an intrinsic call (`States.X(`).
    pub fn looks_like(text: &str) -> bool {
        text.trim_start().starts_with("States.")
    }

    pub fn parse(text: &str) -> Result<Call, ParseError> {
        parse::parse(text)
    }

    pub fn eval(&self, env: &mut dyn Env) -> Result<Value, EvalError> {
        let mut args = Vec::with_capacity(self.args.len());
        for a in &self.args {
            args.push(match a {
                Arg::Literal { value, .. } => value.clone(),
                Arg::Path(p) => env.read(p)?,
                Arg::Call(c) => c.eval(env)?,
            });
        }
        let template = match self.args.first() {
            Some(Arg::Literal { template: Some(t), .. }) => Some(t.as_str()),
            _ => None,
        };
        functions::call(&self.name, args, template, env)
    }
}
