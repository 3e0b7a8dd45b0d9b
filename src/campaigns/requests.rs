//! A campaign as asked through the API: checked field by field, and against what the actor may
//! reach (a store manager: its own store's members only, and HQ approves).

use std::collections::BTreeMap;

use serde::Deserialize;

use super::audience::Audience;
use super::holdout;
use super::segment::{self, Segment};
use crate::access::{Actor, Area, Reach};
use crate::error::{Error, Result};
use crate::store::NewCampaign;
use crate::tokens;

const MAX_NAME_CHARS: usize = 200;
/// A send time a little in the past (clock skew, a slow client) means "now".
const PAST_TOLERANCE_MS: i64 = 60_000;
/// How long after its start a purchase may count for a campaign, at most.
const MAX_CONVERSION_DAYS: i64 = 90;
const DEFAULT_CONVERSION_DAYS: i64 = 7;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CampaignRequest {
    pub name: String,
    pub segment: String,
    /// Language -> text, e.g. {"fr": "...", "en": "..."}.
    pub message: BTreeMap<String, String>,
    /// RFC 3339; absent: as soon as approved.
    pub send_at: Option<String>,
    /// `hq` or `store:<id>`; defaults to the caller's own scope.
    pub scope: Option<String>,
    /// `normal` (default) or `high`: may pass the weekly cap (never quiet hours nor the daily cap).
    pub priority: Option<String>,
    /// A draft waits for `submit`: no approval yet, never sent.
    #[serde(default)]
    pub draft: bool,
    /// The loyalty card a test send goes to (checked by the service: a member's, with a pass).
    pub test_card_number: Option<String>,
    /// 0 to 50; absent: PASSERELLE_CAMPAIGN_HOLDOUT_PERCENT.
    pub holdout_percent: Option<i64>,
    /// 1 to 90 days; absent: 7.
    pub conversion_days: Option<i64>,
    /// An offer each treated holder gets at the start (checked by the service: approved, not
    /// expired, covering a store campaign's store).
    pub offer_id: Option<String>,
}

/// A change to a draft: the fields given replace the draft's; `null` clears `send_at` or
/// `test_card_number`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DraftPatch {
    pub name: Option<String>,
    pub segment: Option<String>,
    pub message: Option<BTreeMap<String, String>>,
    #[serde(default, deserialize_with = "crate::patch::present")]
    pub send_at: Option<Option<String>>,
    pub scope: Option<String>,
    pub priority: Option<String>,
    #[serde(default, deserialize_with = "crate::patch::present")]
    pub test_card_number: Option<Option<String>>,
    pub holdout_percent: Option<i64>,
    pub conversion_days: Option<i64>,
    #[serde(default, deserialize_with = "crate::patch::present")]
    pub offer_id: Option<Option<String>>,
}

impl CampaignRequest {
    /// The request a stored campaign answers (to check it again, changed or not).
    pub fn of(c: &crate::store::CampaignRecord) -> Self {
        let send_at = c.send_at.and_then(|ms| jiff::Timestamp::from_millisecond(ms).ok()).map(|t| t.to_string());
        CampaignRequest {
            name: c.name.clone(),
            segment: c.segment.clone(),
            message: c.messages.clone(),
            send_at,
            scope: Some(c.scope.clone()),
            priority: Some(c.priority.clone()),
            draft: c.status == "draft",
            test_card_number: c.test_card_number.clone(),
            holdout_percent: Some(c.holdout_percent),
            conversion_days: Some(c.conversion_days),
            offer_id: c.offer_id.clone(),
        }
    }

    /// This request with `patch`'s fields in place of its own.
    pub fn patched(self, patch: DraftPatch) -> Self {
        CampaignRequest {
            name: patch.name.unwrap_or(self.name),
            segment: patch.segment.unwrap_or(self.segment),
            message: patch.message.unwrap_or(self.message),
            send_at: patch.send_at.unwrap_or(self.send_at),
            scope: patch.scope.or(self.scope),
            priority: patch.priority.or(self.priority),
            draft: self.draft,
            test_card_number: patch.test_card_number.unwrap_or(self.test_card_number),
            holdout_percent: patch.holdout_percent.or(self.holdout_percent),
            conversion_days: patch.conversion_days.or(self.conversion_days),
            offer_id: patch.offer_id.unwrap_or(self.offer_id),
        }
    }
}

/// Parses a segment; a mistake is a 422 naming `segment` and the position.
pub fn parse_segment(text: &str) -> Result<Segment> {
    segment::parse(text).map_err(|e| Error::unprocessable(format!("segment {e}"), "segment"))
}

