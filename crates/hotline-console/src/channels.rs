//! The first page: what needs action (see `needs_action`), then one row per
//! channel in force for the operator's offices, with what a duty officer
//! checks first — is the link up, how fresh is the last cosigned
//! checkpoint, what is unread, what is overdue.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use hotline_proto::agreement::State as AgreementState;
use hotline_proto::entry::Kind;
use hotline_proto::party::Office;

use super::Console;
use super::auth::Op;
use super::view::{Chrome, PageError, blocking, channel_url, html, relative, when};
use hotline_node::error::NodeError;

/// A channel between one of the operator's offices and a counterpart
/// office, as the agreements in force define it.
#[derive(Clone, Debug)]
pub(crate) struct Channel {
    pub ours: Office,
    pub theirs: Office,
    /// Titles of the agreements that open it.
    pub agreements: Vec<String>,
    /// Kinds the agreements allow from our side.
    pub kinds: Vec<Kind>,
    /// Working languages named by the agreements.
    pub languages: Vec<String>,
}

impl Channel {
    pub fn url(&self) -> String {
        channel_url(self.ours.as_str(), self.theirs.as_str())
    }
    /// The read-mark key.
    pub fn key(&self) -> String {
        format!("{} {}", self.ours, self.theirs)
    }
    pub fn allows(&self, kind: Kind) -> bool {
        self.kinds.contains(&kind)
    }
}

/// Channels in force now for offices the operator acts for.
pub(crate) fn channels_for(c: &Console, op: &Op) -> Result<Vec<Channel>, NodeError> {
    channels_acting_for(c, &|o| op.acts_for(o))
}

/// Channels in force now for the offices `acts_for` accepts.
pub(crate) fn channels_acting_for(
    c: &Console,
    acts_for: &dyn Fn(&Office) -> bool,
) -> Result<Vec<Channel>, NodeError> {
    let now = hotline_node::clock::now();
    let mut out: Vec<Channel> = Vec::new();
    for a in c.node.agreements()? {
        if a.state(now) != AgreementState::InForce {
            continue;
        }
        for ch in &a.terms.channels {
            for (i, ours) in ch.offices.iter().enumerate() {
                let theirs = &ch.offices[1 - i];
                if !acts_for(ours) || theirs.party() == *c.node.party() {
                    continue;
                }
                let at = match out
                    .iter()
                    .position(|x| x.ours == *ours && x.theirs == *theirs)
                {
                    Some(p) => p,
                    None => {
                        out.push(Channel {
                            ours: ours.clone(),
                            theirs: theirs.clone(),
                            agreements: vec![],
                            kinds: vec![],
                            languages: vec![],
                        });
                        out.len() - 1
                    }
                };
                let x = &mut out[at];
                x.agreements.push(a.terms.title.clone());
                for k in &ch.kinds {
                    if !x.kinds.contains(k) {
                        x.kinds.push(*k);
                    }
                }
                for l in &a.terms.languages {
                    if !x.languages.contains(l) {
                        x.languages.push(l.clone());
                    }
                }
            }
        }
    }
    out.sort_by(|a, b| (&a.ours, &a.theirs).cmp(&(&b.ours, &b.theirs)));
    Ok(out)
}

/// The link to a counterpart's party, in words.
pub(crate) struct LinkView {
    pub up: bool,
    pub words: String,
    /// The last checkpoint of our log the counterpart cosigned.
    pub cosigned: String,
    pub cosigned_stale: bool,
}

pub(crate) fn link_view(c: &Console, party: &hotline_proto::party::Party) -> LinkView {
    let now = hotline_node::clock::now();
    let Some(peer) = c.node.federation().peer(party) else {
        return LinkView {
            up: false,
            words: format!("{party} is not pinned"),
            cosigned: "never".into(),
            cosigned_stale: true,
        };
    };
    let st = c.records.link(party);
    let link = peer.link();
    let words = if link.up {
        format!("up since {}", when(link.since))
    } else {
        format!(
            "DOWN since {}{}",
            when(link.since),
            link.last_error
                .map(|e| format!(": {e}"))
                .unwrap_or_default()
        )
    };
    let (cosigned, stale) = match st.ok().and_then(|s| s.own_log_cosigned) {
        Some(cs) => (
            format!(
                "size {} at {} ({})",
                cs.size,
                when(cs.time),
                relative(cs.time, now)
            ),
            cs.age_seconds
                > i64::try_from(c.node.config().cosign_interval_secs.saturating_mul(3))
                    .unwrap_or(i64::MAX),
        ),
        None => ("never".into(), true),
    };
    LinkView {
        up: link.up,
        words,
        cosigned,
        cosigned_stale: stale,
    }
}

pub(crate) struct Row {
    pub ch: Channel,
    pub link: LinkView,
    pub unread: u64,
    pub overdue: usize,
}

#[derive(Template)]
#[template(path = "console/channels.html")]
struct Page {
    p: Chrome,
    actions: Vec<super::needs_action::Action>,
    rows: Vec<Row>,
}

/// Unread entries from the counterpart on a channel, for this operator.
pub(crate) fn unread(c: &Console, op: &Op, ch: &Channel) -> Result<u64, PageError> {
    let mark = c.operators.seen_mark(&op.operator.name, &ch.key())?;
    Ok(c.records.unseen(&ch.ours, &ch.theirs, mark)?)
}

/// `GET /`.
pub(crate) async fn page(
    State(c): State<Console>,
    op: Op,
    Query(f): Query<super::view::Done>,
) -> Result<Response, PageError> {
    let c2 = c.clone();
    let (p, actions, rows) = blocking(move || {
        let inquiries = c2.node.inquiries()?;
        let mut rows = Vec::new();
        for ch in channels_for(&c2, &op)? {
            let overdue = inquiries
                .iter()
                .filter(|q| {
                    q.overdue
                        && ((q.from == ch.ours.as_str() && q.to == ch.theirs.as_str())
                            || (q.to == ch.ours.as_str() && q.from == ch.theirs.as_str()))
                })
                .count();
            rows.push(Row {
                link: link_view(&c2, &ch.theirs.party()),
                unread: unread(&c2, &op, &ch)?,
                overdue,
                ch,
            });
        }
        let actions = super::needs_action::actions(&c2, &op)?;
        Ok((
            Chrome::new(&c2, &op, "channels", "Channels").flash(f.done),
            actions,
            rows,
        ))
    })
    .await?;
    html(&Page { p, actions, rows })
}
