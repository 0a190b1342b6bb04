//! `kill -9` of galleryfs at random instants while `rm -rf` removes a tree
//! of 2,000 files, folding it into one entry: after a remount every file is
//! in the trash exactly once, folded or loose, with its content, or still in
//! the gallery if rm had not reached it; nothing is lost or duplicated.

use std::collections::BTreeMap;
use std::process::Command;

use super::*;

/// Files of the tree, in folders of this many.
const FILES: usize = 2000;
const PER_FOLDER: usize = 100;

/// Every file below `root` by content: content → number of copies.
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

#[test]
fn kill_9_during_rm_rf_of_a_tree_loses_and_duplicates_nothing() {
    let seed = harness::seed("fold-crash");
    let rounds = harness::size(3, 20);
    let mut rng = Rng::new(seed);
    let mut m = Mount::new();
    for round in 0..rounds {
        let top = m.gallery().join(format!("t{round}"));
        let mut want = Vec::with_capacity(FILES);
        for i in 0..FILES {
            let dir = top.join(format!("d{}", i / PER_FOLDER));
            fs::create_dir_all(&dir).unwrap();
            let content = format!("round {round} file {i}");
            fs::write(dir.join(format!("f{i}")), &content).unwrap();
            want.push(content);
        }
        let mut rm = Command::new("rm").arg("-rf").arg(&top).spawn().unwrap();
        // Kill once rm is some way in: after a random number of its deletions.
        let at = rng.below(FILES as u64) as usize;
        let storage_trash = m.storage.join("trash");
        let deadline = Instant::now() + Duration::from_secs(30);
        while fs::read_dir(&storage_trash).map_or(0, |d| d.count()) < at
            && rm.try_wait().unwrap().is_none()
        {
            assert!(Instant::now() < deadline, "rm -rf made no progress");
            thread::sleep(Duration::from_millis(1));
        }
        m.kill9();
        let _ = rm.wait();
        m.mount();
        let mut found = BTreeMap::new();
        contents(&m.gallery(), &mut found);
        contents(&m.trash(), &mut found);
        for content in &want {
            let n = found.get(content).copied().unwrap_or(0);
            assert_eq!(
                n, 1,
                "round {round} (seed {seed:#x}, killed after ~{at} deletions): {content:?} found {n} times"
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
    }
    println!(
        "SUITE fold-crash: {rounds} kills during rm -rf of {FILES} files, 0 failures (seed {seed:#x})"
    );
}
