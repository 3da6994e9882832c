//! `feishu-helpdesk api` (feature `cli`), run for real against the testing kit: the list of
//! operations, a read, a write with its body given three ways, every page of a paged
//! operation, a user-token operation, a refusal, a download, and the usage errors, each
//! with its exit code, what it printed and what the platform saw.

use std::io::Write as _;
use std::process::{Command, Output, Stdio};

use feishu_helpdesk::testing::{self, MockPlatform, RecordedRequest, Scripted};
use feishu_helpdesk::TokenKind;
use serde_json::{json, Value};

use crate::cli::{app_env, borrowed, run, text, BIN};

const TICKET_T1: &str = "/open-apis/helpdesk/v1/tickets/T1";
const MESSAGES_T1: &str = "/open-apis/helpdesk/v1/tickets/T1/messages";
const TICKET_IMAGES: &str = "/open-apis/helpdesk/v1/ticket_images";
const CREATE_MESSAGE_BODY: &str = r#"{"msg_type":"text","content":"{\"text\":\"hi\"}"}"#;

/// As [`run`], with `stdin` written to the child's standard input.
async fn run_with_stdin(args: &[&str], env: &[(&str, &str)], stdin: &str) -> Output {
    let mut command = Command::new(BIN);
    command
        .args(args)
        .env_clear()
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let stdin = stdin.to_owned();
    tokio::task::spawn_blocking(move || {
        let mut child = command.spawn().unwrap();
        let mut input = child.stdin.take().unwrap();
        input.write_all(stdin.as_bytes()).unwrap();
        drop(input);
        child.wait_with_output().unwrap()
    })
    .await
    .unwrap()
}

/// Exit code 0, nothing on stderr; stdout as text.
#[track_caller]
fn success(out: &Output) -> String {
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout: {}\nstderr: {}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert_eq!(text(&out.stderr), "", "nothing on stderr");
    text(&out.stdout)
}

