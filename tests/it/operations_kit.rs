//! Every helpdesk operation, called once through `Client::api()` against the testing kit's
//! `MockPlatform`, as a user's tests would call them: the kit must accept each call the
//! typed builders make (method and path, query, body against its schema, both credentials,
//! the token kind) and answer the spec's example `data` (or its PNG for the downloads).
//! `tests/it/operations.rs` checks the same calls byte by byte against a recording server;
//! its table is private to it, so the calls are written again here, one line each, from the
//! spec's request examples. Then the kit's refusals: the wrong kind of token, a bad body, an
//! unknown, repeated or missing query parameter, each a 400 whose message names the problem.

use std::collections::BTreeSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::LazyLock;

use serde_json::{json, Value};
use serde_yaml_ng::Value as Yaml;

use feishu_helpdesk::generated::types;
use feishu_helpdesk::prelude::*;
use feishu_helpdesk::testing::{self, MockCredentials, MockPlatform};
use feishu_helpdesk::{operations, Client, Download, Error, Operation, TokenKind};

use crate::operations::{a_user as user, some, strings, ticket_created};

// The ids of the spec's examples.
const AGENT: &str = "ou_ea651a5c09e2d01af8acd34059f5359b";
const GUEST: &str = "ou_7dab8a3d3cdcc9da365777c7ad535d62";
const SKILL: &str = "6941215891786825756";
const CATEGORY: &str = "6948728206392295444";
const FAQ: &str = "6856395634652479491";
const NOTIFICATION: &str = "6981801914270744596";
const TICKET: &str = "6948728206392295444";
const MESSAGE: &str = "6949088236610273307";
const FIELD: &str = "6834320707288072194";
const PUSH_CONTENT: &str = r#"{"config":{"wide_screen_mode":true},"elements":[{"tag":"div","text":{"tag":"plain_text","content":"下周一系统升级"}}]}"#;

/// What a call gave back: the answer's `data` as JSON, or a download's type and bytes.
#[derive(Debug, PartialEq)]
enum Returned {
    Data(Value),
    Download(Option<String>, Vec<u8>),
}

type Pending = Pin<Box<dyn Future<Output = Result<Returned, Error>> + Send>>;
/// One operation's call, made on the client it is given.
type Call = fn(Client) -> Pending;

fn data<T: serde::Serialize>(answer: Result<T, Error>) -> Result<Returned, Error> {
    answer.map(|data| Returned::Data(serde_json::to_value(data).unwrap()))
}

async fn download(answer: Result<Download, Error>) -> Result<Returned, Error> {
    let download = answer?;
    let content_type = download.content_type.clone();
    Ok(Returned::Download(content_type, download.bytes().await?))
}

/// A row: the operation and its call, made on the client it is given.
macro_rules! row {
    ($id:literal, |$c:ident| $call:expr) => {
        (
            $id,
            (|$c: Client| -> Pending { Box::pin(async move { data($call.send().await) }) }) as Call,
        )
    };
    ($id:literal, download |$c:ident| $call:expr) => {
        (
            $id,
            (|$c: Client| -> Pending { Box::pin(async move { download($call.send().await).await }) }) as Call,
        )
    };
}

fn schedule() -> types::AgentScheduleUpdateInfo {
    let hours = types::WeekdaySchedule {
        start_time: some("09:00"),
        end_time: some("18:00"),
        weekday: Some(10),
    };
    types::AgentScheduleUpdateInfo {
        agent_id: some(AGENT),
        agent_skill_ids: strings(&[SKILL]),
        schedule: vec![hours],
    }
}

fn rule() -> types::AgentSkillRule {
    types::AgentSkillRule {
        id: some("7034209580342657043"),
        selected_operator: Some(8),
        operator_options: vec![3],
        operand: some(
            r#"{"selected_departments":[{"id":"od_7c1a2815c9846b5e518b950de0e62de8","name":"IT"}]}"#,
        ),
        category: Some(3),
        display_name: some("部门"),
    }
}

fn faq_create() -> types::FaqCreateInfo {
    let faq = types::builder::FaqCreateInfo::default()
        .category_id(some("6836004780707807251"))
        .question("如何连接 VPN？")
        .answer(some("请在设置页面打开 VPN。"))
        .tags(strings(&["VPN 连不上"]));
    faq.try_into().unwrap()
}

