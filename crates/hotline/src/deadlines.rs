//! `hotline inquiries` as a duty officer reads it: each inquiry's subject,
//! and both deadlines with the time left, or how late the step is.

use hotline_node::dir::NodeDir;
use jiff::Timestamp;
use serde_json::Value;

/// Adds each inquiry's `subject` (null when this party cannot read it).
pub fn add_subjects(dir: &NodeDir, list: &mut Value) {
    let entries = crate::read::Entries::open(dir).ok();
    for q in list.as_array_mut().into_iter().flatten() {
        let subject = entries
            .as_ref()
            .zip(q["id"].as_str())
            .and_then(|(e, id)| e.subject(id));
        q["subject"] = subject.map_or(Value::Null, Value::String);
    }
}

pub fn print_inquiries(list: &Value, now: Timestamp) {
    let items = list.as_array().cloned().unwrap_or_default();
    if items.is_empty() {
        println!("No inquiry sent or received.");
    }
    for q in items {
        let s = |k: &str| q[k].as_str().unwrap_or("-").to_owned();
        let flag = if q["overdue"] == true {
            "  OVERDUE"
        } else {
            ""
        };
        println!(
            "{:<8} {:<12} {} → {}  {}{flag}",
            s("id"),
            s("status"),
            s("from"),
            s("to"),
            q["subject"].as_str().unwrap_or("(subject sealed)")
        );
        let closed = !q["closed"].is_null();
        let answered = q["answers"]
            .as_array()
            .and_then(|a| a.first())
            .and_then(|a| a[1].as_str())
            .map(str::to_owned);
        println!(
            "         sent {}  ack {}  answer {}",
            s("sent"),
            step(ts(&q["ack_due"]), ts(&q["acknowledged"]), closed, now),
            step(
                ts(&q["answer_due"]),
                answered.as_deref().and_then(|t| t.parse().ok()),
                closed,
                now
            )
        );
    }
}

fn ts(v: &Value) -> Option<Timestamp> {
    v.as_str().and_then(|t| t.parse().ok())
}

/// One deadline: met (in time or late), or still due (time left, or late by).
fn step(due: Option<Timestamp>, done: Option<Timestamp>, closed: bool, now: Timestamp) -> String {
    match (due, done) {
        (None, Some(d)) => format!("done {d}"),
        (None, None) => "no deadline".into(),
        (Some(due), Some(d)) if d <= due => format!("done {d}, in time (due {due})"),
        (Some(due), Some(d)) => format!("done {d}, {} late (due {due})", span(d - due)),
        (Some(due), None) if closed => format!("not done before closing (due {due})"),
        (Some(due), None) if now <= due => format!("due {due}, {} left", span(due - now)),
        (Some(due), None) => format!("due {due}, {} LATE", span(now - due)),
    }
}

/// A duration as people say it: "55 min", "3 h 10 min", "2 d 4 h".
pub fn span(d: jiff::Span) -> String {
    let secs = d
        .total(jiff::Unit::Second)
        .map(|s| s.abs() as i64)
        .unwrap_or(0);
    let (days, hours, mins) = (secs / 86_400, secs % 86_400 / 3_600, secs % 3_600 / 60);
    match (days, hours, mins) {
        (0, 0, 0) => format!("{secs} s"),
        (0, 0, m) => format!("{m} min"),
        (0, h, 0) => format!("{h} h"),
        (0, h, m) => format!("{h} h {m} min"),
        (d, 0, _) => format!("{d} d"),
        (d, h, _) => format!("{d} d {h} h"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_people_say_them() {
        let t = |s: i64| span(jiff::Span::new().seconds(s));
        assert_eq!(t(3300), "55 min");
        assert_eq!(t(3 * 3600 + 600), "3 h 10 min");
        assert_eq!(t(2 * 86_400 + 4 * 3600 + 5), "2 d 4 h");
        assert_eq!(t(42), "42 s");
    }
}
