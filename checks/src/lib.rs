//! The pure half of apigw-audit: the snapshot model, the check catalogue and
//! the checks themselves, with no AWS SDK dependency.
//!
//! Data flows one way: the binary's collector fills a [`model::Snapshot`],
//! [`engine::audit`] runs every check in [`catalogue::CHECKS`] over each API
//! stage, and the binary renders the [`engine::ApiResult`]s. Keeping this
//! crate free of the SDK keeps it compiling and testing in seconds, and
//! makes every check testable on a snapshot fixture.

pub mod catalogue;
pub mod check_id;
pub mod checks;
pub mod engine;
pub mod explain;
pub mod export;
pub mod finding;
pub mod lambda_policy;
pub mod model;
pub mod net;
pub mod policy;
pub mod redact;
pub mod resources;
pub mod secrets;
pub mod sides;
pub mod tls;
pub mod tls_path;
pub mod toolkit;
pub mod view;
pub mod walk;

pub use catalogue::{CHECKS, CheckDef};
pub use check_id::CheckId;
pub use engine::{ApiResult, Selection, StageResult, audit};
pub use finding::{CheckMeta, Finding, Severity, Status};
pub use model::Snapshot;
