//! The job queue's vocabulary, shared by the store (which writes and claims jobs) and the
//! workers (which run them): the kinds of job, a claimed job, what became of it, dead jobs,
//! queue figures, and the wake-ups a commit that queued jobs sends to this process's workers.

use tokio::sync::Notify;

/// What a job does; each kind has its handler and its settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum JobKind {
    /// An empty APNs push to one device (key: the device library id; payload: its push token).
    Push,
    /// Write one pass's Google Wallet object (key: the serial; payload: a message to add).
    Google,
    /// Deliver one webhook event (key: the event id; payload: the exact JSON body).
    Webhook,
    /// Send one e-mail (key: what and to whom, e.g. `verify_email:<member id>`; payload: JSON
    /// naming what to send, never a link: tokens are drawn when the mail goes out).
    Mail,
}

impl JobKind {
    pub const ALL: [JobKind; 4] = [JobKind::Push, JobKind::Google, JobKind::Webhook, JobKind::Mail];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Push => "push",
            Self::Google => "google",
            Self::Webhook => "webhook",
            Self::Mail => "mail",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Webhook events go out in the order they happened; the other kinds by due time.
    pub fn in_creation_order(self) -> bool {
        matches!(self, Self::Webhook)
    }

    fn bit(self) -> u64 {
        1 << (self as u8)
    }
}

/// A job a worker has claimed until its lease ends.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    pub id: i64,
    pub kind: JobKind,
    pub key: String,
    pub payload: Option<String>,
    /// The campaign whose change this job carries, if any (for its delivery counters).
    pub campaign_id: Option<String>,
    /// Failed attempts before this one.
    pub attempts: i64,
    /// The claim's id: only its holder may finish the job (a stale worker changes nothing).
    pub lease_id: String,
}

/// What became of a claimed job.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Done: the job is deleted.
    Done,
    /// Failed, to be tried again at `run_at` (unix ms); a newer waiting job of the same key
    /// supersedes it.
    Retry { run_at: i64, error: String },
    /// Out of attempts or refused for good: kept as dead with its error, until retried.
    Dead { error: String },
    /// Not tried (the worker paused): back to the queue without using an attempt.
    Release,
}

/// What a finished job changes besides itself, in the same transaction.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// APNs says the push token is gone: the device's registrations go, if the device still
    /// has that token (it may have registered again).
    ForgetDevice { device: String, push_token: String },
    /// The pass's Google object now matches pass version `version`.
    GoogleSynced { serial: String, object_id: String, version: i64 },
}

/// A claimed job and what became of it.
#[derive(Debug, Clone)]
pub struct Finished {
    pub job: Job,
    pub outcome: Outcome,
    pub effect: Option<Effect>,
    /// The campaign counter this outcome adds to (e.g. `apple.accepted`), if any.
    pub counter: Option<String>,
}

/// A dead job, as `GET /api/v1/jobs/dead` lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct DeadJob {
    pub id: i64,
    pub kind: JobKind,
    pub key: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub created_at: i64,
    /// When it died (its last update).
    pub updated_at: i64,
}

/// One kind's queue depth by state, and when its oldest live job was made.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QueueStats {
    pub pending: i64,
    pub leased: i64,
    pub dead: i64,
    /// Unix ms of the oldest pending or leased job.
    pub oldest_created_at: Option<i64>,
}

/// The kinds a transaction queued, to wake their workers once it commits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KindSet(u64);

impl KindSet {
    pub fn insert(&mut self, kind: JobKind) {
        self.0 |= kind.bit();
    }

    pub fn contains(self, kind: JobKind) -> bool {
        self.0 & kind.bit() != 0
    }
}

/// Wakes this process's idle workers when a commit queued their kind of job (or a campaign
/// became due); other processes find the jobs at their next poll.
#[derive(Debug, Default)]
pub struct Wakeups {
    push: Notify,
    google: Notify,
    webhook: Notify,
    mail: Notify,
    campaigns: Notify,
}

impl Wakeups {
    pub fn of(&self, kind: JobKind) -> &Notify {
        match kind {
            JobKind::Push => &self.push,
            JobKind::Google => &self.google,
            JobKind::Webhook => &self.webhook,
            JobKind::Mail => &self.mail,
        }
    }

    /// Wakes one worker of each kind in `kinds` (or the next one to wait, if all are busy).
    pub fn wake(&self, kinds: KindSet) {
        for kind in JobKind::ALL {
            if kinds.contains(kind) {
                self.of(kind).notify_one();
            }
        }
    }

    /// The campaign fan-out's wake-up (a campaign was approved or scheduled).
    pub fn campaigns(&self) -> &Notify {
        &self.campaigns
    }
}
