//! The catalog alone, on temporary databases.

use super::*;
use crate::contract::Reason;

fn new_entry<'a>(name: &'a [u8], path: &'a [u8], at: i64) -> NewEntry<'a> {
    NewEntry {
        name,
        original_path: path,
        deleted_at: at,
        kind: libc::S_IFREG,
        uid: 1000,
        size: 4096,
        state: EntryState::Settled,
        ino: 42,
        reason: Reason::Deleted,
        by: None,
        litter: false,
    }
}

fn open_temp() -> (tempfile::TempDir, Catalog) {
    let dir = tempfile::tempdir().unwrap();
    let cat = Catalog::open(&dir.path().join("galleryfs.db")).unwrap();
    (dir, cat)
}

#[test]
fn insert_and_find_by_name_with_non_utf8_bytes() {
    let (_d, cat) = open_temp();
    let id = cat
        .insert(&new_entry(b"caf\xe9.jpg", b"a/caf\xe9.jpg", 100))
        .unwrap()
        .unwrap();
    let row = cat.by_name(b"caf\xe9.jpg").unwrap().unwrap();
    assert_eq!(row.id, id);
    assert_eq!(row.original_path, b"a/caf\xe9.jpg");
    assert_eq!(row.deleted_at, 100);
    assert_eq!(row.state, EntryState::Settled);
    assert!(cat.name_taken(b"caf\xe9.jpg").unwrap());
    assert!(!cat.name_taken(b"cafe.jpg").unwrap());
}

#[test]
fn names_with_a_prefix_are_found_by_range() {
    let (_d, cat) = open_temp();
    for name in [
        &b"cat (2).jpg"[..],
        b"cat (10).jpg",
        b"cat.jpg",
        b"cas.jpg",
        b"cat (\xff",
    ] {
        cat.insert(&new_entry(name, b"p", 1)).unwrap().unwrap();
    }
    let mut found = cat.names_with_prefix(b"cat (").unwrap();
    found.sort();
    assert_eq!(
        found,
        vec![
            b"cat (10).jpg".to_vec(),
            b"cat (2).jpg".to_vec(),
            b"cat (\xff".to_vec()
        ]
    );
    assert_eq!(cat.names_with_prefix(b"dog").unwrap().len(), 0);
}

#[test]
fn a_taken_name_is_refused() {
    let (_d, cat) = open_temp();
    assert!(cat.insert(&new_entry(b"x", b"x", 1)).unwrap().is_some());
    assert_eq!(cat.insert(&new_entry(b"x", b"y", 2)).unwrap(), None);
    assert_eq!(cat.by_name(b"x").unwrap().unwrap().original_path, b"x");
}

#[test]
fn rename_can_be_reverted_and_reserves_both_names() {
    let (_d, cat) = open_temp();
    let id = cat.insert(&new_entry(b"a", b"a", 1)).unwrap().unwrap();
    cat.insert(&new_entry(b"taken", b"t", 1)).unwrap().unwrap();
    assert!(!cat.begin_rename(id, b"taken").unwrap());
    assert!(cat.begin_rename(id, b"b").unwrap());
    assert!(
        cat.name_taken(b"a").unwrap(),
        "the old name stays reserved mid-rename"
    );
    assert_eq!(cat.unsettled().unwrap().len(), 1);
    cat.revert_rename(id).unwrap();
    assert!(cat.by_name(b"a").unwrap().is_some());
    assert!(cat.by_name(b"b").unwrap().is_none());
    assert!(cat.begin_rename(id, b"b").unwrap());
    cat.settle(id).unwrap();
    assert!(!cat.name_taken(b"a").unwrap());
    assert!(cat.unsettled().unwrap().is_empty());
}

#[test]
fn expired_lists_oldest_first_and_page_skips_unsettled() {
    let (_d, cat) = open_temp();
    cat.insert(&new_entry(b"new", b"n", 300)).unwrap();
    cat.insert(&new_entry(b"old", b"o", 100)).unwrap();
    let mut linking = new_entry(b"link", b"l", 50);
    linking.state = EntryState::Linking;
    cat.insert(&linking).unwrap();
    let expired: Vec<_> = cat
        .expired(200, 10)
        .unwrap()
        .into_iter()
        .map(|r| r.name)
        .collect();
    assert_eq!(expired, vec![b"old".to_vec()]);
    let page: Vec<_> = cat
        .page(0, 10)
        .unwrap()
        .into_iter()
        .map(|r| r.name)
        .collect();
    assert_eq!(page, vec![b"new".to_vec(), b"old".to_vec()]);
    let first = cat.page(0, 1).unwrap()[0].id;
    assert_eq!(cat.page(first, 10).unwrap().len(), 1);
    assert_eq!(cat.count_live(150, 150, 100).unwrap(), 1);
    assert_eq!(cat.total_size().unwrap(), 3 * 4096);
}

