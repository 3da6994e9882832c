//! The modules of `src/` form a one-way stack: each uses only the modules listed above it in
//! the map at the top of `src/lib.rs`. A use of a module further down is an import cycle in
//! the making.

/// The modules in the order of the map in `src/lib.rs`.
fn map_order(lib: &str) -> Vec<String> {
    let mut order = Vec::new();
    for line in lib.lines().take_while(|line| !line.starts_with("mod ")) {
        let Some(entry) = line.strip_prefix("// ") else {
            continue;
        };
        // "name, name  what they hold": the names come before the two spaces.
        let Some((names, _)) = entry.split_once("  ") else {
            continue;
        };
        if names.starts_with(' ') || !names.chars().all(|c| c.is_ascii_lowercase() || "_, ".contains(c)) {
            continue;
        }
        order.extend(names.split(", ").map(str::to_owned));
    }
    order
}

/// The modules `code` names as `crate::<module>`, outside comments.
fn used_modules<'a>(code: &str, modules: &'a [String]) -> Vec<&'a str> {
    let code: String = code
        .lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    modules
        .iter()
        .filter(|module| {
            code.match_indices(&format!("crate::{module}"))
                .any(|(at, m)| !code[at + m.len()..].starts_with(|c: char| c.is_alphanumeric() || c == '_'))
        })
        .map(String::as_str)
        .collect()
}

#[test]
fn each_module_uses_only_the_modules_above_it() {
    let lib = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/lib.rs")).unwrap();
    let order = map_order(&lib);
    assert!(order.len() >= 15, "the map in src/lib.rs lists {order:?}");
    let mut upward = Vec::new();
    for (name, _, mut code) in crate::support::source_files() {
        // The crate root, and the command-line tool (a crate of its own on the public API).
        if name == "lib" || name == "bin" {
            continue;
        }
        let position = order
            .iter()
            .position(|module| *module == name)
            .unwrap_or_else(|| panic!("module {name} is not in the map in src/lib.rs"));
        if name == "generated" {
            code.push_str(include_str!(concat!(env!("OUT_DIR"), "/codegen.rs")));
        }
        for used in used_modules(&code, &order) {
            let used_at = order.iter().position(|module| module == used).unwrap();
            if used_at >= position && used != name {
                upward.push(format!("{name} uses {used}"));
            }
        }
    }
    assert!(
        upward.is_empty(),
        "uses of modules further down the map: {upward:?}"
    );
}

#[test]
fn the_check_sees_an_upward_use() {
    let order: Vec<String> = ["error", "client"].map(String::from).to_vec();
    assert_eq!(used_modules("use crate::client::Client;", &order), ["client"]);
    assert!(used_modules("// crate::client in a comment", &order).is_empty());
    assert!(used_modules("use crate::client_state::X;", &order).is_empty());
}
