//! Hot reload: new evidence goes live without a restart, and never
//! half-loaded.
//!
//! A [`LivePack`] holds the pack in use behind an atomic pointer. A reload
//! builds and validates the complete new pack off to the side (scripts
//! compiled, plugins checked) and swaps it in only when it is whole; on any
//! error the last good pack stays and the error is kept for display. A
//! [`PackWatcher`] turns file-system events into reloads: it watches the
//! pack directory recursively and its parent (so a directory swapped
//! through a symlink, as a Kubernetes ConfigMap does, is seen), debounces
//! bursts of events into one reload, and moves its watches when the pack
//! path comes to lead somewhere else (a symlink whose target changed). Where
//! native events are unavailable it polls.
//!
//! An evaluation takes one [`LivePack::pack`] snapshot and uses it from start
//! to end: a batch that straddles a reload is answered wholly by the old or
//! wholly by the new pack, and every result carries that pack's digest.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use arc_swap::ArcSwap;
use notify::{RecursiveMode, Watcher};

use crate::pack::error::PackError;
use crate::pack::model::Pack;
use crate::pack::plugin::LoadOptions;

/// What the last reloads did.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ReloadStatus {
    /// When the pack in use was loaded (RFC 3339, UTC).
    pub loaded_at: String,
    /// Why the last reload failed; `None` when it succeeded.
    pub last_reload_error: Option<String>,
    /// Reloads that swapped in a new pack.
    pub reloads: u64,
    /// Reloads refused because the pack on disk was not valid.
    pub failed_reloads: u64,
    /// Why the pack in use may no longer answer: its signatures stopped
    /// satisfying the trusted keys as read again at a reload (a key revoked
    /// or expired) and no newly signed pack replaced it. `None` normally.
    pub pack_refused: Option<String>,
}

/// What one reload did.
#[derive(Debug, Clone, PartialEq)]
pub enum ReloadOutcome {
    /// A new pack is in use.
    Reloaded {
        /// Digest of the pack it replaced.
        old_digest: String,
        /// Digest of the pack now in use.
        new_digest: String,
    },
    /// The pack on disk is valid and has the same content.
    Unchanged,
    /// The pack on disk is not valid; the last good pack stays.
    Failed(String),
}

/// A pack that can be replaced while it is being used.
pub struct LivePack {
    dir: PathBuf,
    /// The trusted keys among them are read again at each reload.
    options: Mutex<LoadOptions>,
    current: ArcSwap<Pack>,
    status: Mutex<ReloadStatus>,
    /// Held for a whole reload (read, check, swap): reloads from a signal
    /// and from the watcher run one after the other, so one that read the
    /// files earlier can never swap in its older pack after a later one.
    reloading: Mutex<()>,
}

impl std::fmt::Debug for LivePack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "LivePack({})", self.dir.display())
    }
}

/// `problem`s of a refused pack as lines of text.
pub fn describe_error(error: &PackError) -> String {
    match error {
        PackError::Io { .. } => error.to_string(),
        PackError::Invalid { problems, .. } => {
            let mut lines: Vec<String> = vec![error.to_string()];
            lines.extend(problems.iter().map(ToString::to_string));
            lines.join("\n")
        }
    }
}

impl LivePack {
    /// Loads the pack in `dir`; it must be valid to start with.
    pub fn load(dir: impl AsRef<Path>, options: LoadOptions) -> Result<Arc<LivePack>, PackError> {
        let dir = dir.as_ref().to_path_buf();
        let pack = crate::pack::load::load_pack_with(&dir, &options)?;
        Ok(Arc::new(LivePack {
            dir,
            options: Mutex::new(options),
            current: ArcSwap::from_pointee(pack),
            reloading: Mutex::new(()),
            status: Mutex::new(ReloadStatus {
                loaded_at: crate::input::time::rfc3339(SystemTime::now()),
                last_reload_error: None,
                reloads: 0,
                failed_reloads: 0,
                pack_refused: None,
            }),
        }))
    }

    /// The pack in use now. Keep the snapshot for a whole evaluation.
    pub fn pack(&self) -> Arc<Pack> {
        self.current.load_full()
    }

