//! The connection cap (PASSERELLE_MAX_CONNECTIONS): a slot per open connection. When every slot
//! is taken, a newcomer gets the slot of the connection idle the longest (none of its requests
//! in flight: silent since accepted, or kept alive between requests), which is closed; closing
//! such a connection loses nothing, a client retries a request on a new one. When every
//! connection has a request in flight, the loop stops accepting until one frees its slot.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::activity::Activity;

pub struct Slots {
    free: Arc<Semaphore>,
    open: Mutex<HashMap<u64, Arc<Activity>>>,
    next_id: AtomicU64,
}

/// A connection's slot, given back when dropped.
pub struct Slot {
    _permit: OwnedSemaphorePermit,
    id: u64,
    slots: Arc<Slots>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.slots.open().remove(&self.id);
    }
}

impl Slots {
    pub fn new(cap: usize) -> Arc<Self> {
        Arc::new(Self { free: Arc::new(Semaphore::new(cap)), open: Mutex::default(), next_id: AtomicU64::new(0) })
    }

    fn open(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Arc<Activity>>> {
        self.open.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn full(&self) -> bool {
        self.free.available_permits() == 0
    }

    /// The open connection idle the longest, if any may be shed.
    fn victim(&self) -> Option<Arc<Activity>> {
        let open = self.open();
        open.values()
            .filter_map(|a| Some((a.sheddable_since()?, a)))
            .min_by_key(|(since, _)| *since)
            .map(|(_, a)| a.clone())
    }

    /// Completes when a new connection can have a slot: one is free, or one can be shed.
    pub async fn ready(&self) {
        while self.full() && self.victim().is_none() {
            // Connections also become sheddable without closing (their request answered): look again.
            let _ = tokio::time::timeout(Duration::from_millis(100), self.free.acquire()).await;
        }
    }

    /// A slot for a connection just accepted, shedding another one if none is free.
    pub async fn take(self: &Arc<Self>, activity: Arc<Activity>) -> Slot {
        let permit = match self.free.clone().try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => {
                if let Some(victim) = self.victim() {
                    victim.shed();
                }
                self.free.clone().acquire_owned().await.expect("the semaphore is never closed")
            }
        };
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        self.open().insert(id, activity);
        Slot { _permit: permit, id, slots: self.clone() }
    }
}