/// Exit code `code`, nothing on stdout; stderr as text.
#[track_caller]
fn failure(out: &Output, code: i32) -> String {
    assert_eq!(
        out.status.code(),
        Some(code),
        "stdout: {}\nstderr: {}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert_eq!(text(&out.stdout), "", "nothing on stdout");
    text(&out.stderr)
}

/// The requests the platform saw with this method and path.
fn seen(platform: &MockPlatform, method: &str, path: &str) -> Vec<RecordedRequest> {
    platform
        .requests()
        .into_iter()
        .filter(|r| r.method == method && r.path == path)
        .collect()
}

/// The requests the platform saw besides the token endpoint.
fn helpdesk_requests(platform: &MockPlatform) -> Vec<RecordedRequest> {
    platform
        .requests()
        .into_iter()
        .filter(|r| !r.path.starts_with("/open-apis/auth/"))
        .collect()
}

/// A fresh directory of this test's own under the system's temp dir.
fn temp_dir(test: &str) -> std::path::PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let dir = std::env::temp_dir().join(format!(
        "feishu-helpdesk-cli-api-{test}-{}-{nanos}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn token_name(kind: TokenKind) -> Option<&'static str> {
    match kind {
        TokenKind::Tenant => Some("tenant"),
        TokenKind::User => Some("user"),
        TokenKind::TenantOrUser => Some("tenant or user"),
        _ => None,
    }
}

#[tokio::test]
async fn api_list_gives_every_helpdesk_operation_with_method_path_and_token() {
    let expected: Vec<_> = feishu_helpdesk::operations()
        .iter()
        .filter_map(|op| token_name(op.token).map(|token| (op, token)))
        .collect();
    assert_eq!(expected.len(), 50, "the spec's helpdesk operations");
    assert!(expected.iter().any(|(_, token)| *token == "user"));
    assert!(expected.iter().any(|(_, token)| *token == "tenant or user"));

    // Plain: one line per operation, `id method path token`, in the library's order.
    let out = run(&["api", "--list"], &[]).await;
    let stdout = success(&out);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 50, "{stdout}");
    assert!(!stdout.contains("get_tenant_access_token"), "{stdout}");
    assert!(!stdout.contains("/auth/"), "{stdout}");
    for (line, (op, token)) in lines.iter().zip(&expected) {
        let words: Vec<&str> = line.split_whitespace().collect();
        assert!(words.len() >= 4, "{line:?}");
        assert_eq!(words[0], op.id, "{line:?}");
        assert_eq!(words[1], op.method, "{line:?}");
        assert_eq!(words[2], op.path, "{line:?}");
        assert_eq!(words[3..].join(" "), *token, "{line:?}");
    }
    let update = lines
        .iter()
        .find(|line| line.starts_with("update_ticket "))
        .unwrap();
    assert_eq!(
        update.split_whitespace().collect::<Vec<_>>(),
        [
            "update_ticket",
            "PUT",
            "/open-apis/helpdesk/v1/tickets/{ticket_id}",
            "user"
        ]
    );

    // JSON: one object per line with the same fields.
    let out = run(&["api", "--list", "--json"], &[]).await;
    let stdout = success(&out);
    let objects: Vec<Value> = stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{line:?}: {e}")))
        .collect();
    assert_eq!(objects.len(), 50, "{stdout}");
    for (object, (op, token)) in objects.iter().zip(&expected) {
        assert_eq!(
            *object,
            json!({
                "operation": op.id,
                "method": op.method,
                "path": op.path,
                "token": token,
                "resource": op.tag,
                "summary": op.summary,
            })
        );
    }
    let get_ticket = objects.iter().find(|o| o["operation"] == "get_ticket").unwrap();
    assert_eq!(get_ticket["method"], "GET");
    assert_eq!(get_ticket["path"], "/open-apis/helpdesk/v1/tickets/{ticket_id}");
    assert_eq!(get_ticket["token"], "tenant");
}

#[tokio::test]
async fn api_get_ticket_prints_its_data_and_with_json_the_envelope() {
    let platform = MockPlatform::start().await;
    platform.add_ticket("T1", "Alice");
    let env = app_env(&platform);

    let out = run(&["api", "get_ticket", "--path", "ticket_id=T1"], &borrowed(&env)).await;
    let stdout = success(&out);
    let data: Value = serde_json::from_str(&stdout).unwrap();
    // Pretty JSON: several lines, ending in a newline.
    assert_eq!(
        stdout,
        format!("{}\n", serde_json::to_string_pretty(&data).unwrap())
    );
    assert_eq!(data["ticket"]["ticket_id"], "T1");
    assert_eq!(data["ticket"]["guest"]["name"], "Alice");
    assert_eq!(data["ticket"]["helpdesk_id"], testing::HELPDESK_ID);

    let out = run(
        &["api", "get_ticket", "--path", "ticket_id=T1", "--json"],
        &borrowed(&env),
    )
    .await;
    let stdout = success(&out);
    assert_eq!(stdout.lines().count(), 1, "one line: {stdout}");
    let envelope: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(envelope["code"], 0);
    assert_eq!(envelope["msg"], "success");
    assert_eq!(envelope["data"], data);

    let seen = seen(&platform, "GET", TICKET_T1);
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert!(seen.iter().all(|r| r.answered == 200 && r.body.is_empty()));
    assert_eq!(helpdesk_requests(&platform).len(), 2);
}

#[tokio::test]
async fn api_create_ticket_message_takes_the_body_as_text_from_a_file_and_from_stdin() {
    let platform = MockPlatform::start().await;
    platform.add_ticket("T1", "Alice");
    let env = app_env(&platform);
    let args = |body: &'static str| {
        [
            "api",
            "create_ticket_message",
            "--path",
            "ticket_id=T1",
            "--body",
            body,
        ]
    };

    // The text itself.
    let out = run(&args(CREATE_MESSAGE_BODY), &borrowed(&env)).await;
    let data: Value = serde_json::from_str(&success(&out)).unwrap();
    assert_eq!(data, json!({"message_id": "om_mock_7000000000000000000"}));

    // `@file`.
    let dir = temp_dir("body-file");
    let file = dir.join("body.json");
    std::fs::write(&file, CREATE_MESSAGE_BODY).unwrap();
    let at_file = format!("@{}", file.display());
    let out = run(
        &[
            "api",
            "create_ticket_message",
            "--path",
            "ticket_id=T1",
            "--body",
            &at_file,
        ],
        &borrowed(&env),
    )
    .await;
    let data: Value = serde_json::from_str(&success(&out)).unwrap();
    assert_eq!(data, json!({"message_id": "om_mock_7000000000000000001"}));

    // `-`: standard input.
    let out = run_with_stdin(&args("-"), &borrowed(&env), CREATE_MESSAGE_BODY).await;
    let data: Value = serde_json::from_str(&success(&out)).unwrap();
    assert_eq!(data, json!({"message_id": "om_mock_7000000000000000002"}));

    let messages = platform.ticket_messages("T1");
    assert_eq!(messages.len(), 3, "{messages:?}");
    for message in &messages {
        assert_eq!(message["message_type"], "text");
        assert_eq!(message["content"], r#"{"text":"hi"}"#);
    }
    let seen = seen(&platform, "POST", MESSAGES_T1);
    assert_eq!(seen.len(), 3, "{seen:?}");
    for request in &seen {
        assert_eq!(request.answered, 200);
        let body: Value = serde_json::from_str(&request.body).unwrap();
        assert_eq!(body, json!({"msg_type": "text", "content": r#"{"text":"hi"}"#}));
        assert_eq!(
            request.header("content-type"),
            ["application/json; charset=utf-8"]
        );
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn api_all_pages_prints_every_message_of_a_ticket_one_line_each() {
    let platform = MockPlatform::start().await;
    platform.add_ticket("T1", "Alice");
    for n in 1..=5 {
        // No delivery configured: nothing is pushed, the message is kept.
        assert!(platform
            .customer_writes("T1", &format!("message {n}"))
            .await
            .is_none());
    }
    let env = app_env(&platform);

    let out = run(
        &[
            "api",
            "list_ticket_messages",
            "--path",
            "ticket_id=T1",
            "--query",
            "page_size=2",
            "--all-pages",
        ],
        &borrowed(&env),
    )
    .await;
    let stdout = success(&out);
    let lines: Vec<Value> = stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{line:?}: {e}")))
        .collect();
    assert_eq!(lines.len(), 5, "{stdout}");
    assert_eq!(lines, platform.ticket_messages("T1"), "every message, in order");
    for (n, line) in lines.iter().enumerate() {
        let content: Value = serde_json::from_str(line["content"].as_str().unwrap()).unwrap();
        assert_eq!(content["content"], format!("message {}", n + 1));
    }
    // Pages 1 (2 messages), 2 (2) and 3 (1): the total is reached, no fourth request.
    let seen = seen(&platform, "GET", MESSAGES_T1);
    assert_eq!(seen.len(), 3, "{seen:?}");
    assert!(seen.iter().all(|r| r.answered == 200));
    assert_eq!(helpdesk_requests(&platform).len(), 3);
}

#[tokio::test]
async fn api_update_ticket_needs_the_users_token_and_never_prints_it() {
    let platform = MockPlatform::start().await;
    platform.add_ticket("T1", "Alice");
    // No login stored.
    let config = std::env::temp_dir().join(format!("feishu-helpdesk-cli-api-{}", std::process::id()));
    let config_text = config.display().to_string();
    let mut env = app_env(&platform);
    env.push(("FEISHU_HELPDESK_CONFIG_DIR", config_text));
    let args = [
        "api",
        "update_ticket",
        "--path",
        "ticket_id=T1",
        "--body",
        r#"{"status":50}"#,
    ];

    // Without FEISHU_USER_ACCESS_TOKEN and no login stored: a configuration error, nothing sent.
    let out = run(&args, &borrowed(&env)).await;
    let stderr = failure(&out, 2);
    assert_eq!(
        stderr,
        format!(
            "error: no login to app {} is stored: run `feishu-helpdesk login` \
             (or set FEISHU_USER_ACCESS_TOKEN)\n",
            testing::APP_ID
        )
    );
    assert!(seen(&platform, "PUT", TICKET_T1).is_empty());
    assert!(helpdesk_requests(&platform).is_empty());

    // An empty variable counts as not set.
    let mut with_empty = borrowed(&env);
    with_empty.push(("FEISHU_USER_ACCESS_TOKEN", ""));
    let out = run(&args, &with_empty).await;
    assert!(failure(&out, 2).contains("FEISHU_USER_ACCESS_TOKEN"));
    assert!(helpdesk_requests(&platform).is_empty());

    // The user's token: done.
    let mut with_user = borrowed(&env);
    with_user.push(("FEISHU_USER_ACCESS_TOKEN", testing::USER_ACCESS_TOKEN));
    let out = run(&args, &with_user).await;
    let stdout = success(&out);
    assert_eq!(serde_json::from_str::<Value>(&stdout).unwrap(), json!({}));
    assert_eq!(stdout, "{}\n");
    assert!(!stdout.contains(testing::USER_ACCESS_TOKEN));
    let put = seen(&platform, "PUT", TICKET_T1);
    assert_eq!(put.len(), 1, "{put:?}");
    assert_eq!(put[0].answered, 200);
    assert_eq!(
        serde_json::from_str::<Value>(&put[0].body).unwrap(),
        json!({"status": 50})
    );
    assert_eq!(put[0].header("authorization"), ["Bearer ***"]);

    // A wrong user token: the platform refuses it as an invalid user token (HTTP 401, code 99991668).
    let mut with_wrong = borrowed(&env);
    with_wrong.push(("FEISHU_USER_ACCESS_TOKEN", "u-wrong-secret"));
    let out = run(&args, &with_wrong).await;
    let stderr = failure(&out, 1);
    for expected in [
        "HTTP status: 401".to_owned(),
        "code: 99991668".to_owned(),
        format!("log id: {}", testing::LOG_ID),
    ] {
        assert!(stderr.contains(&expected), "{expected} missing from {stderr}");
    }
    assert!(stderr.starts_with("error: "), "{stderr}");
    assert!(!stderr.contains("u-wrong-secret"), "{stderr}");
    assert!(!stderr.contains(testing::USER_ACCESS_TOKEN), "{stderr}");
    assert_eq!(
        stderr,
        format!(
            "error: the platform answered code 99991668 (HTTP 401): Invalid access token for \
             authorization. Please make a request with token attached.\n  HTTP status: 401\n  \
             code: 99991668\n  log id: {}\n",
            testing::LOG_ID
        )
    );
    // Sent once: a rejected user token is not the tenant token's fault, so no new tenant
    // token is fetched and the call is not sent again.
    let put = seen(&platform, "PUT", TICKET_T1);
    assert_eq!(put.len(), 2, "{put:?}");
    assert_eq!(put[1].answered, 401);
    assert_eq!(platform.token_fetches(), 0, "update_ticket takes no tenant token");
}

#[tokio::test]
async fn api_reports_a_refusal_with_its_status_code_and_log_id() {
    let platform = MockPlatform::start().await;
    platform.add_ticket("T1", "Alice");
    let env = app_env(&platform);
    let refusal = Scripted::Error {
        http_status: 400,
        code: 154000,
        msg: "ticket not found".into(),
    };

    platform.push_for("get_ticket", refusal.clone());
    let out = run(&["api", "get_ticket", "--path", "ticket_id=T1"], &borrowed(&env)).await;
    let stderr = failure(&out, 1);
    assert_eq!(
        stderr,
        format!(
            "error: the platform answered code 154000 (HTTP 400): ticket not found\n  \
             HTTP status: 400\n  code: 154000\n  log id: {}\n",
            testing::LOG_ID
        )
    );
    let seen_once = seen(&platform, "GET", TICKET_T1);
    assert_eq!(seen_once.len(), 1, "a 400 is not sent again: {seen_once:?}");
    assert_eq!(seen_once[0].answered, 400);

    // `--json`: the refusal as one JSON line on stderr.
    platform.push_for("get_ticket", refusal);
    let out = run(
        &["api", "get_ticket", "--path", "ticket_id=T1", "--json"],
        &borrowed(&env),
    )
    .await;
    let stderr = failure(&out, 1);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    let refused: Value = serde_json::from_str(&stderr).unwrap();
    assert_eq!(
        refused,
        json!({
            "error": "the platform answered code 154000 (HTTP 400): ticket not found",
            "http_status": 400,
            "code": 154000,
            "log_id": testing::LOG_ID,
        })
    );
    assert_eq!(seen(&platform, "GET", TICKET_T1).len(), 2);
}

#[tokio::test]
async fn api_get_ticket_image_writes_the_bytes_to_a_file_or_stdout() {
    let platform = MockPlatform::start().await;
    let env = app_env(&platform);
    // The bytes the kit serves, through the library.
    let client = platform.client_builder().build().unwrap();
    let served = client
        .raw("get_ticket_image")
        .unwrap()
        .query("ticket_id", "T1")
        .query("msg_id", "M1")
        .download()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert!(served.starts_with(b"\x89PNG"), "{served:?}");
    let before = seen(&platform, "GET", TICKET_IMAGES).len();
    assert_eq!(before, 1);

    let dir = temp_dir("download");
    let file = dir.join("image.png");
    let file_arg = file.display().to_string();
    let out = run(
        &[
            "api",
            "get_ticket_image",
            "--query",
            "ticket_id=T1",
            "--query",
            "msg_id=M1",
            "--output",
            &file_arg,
        ],
        &borrowed(&env),
    )
    .await;
    assert_eq!(success(&out), "", "the bytes go to the file only");
    assert_eq!(std::fs::read(&file).unwrap(), served);

    let out = run(
        &[
            "api",
            "get_ticket_image",
            "--query",
            "ticket_id=T1",
            "--query",
            "msg_id=M1",
        ],
        &borrowed(&env),
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stderr), "");
    assert_eq!(out.stdout, served, "the bytes, untouched, on stdout");

    let seen = seen(&platform, "GET", TICKET_IMAGES);
    assert_eq!(seen.len(), 3, "{seen:?}");
    assert!(seen.iter().all(|r| r.answered == 200));
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn api_usage_errors_exit_2_and_an_unknown_query_parameter_is_the_platforms_refusal() {
    let platform = MockPlatform::start().await;
    platform.add_ticket("T1", "Alice");
    let env = app_env(&platform);

    // An unknown operation.
    let out = run(&["api", "no_such_operation"], &borrowed(&env)).await;
    assert_eq!(
        failure(&out, 2),
        "error: invalid operation: no helpdesk operation is named \"no_such_operation\"\n"
    );
    // The token endpoint is not one of the helpdesk operations.
    let out = run(&["api", "get_tenant_access_token"], &borrowed(&env)).await;
    assert_eq!(
        failure(&out, 2),
        "error: invalid operation: no helpdesk operation is named \"get_tenant_access_token\"\n"
    );
    // No operation and no `--list`: clap's usage error.
    let out = run(&["api"], &borrowed(&env)).await;
    assert!(!failure(&out, 2).is_empty());

    // `--path` without `=`, or with an empty name.
    let out = run(&["api", "get_ticket", "--path", "ticket_id"], &borrowed(&env)).await;
    assert_eq!(
        failure(&out, 2),
        "error: --path \"ticket_id\" is not name=value\n"
    );
    let out = run(&["api", "get_ticket", "--path", "=T1"], &borrowed(&env)).await;
    assert_eq!(failure(&out, 2), "error: --path \"=T1\" is not name=value\n");
    let out = run(
        &["api", "get_ticket", "--path", "ticket_id=T1", "--query", "page"],
        &borrowed(&env),
    )
    .await;
    assert_eq!(failure(&out, 2), "error: --query \"page\" is not name=value\n");

    // A missing or unknown path parameter.
    let out = run(&["api", "get_ticket"], &borrowed(&env)).await;
    assert_eq!(
        failure(&out, 2),
        "error: invalid path: get_ticket needs the path parameter ticket_id\n"
    );
    let out = run(
        &[
            "api",
            "get_ticket",
            "--path",
            "ticket_id=T1",
            "--path",
            "faq_id=F1",
        ],
        &borrowed(&env),
    )
    .await;
    assert_eq!(
        failure(&out, 2),
        "error: invalid path: get_ticket has no path parameter faq_id\n"
    );

    // A body that is not JSON, and a body file that does not exist.
    let out = run(
        &[
            "api",
            "create_ticket_message",
            "--path",
            "ticket_id=T1",
            "--body",
            "{not json",
        ],
        &borrowed(&env),
    )
    .await;
    let stderr = failure(&out, 2);
    assert!(stderr.starts_with("error: the body is not JSON: "), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    let missing = temp_dir("usage").join("missing.json");
    let at_missing = format!("@{}", missing.display());
    let out = run(
        &[
            "api",
            "create_ticket_message",
            "--path",
            "ticket_id=T1",
            "--body",
            &at_missing,
        ],
        &borrowed(&env),
    )
    .await;
    let stderr = failure(&out, 2);
    assert!(
        stderr.starts_with(&format!(
            "error: cannot read the body from {}: ",
            missing.display()
        )),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(missing.parent().unwrap());

    // None of the usage errors reached the platform.
    assert!(
        helpdesk_requests(&platform).is_empty(),
        "{:?}",
        platform.requests()
    );
    assert!(platform.ticket_messages("T1").is_empty());

    // A query parameter the operation does not have: sent, and refused by the platform.
    let out = run(
        &[
            "api",
            "get_ticket",
            "--path",
            "ticket_id=T1",
            "--query",
            "colour=blue",
        ],
        &borrowed(&env),
    )
    .await;
    let stderr = failure(&out, 1);
    assert_eq!(
        stderr,
        format!(
            "error: the platform answered code 154000 (HTTP 400): Bad request, please check your \
             request body: get_ticket has no query parameter colour\n  HTTP status: 400\n  \
             code: 154000\n  log id: {}\n",
            testing::LOG_ID
        )
    );
    let get = seen(&platform, "GET", TICKET_T1);
    assert_eq!(get.len(), 1, "{get:?}");
    assert_eq!(get[0].answered, 400);
}

#[tokio::test]
async fn api_a_refused_download_writes_no_file_and_a_refused_page_ends_all_pages() {
    let platform = MockPlatform::start().await;
    platform.add_ticket("T1", "Alice");
    let env = app_env(&platform);
    let refusal = |code| Scripted::Error {
        http_status: 400,
        code,
        msg: "refused".into(),
    };

    // A refused download: the error on stderr, no file.
    platform.push_for("get_ticket_image", refusal(154001));
    let dir = temp_dir("refused-download");
    let file = dir.join("image.png");
    let file_arg = file.display().to_string();
    let out = run(
        &[
            "api",
            "get_ticket_image",
            "--query",
            "ticket_id=T1",
            "--query",
            "msg_id=M1",
            "--output",
            &file_arg,
        ],
        &borrowed(&env),
    )
    .await;
    assert_eq!(
        failure(&out, 1),
        format!(
            "error: the platform answered code 154001 (HTTP 400): refused\n  HTTP status: 400\n  \
             code: 154001\n  log id: {}\n",
            testing::LOG_ID
        )
    );
    assert!(!file.exists(), "no file for a refused download");
    let _ = std::fs::remove_dir_all(dir);

    // `--all-pages`: the items of the pages before the refused one, then the refusal.
    for n in 1..=5 {
        platform.customer_writes("T1", &format!("message {n}")).await;
    }
    let args = [
        "api",
        "list_ticket_messages",
        "--path",
        "ticket_id=T1",
        "--query",
        "page_size=2",
        "--all-pages",
    ];
    // The first page goes through (a delay of nothing); the second is refused.
    platform.push_for("list_ticket_messages", Scripted::Delay(std::time::Duration::ZERO));
    platform.push_for("list_ticket_messages", refusal(154000));
    let out = run(&args, &borrowed(&env)).await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let printed: Vec<Value> = text(&out.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(
        printed,
        platform.ticket_messages("T1")[..2],
        "the first page's two"
    );
    assert_eq!(
        text(&out.stderr),
        format!(
            "error: the platform answered code 154000 (HTTP 400): refused\n  HTTP status: 400\n  \
             code: 154000\n  log id: {}\n",
            testing::LOG_ID
        )
    );
    let pages = seen(&platform, "GET", MESSAGES_T1);
    assert_eq!(pages.iter().map(|r| r.answered).collect::<Vec<_>>(), [200, 400]);

    // `--all-pages` on an operation that does not page: a usage error, nothing sent.
    let before = helpdesk_requests(&platform).len();
    let out = run(
        &["api", "get_ticket", "--path", "ticket_id=T1", "--all-pages"],
        &borrowed(&env),
    )
    .await;
    assert_eq!(
        failure(&out, 2),
        "error: invalid operation: get_ticket does not page\n"
    );
    assert_eq!(helpdesk_requests(&platform).len(), before);

    // No configuration: a configuration error, nothing sent.
    let out = run(&["api", "get_ticket", "--path", "ticket_id=T1"], &[]).await;
    assert_eq!(
        failure(&out, 2),
        "error: FEISHU_APP_ID (with FEISHU_APP_SECRET) or FEISHU_TENANT_ACCESS_TOKEN is not set\n"
    );
    let without_helpdesk_token: Vec<_> = borrowed(&env)
        .into_iter()
        .filter(|(k, _)| *k != "FEISHU_HELPDESK_TOKEN")
        .collect();
    let out = run(
        &["api", "get_ticket", "--path", "ticket_id=T1"],
        &without_helpdesk_token,
    )
    .await;
    assert_eq!(failure(&out, 2), "error: FEISHU_HELPDESK_TOKEN is not set\n");
    assert_eq!(helpdesk_requests(&platform).len(), before);
}
