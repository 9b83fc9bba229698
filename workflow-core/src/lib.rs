//! The server's side of code workflows, pure: the events and commands of a
//! workflow's history (`history`, shared with the SDK's replay), and
//! `host::Run`, which the control plane steps over `HostInput`s with the
//! time given, as it steps the ASL interpreter. No I/O, no clock, no
//! randomness. The stored format of a `Run` belongs here and is versioned
//! (`host::RUN_FORMAT_VERSION`).

pub mod history;
pub mod host;