/// The audience a campaign may have for this actor: HQ any, a store manager only its own store.
pub fn campaign_scope(actor: &Actor, asked: Option<&str>) -> Result<Audience> {
    actor.require(Area::Campaigns)?;
    let own = actor.own_store().map(|s| Audience::Store(s.to_owned()));
    let scope = match asked {
        None => own.clone().unwrap_or(Audience::Hq),
        Some(text) => Audience::parse(text)
            .ok_or_else(|| Error::unprocessable("scope must be \"hq\" or \"store:<store id>\"", "scope"))?,
    };
    if let Some(own) = own
        && scope != own
    {
        return Err(Error::Forbidden(format!(
            "a {} may only make campaigns for its own store (scope \"{own}\")",
            actor.role
        )));
    }
    Ok(scope)
}

/// A store's campaign names no other store in its segment (it reaches only its own members anyway;
/// naming another store is a mistake or a probe, refused plainly).
pub fn check_segment_stores(scope: &Audience, segment: &Segment) -> Result<()> {
    if let Audience::Store(own) = scope
        && let Some(other) = segment.stores_mentioned().into_iter().find(|s| s != own)
    {
        return Err(Error::Forbidden(format!(
            "segment names store {other:?}; this campaign may only reach store {own:?}"
        )));
    }
    Ok(())
}

/// Whether `actor` may read a campaign of `scope` (if not: it is not there for them, 404).
pub fn may_read(actor: &Actor, scope: &str) -> bool {
    match actor.reach(Area::Campaigns) {
        Reach::All => true,
        Reach::OwnStore => Audience::parse(scope).is_some_and(|a| a.store_id() == actor.own_store()),
        Reach::None => false,
    }
}

/// Checks a request and makes the campaign to store: a draft when asked; else approved at once
/// for an HQ role, waiting for HQ's approval for a store manager's.
pub fn new_campaign(
    req: CampaignRequest,
    actor: &Actor,
    created_by: &str,
    max_message_chars: usize,
    now_ms: i64,
) -> Result<NewCampaign> {
    let name = req.name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(Error::unprocessable(format!("name must be 1-{MAX_NAME_CHARS} characters"), "name"));
    }
    let scope = campaign_scope(actor, req.scope.as_deref())?;
    let segment = parse_segment(&req.segment)?;
    check_segment_stores(&scope, &segment)?;
    if req.message.is_empty() {
        return Err(Error::unprocessable("message needs at least one language, e.g. {\"en\": \"...\"}", "message"));
    }
    for (language, text) in &req.message {
        let field = format!("message.{language}");
        if !is_language_tag(language) {
            return Err(Error::unprocessable("message keys are language codes such as en, fr or fr-CA", field));
        }
        check_message_text(text, max_message_chars, field)?;
    }
    let priority = req.priority.unwrap_or_else(|| "normal".into());
    if priority != "normal" && priority != "high" {
        return Err(Error::unprocessable("priority must be \"normal\" or \"high\"", "priority"));
    }
    let send_at = match req.send_at.as_deref() {
        None => None,
        Some(text) => {
            let at = text
                .parse::<jiff::Timestamp>()
                .map_err(|_| {
                    Error::unprocessable("send_at must be an RFC 3339 time, e.g. 2026-12-01T09:30:00+01:00", "send_at")
                })?
                .as_millisecond();
            if at < now_ms - PAST_TOLERANCE_MS {
                return Err(Error::unprocessable("send_at is in the past", "send_at"));
            }
            Some(at)
        }
    };
    let test_card_number = match req.test_card_number.as_deref().map(str::trim) {
        Some("") => {
            return Err(Error::unprocessable("test_card_number is empty (null removes it)", "test_card_number"));
        }
        other => other.map(str::to_owned),
    };
    let holdout_percent = holdout::check_percent(req.holdout_percent.unwrap_or(0))
        .map_err(|e| Error::unprocessable(e, "holdout_percent"))?;
    let conversion_days = req.conversion_days.unwrap_or(DEFAULT_CONVERSION_DAYS);
    if !(1..=MAX_CONVERSION_DAYS).contains(&conversion_days) {
        return Err(Error::unprocessable(
            format!("conversion_days is a whole number of days from 1 to {MAX_CONVERSION_DAYS}"),
            "conversion_days",
        ));
    }
    let status = match (req.draft, actor.is_hq()) {
        (true, _) => "draft",
        (false, true) => "approved",
        (false, false) => "pending_approval",
    };
    Ok(NewCampaign {
        id: format!("cmp_{}", tokens::random_hex(8)),
        name: name.to_owned(),
        segment: req.segment.trim().to_owned(),
        scope: scope.to_string(),
        messages: req.message.into_iter().map(|(k, v)| (k, v.trim().to_owned())).collect(),
        priority,
        status: status.to_owned(),
        send_at,
        created_by: created_by.to_owned(),
        test_card_number,
        holdout_percent: i64::from(holdout_percent),
        conversion_days,
        offer_id: req.offer_id.map(|id| id.trim().to_owned()),
    })
}

