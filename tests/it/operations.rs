//! Every helpdesk operation, called once through `Client::api()` against a local stand-in
//! that answers as `openapi/helpdesk.yaml` says.
//!
//! The spec is the contract and the builders are generated from it, so what can go wrong is
//! what sits between the two: a path parameter put in the wrong place, an array query sent
//! as `a=1,2` rather than `a=1&a=2`, a body lost or wrapped, the wrong token (or none) in
//! `Authorization`, the helpdesk header missing, an answer's `data` not coming back whole.
//! One table has a row per operation: the call, made as a user would make it, and what the
//! request must look like on the wire. For each row the stand-in's record of the request is
//! checked against the row and the spec (method and path template), and the call's answer
//! against the spec's first 200 example. The table must cover exactly the operations of
//! `feishu_helpdesk::operations()` (the token endpoint is not among them), so a new operation in the
//! spec fails here until it has a row.
//!
//! Further tests pin down the token kinds: operations that act for a person need a user
//! view (`Client::as_user`) and are refused before sending without one, the others keep
//! the tenant token on a view, `get_notification` takes either, and the user token never
//! shows in `Debug`. The calls' futures are `Send` (the table's type says so for every
//! operation; one test runs them all in spawned tasks).

use std::collections::{BTreeMap, BTreeSet};
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, LazyLock, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::body::Incoming;
use hyper::header::{HeaderMap, AUTHORIZATION, CONTENT_TYPE};
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use serde_yaml_ng::Value as Yaml;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use feishu_helpdesk::generated::types;
use feishu_helpdesk::prelude::*;
use feishu_helpdesk::{operations, Client, Download, Error, Operation, TokenKind};

use crate::support::{HELPDESK_HEADER, HELPDESK_ID, HELPDESK_TOKEN, TENANT_ACCESS_TOKEN};

/// A user access token in the platform's format.
const USER_ACCESS_TOKEN: &str = "u-0hQ3xYv1x8KbH2Lw9rTsPq7dNcEf4gAz";
/// The operations that obtain tenant tokens and log people in: no helpdesk operations, not
/// in the table.
const NOT_HELPDESK: [&str; 5] = [
    "get_tenant_access_token",
    "start_device_authorization",
    "get_user_access_token",
    "authorize",
    "get_user_info",
];
/// What the stand-in answers for an image.
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR";
/// The content type of every JSON body.
const JSON_UTF8: &str = "application/json; charset=utf-8";

// The ids of the spec's examples.
const AGENT: &str = "ou_ea651a5c09e2d01af8acd34059f5359b";
const GUEST: &str = "ou_7dab8a3d3cdcc9da365777c7ad535d62";
const SKILL: &str = "6941215891786825756";
const SKILL_RULE: &str = "7034209580342657043";
const CATEGORY: &str = "6948728206392295444";
const FAQ: &str = "6856395634652479491";
const NOTIFICATION: &str = "6981801914270744596";
const TICKET: &str = "6948728206392295444";
const MESSAGE: &str = "6949088236610273307";
const FIELD: &str = "6834320707288072194";

// ---------------------------------------------------------------------------------------
// The table
// ---------------------------------------------------------------------------------------

/// What a call gave back, comparable across operations.
#[derive(Debug)]
enum Returned {
    /// The answer's `data`, as JSON.
    Data(Value),
    /// A download's content type and bytes.
    Download {
        content_type: Option<String>,
        bytes: Vec<u8>,
    },
}

/// A call under way; `Send`, or the table would not compile.
type Pending = Pin<Box<dyn Future<Output = Result<Returned, Error>> + Send>>;

/// One operation's call and what it must send.
struct Row {
    id: &'static str,
    /// Makes the call on the client it is given (the tenant client or a user view).
    call: fn(Client) -> Pending,
    /// Whether the row is called on a user view.
    as_user: bool,
    /// The concrete path.
    path: &'static str,
    /// The query pairs, decoded; repeated keys in the order sent.
    query: &'static [(&'static str, &'static str)],
    /// The JSON body, if the operation sends one.
    body: Option<Value>,
}

/// A JSON operation's `data`, as JSON.
fn data<T: serde::Serialize>(answer: Result<T, Error>) -> Result<Returned, Error> {
    answer.map(|data| Returned::Data(serde_json::to_value(data).expect("data serializes")))
}

/// A download, read to the end.
async fn download(answer: Result<Download, Error>) -> Result<Returned, Error> {
    let download = answer?;
    let content_type = download.content_type.clone();
    Ok(Returned::Download {
        content_type,
        bytes: download.bytes().await?,
    })
}

/// An optional text field, set.
pub(crate) fn some(text: &str) -> Option<String> {
    Some(text.to_owned())
}

/// A list of texts.
pub(crate) fn strings(texts: &[&str]) -> Vec<String> {
    texts.iter().map(|&text| text.to_owned()).collect()
}

/// An agent's schedule: day 10 (every weekday), nine to six, with one skill.
fn weekday_9_to_6() -> types::AgentScheduleUpdateInfo {
    types::AgentScheduleUpdateInfo {
        agent_id: some(AGENT),
        agent_skill_ids: strings(&[SKILL]),
        schedule: vec![types::WeekdaySchedule {
            start_time: some("09:00"),
            end_time: some("18:00"),
            weekday: Some(10),
        }],
    }
}

/// A skill rule: the user's department is IT.
fn department_rule() -> types::AgentSkillRule {
    types::AgentSkillRule {
        id: some(SKILL_RULE),
        selected_operator: Some(8),
        operator_options: vec![3],
        operand: some(
            r#"{"selected_departments":[{"id":"od_7c1a2815c9846b5e518b950de0e62de8","name":"IT"}]}"#,
        ),
        category: Some(3),
        display_name: some("部门"),
    }
}

/// [`department_rule`] on the wire.
fn department_rule_json() -> Value {
    json!({
        "id": SKILL_RULE,
        "selected_operator": 8,
        "operator_options": [3],
        "operand": r#"{"selected_departments":[{"id":"od_7c1a2815c9846b5e518b950de0e62de8","name":"IT"}]}"#,
        "category": 3,
        "display_name": "部门"
    })
}

/// A user a notification goes to.
pub(crate) fn a_user() -> types::NotificationUser {
    types::NotificationUser {
        user_id: some("ou_7277fd1262bfafc363d5b2a1f9c2ac90"),
        name: some("王五"),
        avatar_url: None,
    }
}