fn faq_update() -> types::FaqUpdateInfo {
    let text = types::Richtext {
        content: some("请在设置页面打开 VPN。"),
        type_: some("text"),
    };
    let faq = types::builder::FaqUpdateInfo::default()
        .question("如何连接 VPN？")
        .answer_richtext(vec![text]);
    faq.try_into().unwrap()
}

/// Every helpdesk operation, once, with valid parameters and bodies.
#[rustfmt::skip]
fn table() -> Vec<(&'static str, Call)> {
    vec![
        // agents
        row!("get_agent_emails", |c| c.api().get_agent_emails()),
        row!("patch_agent", |c| c.api().patch_agent().agent_id(AGENT).body(types::PatchAgentRequest { status: Some(1) })),
        // agent-schedules
        row!("get_agent_schedules", |c| c.api().get_agent_schedules().agent_id(AGENT)),
        row!("delete_agent_schedules", |c| c.api().delete_agent_schedules().agent_id(AGENT)),
        row!("patch_agent_schedules", |c| c.api().patch_agent_schedules().agent_id(AGENT).body(types::PatchAgentSchedulesRequest { agent_schedule: Some(schedule()) })),
        row!("create_agent_schedules", |c| c.api().create_agent_schedules().body(types::CreateAgentSchedulesRequest { agent_schedules: vec![schedule()] })),
        row!("list_agent_schedules", |c| c.api().list_agent_schedules().status(vec![1_i64, 2])),
        // agent-skills, agent-skill-rules
        row!("create_agent_skill", |c| c.api().create_agent_skill().body(types::CreateAgentSkillRequest { name: some("VPN 支持"), rules: vec![rule()], agent_ids: strings(&[AGENT]) })),
        row!("list_agent_skills", |c| c.api().list_agent_skills()),
        row!("delete_agent_skill", |c| c.api().delete_agent_skill().agent_skill_id(SKILL)),
        row!("get_agent_skill", |c| c.api().get_agent_skill().agent_skill_id(SKILL)),
        row!("patch_agent_skill", |c| c.api().patch_agent_skill().agent_skill_id(SKILL).body(types::PatchAgentSkillRequest {
            agent_skill: Some(types::AgentSkill { name: some("VPN 支持"), rules: vec![rule()], agent_ids: strings(&[AGENT]), ..Default::default() }),
        })),
        row!("list_agent_skill_rules", |c| c.api().list_agent_skill_rules()),
        // bot-messages
        row!("create_bot_message", |c| c.api().create_bot_message().user_id_type(types::UserIdType::OpenId)
            .body_map(|b| b.msg_type("text").content(r#"{"text":"您的工单已处理"}"#).receiver_id(GUEST).receive_type(some("user")))),
        // categories
        row!("create_category", |c| c.api().create_category().body_map(|b| b.name("创建团队和邀请成员").parent_id("0").language(some("zh_cn")))),
        row!("list_categories", |c| c.api().list_categories().lang("zh_cn").order_by(1).asc(true)),
        row!("delete_category", |c| c.api().delete_category().id(CATEGORY)),
        row!("get_category", |c| c.api().get_category().id(CATEGORY)),
        row!("patch_category", |c| c.api().patch_category().id(CATEGORY).body(types::PatchCategoryRequest { name: some("团队管理"), parent_id: some("0") })),
        // faqs
        row!("create_faq", |c| c.api().create_faq().body(types::CreateFaqRequest { faq: Some(faq_create()) })),
        row!("list_faqs", |c| c.api().list_faqs().category_id("6856395522433908739").status("1").search("点餐 & 外卖").page_token(FAQ).page_size(10)),
        row!("delete_faq", |c| c.api().delete_faq().id(FAQ)),
        row!("get_faq", |c| c.api().get_faq().id(FAQ)),
        row!("patch_faq", |c| c.api().patch_faq().id(FAQ).body(types::PatchFaqRequest { faq: Some(faq_update()) })),
        row!("get_faq_image", download |c| c.api().get_faq_image().id(FAQ).image_key("img_b07ffac0-19c1-48a3-afca-599f8ea825fj")),
        row!("search_faqs", |c| c.api().search_faqs().query("d2lmaQ==").base64("true").page_token("6936004780707807251").page_size(10)),
        // notifications
        row!("cancel_approve_notification", |c| c.api().cancel_approve_notification().notification_id(NOTIFICATION)),
        row!("cancel_send_notification", |c| c.api().cancel_send_notification().notification_id(NOTIFICATION).body_map(|b| b.is_recall(true))),
        row!("create_notification", |c| c.api().create_notification().user_id_type(types::UserIdType::OpenId).body_map(|b| {
            let chat = types::NotificationChat { chat_id: some("oc_7277fd1262bfafc363d5b2a1f9c2ac90"), name: some("测试群聊") };
            b.job_name("测试推送任务").push_content(PUSH_CONTENT).push_type(0).push_scope_type(2).user_list(vec![user()]).chat_list(vec![chat])
        })),
        row!("execute_send_notification", |c| c.api().execute_send_notification().notification_id(NOTIFICATION).body_map(|b| b.send_at("1624326025000"))),
        row!("get_notification", |c| c.api().get_notification().notification_id(NOTIFICATION).user_id_type(types::UserIdType::UserId)),
        row!("patch_notification", |c| c.api().patch_notification().notification_id(NOTIFICATION).user_id_type(types::UserIdType::UnionId).body(types::Notification {
            job_name: some("测试推送任务"), push_content: some(PUSH_CONTENT), send_at: some("1626332244719"), user_list: vec![user()], ..Default::default()
        })),
        row!("preview_notification", |c| c.api().preview_notification().notification_id(NOTIFICATION)),
        row!("submit_approve_notification", |c| c.api().submit_approve_notification().notification_id(NOTIFICATION).body_map(|b| b.reason("下周一系统升级通知"))),
        // tickets
        row!("answer_ticket_user_query", |c| c.api().answer_ticket_user_query().ticket_id(TICKET).body_map(|b| {
            b.event_id("118a6492-122d-04ad-4370-010a3bb384d3").faqs(vec![types::UserQueryFaq { id: some("6936004780707807231"), score: Some(0.9) }])
        })),
        row!("list_customized_fields", |c| c.api().list_customized_fields().visible_only(false)),
        row!("get_ticket", |c| c.api().get_ticket().ticket_id(TICKET)),
        row!("update_ticket", |c| c.api().update_ticket().ticket_id(TICKET).body(types::UpdateTicketRequest {
            status: Some(51),
            tag_names: strings(&["VIP"]),
            comment: some("已解决"),
            customized_fields: vec![types::CustomizedField { id: some(FIELD), value: some(r#"{"value":"VIP"}"#), ..Default::default() }],
            solved: Some(2),
            ..Default::default()
        })),
        row!("list_tickets", |c| c.api().list_tickets().agent_id(AGENT).guest_name("张三").status_list(vec![1_i64, 2, 50]).tags(strings(&["VIP", "紧急"]))
            .type_(2).create_time_start(1616920429000_i64).create_time_end(1616920529000_i64).page(1).page_size(20)),
        row!("start_service", |c| c.api().start_service()
            .body_map(|b| b.open_id(GUEST).human_service(Some(true)).appointed_agents(strings(&[AGENT])).customized_info(some("来自报销系统")))),
        row!("get_ticket_image", download |c| c.api().get_ticket_image().ticket_id(TICKET).msg_id(MESSAGE).index(1)),
        // ticket-messages
        row!("create_ticket_message", |c| c.api().create_ticket_message().ticket_id(TICKET).body_map(|b| b.msg_type("text").content(r#"{"text":"您好，已为您处理"}"#))),
        row!("list_ticket_messages", |c| c.api().list_ticket_messages().ticket_id(TICKET).time_start(1617960686).time_end(1617960687).page(2).page_size(10)),
        // ticket-customized-fields
        row!("create_ticket_customized_field", |c| c.api().create_ticket_customized_field().body_map(|b| {
            b.helpdesk_id(some(testing::HELPDESK_ID)).key_name("level").display_name("客户等级").position("3").field_type("string")
                .description("客户的服务等级").visible(true).required(false)
        })),
        row!("list_ticket_customized_fields", |c| c.api().list_ticket_customized_fields().page_token(TICKET).page_size(10)
            .body(types::ListTicketCustomizedFieldsRequest { visible: Some(true) })),
        row!("delete_ticket_customized_field", |c| c.api().delete_ticket_customized_field().ticket_customized_field_id(FIELD)),
        row!("get_ticket_customized_field", |c| c.api().get_ticket_customized_field().ticket_customized_field_id(FIELD)),
        row!("patch_ticket_customized_field", |c| c.api().patch_ticket_customized_field().ticket_customized_field_id(FIELD).body(types::PatchTicketCustomizedFieldRequest {
            display_name: some("客户级别"), position: some("2"), visible: Some(false), ..Default::default()
        })),
        // helpdesk-events
        row!("subscribe_events", |c| c.api().subscribe_events().body_map(|b| b.events(ticket_created()))),
        row!("unsubscribe_events", |c| c.api().unsubscribe_events().body_map(|b| b.events(ticket_created()))),
    ]
}

// ---------------------------------------------------------------------------------------
// What the spec says: each operation's first example of a success, read from the spec
// itself (not from the kit, which answers from the same spec).
// ---------------------------------------------------------------------------------------

static EXAMPLES: LazyLock<Vec<(String, Option<Value>)>> = LazyLock::new(|| {
    let doc: Yaml = serde_yaml_ng::from_str(include_str!("../../openapi/helpdesk.yaml")).unwrap();
    let resolve = |node| resolve(&doc, node);
    let mut found = Vec::new();
    for (_, item) in doc["paths"].as_mapping().unwrap() {
        for (_, op) in item.as_mapping().unwrap() {
            let Some(id) = op.get("operationId").and_then(Yaml::as_str) else {
                continue;
            };
            let json = &resolve(&op["responses"]["200"])["content"]["application/json"];
            let example = match (
                json.get("example"),
                json.get("examples").and_then(Yaml::as_mapping),
            ) {
                (Some(example), _) => Some(example.clone()),
                (None, Some(examples)) => examples
                    .iter()
                    .next()
                    .map(|(_, first)| resolve(first)["value"].clone()),
                (None, None) => None,
            };
            found.push((
                id.to_owned(),
                example.map(|example| serde_json::to_value(example).unwrap()),
            ));
        }
    }
    found
});

/// `node`, or what its `$ref` (a local reference) points to.
fn resolve<'a>(doc: &'a Yaml, mut node: &'a Yaml) -> &'a Yaml {
    while let Some(reference) = node.get("$ref").and_then(Yaml::as_str) {
        let pointer = reference.strip_prefix("#/").expect("a local reference");
        node = pointer.split('/').fold(doc, |node, key| &node[key]);
    }
    node
}

/// What `id` must give back: its example's `data` (`{}` without one), or the kit's PNG.
fn expected(op: &Operation) -> Returned {
    if op.binary {
        let png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01".to_vec();
        return Returned::Download(Some("image/png".into()), png);
    }
    let (_, example) = EXAMPLES
        .iter()
        .find(|(id, _)| id == op.id)
        .unwrap_or_else(|| panic!("{} is not in the spec", op.id));
    let example = example
        .as_ref()
        .unwrap_or_else(|| panic!("{}: the spec has no 200 example", op.id));
    Returned::Data(example.get("data").cloned().unwrap_or_else(|| json!({})))
}

fn operation(id: &str) -> &'static Operation {
    operations()
        .iter()
        .find(|op| op.id == id)
        .unwrap_or_else(|| panic!("{id} is not in operations()"))
}

/// Whether a concrete path is an instance of a template with `{parameters}`.
fn matches(template: &str, path: &str) -> bool {
    let (template, path): (Vec<_>, Vec<_>) = (template.split('/').collect(), path.split('/').collect());
    template.len() == path.len()
        && template
            .iter()
            .zip(&path)
            .all(|(t, p)| t == p || (t.starts_with('{') && !p.is_empty()))
}

// ---------------------------------------------------------------------------------------
// The tests
// ---------------------------------------------------------------------------------------

#[test]
fn the_table_covers_every_helpdesk_operation_once() {
    let rows: Vec<&str> = table().into_iter().map(|(id, _)| id).collect();
    let covered: BTreeSet<&str> = rows.iter().copied().collect();
    assert_eq!(covered.len(), rows.len(), "an operation has two rows: {rows:?}");
    let all: BTreeSet<&str> = operations().iter().map(|op| op.id).collect();
    assert_eq!(covered, all);
}

#[tokio::test]
async fn every_operation_is_accepted_by_the_kit_and_answers_the_spec_example() {
    let platform = MockPlatform::start().await;
    let client = platform.client_builder().max_retries(0).build().unwrap();
    let user_view = client.as_user(testing::USER_ACCESS_TOKEN).unwrap();
    let mut called = 0;

    for (id, call) in table() {
        let op = operation(id);
        // A user-token operation on a user view; one that takes either, on both.
        let targets: &[(&str, &Client)] = match op.token {
            TokenKind::User => &[("a user view", &user_view)],
            TokenKind::TenantOrUser => &[("the client", &client), ("a user view", &user_view)],
            _ => &[("the client", &client)],
        };
        for &(on, target) in targets {
            let before = platform.requests().len();
            let returned = call(target.clone())
                .await
                .unwrap_or_else(|e| panic!("{id} on {on}: the kit refused it: {e}"));
            assert_eq!(returned, expected(op), "{id} on {on}: not the spec's example");

            let requests = platform.requests();
            let helpdesk: Vec<_> = requests[before..]
                .iter()
                .filter(|r| !r.path.contains("/auth/"))
                .collect();
            assert_eq!(helpdesk.len(), 1, "{id} on {on}: {helpdesk:#?}");
            let request = helpdesk[0];
            assert_eq!(request.answered, 200, "{id} on {on}");
            assert_eq!(request.method, op.method, "{id} on {on}");
            assert!(
                matches(op.path, &request.path),
                "{id} on {on}: {} is not {}",
                request.path,
                op.path
            );
            called += 1;
        }
    }
    assert_eq!(
        called,
        table().len() + 1,
        "get_notification twice, every other operation once"
    );
    assert_eq!(platform.token_fetches(), 1);
}

/// A tenant token where an operation acts for a person, and a user's token where an
/// operation takes the tenant's, sent as they are (the client cannot tell the tokens apart):
/// the kit refuses each, naming the operation and the token it takes.
#[tokio::test]
async fn the_wrong_kind_of_token_is_refused_by_the_kit() {
    const TENANT: &str = "t-fixed-tenant-token";
    let platform = MockPlatform::start_with(MockCredentials {
        tenant_access_token: Some(TENANT.into()),
        ..MockCredentials::default()
    })
    .await;
    let with_token = |token: &str| {
        Client::builder()
            .tenant_access_token(token)
            .helpdesk_credentials(testing::HELPDESK_ID, testing::HELPDESK_TOKEN)
            .base_url(platform.base_url())
            .max_retries(0)
            .build()
            .unwrap()
    };
    // A "user view" whose user token is the tenant token; a client whose tenant token is a user's.
    let tenant_as_user = with_token(TENANT).as_user(TENANT).unwrap();
    let user_as_tenant = with_token(testing::USER_ACCESS_TOKEN);
    let (mut user_ops, mut tenant_ops) = (0, 0);

    for (id, call) in table() {
        let (target, says) = match operation(id).token {
            TokenKind::User => (&tenant_as_user, "acts for a person: it takes a user access token"),
            TokenKind::Tenant => (&user_as_tenant, "takes a tenant access token, not a user's"),
            _ => continue,
        };
        let refused = call(target.clone()).await.expect_err(id);
        if id.ends_with("subscribe_events") {
            // The kit checks the two subscription operations on a path of their own, which
            // takes a user token for an unknown one (401, 99991663), as it takes no query
            // check; refused all the same.
            assert!(matches!(refused, Error::Api { .. }), "{id}: {refused:?}");
        } else {
            assert_eq!(
                (refused.http_status(), refused.code()),
                (Some(400), Some(99991668)),
                "{id}: {refused:?}"
            );
            let message = refused.to_string();
            assert!(message.contains(&format!("{id} {says}")), "{id}: {message}");
        }
        if operation(id).token == TokenKind::User {
            user_ops += 1;
        } else {
            tenant_ops += 1;
        }
    }
    let count = |kind| operations().iter().filter(|op| op.token == kind).count();
    assert_eq!(
        (user_ops, tenant_ops),
        (count(TokenKind::User), count(TokenKind::Tenant))
    );
    assert!(
        platform.requests().iter().all(|r| r.answered >= 400),
        "{:#?}",
        platform.requests()
    );
    platform.assert_subscribed(&[]);

    // With the right token, the same operations go through.
    let user_view = with_token(TENANT).as_user(testing::USER_ACCESS_TOKEN).unwrap();
    user_view.api().delete_faq().id(FAQ).send().await.unwrap();
    with_token(TENANT).api().get_faq().id(FAQ).send().await.unwrap();
}

/// Sends a raw call and gives the refusal's HTTP status, code and message.
async fn refusal(call: feishu_helpdesk::RawCall<'_>) -> (Option<u16>, Option<i64>, String) {
    let id = call.operation().id;
    let err = call.send().await.expect_err(id);
    (err.http_status(), err.code(), err.to_string())
}

#[tokio::test]
async fn a_bad_body_is_refused_with_400_naming_the_problem() {
    let platform = MockPlatform::start().await;
    let client = platform.client_builder().max_retries(0).build().unwrap();
    let message = |call| {
        client
            .raw("create_ticket_message")
            .unwrap()
            .path("ticket_id", TICKET)
            .body(call)
    };

    // A field of the wrong type.
    let (status, code, msg) = refusal(message(json!({"msg_type": 5, "content": "{}"}))).await;
    assert_eq!((status, code), (Some(400), Some(154000)), "{msg}");
    assert!(
        msg.contains("the body of create_ticket_message does not match its schema"),
        "{msg}"
    );
    // A required field missing.
    let (status, _, msg) = refusal(message(json!({"msg_type": "text"}))).await;
    assert_eq!(status, Some(400), "{msg}");
    assert!(
        msg.contains("create_ticket_message does not match its schema"),
        "{msg}"
    );
    assert!(msg.contains("content"), "names the missing field: {msg}");
    // A body where the operation takes none.
    let (status, _, msg) = refusal(
        client
            .raw("get_ticket")
            .unwrap()
            .path("ticket_id", TICKET)
            .body(json!({})),
    )
    .await;
    assert_eq!(status, Some(400), "{msg}");
    assert!(msg.contains("get_ticket takes no body"), "{msg}");
    // None where one is required.
    let (status, _, msg) = refusal(
        client
            .raw("create_ticket_message")
            .unwrap()
            .path("ticket_id", TICKET),
    )
    .await;
    assert_eq!(status, Some(400), "{msg}");
    assert!(msg.contains("create_ticket_message"), "{msg}");

    // The same call with a good body goes through.
    let answer = message(json!({"msg_type": "text", "content": r#"{"text":"ok"}"#}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.receipt.log_id.as_deref(), Some(testing::LOG_ID));
    assert_eq!(answer.msg, "success");
    assert!(answer.data.get("message_id").is_some(), "{:?}", answer.data);
}

#[tokio::test]
async fn a_wrong_query_is_refused_with_400_naming_the_parameter() {
    let platform = MockPlatform::start().await;
    let client = platform.client_builder().max_retries(0).build().unwrap();

    let unknown = client
        .raw("get_ticket")
        .unwrap()
        .path("ticket_id", TICKET)
        .query("nope", "1");
    let (status, code, msg) = refusal(unknown).await;
    assert_eq!((status, code), (Some(400), Some(154000)), "{msg}");
    assert!(msg.contains("get_ticket has no query parameter nope"), "{msg}");

    let twice = client
        .raw("list_tickets")
        .unwrap()
        .query("page", "1")
        .query("page", "2");
    let (status, _, msg) = refusal(twice).await;
    assert_eq!(status, Some(400), "{msg}");
    assert!(
        msg.contains("the query parameter page of list_tickets is given twice"),
        "{msg}"
    );
    // An array parameter may come twice.
    let array = client
        .raw("list_tickets")
        .unwrap()
        .query("status_list", "1")
        .query("status_list", "2");
    array.send().await.unwrap();

    let missing = client.raw("get_ticket_image").unwrap().query("msg_id", MESSAGE);
    let (status, _, msg) = refusal(missing).await;
    assert_eq!(status, Some(400), "{msg}");
    assert!(
        msg.contains("get_ticket_image needs the query parameter ticket_id"),
        "{msg}"
    );
}
