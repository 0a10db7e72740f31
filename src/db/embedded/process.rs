//! The postmaster as a child process: spawned from a keeper thread that lives
//! as long as it (so its parent-death signal fires only when this process
//! ends), reaped there, and stopped by signal (fast, then immediate shutdown).

use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::time::Duration;

use anyhow::Context;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

/// Whether the postmaster has exited. (Fully qualified: where diesel-async's
/// RunQueryDsl is in scope it shadows `load` on every type.)
pub(super) fn has_exited(gone: &AtomicBool) -> bool {
    AtomicBool::load(gone, Ordering::SeqCst)
}

/// Stops the postmaster unless it is already gone: SIGINT (fast shutdown),
/// then SIGQUIT (immediate) after 30 s.
pub(super) fn stop_pid(pid: Pid, exited: &mpsc::Receiver<()>, gone: &AtomicBool) {
    // Already gone (and reaped by its keeper thread): never signal a pid that
    // may since belong to another process.
    if has_exited(gone) {
        return;
    }
    // SIGINT is PostgreSQL's fast shutdown; SIGQUIT its immediate one.
    let _ = kill(pid, Signal::SIGINT);
    if exited.recv_timeout(Duration::from_secs(30)).is_err() {
        tracing::warn!(
            pid = pid.as_raw(),
            "PostgreSQL did not stop in 30 s; quitting it"
        );
        let _ = kill(pid, Signal::SIGQUIT);
        let _ = exited.recv_timeout(Duration::from_secs(5));
    }
}

/// Spawns `cmd` from a thread that lives as long as the child, so that the
/// child's parent-death signal fires only when this process ends.
pub(super) fn spawn_kept(
    mut cmd: Command,
) -> anyhow::Result<(Pid, mpsc::Receiver<()>, Arc<AtomicBool>)> {
    let (pid_tx, pid_rx) = mpsc::channel();
    let (exit_tx, exit_rx) = mpsc::channel();
    let gone = Arc::new(AtomicBool::new(false));
    let gone_in_thread = gone.clone();
    std::thread::Builder::new()
        .name("embedded-postgres".into())
        .spawn(move || match cmd.spawn() {
            Ok(mut child) => {
                let _ = pid_tx.send(Ok(child.id()));
                let _ = child.wait();
                gone_in_thread.store(true, Ordering::SeqCst);
                let _ = exit_tx.send(());
            }
            Err(err) => {
                let _ = pid_tx.send(Err(err));
            }
        })?;
    let pid = pid_rx
        .recv()
        .context("the PostgreSQL keeper thread ended")?
        .context("starting postgres")?;
    Ok((Pid::from_raw(pid as i32), exit_rx, gone))
}