    /// The pack directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The reload history.
    pub fn status(&self) -> ReloadStatus {
        self.status
            .lock()
            .map(|s| s.clone())
            .unwrap_or_else(|e| e.into_inner().clone())
    }

    /// The pack in use, unless it may no longer answer (see
    /// [`ReloadStatus::pack_refused`]): then why.
    pub fn usable_pack(&self) -> Result<Arc<Pack>, String> {
        match self.status().pack_refused {
            None => Ok(self.pack()),
            Some(why) => Err(why),
        }
    }

    /// Loads the pack from disk again and swaps it in if it is valid.
    /// When signatures are required, the trusted keys are read again first:
    /// a pack is accepted under the keys trusted now, and the pack in use
    /// is checked against them too.
    pub fn reload(&self) -> ReloadOutcome {
        let _one_at_a_time = self.reloading.lock().unwrap_or_else(|e| e.into_inner());
        let mut options = self.options.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(trust) = &options.trust {
            match trust.reread() {
                Ok(now) => options.trust = Some(Arc::new(now)),
                Err(e) => return self.failed(format!("the trusted keys cannot be read: {e}")),
            }
        }
        let loaded = crate::pack::load::load_pack_with(&self.dir, &options);
        match loaded {
            Ok(pack) => self.swap(pack),
            Err(error) => {
                let outcome = self.failed(describe_error(&error));
                self.recheck_in_use(options.trust.as_deref());
                outcome
            }
        }
    }

    fn swap(&self, pack: Pack) -> ReloadOutcome {
        let mut status = self.status.lock().unwrap_or_else(|e| e.into_inner());
        status.last_reload_error = None;
        status.pack_refused = None;
        let old_digest = self.current.load().id().digest.clone();
        let new_digest = pack.id().digest.clone();
        // The same content may come with other signatures: keep the newest.
        self.current.store(Arc::new(pack));
        if new_digest == old_digest {
            return ReloadOutcome::Unchanged;
        }
        status.loaded_at = crate::input::time::rfc3339(SystemTime::now());
        status.reloads += 1;
        ReloadOutcome::Reloaded {
            old_digest,
            new_digest,
        }
    }

    fn failed(&self, message: String) -> ReloadOutcome {
        let mut status = self.status.lock().unwrap_or_else(|e| e.into_inner());
        status.last_reload_error = Some(message.clone());
        status.failed_reloads += 1;
        ReloadOutcome::Failed(message)
    }

    /// After a refused reload: the pack in use stays only while its own
    /// signatures still satisfy the keys trusted now.
    fn recheck_in_use(&self, trust: Option<&crate::pack::trust::Trust>) {
        let Some(trust) = trust else { return };
        let verdict = self.pack().recheck_signatures(trust);
        let mut status = self.status.lock().unwrap_or_else(|e| e.into_inner());
        status.pack_refused = verdict.and_then(|v| v.refusal()).map(|why| {
            format!("the pack in use is no longer approved under the trusted keys: {why}")
        });
    }
}

/// How a [`PackWatcher`] watches.
#[derive(Debug, Clone, Copy)]
pub struct WatchOptions {
    /// Quiet time after the last event before reloading.
    pub debounce: Duration,
    /// Poll at this interval instead of using native events (network file systems).
    pub poll: Option<Duration>,
}

impl Default for WatchOptions {
    fn default() -> Self {
        WatchOptions {
            debounce: Duration::from_millis(100),
            poll: None,
        }
    }
}

