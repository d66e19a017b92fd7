//! The pages people reach from Keel's mails (docs/access.md, pages): where a link leads, how long it and the
//! browser session it starts last, and who may follow it.

use std::time::Duration;

use crate::engagement::Engagement;
use crate::id::{EngagementId, ExtensionId};
use crate::policy::{Principal, Relation, Scope, relation};
use crate::time::Timestamp;
use crate::user::User;

/// How long a link asked for on the sign-in page lasts (a link in a mail that asks someone to
/// act lasts the configurable `page_link_ttl`).
pub const SIGN_IN_LINK_TTL: Duration = Duration::from_secs(15 * 60);
/// How long a browser stays signed in after following a link.
pub const SESSION_TTL: Duration = Duration::from_secs(12 * 3600);
/// The default lifetime of a link in a mail that asks someone to act.
pub const DEFAULT_LINK_TTL: Duration = Duration::from_secs(7 * 86_400);

/// The page a link leads to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PageTarget {
    /// The person's programs.
    Home,
    /// The leader's or a sponsor's page of one engagement.
    Engagement(EngagementId),
    /// A design version to review and decide on.
    Design(EngagementId, i32),
    /// An extension request to decide on.
    Extension(EngagementId, ExtensionId),
}

impl PageTarget {
    /// The page's path.
    pub fn path(&self) -> String {
        match self {
            PageTarget::Home => "/home".to_owned(),
            PageTarget::Engagement(id) => format!("/engagements/{id}"),
            PageTarget::Design(id, version) => format!("/engagements/{id}/designs/{version}"),
            PageTarget::Extension(id, extension) => format!("/engagements/{id}/extensions/{extension}"),
        }
    }

    /// The target of a stored path; `None` for anything [`PageTarget::path`] does not write.
    pub fn parse(path: &str) -> Option<PageTarget> {
        let parts: Vec<&str> = path.strip_prefix('/')?.split('/').collect();
        match parts.as_slice() {
            ["home"] => Some(PageTarget::Home),
            ["engagements", id] => Some(PageTarget::Engagement(id.parse().ok()?)),
            ["engagements", id, "designs", version] => {
                Some(PageTarget::Design(id.parse().ok()?, version.parse().ok().filter(|v: &i32| *v > 0)?))
            }
            ["engagements", id, "extensions", ext] => Some(PageTarget::Extension(id.parse().ok()?, ext.parse().ok()?)),
            _ => None,
        }
    }

    /// The engagement the page belongs to.
    pub fn engagement(&self) -> Option<EngagementId> {
        match self {
            PageTarget::Home => None,
            PageTarget::Engagement(id) | PageTarget::Design(id, _) | PageTarget::Extension(id, _) => Some(*id),
        }
    }

    /// What following the link lets the person do, for the page that asks them to continue.
    pub fn purpose(&self) -> &'static str {
        match self {
            PageTarget::Home => "see your coaching programs",
            PageTarget::Engagement(_) => "see your coaching program",
            PageTarget::Design(..) => "review the program design and give your decision",
            PageTarget::Extension(..) => "decide on a request for extra coaching hours",
        }
    }
}

/// A stored link, as the pages look it up by its token's hash.
#[derive(Clone, Debug, PartialEq)]
pub struct PageLink {
    pub user: User,
    pub target: PageTarget,
    pub expires_at: Timestamp,
    pub used_at: Option<Timestamp>,
}

impl PageLink {
    /// Whether the link is unused and unexpired at `now`.
    pub fn open(&self, now: Timestamp) -> bool {
        self.used_at.is_none() && self.expires_at > now
    }
}

/// Whether `user` may be signed in by a link to `target` now: an active person whose address is
/// not on hold (as for every sign-in by address) and who, for a page of an engagement, still takes
/// part in it as its leader, a sponsor, its coach or its hr_partner.
pub fn may_follow(user: &User, engagement: Option<&Engagement>, now: Timestamp) -> bool {
    if !user.may_sign_in(now) {
        return false;
    }
    let Some(engagement) = engagement else { return true };
    !matches!(
        relation(&Principal::for_user(user), engagement, Scope::EngagementsRead),
        Relation::None | Relation::ScopeMissing
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_target_is_read_back_from_its_path() {
        let e = EngagementId::generate();
        let x = ExtensionId::generate();
        for target in
            [PageTarget::Home, PageTarget::Engagement(e), PageTarget::Design(e, 3), PageTarget::Extension(e, x)]
        {
            assert_eq!(PageTarget::parse(&target.path()), Some(target));
        }
        for junk in ["", "/", "/home/x", "/engagements/nope", "/engagements/{e}/designs/0", "//home", "/admin"] {
            assert_eq!(PageTarget::parse(junk), None, "{junk}");
        }
        assert_eq!(PageTarget::parse(&format!("/engagements/{e}/designs/-1")), None);
    }
}
