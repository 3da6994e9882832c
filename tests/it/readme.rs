//! The README's "Operations" table lists every operation of the spec, as
//! `feishu_helpdesk::operations()` describes them (resource, operation, method and path,
//! token): a new or changed operation fails this test until the table says so.

use feishu_helpdesk::{operations, TokenKind};

const README: &str = include_str!("../../README.md");
const START: &str = "<!-- operations table: generated from the spec, checked by tests/it/readme.rs -->";
const END: &str = "<!-- end of the operations table -->";

/// The table as it must read.
fn expected_table() -> String {
    let mut rows: Vec<_> = operations()
        .iter()
        .map(|op| {
            let token = match op.token {
                TokenKind::Tenant => "tenant",
                TokenKind::User => "user",
                TokenKind::TenantOrUser => "tenant or user",
                _ => "none",
            };
            let notes = match (op.paging.is_some(), op.binary) {
                (true, _) => " (paged: `.stream()`)",
                (_, true) => " (bytes: `Download`)",
                _ => "",
            };
            (
                op.tag,
                op.id,
                format!(
                    "| `{}` | `{}`{notes} | `{} {}` | {token} |",
                    op.tag, op.id, op.method, op.path
                ),
            )
        })
        .collect();
    rows.sort();
    let mut table =
        String::from("| resource | operation | method and path | token |\n| --- | --- | --- | --- |\n");
    for (_, _, row) in rows {
        table.push_str(&row);
        table.push('\n');
    }
    table
}

#[test]
fn the_operations_table_lists_every_operation_of_the_spec() {
    let table = README
        .split_once(START)
        .and_then(|(_, rest)| rest.split_once(END))
        .map(|(table, _)| table.trim())
        .expect("the README has the operations table between its markers");
    let expected = expected_table();
    assert_eq!(
        table,
        expected.trim(),
        "the README's operations table is out of step with the spec; it should read:\n{expected}"
    );
    assert_eq!(expected.lines().count(), 2 + 50, "the helpdesk has 50 operations");
}