/// `en`, `fr`, `fr-CA`, `zh-Hant`: a language subtag and optional subtags.
pub(crate) fn is_language_tag(tag: &str) -> bool {
    let mut parts = tag.split('-');
    let first = parts.next().unwrap_or("");
    (2..=3).contains(&first.len())
        && first.chars().all(|c| c.is_ascii_lowercase())
        && parts.all(|p| (2..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()))
}

/// A notification text (a campaign's, or a pass change's `message`): 1 to `max` characters once
/// trimmed (`PASSERELLE_CAMPAIGN_MESSAGE_MAX_CHARS`), so a lock screen never gets a novel.
pub fn check_message_text(text: &str, max: usize, field: impl Into<String>) -> Result<()> {
    let chars = text.trim().chars().count();
    if chars == 0 || chars > max {
        return Err(Error::unprocessable(format!("the text must be 1-{max} characters"), field));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::Role;

    fn hq() -> Actor {
        Actor::new("key_1", "hq", Role::HqMarketer, None)
    }

    fn manager(store: &str) -> Actor {
        Actor::new("key_2", "manager", Role::StoreManager, Some(store.into()))
    }

    fn request(scope: Option<&str>, segment: &str) -> CampaignRequest {
        CampaignRequest {
            name: "Winter sale".into(),
            segment: segment.into(),
            message: [("en".to_owned(), "20% off".to_owned())].into(),
            send_at: None,
            scope: scope.map(Into::into),
            priority: None,
            draft: false,
            test_card_number: None,
            holdout_percent: None,
            conversion_days: None,
            offer_id: None,
        }
    }

    #[test]
    fn hq_campaigns_start_approved_store_campaigns_wait() {
        let hq = new_campaign(request(None, "points >= 300"), &hq(), "key_1", 300, 0).unwrap();
        assert_eq!((hq.status.as_str(), hq.scope.as_str()), ("approved", "hq"));
        let paris = manager("paris-01");
        let local = new_campaign(request(None, "tier = \"premium\""), &paris, "key_2", 300, 0).unwrap();
        assert_eq!((local.status.as_str(), local.scope.as_str()), ("pending_approval", "store:paris-01"));
        let draft = CampaignRequest { draft: true, ..request(None, "points >= 0") };
        assert_eq!(new_campaign(draft, &paris, "key_2", 300, 0).unwrap().status, "draft");
    }

    #[test]
    fn a_store_key_cannot_reach_another_store() {
        let paris = manager("paris-01");
        let other = new_campaign(request(Some("store:lyon-02"), "points > 0"), &paris, "k", 300, 0);
        assert!(matches!(other, Err(Error::Forbidden(_))));
        let hq = new_campaign(request(Some("hq"), "points > 0"), &paris, "k", 300, 0);
        assert!(matches!(hq, Err(Error::Forbidden(_))));
        let named = new_campaign(request(None, "store in (\"paris-01\", \"lyon-02\")"), &paris, "k", 300, 0);
        assert!(matches!(named, Err(Error::Forbidden(m)) if m.contains("lyon-02")));
        assert!(new_campaign(request(None, "store = \"paris-01\""), &paris, "k", 300, 0).is_ok());
        // A till makes no campaigns at all.
        let till = Actor::new("key_3", "till", Role::Store, Some("paris-01".into()));
        assert!(matches!(new_campaign(request(None, "points > 0"), &till, "k", 300, 0), Err(Error::Forbidden(_))));
    }

    #[test]
    fn fields_are_checked() {
        let field = |r: Result<NewCampaign>| match r {
            Err(Error::Unprocessable { field, .. }) => field.unwrap_or_default(),
            other => panic!("expected a 422, got {other:?}"),
        };
        assert_eq!(field(new_campaign(request(None, "points >="), &hq(), "k", 300, 0)), "segment");
        let mut long = request(None, "points > 0");
        long.message.insert("fr".into(), "x".repeat(301));
        assert_eq!(field(new_campaign(long, &hq(), "k", 300, 0)), "message.fr");
        let mut bad_lang = request(None, "points > 0");
        bad_lang.message.insert("French".into(), "Bonjour".into());
        assert_eq!(field(new_campaign(bad_lang, &hq(), "k", 300, 0)), "message.French");
        let mut past = request(None, "points > 0");
        past.send_at = Some("2020-01-01T00:00:00Z".into());
        assert_eq!(field(new_campaign(past, &hq(), "k", 300, 1_800_000_000_000)), "send_at");
        let mut priority = request(None, "points > 0");
        priority.priority = Some("urgent".into());
        assert_eq!(field(new_campaign(priority, &hq(), "k", 300, 0)), "priority");
        let holdout = CampaignRequest { holdout_percent: Some(60), ..request(None, "points > 0") };
        assert_eq!(field(new_campaign(holdout, &hq(), "k", 300, 0)), "holdout_percent");
        let window = CampaignRequest { conversion_days: Some(0), ..request(None, "points > 0") };
        assert_eq!(field(new_campaign(window, &hq(), "k", 300, 0)), "conversion_days");
    }
}
