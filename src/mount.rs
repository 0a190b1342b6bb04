//! Mounting and serving: opens STORAGE, reconciles the trash, mounts with
//! fuser, runs the request loop until unmounted (`unmount`: on a signal), and
//! flushes on the way out.

mod unmount;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use fuser::{Config, MountOption, Session, SessionACL};

use crate::config::{KernelFlag, MountArgs, Passthrough as PassthroughMode};
use crate::contract;
use crate::daemon;
use crate::expirer::Expirer;
use crate::fs::GalleryFs;
use crate::fuse::{Echoer, FuseAdapter, Held, Passthrough, QueuedInvalidator};

/// The echo helper a mount runs (see `fuse::echo`): `galleryfs
/// ECHO_HELPER_ARG MOUNTPOINT` is it.
pub use crate::fuse::{HELPER_ARG as ECHO_HELPER_ARG, helper_main as echo_helper_main};
use crate::node::NodeTable;
use crate::space::Watcher;
use crate::store::Store;
use crate::store::TrashStore;
use crate::watchdog;

/// Request threads when not `-s`: enough that one slow request (a large
/// directory moved to the trash) does not stall the others.
const REQUEST_THREADS: usize = 4;

/// Checks MOUNTPOINT before anything is touched.
fn check_mountpoint(args: &MountArgs) -> Result<PathBuf, String> {
    let shown = args.mountpoint.display();
    let meta = std::fs::metadata(&args.mountpoint).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => format!("MOUNTPOINT {shown} does not exist"),
        _ => format!("cannot use MOUNTPOINT {shown}: {e}"),
    })?;
    if !meta.is_dir() {
        return Err(format!("MOUNTPOINT {shown} is not a directory"));
    }
    let mountpoint = args
        .mountpoint
        .canonicalize()
        .map_err(|e| format!("cannot use MOUNTPOINT {shown}: {e}"))?;
    if is_mount_point(&mountpoint) {
        return Err(format!(
            "MOUNTPOINT {shown} is already a mount point (unmount it first)"
        ));
    }
    Ok(mountpoint)
}