/// The events of a new ticket.
pub(crate) fn ticket_created() -> Vec<types::Event> {
    vec![types::Event {
        type_: "helpdesk.ticket".parse().unwrap(),
        subtype: "ticket.created_v1".parse().unwrap(),
    }]
}

/// A notification's card.
const PUSH_CONTENT: &str = r#"{"config":{"wide_screen_mode":true},"elements":[{"tag":"div","text":{"tag":"plain_text","content":"下周一系统升级"}}]}"#;

/// Every helpdesk operation, by resource (the spec's tags).
fn table() -> Vec<Row> {
    vec![
        // agents
        Row {
            id: "get_agent_emails",
            call: |c| Box::pin(async move { data(c.api().get_agent_emails().send().await) }),
            as_user: false,
            path: "/open-apis/helpdesk/v1/agent_emails",
            query: &[],
            body: None,
        },
        Row {
            id: "patch_agent",
            call: |c| {
                Box::pin(async move {
                    data(c.api().patch_agent().agent_id(AGENT).body(types::PatchAgentRequest { status: Some(1) }).send().await)
                })
            },
            as_user: true,
            path: "/open-apis/helpdesk/v1/agents/ou_ea651a5c09e2d01af8acd34059f5359b",
            query: &[],
            body: Some(json!({"status": 1})),
        },
        // agent-schedules
        Row {
            id: "get_agent_schedules",
            call: |c| Box::pin(async move { data(c.api().get_agent_schedules().agent_id(AGENT).send().await) }),
            as_user: false,
            path: "/open-apis/helpdesk/v1/agents/ou_ea651a5c09e2d01af8acd34059f5359b/schedules",
            query: &[],
            body: None,
        },
        Row {
            id: "delete_agent_schedules",
            call: |c| Box::pin(async move { data(c.api().delete_agent_schedules().agent_id(AGENT).send().await) }),
            as_user: true,
            path: "/open-apis/helpdesk/v1/agents/ou_ea651a5c09e2d01af8acd34059f5359b/schedules",
            query: &[],
            body: None,
        },
        Row {
            id: "patch_agent_schedules",
            call: |c| {
                Box::pin(async move {
                    let body = types::PatchAgentSchedulesRequest { agent_schedule: Some(weekday_9_to_6()) };
                    data(c.api().patch_agent_schedules().agent_id(AGENT).body(body).send().await)
                })
            },
            as_user: true,
            path: "/open-apis/helpdesk/v1/agents/ou_ea651a5c09e2d01af8acd34059f5359b/schedules",
            query: &[],
            body: Some(json!({"agent_schedule": {
                "agent_id": AGENT,
                "schedule": [{"start_time": "09:00", "end_time": "18:00", "weekday": 10}],
                "agent_skill_ids": [SKILL]
            }})),
        },
        Row {
            id: "create_agent_schedules",
            call: |c| {
                Box::pin(async move {
                    let body = types::CreateAgentSchedulesRequest { agent_schedules: vec![weekday_9_to_6()] };
                    data(c.api().create_agent_schedules().body(body).send().await)
                })
            },
            as_user: true,
            path: "/open-apis/helpdesk/v1/agent_schedules",
            query: &[],
            body: Some(json!({"agent_schedules": [{
                "agent_id": AGENT,
                "schedule": [{"start_time": "09:00", "end_time": "18:00", "weekday": 10}],
                "agent_skill_ids": [SKILL]
            }]})),
        },
        Row {
            id: "list_agent_schedules",
            call: |c| Box::pin(async move { data(c.api().list_agent_schedules().status(vec![1_i64, 2]).send().await) }),
            as_user: false,
            path: "/open-apis/helpdesk/v1/agent_schedules",
            query: &[("status", "1"), ("status", "2")],
            body: None,
        },
        // agent-skills
        Row {
            id: "create_agent_skill",
            call: |c| {
                Box::pin(async move {
                    let body = types::CreateAgentSkillRequest {
                        name: some("VPN 支持"),
                        rules: vec![department_rule()],
                        agent_ids: strings(&[AGENT]),
                    };
                    data(c.api().create_agent_skill().body(body).send().await)
                })
            },
            as_user: true,
            path: "/open-apis/helpdesk/v1/agent_skills",
            query: &[],
            body: Some(json!({"name": "VPN 支持", "rules": [department_rule_json()], "agent_ids": [AGENT]})),
        },
        Row {
            id: "list_agent_skills",
            call: |c| Box::pin(async move { data(c.api().list_agent_skills().send().await) }),
            as_user: false,
            path: "/open-apis/helpdesk/v1/agent_skills",
            query: &[],
            body: None,
        },
        Row {
            id: "delete_agent_skill",
            call: |c| Box::pin(async move { data(c.api().delete_agent_skill().agent_skill_id(SKILL).send().await) }),
            as_user: true,
            path: "/open-apis/helpdesk/v1/agent_skills/6941215891786825756",
            query: &[],
            body: None,
        },
        Row {
            id: "get_agent_skill",
            call: |c| Box::pin(async move { data(c.api().get_agent_skill().agent_skill_id(SKILL).send().await) }),
            as_user: false,
            path: "/open-apis/helpdesk/v1/agent_skills/6941215891786825756",
            query: &[],
            body: None,
        },
        Row {
            id: "patch_agent_skill",
            call: |c| {
                Box::pin(async move {
                    let skill = types::AgentSkill {
                        name: some("VPN 支持"),
                        rules: vec![department_rule()],
                        agent_ids: strings(&[AGENT]),
                        ..Default::default()
                    };
                    let body = types::PatchAgentSkillRequest { agent_skill: Some(skill) };
                    data(c.api().patch_agent_skill().agent_skill_id(SKILL).body(body).send().await)
                })
            },
            as_user: true,
            path: "/open-apis/helpdesk/v1/agent_skills/6941215891786825756",
            query: &[],
            body: Some(json!({"agent_skill": {
                "name": "VPN 支持",
                "rules": [department_rule_json()],
                "agent_ids": [AGENT]
            }})),
        },
        // agent-skill-rules
        Row {
            id: "list_agent_skill_rules",
            call: |c| Box::pin(async move { data(c.api().list_agent_skill_rules().send().await) }),
            as_user: false,
            path: "/open-apis/helpdesk/v1/agent_skill_rules",
            query: &[],
            body: None,
        },
        // bot-messages
        Row {
            id: "create_bot_message",
            call: |c| {
                Box::pin(async move {
                    let call = c.api().create_bot_message().user_id_type(types::UserIdType::OpenId).body_map(|b| {
                        b.msg_type("text")
                            .content(r#"{"text":"您的工单已处理"}"#)
                            .receiver_id(GUEST)
                            .receive_type(some("user"))
                    });
                    data(call.send().await)
                })
            },
            as_user: false,
            path: "/open-apis/helpdesk/v1/message",
            query: &[("user_id_type", "open_id")],
            body: Some(json!({
                "msg_type": "text",
                "content": r#"{"text":"您的工单已处理"}"#,
                "receiver_id": GUEST,
                "receive_type": "user"
            })),
        },
        // categories
        Row {
            id: "create_category",
            call: |c| {
                Box::pin(async move {
                    let call = c
                        .api()
                        .create_category()
                        .body_map(|b| b.name("创建团队和邀请成员").parent_id("0").language(some("zh_cn")));
                    data(call.send().await)
                })
            },
            as_user: true,
            path: "/open-apis/helpdesk/v1/categories",
            query: &[],
            body: Some(json!({"name": "创建团队和邀请成员", "parent_id": "0", "language": "zh_cn"})),
        },
        Row {
            id: "list_categories",
            call: |c| {
                Box::pin(async move { data(c.api().list_categories().lang("zh_cn").order_by(1).asc(true).send().await) })
            },
            as_user: false,
            path: "/open-apis/helpdesk/v1/categories",
            query: &[("asc", "true"), ("lang", "zh_cn"), ("order_by", "1")],
            body: None,
        },
        Row {
            id: "delete_category",
            call: |c| Box::pin(async move { data(c.api().delete_category().id(CATEGORY).send().await) }),
            as_user: true,
            path: "/open-apis/helpdesk/v1/categories/6948728206392295444",
            query: &[],
            body: None,
        },
        Row {
            id: "get_category",
            call: |c| Box::pin(async move { data(c.api().get_category().id(CATEGORY).send().await) }),
            as_user: false,
            path: "/open-apis/helpdesk/v1/categories/6948728206392295444",
            query: &[],
            body: None,
        },
        Row {
            id: "patch_category",
            call: |c| {
                Box::pin(async move {
                    let body = types::PatchCategoryRequest { name: some("团队管理"), parent_id: some("0") };
                    data(c.api().patch_category().id(CATEGORY).body(body).send().await)
                })
            },
            as_user: true,
            path: "/open-apis/helpdesk/v1/categories/6948728206392295444",
            query: &[],
            body: Some(json!({"name": "团队管理", "parent_id": "0"})),
        },
        // faqs
        Row {
            id: "create_faq",
            call: |c| {
                Box::pin(async move {
                    let faq = types::builder::FaqCreateInfo::default()
                        .category_id(some("6836004780707807251"))
                        .question("如何连接 VPN？")
                        .answer(some("请在设置页面打开 VPN。"))
                        .tags(strings(&["VPN 连不上"]));
                    let faq = types::FaqCreateInfo::try_from(faq).unwrap();
                    data(c.api().create_faq().body(types::CreateFaqRequest { faq: Some(faq) }).send().await)
                })
            },
            as_user: true,
            path: "/open-apis/helpdesk/v1/faqs",
            query: &[],
            body: Some(json!({"faq": {
                "category_id": "6836004780707807251",
                "question": "如何连接 VPN？",
                "answer": "请在设置页面打开 VPN。",
                "tags": ["VPN 连不上"]
            }})),
        },
        Row {
            id: "list_faqs",
            call: |c| {
                Box::pin(async move {
                    let call = c
                        .api()
                        .list_faqs()
                        .category_id("6856395522433908739")
                        .status("1")
                        .search("点餐 & 外卖")
                        .page_token(FAQ)
                        .page_size(10);
                    data(call.send().await)
                })
            },
            as_user: false,
            path: "/open-apis/helpdesk/v1/faqs",
            query: &[
                ("category_id", "6856395522433908739"),
                ("page_size", "10"),
                ("page_token", FAQ),
                ("search", "点餐 & 外卖"),
                ("status", "1"),
            ],
            body: None,
        },
        Row {
            id: "delete_faq",
            call: |c| Box::pin(async move { data(c.api().delete_faq().id(FAQ).send().await) }),
            as_user: true,
            path: "/open-apis/helpdesk/v1/faqs/6856395634652479491",
            query: &[],
            body: None,
        },
        Row {
            id: "get_faq",
            call: |c| Box::pin(async move { data(c.api().get_faq().id(FAQ).send().await) }),
            as_user: false,
            path: "/open-apis/helpdesk/v1/faqs/6856395634652479491",
            query: &[],
            body: None,
        },
        Row {
            id: "patch_faq",
            call: |c| {
                Box::pin(async move {
                    let faq = types::builder::FaqUpdateInfo::default()
                        .question("如何连接 VPN？")
                        .answer_richtext(vec![types::Richtext {
                            content: some("请在设置页面打开 VPN。"),
                            type_: some("text"),
                        }]);
                    let faq = types::FaqUpdateInfo::try_from(faq).unwrap();
                    data(c.api().patch_faq().id(FAQ).body(types::PatchFaqRequest { faq: Some(faq) }).send().await)
                })
            },
            as_user: true,
            path: "/open-apis/helpdesk/v1/faqs/6856395634652479491",
            query: &[],
            body: Some(json!({"faq": {
                "question": "如何连接 VPN？",
                "answer_richtext": [{"content": "请在设置页面打开 VPN。", "type": "text"}]
            }})),
        },
        Row {
            id: "get_faq_image",
            call: |c| {
                Box::pin(async move {
                    download(c.api().get_faq_image().id(FAQ).image_key("img_b07ffac0-19c1-48a3-afca-599f8ea825fj").send().await)
                        .await
                })
            },
            as_user: false,
            path: "/open-apis/helpdesk/v1/faqs/6856395634652479491/image/img_b07ffac0-19c1-48a3-afca-599f8ea825fj",
            query: &[],
            body: None,
        },
        Row {
            id: "search_faqs",
            call: |c| {
                Box::pin(async move {
                    // `base64=true`: the query is base64 ("wifi"), padding and all.
                    let call = c.api().search_faqs().query("d2lmaQ==").base64("true").page_token("6936004780707807251").page_size(10);
                    data(call.send().await)
                })
            },
            as_user: false,
            path: "/open-apis/helpdesk/v1/faqs/search",
            query: &[
                ("base64", "true"),
                ("page_size", "10"),
                ("page_token", "6936004780707807251"),
                ("query", "d2lmaQ=="),
            ],
            body: None,
        },
        // notifications
        Row {
            id: "cancel_approve_notification",
            call: |c| {
                Box::pin(async move { data(c.api().cancel_approve_notification().notification_id(NOTIFICATION).send().await) })
            },
            as_user: true,
            path: "/open-apis/helpdesk/v1/notifications/6981801914270744596/cancel_approve",
            query: &[],
            body: None,
        },
        Row {
            id: "cancel_send_notification",
            call: |c| {
                Box::pin(async move {
                    let call = c.api().cancel_send_notification().notification_id(NOTIFICATION).body_map(|b| b.is_recall(true));
                    data(call.send().await)
                })
            },
            as_user: true,
            path: "/open-apis/helpdesk/v1/notifications/6981801914270744596/cancel_send",
            query: &[],
            body: Some(json!({"is_recall": true})),
        },
        Row {
            id: "create_notification",
            call: |c| {
                Box::pin(async move {
                    let call = c.api().create_notification().user_id_type(types::UserIdType::OpenId).body_map(|b| {
                        b.job_name("测试推送任务")
                            .push_content(PUSH_CONTENT)
                            .push_type(0)
                            .push_scope_type(2)
                            .user_list(vec![a_user()])
                            .chat_list(vec![types::NotificationChat {
                                chat_id: some("oc_7277fd1262bfafc363d5b2a1f9c2ac90"),
                                name: some("测试群聊"),
                            }])
                    });
                    data(call.send().await)
                })
            },
            as_user: true,
            path: "/open-apis/helpdesk/v1/notifications",
            query: &[("user_id_type", "open_id")],
            body: Some(json!({
                "job_name": "测试推送任务",
                "push_content": PUSH_CONTENT,
                "push_type": 0,
                "push_scope_type": 2,
                "user_list": [{"user_id": "ou_7277fd1262bfafc363d5b2a1f9c2ac90", "name": "王五"}],
                "chat_list": [{"chat_id": "oc_7277fd1262bfafc363d5b2a1f9c2ac90", "name": "测试群聊"}]
            })),
        },
        Row {
            id: "execute_send_notification",
            call: |c| {
                Box::pin(async move {
                    let call = c.api().execute_send_notification().notification_id(NOTIFICATION).body_map(|b| b.send_at("1624326025000"));
                    data(call.send().await)
                })
            },
            as_user: true,
            path: "/open-apis/helpdesk/v1/notifications/6981801914270744596/execute_send",
            query: &[],
            body: Some(json!({"send_at": "1624326025000"})),
        },
        Row {
            id: "get_notification",
            call: |c| {
                Box::pin(async move {
                    let call = c.api().get_notification().notification_id(NOTIFICATION).user_id_type(types::UserIdType::UserId);
                    data(call.send().await)
                })
            },
            as_user: true,
            path: "/open-apis/helpdesk/v1/notifications/6981801914270744596",
            query: &[("user_id_type", "user_id")],
            body: None,
        },
        Row {
            id: "patch_notification",
            call: |c| {
                Box::pin(async move {
                    let body = types::Notification {
                        job_name: some("测试推送任务"),
                        push_content: some(PUSH_CONTENT),
                        send_at: some("1626332244719"),
                        user_list: vec![a_user()],
                        ..Default::default()
                    };
                    let call = c.api().patch_notification().notification_id(NOTIFICATION).user_id_type(types::UserIdType::UnionId).body(body);
                    data(call.send().await)
                })
            },
            as_user: true,
            path: "/open-apis/helpdesk/v1/notifications/6981801914270744596",
            query: &[("user_id_type", "union_id")],
            body: Some(json!({
                "job_name": "测试推送任务",
                "push_content": PUSH_CONTENT,
                "send_at": "1626332244719",
                "user_list": [{"user_id": "ou_7277fd1262bfafc363d5b2a1f9c2ac90", "name": "王五"}]
            })),
        },
        Row {
            id: "preview_notification",
            call: |c| Box::pin(async move { data(c.api().preview_notification().notification_id(NOTIFICATION).send().await) }),
            as_user: true,
            path: "/open-apis/helpdesk/v1/notifications/6981801914270744596/preview",
            query: &[],
            body: None,
        },
        Row {
            id: "submit_approve_notification",
            call: |c| {
                Box::pin(async move {
                    let call = c.api().submit_approve_notification().notification_id(NOTIFICATION).body_map(|b| b.reason("下周一系统升级通知"));
                    data(call.send().await)
                })
            },
            as_user: true,
            path: "/open-apis/helpdesk/v1/notifications/6981801914270744596/submit_approve",
            query: &[],
            body: Some(json!({"reason": "下周一系统升级通知"})),
        },
        // tickets
        Row {
            id: "answer_ticket_user_query",
            call: |c| {
                Box::pin(async move {
                    let call = c.api().answer_ticket_user_query().ticket_id(TICKET).body_map(|b| {
                        b.event_id("118a6492-122d-04ad-4370-010a3bb384d3")
                            .faqs(vec![types::UserQueryFaq { id: some("6936004780707807231"), score: Some(0.9) }])
                    });
                    data(call.send().await)
                })
            },
            as_user: false,
            path: "/open-apis/helpdesk/v1/tickets/6948728206392295444/answer_user_query",
            query: &[],
            body: Some(json!({
                "event_id": "118a6492-122d-04ad-4370-010a3bb384d3",
                "faqs": [{"id": "6936004780707807231", "score": 0.9}]
            })),
        },
        Row {
            id: "list_customized_fields",
            call: |c| Box::pin(async move { data(c.api().list_customized_fields().visible_only(false).send().await) }),
            as_user: false,
            path: "/open-apis/helpdesk/v1/customized_fields",
            query: &[("visible_only", "false")],
            body: None,
        },
        Row {
            id: "get_ticket",
            call: |c| Box::pin(async move { data(c.api().get_ticket().ticket_id(TICKET).send().await) }),
            as_user: false,
            path: "/open-apis/helpdesk/v1/tickets/6948728206392295444",
            query: &[],
            body: None,
        },
        Row {
            id: "update_ticket",
            call: |c| {
                Box::pin(async move {
                    let body = types::UpdateTicketRequest {
                        status: Some(51),
                        tag_names: strings(&["VIP"]),
                        comment: some("已解决"),
                        customized_fields: vec![types::CustomizedField {
                            id: some(FIELD),
                            value: some(r#"{"value":"VIP"}"#),
                            ..Default::default()
                        }],
                        solved: Some(2),
                        ..Default::default()
                    };
                    data(c.api().update_ticket().ticket_id(TICKET).body(body).send().await)
                })
            },
            as_user: true,
            path: "/open-apis/helpdesk/v1/tickets/6948728206392295444",
            query: &[],
            body: Some(json!({
                "status": 51,
                "tag_names": ["VIP"],
                "comment": "已解决",
                "customized_fields": [{"id": FIELD, "value": r#"{"value":"VIP"}"#}],
                "solved": 2
            })),
        },
        Row {
            id: "list_tickets",
            call: |c| {
                Box::pin(async move {
                    let call = c
                        .api()
                        .list_tickets()
                        .agent_id(AGENT)
                        .guest_name("张三")
                        .status_list(vec![1_i64, 2, 50])
                        .tags(strings(&["VIP", "紧急"]))
                        .type_(2)
                        .create_time_start(1616920429000_i64)
                        .create_time_end(1616920529000_i64)
                        .page(1)
                        .page_size(20);
                    data(call.send().await)
                })
            },
            as_user: false,
            path: "/open-apis/helpdesk/v1/tickets",
            query: &[
                ("agent_id", AGENT),
                ("create_time_end", "1616920529000"),
                ("create_time_start", "1616920429000"),
                ("guest_name", "张三"),
                ("page", "1"),
                ("page_size", "20"),
                ("status_list", "1"),
                ("status_list", "2"),
                ("status_list", "50"),
                ("tags", "VIP"),
                ("tags", "紧急"),
                ("type", "2"),
            ],
            body: None,
        },
        Row {
            id: "start_service",
            call: |c| {
                Box::pin(async move {
                    let call = c.api().start_service().body_map(|b| {
                        b.open_id(GUEST)
                            .human_service(Some(true))
                            .appointed_agents(strings(&[AGENT]))
                            .customized_info(some("来自报销系统"))
                    });
                    data(call.send().await)
                })
            },
            as_user: false,
            path: "/open-apis/helpdesk/v1/start_service",
            query: &[],
            body: Some(json!({
                "human_service": true,
                "appointed_agents": [AGENT],
                "open_id": GUEST,
                "customized_info": "来自报销系统"
            })),
        },
        Row {
            id: "get_ticket_image",
            call: |c| {
                Box::pin(async move {
                    download(c.api().get_ticket_image().ticket_id(TICKET).msg_id(MESSAGE).index(1).send().await).await
                })
            },
            as_user: false,
            path: "/open-apis/helpdesk/v1/ticket_images",
            query: &[("index", "1"), ("msg_id", MESSAGE), ("ticket_id", TICKET)],
            body: None,
        },
        // ticket-messages
        Row {
            id: "create_ticket_message",
            call: |c| {
                Box::pin(async move {
                    let call = c
                        .api()
                        .create_ticket_message()
                        .ticket_id(TICKET)
                        .body_map(|b| b.msg_type("text").content(r#"{"text":"您好，已为您处理"}"#));
                    data(call.send().await)
                })
            },
            as_user: false,
            path: "/open-apis/helpdesk/v1/tickets/6948728206392295444/messages",
            query: &[],
            body: Some(json!({"msg_type": "text", "content": r#"{"text":"您好，已为您处理"}"#})),
        },
        Row {
            id: "list_ticket_messages",
            call: |c| {
                Box::pin(async move {
                    let call = c
                        .api()
                        .list_ticket_messages()
                        .ticket_id(TICKET)
                        .time_start(1617960686)
                        .time_end(1617960687)
                        .page(2)
                        .page_size(10);
                    data(call.send().await)
                })
            },
            as_user: false,
            path: "/open-apis/helpdesk/v1/tickets/6948728206392295444/messages",
            query: &[("page", "2"), ("page_size", "10"), ("time_end", "1617960687"), ("time_start", "1617960686")],
            body: None,
        },
        // ticket-customized-fields
        Row {
            id: "create_ticket_customized_field",
            call: |c| {
                Box::pin(async move {
                    let call = c.api().create_ticket_customized_field().body_map(|b| {
                        b.helpdesk_id(some(HELPDESK_ID))
                            .key_name("level")
                            .display_name("客户等级")
                            .position("3")
                            .field_type("string")
                            .description("客户的服务等级")
                            .visible(true)
                            .required(false)
                    });
                    data(call.send().await)
                })
            },
            as_user: true,
            path: "/open-apis/helpdesk/v1/ticket_customized_fields",
            query: &[],
            body: Some(json!({
                "helpdesk_id": HELPDESK_ID,
                "key_name": "level",
                "display_name": "客户等级",
                "position": "3",
                "field_type": "string",
                "description": "客户的服务等级",
                "visible": true,
                "required": false
            })),
        },
        Row {
            id: "list_ticket_customized_fields",
            call: |c| {
                Box::pin(async move {
                    let call = c
                        .api()
                        .list_ticket_customized_fields()
                        .page_token(TICKET)
                        .page_size(10)
                        .body(types::ListTicketCustomizedFieldsRequest { visible: Some(true) });
                    data(call.send().await)
                })
            },
            as_user: false,
            path: "/open-apis/helpdesk/v1/ticket_customized_fields",
            query: &[("page_size", "10"), ("page_token", TICKET)],
            body: Some(json!({"visible": true})),
        },
        Row {
            id: "delete_ticket_customized_field",
            call: |c| {
                Box::pin(async move {
                    data(c.api().delete_ticket_customized_field().ticket_customized_field_id(FIELD).send().await)
                })
            },
            as_user: true,
            path: "/open-apis/helpdesk/v1/ticket_customized_fields/6834320707288072194",
            query: &[],
            body: None,
        },
        Row {
            id: "get_ticket_customized_field",
            call: |c| {
                Box::pin(async move { data(c.api().get_ticket_customized_field().ticket_customized_field_id(FIELD).send().await) })
            },
            as_user: false,
            path: "/open-apis/helpdesk/v1/ticket_customized_fields/6834320707288072194",
            query: &[],
            body: None,
        },
        Row {
            id: "patch_ticket_customized_field",
            call: |c| {
                Box::pin(async move {
                    let body = types::PatchTicketCustomizedFieldRequest {
                        display_name: some("客户级别"),
                        position: some("2"),
                        visible: Some(false),
                        ..Default::default()
                    };
                    data(c.api().patch_ticket_customized_field().ticket_customized_field_id(FIELD).body(body).send().await)
                })
            },
            as_user: true,
            path: "/open-apis/helpdesk/v1/ticket_customized_fields/6834320707288072194",
            query: &[],
            body: Some(json!({"display_name": "客户级别", "position": "2", "visible": false})),
        },
        // helpdesk-events
        Row {
            id: "subscribe_events",
            call: |c| Box::pin(async move { data(c.api().subscribe_events().body_map(|b| b.events(ticket_created())).send().await) }),
            as_user: false,
            path: "/open-apis/helpdesk/v1/events/subscribe",
            query: &[],
            body: Some(json!({"events": [{"type": "helpdesk.ticket", "subtype": "ticket.created_v1"}]})),
        },
        Row {
            id: "unsubscribe_events",
            call: |c| {
                Box::pin(async move { data(c.api().unsubscribe_events().body_map(|b| b.events(ticket_created())).send().await) })
            },
            as_user: false,
            path: "/open-apis/helpdesk/v1/events/unsubscribe",
            query: &[],
            body: Some(json!({"events": [{"type": "helpdesk.ticket", "subtype": "ticket.created_v1"}]})),
        },
    ]
}

// ---------------------------------------------------------------------------------------
// The spec
// ---------------------------------------------------------------------------------------

/// One operation as `openapi/helpdesk.yaml` describes it.
#[derive(Debug)]
struct SpecOperation {
    id: String,
    method: String,
    /// The path template, with `{parameters}`.
    path: String,
    /// The access token its `security` asks for.
    token: TokenKind,
    /// Whether a success answers bytes (no JSON content).
    binary: bool,
    /// The first example of the 200 answer's JSON (the whole envelope), if any.
    example: Option<Value>,
}

static SPEC: LazyLock<Vec<SpecOperation>> = LazyLock::new(|| {
    let doc: Yaml =
        serde_yaml_ng::from_str(include_str!("../../openapi/helpdesk.yaml")).expect("the spec parses");
    let mut found = Vec::new();
    for (path, item) in doc["paths"].as_mapping().expect("the spec has paths") {
        for (method, op) in item.as_mapping().expect("a path item is a mapping") {
            let method = method.as_str().unwrap();
            if !["get", "put", "post", "delete", "patch"].contains(&method) {
                continue;
            }
            let content = &resolve(&doc, &op["responses"]["200"])["content"];
            let json = &content["application/json"];
            // The token endpoint and the login of a person (tag `accounts`) take no helpdesk
            // header: they are not among the helpdesk's operations.
            let security = op.get("security").unwrap_or(&doc["security"]);
            if !takes_helpdesk_header(security) {
                continue;
            }
            let token = token_kind(security).expect("a helpdesk operation takes an access token");
            found.push(SpecOperation {
                id: op["operationId"].as_str().expect("an operationId").to_owned(),
                method: method.to_uppercase(),
                path: path.as_str().unwrap().to_owned(),
                token,
                binary: json.is_null(),
                example: first_example(&doc, json),
            });
        }
    }
    found
});

/// Whether a `security` list asks for the helpdesk header.
fn takes_helpdesk_header(security: &Yaml) -> bool {
    let entries = security.as_sequence().expect("security is a list");
    entries.iter().any(|entry| entry.get("helpdeskToken").is_some())
}

/// The token a `security` list asks for (each entry is a set of schemes, all required), if
/// any.
fn token_kind(security: &Yaml) -> Option<TokenKind> {
    let entries = security.as_sequence().expect("security is a list");
    let takes = |scheme: &str| entries.iter().any(|entry| entry.get(scheme).is_some());
    match (takes("tenantAccessToken"), takes("userAccessToken")) {
        (true, true) => Some(TokenKind::TenantOrUser),
        (true, false) => Some(TokenKind::Tenant),
        (false, true) => Some(TokenKind::User),
        (false, false) => None,
    }
}

/// `node`, or what its `$ref` (a local reference) points to.
fn resolve<'a>(doc: &'a Yaml, mut node: &'a Yaml) -> &'a Yaml {
    while let Some(reference) = node.get("$ref").and_then(Yaml::as_str) {
        let pointer = reference.strip_prefix("#/").expect("a local reference");
        node = pointer.split('/').fold(doc, |node, key| &node[key]);
    }
    node
}

/// The `example`, or the value of the first of the `examples`, of a media type.
fn first_example(doc: &Yaml, media: &Yaml) -> Option<Value> {
    let example = match media.get("example") {
        Some(example) => example,
        None => {
            let (_, first) = media.get("examples")?.as_mapping()?.iter().next()?;
            &resolve(doc, first)["value"]
        }
    };
    Some(serde_json::to_value(example).expect("an example is JSON"))
}

fn spec_operation(id: &str) -> &'static SpecOperation {
    SPEC.iter()
        .find(|op| op.id == id)
        .unwrap_or_else(|| panic!("{id} is not in the spec"))
}

fn library_operation(id: &str) -> &'static Operation {
    operations()
        .iter()
        .find(|op| op.id == id)
        .unwrap_or_else(|| panic!("{id} is not in operations()"))
}

/// The spec's operation for a request: same method, path matching the template; a literal
/// segment wins over a parameter (`/faqs/search` is `search_faqs`, not `get_faq`).
fn operation_for(method: &str, path: &str) -> Option<&'static SpecOperation> {
    SPEC.iter()
        .filter(|op| op.method == method && matches_template(&op.path, path))
        .min_by_key(|op| op.path.matches('{').count())
}

fn matches_template(template: &str, path: &str) -> bool {
    let (template, path): (Vec<_>, Vec<_>) = (template.split('/').collect(), path.split('/').collect());
    template.len() == path.len()
        && template
            .iter()
            .zip(&path)
            .all(|(t, p)| t == p || (t.starts_with('{') && t.ends_with('}') && !p.is_empty()))
}

// ---------------------------------------------------------------------------------------
// The stand-in
// ---------------------------------------------------------------------------------------

/// A request as the stand-in received it.
#[derive(Debug, Clone)]
struct Seen {
    /// The spec operation it matched, if any.
    operation: Option<&'static str>,
    method: String,
    path: String,
    query: Option<String>,
    headers: HeaderMap,
    body: Bytes,
}

impl Seen {
    /// Every value of a header, as text.
    fn header(&self, name: impl hyper::header::AsHeaderName) -> Vec<&str> {
        self.headers
            .get_all(name)
            .iter()
            .map(|v| v.to_str().expect("a text header"))
            .collect()
    }

    /// The query's pairs, decoded, sorted by key (repeated keys keep their order).
    fn query_pairs(&self) -> Vec<(String, String)> {
        let raw = self.query.as_deref().unwrap_or("");
        let mut pairs: Vec<_> = url::form_urlencoded::parse(raw.as_bytes()).into_owned().collect();
        pairs.sort_by(|a, b| a.0.cmp(&b.0));
        pairs
    }
}

/// A local stand-in of the platform: answers every helpdesk operation with its spec
/// example (the images with a few PNG bytes) and records what it received.
struct StandIn {
    base_url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    accept: JoinHandle<()>,
}

impl StandIn {
    async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let record = Arc::clone(&seen);
        let accept = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let record = Arc::clone(&record);
                tokio::spawn(async move {
                    let service = service_fn(move |request| answer(Arc::clone(&record), request));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Self {
            base_url,
            seen,
            accept,
        }
    }

    /// A client with a fixed tenant token and the helpdesk credentials, without retries.
    fn client(&self) -> Client {
        Client::builder()
            .tenant_access_token(TENANT_ACCESS_TOKEN)
            .helpdesk_credentials(HELPDESK_ID, HELPDESK_TOKEN)
            .base_url(&self.base_url)
            .max_retries(0)
            .build()
            .unwrap()
    }

    /// The requests received since the last call.
    fn take(&self) -> Vec<Seen> {
        std::mem::take(&mut *self.seen.lock().unwrap())
    }
}

impl Drop for StandIn {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

async fn answer(
    record: Arc<Mutex<Vec<Seen>>>,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let (parts, body) = request.into_parts();
    let body = body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    let operation = operation_for(parts.method.as_str(), parts.uri.path());
    record.lock().unwrap().push(Seen {
        operation: operation.map(|op| op.id.as_str()),
        method: parts.method.to_string(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().map(str::to_owned),
        headers: parts.headers,
        body,
    });
    let (content_type, body) = match operation {
        Some(op) if op.binary => ("image/png", Bytes::from_static(PNG)),
        Some(SpecOperation {
            example: Some(example),
            ..
        }) => ("application/json", Bytes::from(example.to_string())),
        _ => {
            let body = json!({"code": 404, "msg": "no such operation in the spec"}).to_string();
            let mut response = Response::new(Full::new(Bytes::from(body)));
            *response.status_mut() = hyper::StatusCode::NOT_FOUND;
            return Ok(response);
        }
    };
    let mut response = Response::new(Full::new(body));
    response
        .headers_mut()
        .insert(CONTENT_TYPE, content_type.parse().unwrap());
    Ok(response)
}

// ---------------------------------------------------------------------------------------
// The checks
// ---------------------------------------------------------------------------------------

/// `Authorization` with this token.
fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

/// The `Authorization` an operation must carry on a user view or not.
fn expected_authorization(op: &Operation, on_user_view: bool) -> String {
    match op.token {
        TokenKind::User | TokenKind::TenantOrUser if on_user_view => bearer(USER_ACCESS_TOKEN),
        _ => bearer(TENANT_ACCESS_TOKEN),
    }
}

/// Both credentials, each exactly once.
fn assert_credentials(seen: &Seen, authorization: &str, id: &str) {
    assert_eq!(seen.header(AUTHORIZATION), [authorization], "{id}: Authorization");
    assert_eq!(
        seen.header(feishu_helpdesk::HELPDESK_AUTHORIZATION),
        [HELPDESK_HEADER],
        "{id}: the helpdesk header"
    );
}

/// What the row says the request is: method and path (the spec's), query, body.
fn assert_request(seen: &Seen, row: &Row) {
    let id = row.id;
    let spec = spec_operation(id);
    assert_eq!(
        seen.operation,
        Some(id),
        "{id}: {} {} matched another operation",
        seen.method,
        seen.path
    );
    assert_eq!(seen.method, spec.method, "{id}: method");
    assert_eq!(seen.path, row.path, "{id}: path");

    let mut expected: Vec<(String, String)> = row
        .query
        .iter()
        .map(|&(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    expected.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(seen.query_pairs(), expected, "{id}: query {:?}", seen.query);

    match &row.body {
        Some(body) => {
            let sent: Value = serde_json::from_slice(&seen.body)
                .unwrap_or_else(|e| panic!("{id}: the body is not JSON ({e}): {:?}", seen.body));
            assert_eq!(&sent, body, "{id}: body");
            assert_eq!(seen.header(CONTENT_TYPE), [JSON_UTF8], "{id}: content type");
        }
        None => assert!(seen.body.is_empty(), "{id}: a body was sent: {:?}", seen.body),
    }
}

/// The call gave back the example's `data`, or the image.
fn assert_returned(returned: &Returned, id: &str) {
    let spec = spec_operation(id);
    match returned {
        Returned::Download { content_type, bytes } => {
            assert!(spec.binary, "{id}: a download from a JSON operation");
            assert_eq!(content_type.as_deref(), Some("image/png"), "{id}");
            assert_eq!(bytes, PNG, "{id}");
        }
        Returned::Data(data) => {
            let example = spec
                .example
                .as_ref()
                .unwrap_or_else(|| panic!("{id}: the spec has no 200 example"));
            let expected = example.get("data").cloned().unwrap_or_else(|| json!({}));
            assert_eq!(data, &expected, "{id}: the data differs from the example's");
        }
    }
}

/// Runs one row against the stand-in and checks everything about it.
async fn check_row(stand_in: &StandIn, client: &Client, user_view: &Client, row: &Row) {
    let id = row.id;
    stand_in.take();
    let target = if row.as_user { user_view } else { client };

    let returned = (row.call)(target.clone())
        .await
        .unwrap_or_else(|e| panic!("{id} failed: {e:?}"));

    let seen = stand_in.take();
    assert_eq!(
        seen.len(),
        1,
        "{id}: expected one request, the stand-in saw {seen:#?}"
    );
    let seen = &seen[0];
    assert_request(seen, row);
    assert_credentials(
        seen,
        &expected_authorization(library_operation(id), row.as_user),
        id,
    );
    assert_returned(&returned, id);
}

/// How many operations take this token.
fn count(token: TokenKind) -> usize {
    operations().iter().filter(|op| op.token == token).count()
}

/// The ids of `operations()`: the helpdesk's, without the token endpoint and the login.
fn helpdesk_operation_ids() -> BTreeSet<&'static str> {
    let ids: BTreeSet<_> = operations().iter().map(|op| op.id).collect();
    for id in NOT_HELPDESK {
        assert!(!ids.contains(id), "operations() lists {id}");
    }
    assert_eq!(ids.len(), 50, "the helpdesk has 50 operations");
    ids
}

// ---------------------------------------------------------------------------------------
// The tests
// ---------------------------------------------------------------------------------------

#[test]
fn the_table_covers_every_helpdesk_operation_once() {
    let rows = table();
    let mut ids = BTreeMap::new();
    for row in &rows {
        *ids.entry(row.id).or_insert(0) += 1;
    }
    let twice: Vec<_> = ids.iter().filter(|(_, &n)| n > 1).map(|(id, _)| id).collect();
    assert!(twice.is_empty(), "rows for the same operation: {twice:?}");
    let covered: BTreeSet<_> = ids.into_keys().collect();
    let all = helpdesk_operation_ids();
    assert_eq!(
        all.difference(&covered).collect::<Vec<_>>(),
        Vec::<&&str>::new(),
        "operations without a row"
    );
    assert_eq!(
        covered.difference(&all).collect::<Vec<_>>(),
        Vec::<&&str>::new(),
        "rows for no operation"
    );
}

#[test]
fn operations_agree_with_the_spec() {
    let spec: BTreeSet<_> = SPEC.iter().map(|op| op.id.as_str()).collect();
    let listed: BTreeSet<_> = operations().iter().map(|op| op.id).collect();
    assert_eq!(spec, listed);
    for op in operations() {
        let spec = spec_operation(op.id);
        assert_eq!(
            (op.method, op.path, op.token, op.binary),
            (spec.method.as_str(), spec.path.as_str(), spec.token, spec.binary),
            "{}",
            op.id
        );
    }
    // A user operation can only be called on a view; the rows say so.
    for row in table() {
        if library_operation(row.id).token == TokenKind::User {
            assert!(
                row.as_user,
                "{} takes a user token: call it on a user view",
                row.id
            );
        }
    }
}

#[tokio::test]
async fn every_operation_sends_what_the_spec_says_and_returns_the_example() {
    let stand_in = StandIn::start().await;
    let client = stand_in.client();
    let user_view = client.as_user(USER_ACCESS_TOKEN).unwrap();

    for row in table() {
        check_row(&stand_in, &client, &user_view, &row).await;
    }
}

#[tokio::test]
async fn a_user_operation_without_a_user_view_is_refused_before_sending() {
    let stand_in = StandIn::start().await;
    let client = stand_in.client();
    let mut refused = 0;

    for row in table() {
        if library_operation(row.id).token != TokenKind::User {
            continue;
        }
        match (row.call)(client.clone()).await {
            Err(Error::UserTokenRequired { operation, .. }) => assert_eq!(operation, row.id),
            other => panic!("{}: expected UserTokenRequired, got {other:?}", row.id),
        }
        assert_eq!(stand_in.take().len(), 0, "{}: a request was sent", row.id);
        refused += 1;
    }
    assert_eq!(refused, count(TokenKind::User), "the user-token operations");
}

#[tokio::test]
async fn a_tenant_operation_on_a_user_view_keeps_the_tenant_token() {
    let stand_in = StandIn::start().await;
    let user_view = stand_in.client().as_user(USER_ACCESS_TOKEN).unwrap();
    let mut checked = 0;

    for row in table() {
        if library_operation(row.id).token != TokenKind::Tenant {
            continue;
        }
        (row.call)(user_view.clone())
            .await
            .unwrap_or_else(|e| panic!("{} failed on a user view: {e:?}", row.id));
        let seen = stand_in.take();
        assert_eq!(seen.len(), 1, "{}", row.id);
        assert_credentials(&seen[0], &bearer(TENANT_ACCESS_TOKEN), row.id);
        checked += 1;
    }
    assert_eq!(checked, count(TokenKind::Tenant), "the tenant-token operations");
}

#[tokio::test]
async fn get_notification_takes_the_user_token_on_a_view_and_the_tenant_token_otherwise() {
    let stand_in = StandIn::start().await;
    let client = stand_in.client();
    let get = |c: &Client| {
        let c = c.clone();
        async move {
            c.api()
                .get_notification()
                .notification_id(NOTIFICATION)
                .send()
                .await
        }
    };
    assert_eq!(
        library_operation("get_notification").token,
        TokenKind::TenantOrUser
    );

    get(&client).await.unwrap();
    let seen = stand_in.take();
    assert_eq!(seen.len(), 1);
    assert_credentials(
        &seen[0],
        &bearer(TENANT_ACCESS_TOKEN),
        "get_notification on the client",
    );

    get(&client.as_user(USER_ACCESS_TOKEN).unwrap()).await.unwrap();
    let seen = stand_in.take();
    assert_eq!(seen.len(), 1);
    assert_credentials(
        &seen[0],
        &bearer(USER_ACCESS_TOKEN),
        "get_notification on a user view",
    );
}

#[tokio::test]
async fn an_empty_user_token_is_refused() {
    let stand_in = StandIn::start().await;
    match stand_in.client().as_user("") {
        Err(Error::InvalidInput { field, .. }) => assert_eq!(field, "user_access_token"),
        other => panic!("expected InvalidInput, got {other:?}"),
    }
    assert!(stand_in.take().is_empty());
}

#[tokio::test]
async fn the_user_token_stays_out_of_debug() {
    let stand_in = StandIn::start().await;
    let user_view = stand_in.client().as_user(USER_ACCESS_TOKEN).unwrap();
    let secret_part = USER_ACCESS_TOKEN.trim_start_matches("u-");

    for shown in [format!("{user_view:?}"), format!("{user_view:#?}")] {
        assert!(!shown.contains(secret_part), "{shown}");
        assert!(!shown.contains(TENANT_ACCESS_TOKEN), "{shown}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_call_runs_in_a_spawned_task() {
    let stand_in = StandIn::start().await;
    let client = stand_in.client();
    let user_view = client.as_user(USER_ACCESS_TOKEN).unwrap();

    let tasks: Vec<_> = table()
        .into_iter()
        .map(|row| {
            let target = if row.as_user {
                user_view.clone()
            } else {
                client.clone()
            };
            (row.id, tokio::spawn((row.call)(target)))
        })
        .collect();
    for (id, task) in tasks {
        let returned = task
            .await
            .unwrap()
            .unwrap_or_else(|e| panic!("{id} failed in a task: {e:?}"));
        assert_returned(&returned, id);
    }

    let mut seen: Vec<_> = stand_in
        .take()
        .into_iter()
        .map(|seen| seen.operation.unwrap_or("?"))
        .collect();
    seen.sort_unstable();
    assert_eq!(seen, helpdesk_operation_ids().into_iter().collect::<Vec<_>>());
}
