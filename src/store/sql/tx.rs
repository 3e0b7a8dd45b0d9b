//! The unit of work: one write transaction that also remembers which kinds of job it queued,
//! so that committing it wakes this process's workers of those kinds (and nothing else does).

use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use super::{Conn, Db};
use crate::jobs::queue::{JobKind, KindSet, Wakeups};

pub(crate) struct WriteTx {
    tx: sqlx::Transaction<'static, Db>,
    wakeups: Arc<Wakeups>,
    queued: KindSet,
}

impl WriteTx {
    pub(crate) fn new(tx: sqlx::Transaction<'static, Db>, wakeups: Arc<Wakeups>) -> Self {
        Self { tx, wakeups, queued: KindSet::default() }
    }

    /// Notes that this transaction queued a job of `kind`.
    pub(crate) fn queued(&mut self, kind: JobKind) {
        self.queued.insert(kind);
    }

    /// Commits, then wakes the workers of the kinds queued.
    pub(crate) async fn commit(self) -> Result<(), sqlx::Error> {
        self.tx.commit().await?;
        self.wakeups.wake(self.queued);
        Ok(())
    }
}

impl Deref for WriteTx {
    type Target = Conn;

    fn deref(&self) -> &Conn {
        &self.tx
    }
}

impl DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut Conn {
        &mut self.tx
    }
}