#[test]
fn reopening_keeps_rows_and_schema() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("galleryfs.db");
    Catalog::open(&path)
        .unwrap()
        .insert(&new_entry(b"x", b"x", 1))
        .unwrap();
    let cat = Catalog::open(&path).unwrap();
    assert_eq!(cat.by_name(b"x").unwrap().unwrap().ino, 42);
    assert_eq!(cat.integrity_check().unwrap(), "ok");
    assert!(
        cat.was_in_use().unwrap(),
        "a new catalog needs a full reconcile"
    );
    cat.set_in_use(false).unwrap();
    assert!(!cat.was_in_use().unwrap());
    cat.set_in_use(true).unwrap();
    assert!(cat.was_in_use().unwrap());
}

#[test]
fn garbage_is_refused_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("galleryfs.db");
    let garbage = b"this is not sqlite, just some bytes that happen to be here.....".repeat(100);
    std::fs::write(&path, &garbage).unwrap();
    assert!(matches!(
        Catalog::open(&path),
        Err(CatalogError::Corrupt(_))
    ));
    assert_eq!(std::fs::read(&path).unwrap(), garbage);
}

#[test]
fn a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("galleryfs.db");
    drop(Catalog::open(&path).unwrap());
    let conn = Connection::open(&path).unwrap();
    conn.pragma_update(None, "user_version", 99).unwrap();
    drop(conn);
    assert!(matches!(
        Catalog::open(&path),
        Err(CatalogError::TooNew(99))
    ));
}

#[test]
fn a_foreign_database_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("galleryfs.db");
    let conn = Connection::open(&path).unwrap();
    conn.execute_batch("CREATE TABLE photos(x)").unwrap();
    drop(conn);
    assert!(matches!(
        Catalog::open(&path),
        Err(CatalogError::Corrupt(_))
    ));
}

#[test]
fn litter_has_its_own_cutoff() {
    let (_d, cat) = open_temp();
    cat.insert(&new_entry(b"photo", b"photo", 100)).unwrap();
    let old = NewEntry {
        litter: true,
        ..new_entry(b".x.swp", b".x.swp", 100)
    };
    cat.insert(&old).unwrap();
    let young = NewEntry {
        litter: true,
        ..new_entry(b"x~", b"x~", 300)
    };
    cat.insert(&young).unwrap();
    assert!(cat.by_name(b".x.swp").unwrap().unwrap().litter);
    assert!(!cat.by_name(b"photo").unwrap().unwrap().litter);
    let names = |rows: Vec<EntryRow>| rows.into_iter().map(|r| r.name).collect::<Vec<_>>();
    assert_eq!(names(cat.expired_litter(200, 10).unwrap()), [b".x.swp"]);
    // Alive: the photo (deleted after 50) and the litter deleted after 200.
    assert_eq!(cat.count_live(50, 200, 10).unwrap(), 2);
    assert_eq!(cat.count_live(50, 50, 10).unwrap(), 3);
}

#[test]
fn rows_from_before_litter_are_not_litter() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("galleryfs.db");
    let conn = Connection::open(&path).unwrap();
    for sql in &MIGRATIONS[..6] {
        conn.execute_batch(sql).unwrap();
    }
    conn.pragma_update(None, "user_version", 6).unwrap();
    conn.execute(
        "INSERT INTO entries (name, original_path, deleted_at, kind, uid, size)
         VALUES (x'2e782e737770', x'2e782e737770', 1, 32768, 0, 0)",
        [],
    )
    .unwrap();
    drop(conn);
    let cat = Catalog::open(&path).unwrap();
    assert!(!cat.by_name(b".x.swp").unwrap().unwrap().litter);
    assert_eq!(SCHEMA_VERSION, 7);
}

#[test]
fn only_a_crash_of_the_machine_makes_the_next_open_check_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let cat = Catalog::open(&dir.path().join("galleryfs.db")).unwrap();
    assert!(!trusted(&cat.conn), "a new catalog is checked");
    cat.set_in_use(false).unwrap();
    assert!(trusted(&cat.conn), "a clean stop checkpointed it");
    cat.set_in_use(true).unwrap();
    assert_eq!(
        trusted(&cat.conn),
        crate::clock::boot().is_some(),
        "galleryfs killed on this boot: SQLite's log covers it"
    );
    cat.conn
        .execute("UPDATE meta SET value = value + 1 WHERE key = 'boot'", [])
        .unwrap();
    assert!(!trusted(&cat.conn), "in use when the machine went down");
    cat.conn
        .execute("DELETE FROM meta WHERE key = 'boot'", [])
        .unwrap();
    assert!(!trusted(&cat.conn), "in use, boot unknown");
    cat.set_in_use(false).unwrap();
    assert!(trusted(&cat.conn));
}
