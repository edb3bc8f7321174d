//! Writing result files atomically: the report or snapshot goes to a
//! temporary file beside the target and is renamed over it only when
//! complete, so an interrupted run never leaves half a file behind.

use std::io::Write;
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

use crate::error::Fatal;

/// A file being written; nothing appears at `path` until [`commit`].
///
/// [`commit`]: PendingFile::commit
pub struct PendingFile {
    path: PathBuf,
    tmp: NamedTempFile,
}

impl PendingFile {
    /// Creates the temporary file now, so an unwritable destination is
    /// reported before any AWS call is made.
    pub fn create(path: &Path, what: &str) -> Result<PendingFile, Fatal> {
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let tmp = tempfile::Builder::new()
            .prefix(".apigw-audit-")
            .suffix(".tmp")
            .tempfile_in(&dir)
            .map_err(|e| {
                Fatal::Usage(format!("cannot write the {what} {}: {e}", path.display()))
            })?;
        Ok(PendingFile {
            path: path.to_path_buf(),
            tmp,
        })
    }

    pub fn writer(&mut self) -> &mut impl Write {
        self.tmp.as_file_mut()
    }

    pub fn commit(mut self, what: &str) -> Result<(), Fatal> {
        let path = self.path.clone();
        self.tmp.as_file_mut().sync_all().map_err(|e| {
            Fatal::Usage(format!("cannot write the {what} {}: {e}", path.display()))
        })?;
        self.tmp.persist(&path).map_err(|e| {
            Fatal::Usage(format!(
                "cannot write the {what} {}: {}",
                path.display(),
                e.error
            ))
        })?;
        Ok(())
    }
}
