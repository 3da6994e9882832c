//! What `listen` prints as it goes: each event as a JSON line on stdout, notes on stderr.

use std::io::Write as _;

use feishu_helpdesk::events::HelpdeskEvent;
use serde_json::json;

/// Prints an event as one JSON line on stdout.
pub(crate) fn print_event(event: &HelpdeskEvent) -> Result<(), String> {
    let header = event.header();
    let payload = match event {
        HelpdeskEvent::TicketCreated { event, .. } => serde_json::to_value(event),
        HelpdeskEvent::TicketUpdated { event, .. } => serde_json::to_value(event),
        HelpdeskEvent::TicketMessageCreated { event, .. } => serde_json::to_value(event),
        HelpdeskEvent::NotificationApprove { event, .. } => serde_json::to_value(event),
        HelpdeskEvent::Other { event, .. } => Ok(event.clone()),
        _ => Ok(serde_json::Value::Null),
    }
    .map_err(|e| e.to_string())?;
    let line = json!({
        "event_id": header.event_id,
        "event_type": header.event_type,
        "create_time": header.create_time,
        "tenant_key": header.tenant_key,
        "event": payload,
    });
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{line}")
        .and_then(|()| stdout.flush())
        .map_err(|e| e.to_string())
}

/// A line on stderr; a closed stderr is no reason to fail.
pub(crate) fn note(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}
