//! What `galleryfs -V` says besides the version, as `sshfs -V` does: the
//! FUSE library and protocol compiled in, the kernel, and whether this
//! process may use kernel passthrough. Cheap: no mount, no /dev/fuse. The
//! protocol the kernel agrees to is known only at mount time; `galleryfs -d`
//! logs it (fuser's `INIT request`).

/// The fuser release galleryfs is built with (Cargo.lock; a test checks it).
pub const FUSER_VERSION: &str = "0.18.0";

/// The FUSE kernel protocol fuser 0.18 speaks on Linux (its
/// `FUSE_KERNEL_VERSION`.`FUSE_KERNEL_MINOR_VERSION`, which it keeps private).
pub const FUSE_PROTOCOL: (u32, u32) = (7, 40);

/// The first kernel release with FUSE passthrough (CONFIG_FUSE_PASSTHROUGH).
const PASSTHROUGH_SINCE: (u32, u32) = (6, 9);

/// CAP_SYS_ADMIN's bit in `CapEff`: registering a backing file needs it.
const CAP_SYS_ADMIN: u32 = 21;

/// The lines after `galleryfs X.Y.Z`.
pub fn features() -> String {
    let (major, minor) = FUSE_PROTOCOL;
    let release = kernel_release();
    let kernel_has = parse_release(&release).map(|r| r >= PASSTHROUGH_SINCE);
    let passthrough = match (kernel_has, has_cap_sys_admin()) {
        (Some(false), _) => format!(
            "no: this kernel predates FUSE passthrough ({}.{})",
            PASSTHROUGH_SINCE.0, PASSTHROUGH_SINCE.1
        ),
        (_, Some(false)) => "no for this user: it needs CAP_SYS_ADMIN (a mount made by root); \
                             galleryfs serves reads and writes itself"
            .to_owned(),
        (_, None) => "unknown (cannot read /proc/self/status)".to_owned(),
        (_, Some(true)) => "yes for this user (CAP_SYS_ADMIN), where the kernel offers it \
                            at mount time (passthrough=auto)"
            .to_owned(),
    };
    format!(
        "FUSE library: fuser {FUSER_VERSION}, kernel protocol {major}.{minor}\n\
         kernel: Linux {release}\n\
         kernel passthrough: {passthrough}"
    )
}

fn kernel_release() -> String {
    std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_owned())
        .unwrap_or_else(|_| "unknown".to_owned())
}

/// `6.18.44-foo` → (6, 18).
fn parse_release(release: &str) -> Option<(u32, u32)> {
    let mut parts = release.split(|c: char| !c.is_ascii_digit());
    Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
}

fn has_cap_sys_admin() -> Option<bool> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let hex = status.lines().find_map(|l| l.strip_prefix("CapEff:"))?;
    let caps = u64::from_str_radix(hex.trim(), 16).ok()?;
    Some(caps & (1 << CAP_SYS_ADMIN) != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A new fuser may speak another protocol: bumping it means checking
    /// `FUSE_PROTOCOL` against its `ll/fuse_abi.rs`.
    #[test]
    fn fuser_version_matches_the_lock_file() {
        let lock = include_str!("../Cargo.lock");
        let locked = lock
            .split("[[package]]")
            .find(|p| p.contains("\nname = \"fuser\"\n"))
            .and_then(|p| p.lines().find_map(|l| l.strip_prefix("version = ")))
            .expect("fuser in Cargo.lock");
        assert_eq!(locked.trim_matches('"'), FUSER_VERSION);
    }

    #[test]
    fn releases_parse() {
        assert_eq!(parse_release("6.18.44-fc-v1098"), Some((6, 18)));
        assert_eq!(parse_release("5.4.0"), Some((5, 4)));
        assert_eq!(parse_release("x"), None);
    }
}