/// Where STORAGE is, or would be created, as a canonical path; checked
/// before anything is created. Its parent must exist.
fn storage_path(storage: &Path) -> Result<PathBuf, String> {
    let shown = storage.display();
    let missing = match storage.canonicalize() {
        Ok(path) => return Ok(path),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => e,
        Err(e) => return Err(format!("cannot use STORAGE {shown}: {e}")),
    };
    let (Some(parent), Some(name)) = (storage.parent(), storage.file_name()) else {
        return Err(format!("cannot use STORAGE {shown}: {missing}"));
    };
    let parent = if parent.as_os_str().is_empty() {
        Path::new(".")
    } else {
        parent
    };
    match parent.canonicalize() {
        Ok(parent) => Ok(parent.join(name)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(format!(
            "cannot create STORAGE {shown}: its parent {} does not exist (galleryfs creates \
             only STORAGE itself; create the parent first)",
            parent.display()
        )),
        Err(e) => Err(format!("cannot create STORAGE {shown}: {e}")),
    }
}

/// Whether `path` (canonical) is the mount point of some mount. Unreadable
/// mountinfo counts as no: mounting then fails or stacks as it would anyway.
fn is_mount_point(path: &Path) -> bool {
    contract::read_mountinfo().is_ok_and(|mounts| mounts.iter().any(|m| m.mount_point == path))
}

fn fuse_config(args: &MountArgs, storage: &Path) -> Config {
    let fsname = args
        .fsname
        .clone()
        .unwrap_or_else(|| storage.display().to_string());
    let mut options = vec![
        MountOption::FSName(fsname),
        // Subtype is dropped on the direct-mount path; as a custom option it works on both.
        MountOption::CUSTOM(format!("subtype={}", contract::SUBTYPE)),
        // Always: galleryfs acts as root on STORAGE, so the kernel must check permissions.
        MountOption::DefaultPermissions,
        if args.read_only {
            MountOption::RO
        } else {
            MountOption::RW
        },
    ];
    options.extend(args.kernel_flags.iter().map(|f| match f {
        KernelFlag::Dev => MountOption::Dev,
        KernelFlag::NoDev => MountOption::NoDev,
        KernelFlag::Suid => MountOption::Suid,
        KernelFlag::NoSuid => MountOption::NoSuid,
        KernelFlag::Exec => MountOption::Exec,
        KernelFlag::NoExec => MountOption::NoExec,
        KernelFlag::Atime => MountOption::Atime,
        KernelFlag::NoAtime => MountOption::NoAtime,
        KernelFlag::Sync => MountOption::Sync,
        KernelFlag::Async => MountOption::Async,
        KernelFlag::DirSync => MountOption::DirSync,
    }));
    let mut acl = if args.allow_other {
        SessionACL::All
    } else if args.allow_root {
        SessionACL::RootAndOwner
    } else {
        SessionACL::Owner
    };
    // A user's own mount gets the watchdog instead (see `watchdog`).
    if args.auto_unmount && !watchdog::replaces_auto_unmount(args) {
        options.push(MountOption::AutoUnmount);
        // fuser requires it; only root is admitted besides the owner.
        if acl == SessionACL::Owner {
            acl = SessionACL::RootAndOwner;
        }
    }
    let mut config = Config::default();
    config.mount_options = options;
    config.acl = acl;
    config.n_threads = Some(if args.single_threaded {
        1
    } else {
        REQUEST_THREADS
    });
    config.clone_fd = !args.single_threaded;
    config
}

/// Mounts per `args` and serves until unmounted. `ready` runs once the mount
/// is live; an error before that is returned as the message to show.
pub fn run(args: &MountArgs, ready: impl FnOnce()) -> Result<(), String> {
    let mountpoint = check_mountpoint(args)?;
    // Before STORAGE is created: a refusal leaves nothing behind.
    let storage = storage_path(&args.storage)?;
    if mountpoint.starts_with(&storage) || storage.starts_with(&mountpoint) {
        return Err(format!(
            "STORAGE {} and MOUNTPOINT {} must not contain each other; use two \
             directories side by side",
            storage.display(),
            mountpoint.display()
        ));
    }
    // First, while no other file is open for it to inherit.
    let _watchdog = match watchdog::replaces_auto_unmount(args) {
        true => Some(
            watchdog::start(&mountpoint)
                .map_err(|e| format!("cannot start the auto_unmount watchdog: {e}"))?,
        ),
        false => None,
    };
    let store = Store::open_for(&args.storage, &mountpoint).map_err(|e| e.to_string())?;
    crate::backing::clear_umask();
    let Store {
        path,
        storage_fd,
        gallery_fd,
        trash_fd,
        purging_fd,
        pending_fd,
        catalog,
        ..
    } = store;
    // The lock lives as long as `_lock_guard`, i.e. until we return.
    let nodes =
        NodeTable::new(gallery_fd, trash_fd).map_err(|e| format!("{}: {e}", path.display()))?;
    let trash = TrashStore::new(
        catalog,
        nodes.gallery_fd().clone(),
        nodes.trash_fd().clone(),
        purging_fd,
        pending_fd,
        args.retention,
    )
    .with_litter(&args.litter);
    let report = trash.reconcile().map_err(|e| match e {
        crate::error::FsError::ENOSPC => format!(
            "cannot reconcile the trash in {}: STORAGE is full ({e}); free some space on its \
             filesystem and mount again",
            path.display()
        ),
        e => format!("cannot reconcile the trash in {}: {e}", path.display()),
    })?;
    if report != Default::default() {
        log::warn!("reconciled the trash after an unclean stop: {report:?}");
    }
    if !args.ignored.is_empty() {
        log::debug!("ignored mount options: {}", args.ignored.join(","));
    }
    let fs = Arc::new(GalleryFs::new(nodes, trash, storage_fd, args.overwrite));
    fs.set_space_policy(&args.policy())
        .map_err(|e| format!("cannot measure the gallery in {}: {e}", path.display()))?;
    let config = fuse_config(args, &path);
    // With a quota every write must reach galleryfs to be counted (see `space`).
    let passthrough = Passthrough::new(if args.quota.is_some() {
        PassthroughMode::Off
    } else {
        args.passthrough
    });
    let held = Arc::new(Held::default());
    let adapter = FuseAdapter::new(fs.clone(), passthrough.clone(), held.clone());
    let mut session =
        Session::new(adapter, &mountpoint, &config).map_err(|e| mount_failed(&e, &mountpoint))?;
    // Any regular file of ours serves to probe; on failure the session's drop unmounts.
    let probe_file = std::fs::File::open(path.join(crate::store::DATABASE))
        .map_err(|e| format!("cannot open the database: {e}"))?;
    passthrough.probe(&session, &probe_file)?;
    // Read-only: nothing changes the trash, nothing to echo.
    let echoer = match args.read_only {
        true => None,
        false => Some(Arc::new(
            Echoer::start(fs.echoes(), mountpoint.clone())
                .map_err(|e| format!("cannot start the echo thread: {e}"))?,
        )),
    };
    let device = std::os::fd::AsFd::as_fd(&session)
        .try_clone_to_owned()
        .map_err(|e| log::warn!("cannot copy the /dev/fuse fd: {e}"))
        .ok();
    fs.set_invalidator(Box::new(QueuedInvalidator::start(
        session.notifier(),
        device,
        echoer.clone(),
        held,
    )));
    let mut stopper = unmount::Stopper::new(mountpoint.clone(), session.unmount_callable());
    let ours = stopper.identity();
    let stop_echoes = echoer.clone();
    daemon::on_stop_signal(move |sig| {
        // Before the unmount: a helper syscall in flight would make it busy.
        if let Some(echoer) = &stop_echoes {
            echoer.stop();
        }
        stopper.stop(sig);
    })
    .map_err(|e| format!("cannot start the signal thread: {e}"))?;
    let expirer = if args.read_only {
        None
    } else {
        Some(
            Expirer::start(fs.clone(), args.sweep)
                .map_err(|e| format!("cannot start the expiry thread: {e}"))?,
        )
    };
    let watcher = if args.read_only {
        None
    } else {
        Some(
            Watcher::start(fs.space_host())
                .map_err(|e| format!("cannot start the space thread: {e}"))?,
        )
    };
    log::info!("mounted {} on {}", path.display(), mountpoint.display());
    ready();
    let served = unmount::ended(session.run(), &mountpoint, ours.as_deref());
    if let Some(echoer) = echoer {
        echoer.stop();
    }
    if let Some(expirer) = expirer {
        expirer.stop();
    }
    if let Some(watcher) = watcher {
        watcher.stop();
    }
    fs.shutdown();
    log::info!("unmounted {}", mountpoint.display());
    served.map_err(|e| format!("the request loop failed: {e}"))
}

/// Why the mount failed, with the fix when it is a `/dev/fuse` this user
/// may not open: systems without udev (containers) leave it 0600, where
/// udev's default rules make it 0666 for fusermount3's users.
fn mount_failed(e: &std::io::Error, mountpoint: &Path) -> String {
    use rustix::fs::{Access, access};
    let mut msg = format!("cannot mount {}: {e}", mountpoint.display());
    if e.kind() == std::io::ErrorKind::PermissionDenied
        && access("/dev/fuse", Access::READ_OK | Access::WRITE_OK).is_err()
    {
        msg += ": this user may not open /dev/fuse (udev's rules make it 0666; \
                without udev, as root: chmod 0666 /dev/fuse)";
    }
    msg
}
