//! `kill -9` of galleryfs at random instants while `gallery-trash empty`
//! purges, or `gallery-trash restore --under` restores, thousands of
//! entries in bulk requests (`user.trash.purge`/`restore`, one catalog
//! transaction each): after a remount each entry is purged (no file, no
//! row), restored (in the gallery, its row gone) or still whole in the
//! trash, never half of one; nothing is duplicated, and STORAGE and the
//! catalog agree.

use std::collections::BTreeMap;
use std::process::{Command, Stdio};

use super::*;

/// Entries per round: more than one request's worth (4096 names).
const FILES: usize = 5000;

/// Every regular file below `root` by content: content → number of copies.
fn contents(root: &Path, out: &mut BTreeMap<String, usize>) {
    let Ok(dir) = fs::read_dir(root) else { return };
    for e in dir {
        let p = e.unwrap().path();
        let md = fs::symlink_metadata(&p).unwrap();
        if md.is_dir() {
            contents(&p, out);
        } else if let Ok(data) = fs::read(&p) {
            *out.entry(String::from_utf8_lossy(&data).into_owned())
                .or_default() += 1;
        }
    }
}

fn count(dir: &Path) -> usize {
    fs::read_dir(dir).map_or(0, |d| d.count())
}

#[test]
fn kill_9_during_bulk_purges_and_restores_leaves_each_entry_whole_or_gone() {
    let seed = harness::seed("bulk-crash");
    let rounds = harness::size(2, 12);
    let mut rng = Rng::new(seed);
    let mut m = Mount::new();
    let mut mid_request = 0;
    for round in 0..rounds {
        let restore = round % 2 == 1;
        let dir = m.gallery().join(format!("r{round}"));
        fs::create_dir(&dir).unwrap();
        let mut want = Vec::with_capacity(FILES);
        for i in 0..FILES {
            let content = format!("round {round} file {i}");
            fs::write(dir.join(format!("f{i}")), &content).unwrap();
            want.push(content);
        }
        // One by one, the folder stays: FILES loose entries.
        galleryfs_testkit::ok(
            Command::new("find")
                .arg(&dir)
                .args(["-type", "f", "-delete"]),
        );
        let storage_trash = m.storage.join("trash");
        let before = count(&storage_trash);
        let mut cmd = Command::new(galleryfs_testkit::gallery_trash_bin());
        match restore {
            true => cmd.args(["restore", "--under"]).arg(&dir),
            false => cmd.args(["empty", "--yes"]).arg(&m.mountpoint),
        };
        let mut client = cmd
            .current_dir(&m.mountpoint)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Kill after a random number of the entries have left STORAGE/trash.
        let at = 1 + rng.below(FILES as u64 - 1) as usize;
        let deadline = Instant::now() + Duration::from_secs(60);
        while count(&storage_trash) + at > before && client.try_wait().unwrap().is_none() {
            assert!(Instant::now() < deadline, "gallery-trash made no progress");
            thread::sleep(Duration::from_micros(200));
        }
        m.kill9();
        let _ = client.wait();
        let left = count(&storage_trash);
        if left > 0 && left < before {
            mid_request += 1;
        }
        m.mount();
        let mut found = BTreeMap::new();
        contents(&m.gallery(), &mut found);
        contents(&m.trash(), &mut found);
        for content in &want {
            let n = found.get(content).copied().unwrap_or(0);
            // Purged entries are gone; restored ones are in the gallery.
            let allowed: &[usize] = if restore { &[1] } else { &[0, 1] };
            assert!(
                allowed.contains(&n),
                "round {round} (seed {seed:#x}, killed after ~{at} entries): {content:?} found {n} times"
            );
        }
        if let Some(p) = integrity_problem(&m) {
            panic!("round {round} (seed {seed:#x}): {p}");
        }
        let problems = match scan(&m) {
            Ok(scan) => storage_problems(&m, &scan),
            Err(e) => vec![e],
        };
        assert!(
            problems.is_empty(),
            "round {round} (seed {seed:#x}): {problems:#?}"
        );
        // Clean up for the next round, through the mount.
        fs::remove_dir_all(&dir).unwrap();
        for name in m.trash_os_names() {
            let p = m.trash().join(name);
            match fs::symlink_metadata(&p).unwrap().is_dir() {
                true => fs::remove_dir_all(p).unwrap(),
                false => fs::remove_file(p).unwrap(),
            }
        }
    }
    println!(
        "SUITE bulk-crash: {rounds} kills during bulk purges and restores of {FILES} entries \
         ({mid_request} part-way through), 0 failures (seed {seed:#x})"
    );
}
