//! Damaged SQLite files, made the way a bad disk or a torn copy makes them: page headers
//! overwritten in place, for the tests of what HoneyDB refuses.

use std::path::Path;

use rusqlite::Connection;

/// The root page of table or index `name` and the last leaf under it (right-most child
/// pointers followed from the root); the same page when it fits in one.
pub fn root_and_last_leaf(db: &Path, name: &str) -> (u32, u32) {
    let conn = Connection::open(db).expect("open db");
    let root: u32 = conn
        .query_row(
            "SELECT rootpage FROM sqlite_schema WHERE name = ?1",
            [name],
            |r| r.get(0),
        )
        .unwrap_or_else(|e| panic!("no b-tree {name}: {e}"));
    drop(conn);
    let bytes = std::fs::read(db).expect("read db");
    let size = page_size(&bytes);
    let mut page = root;
    // Interior pages (2: index, 5: table) hold their right-most child at offset 8.
    while matches!(bytes[page_offset(page, size)], 2 | 5) {
        let at = page_offset(page, size) + 8;
        page = u32::from_be_bytes(bytes[at..at + 4].try_into().expect("4 bytes"));
    }
    (root, page)
}

/// Overwrites the first 12 bytes of `page` (its b-tree header) with garbage. The file must
/// be closed (no `-wal` left).
pub fn damage_page(db: &Path, page: u32) {
    let mut bytes = std::fs::read(db).expect("read db");
    let at = page_offset(page, page_size(&bytes));
    bytes[at..at + 12].copy_from_slice(&[0x55; 12]);
    std::fs::write(db, &bytes).expect("damage a page");
}

fn page_size(bytes: &[u8]) -> usize {
    match u16::from_be_bytes([bytes[16], bytes[17]]) {
        1 => 65536,
        n => usize::from(n),
    }
}

fn page_offset(page: u32, size: usize) -> usize {
    assert!(page > 1, "page 1 holds the file header");
    (page as usize - 1) * size
}