/// Watches a [`LivePack`]'s directory and reloads it on changes. Dropping it stops it.
pub struct PackWatcher {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for PackWatcher {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

enum Signal {
    Changed,
    Stop,
}

/// Starts watching; `on_reload` is called after every reload with its outcome.
pub fn watch(
    live: Arc<LivePack>,
    options: WatchOptions,
    on_reload: impl Fn(&ReloadOutcome) + Send + 'static,
) -> Result<PackWatcher, String> {
    let (events_tx, events_rx) = mpsc::channel::<notify::Result<notify::Event>>();
    // Where the pack path led when the watches were placed.
    let mut armed = live.dir.canonicalize().ok();
    let mut watcher = make_watcher(events_tx, options.poll, &live.dir)?;
    let (stop_tx, stop_rx) = mpsc::channel::<()>();
    let thread = std::thread::Builder::new()
        .name("tdm-pack-watcher".into())
        .spawn(move || {
            loop {
                let target = armed.clone();
                let relevant =
                    |event: &notify::Event| relevant(&live.dir, target.as_deref(), event);
                match next_change(&events_rx, &stop_rx, &relevant) {
                    Signal::Stop => return,
                    Signal::Changed => {}
                }
                // Debounce: wait until the burst is over (an editor's save,
                // a ConfigMap swap), then reload once.
                let mut quiet_since = Instant::now();
                while quiet_since.elapsed() < options.debounce {
                    match events_rx
                        .recv_timeout(options.debounce.saturating_sub(quiet_since.elapsed()))
                    {
                        Ok(Ok(event)) if relevant(&event) => quiet_since = Instant::now(),
                        Ok(_) => {}
                        Err(RecvTimeoutError::Timeout) => break,
                        Err(RecvTimeoutError::Disconnected) => return,
                    }
                }
                let outcome = live.reload();
                on_reload(&outcome);
                // The pack path now leads somewhere else (a symlink whose
                // target changed): watch the new place, then reload once
                // more for anything that changed while the watches moved.
                let now = live.dir.canonicalize().ok();
                if now != armed {
                    // Watch the new target too (the old one may soon be gone).
                    let _ = arm(watcher.as_mut(), &live.dir);
                    armed = now;
                    let again = live.reload();
                    if again != ReloadOutcome::Unchanged {
                        on_reload(&again);
                    }
                }
            }
        })
        .map_err(|e| format!("cannot start the watcher: {e}"))?;
    Ok(PackWatcher {
        stop: Some(stop_tx),
        thread: Some(thread),
    })
}

fn make_watcher(
    events: mpsc::Sender<notify::Result<notify::Event>>,
    poll: Option<Duration>,
    dir: &Path,
) -> Result<Box<dyn Watcher + Send>, String> {
    let mut watcher: Box<dyn Watcher + Send> = match poll {
        Some(interval) => Box::new(
            notify::PollWatcher::new(
                events,
                notify::Config::default().with_poll_interval(interval),
            )
            .map_err(|e| format!("cannot poll `{}`: {e}", dir.display()))?,
        ),
        None => Box::new(
            notify::recommended_watcher(events)
                .map_err(|e| format!("cannot watch `{}`: {e}", dir.display()))?,
        ),
    };
    arm(watcher.as_mut(), dir)?;
    Ok(watcher)
}

fn arm(watcher: &mut (dyn Watcher + Send), dir: &Path) -> Result<(), String> {
    // Watch where the path leads now (its target, when it is a symlink).
    let target = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    watcher
        .watch(&target, RecursiveMode::Recursive)
        .map_err(|e| format!("cannot watch `{}`: {e}", dir.display()))?;
    // The parent shows a swap of the pack directory itself (a symlink whose
    // target changes, a directory renamed into place).
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        let _ = watcher.watch(parent, RecursiveMode::NonRecursive);
    }
    Ok(())
}

/// Whether an event concerns the pack: a path inside it (by its name or
/// where it leads), or the pack path itself. Called for every event of the
/// parent directory too, so it does no I/O.
fn relevant(dir: &Path, target: Option<&Path>, event: &notify::Event) -> bool {
    if matches!(event.kind, notify::EventKind::Access(_)) {
        return false;
    }
    event.paths.iter().any(|p| {
        p.file_name() == dir.file_name()
            || p.starts_with(dir)
            || target.is_some_and(|t| p.starts_with(t))
    })
}

fn next_change(
    events: &mpsc::Receiver<notify::Result<notify::Event>>,
    stop: &mpsc::Receiver<()>,
    relevant: &dyn Fn(&notify::Event) -> bool,
) -> Signal {
    loop {
        if matches!(
            stop.try_recv(),
            Err(mpsc::TryRecvError::Disconnected) | Ok(())
        ) {
            return Signal::Stop;
        }
        match events.recv_timeout(Duration::from_millis(50)) {
            Ok(Ok(event)) if relevant(&event) => return Signal::Changed,
            // An error of the watcher itself (a watched directory removed):
            // reload to find out what is there now.
            Ok(Err(_)) => return Signal::Changed,
            Ok(Ok(_)) | Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return Signal::Stop,
        }
    }
}
