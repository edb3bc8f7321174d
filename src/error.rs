//! How a command fails before it can report, and the exit code each kind
//! of failure maps to. Every module returns it; `main` alone turns it into
//! a message and an exit code.

/// Why a command stopped before it could report.
#[derive(Debug)]
pub enum Fatal {
    /// Bad flags or input: nothing was audited (exit 2).
    Usage(String),
    /// The audit could not run at all (exit 3).
    Incomplete(String),
    /// The user interrupted the run (exit 130); nothing was written.
    Interrupted,
}

impl Fatal {
    /// The contract's exit code for this failure.
    pub fn exit_code(&self) -> u8 {
        match self {
            Fatal::Usage(_) => 2,
            Fatal::Incomplete(_) => 3,
            Fatal::Interrupted => 130,
        }
    }

    /// The one line printed on stderr, after the program's name.
    pub fn message(&self) -> &str {
        match self {
            Fatal::Usage(m) | Fatal::Incomplete(m) => m,
            Fatal::Interrupted => "interrupted; no report or snapshot was written",
        }
    }
}
