//! Who may do what: the roles API keys and console users share, the actor behind a request,
//! and the rules the domain functions check (never the handlers alone).
//!
//! A role reaches each area of the product everywhere, only for its own store, or not at all
//! (`Role::reach`). Reading another store's object answers 404 (nothing about it is revealed);
//! a refused write answers 403 naming the rule. Allowed cross-store actions and HQ overrides go
//! to the audit log (`audit`).

pub mod audit;

use std::fmt;

use crate::error::{Error, Result};

/// A role, as stored on API keys (and console users).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Everything, including keys, users and operations.
    HqAdmin,
    /// Campaigns, approvals, members, stores, flyers, templates, reports; not keys nor operations.
    HqMarketer,
    /// A till: any member by exact lookup, points for anyone, its own store's orders, receipts
    /// and flyers.
    Store,
    /// A store's manager: the till's rights, plus its own store's flyers, local campaigns and figures.
    StoreManager,
}

/// The parts of the product a role may reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Area {
    /// API keys (and console users).
    Keys,
    /// The job queue, dead pushes and raw passes.
    Operations,
    /// Publishing a template's new design to its passes.
    Templates,
    /// Shops: create and change them.
    Shops,
    /// Flyers and their sign-up figures.
    Flyers,
    Campaigns,
    /// Deciding on stores' campaigns.
    Approvals,
    /// Members: sign-up, lookup, changes (within `MemberField` rules).
    Members,
    /// Crediting and debiting points.
    Points,
    Orders,
    Receipts,
    /// Offers, their issues and redemptions at the till.
    Offers,
    /// Figures across stores (the store report).
    Reports,
}

/// How far a role reaches into an area.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    None,
    OwnStore,
    All,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::HqAdmin, Role::HqMarketer, Role::Store, Role::StoreManager];

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "hq_admin" => Some(Self::HqAdmin),
            "hq_marketer" => Some(Self::HqMarketer),
            "store" => Some(Self::Store),
            "store_manager" => Some(Self::StoreManager),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::HqAdmin => "hq_admin",
            Self::HqMarketer => "hq_marketer",
            Self::Store => "store",
            Self::StoreManager => "store_manager",
        }
    }

    /// Whether the role belongs to one store (and so needs a store id).
    pub fn is_store(self) -> bool {
        matches!(self, Self::Store | Self::StoreManager)
    }

    /// The rule table: how far this role reaches into `area`.
    pub fn reach(self, area: Area) -> Reach {
        use Area::*;
        match (self, area) {
            (Self::HqAdmin, _) => Reach::All,
            (Self::HqMarketer, Keys | Operations) => Reach::None,
            (Self::HqMarketer, _) => Reach::All,
            // A member shops anywhere: any till finds them and credits their points.
            (Self::Store | Self::StoreManager, Members | Points) => Reach::All,
            (Self::Store | Self::StoreManager, Orders | Receipts) => Reach::OwnStore,
            // A till prints its own store's flyers too (the console's store manager, or a key).
            (Self::Store | Self::StoreManager, Flyers) => Reach::OwnStore,
            // A till redeems, and a store proposes offers, for its own store (HQ approves them).
            (Self::Store | Self::StoreManager, Offers) => Reach::OwnStore,
            (Self::StoreManager, Campaigns) => Reach::OwnStore,
            // A store sees its own row of the store report (a till key as its manager would).
            (Self::Store | Self::StoreManager, Reports) => Reach::OwnStore,
            (Self::Store | Self::StoreManager, _) => Reach::None,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who acts: an API key, a console user, or one of Passerelle's own flows (sign-up, verification).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// The key's or user's id (`admin-token` for PASSERELLE_ADMIN_TOKEN, `flow:<name>` for a flow).
    pub id: String,
    pub name: String,
    pub role: Role,
    /// The store of a store role.
    pub store: Option<String>,
    /// A flow of Passerelle itself (a shopper proving a contact), not a person with a role.
    flow: bool,
}

impl Actor {
    /// An actor with a role; a store role needs its store.
    pub fn new(id: impl Into<String>, name: impl Into<String>, role: Role, store: Option<String>) -> Self {
        let store = store.filter(|_| role.is_store());
        Self { id: id.into(), name: name.into(), role, store, flow: false }
    }

    /// One of Passerelle's own flows acting for a shopper (`join`, `verification`): it may set
    /// what a shopper proved (a verified contact), and nothing is audited as an override.
    pub fn flow(name: &str) -> Self {
        Self { id: format!("flow:{name}"), name: name.to_owned(), role: Role::HqAdmin, store: None, flow: true }
    }

    /// Who did it, for audit logs: `key_ab12cd34 (till paris-01)`.
    pub fn label(&self) -> String {
        format!("{} ({})", self.id, self.name)
    }

    pub fn is_flow(&self) -> bool {
        self.flow
    }

    /// Whether this actor works for head office (every store).
    pub fn is_hq(&self) -> bool {
        !self.role.is_store()
    }

    /// The store a store role acts for.
    pub fn own_store(&self) -> Option<&str> {
        self.store.as_deref()
    }

    /// How far this actor reaches into `area`.
    pub fn reach(&self, area: Area) -> Reach {
        self.role.reach(area)
    }

    /// Refuses (403) an actor whose role does not reach `area` at all.
    pub fn require(&self, area: Area) -> Result<()> {
        match self.reach(area) {
            Reach::None => Err(Error::Forbidden(format!("the {} role may not use {}", self.role, area_name(area)))),
            _ => Ok(()),
        }
    }

    /// Whether this actor may read an object of `store` in `area` (if not: answer 404).
    pub fn may_read(&self, area: Area, store: &str) -> bool {
        match self.reach(area) {
            Reach::All => true,
            Reach::OwnStore => self.own_store() == Some(store),
            Reach::None => false,
        }
    }

    /// The store a write in `area` is for: the one asked (HQ), or the actor's own (a store role,
    /// for which another store's id is 403 naming the rule, whatever the area's reach: a till
    /// credits any member's points, but in its own store's name). `field` names the body's field.
    pub fn store_for_write(&self, area: Area, asked: Option<&str>, field: &str) -> Result<Option<String>> {
        self.require(area)?;
        match (self.own_store(), asked) {
            (Some(own), None) => Ok(Some(own.to_owned())),
            (Some(own), Some(asked)) if asked != own => Err(Error::Forbidden(format!(
                "{field} {asked:?}: a {} acts for its own store ({own:?}) only",
                self.role
            ))),
            (_, asked) => Ok(asked.map(str::to_owned)),
        }
    }

    /// Refuses a change of `what` (the body's `field`) unless this actor may make it.
    pub fn may_change(&self, what: MemberField, field: &str) -> Result<()> {
        let allowed = match what {
            MemberField::Verification => self.flow || self.role == Role::HqAdmin,
            MemberField::Contact | MemberField::HomeStore | MemberField::Tier => self.is_hq(),
        };
        if allowed {
            return Ok(());
        }
        let rule = match what {
            MemberField::Verification => {
                "verification flags are set by the verification flows, or by an hq_admin".to_owned()
            }
            _ => format!("a {} may not change a member's {}", self.role, what.name()),
        };
        Err(Error::Forbidden(format!("{field}: {rule}")))
    }
}

/// Member data only some roles may change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberField {
    /// E-mail and phone.
    Contact,
    /// `email_verified`, `phone_verified`.
    Verification,
    HomeStore,
    /// A tier set by hand.
    Tier,
}

impl MemberField {
    pub fn name(self) -> &'static str {
        match self {
            Self::Contact => "contact data",
            Self::Verification => "verification flags",
            Self::HomeStore => "home store",
            Self::Tier => "tier",
        }
    }
}

fn area_name(area: Area) -> &'static str {
    match area {
        Area::Keys => "API keys",
        Area::Operations => "operations",
        Area::Templates => "templates",
        Area::Shops => "stores",
        Area::Flyers => "flyers",
        Area::Campaigns => "campaigns",
        Area::Approvals => "approvals",
        Area::Members => "members",
        Area::Points => "points",
        Area::Orders => "orders",
        Area::Receipts => "receipts",
        Area::Offers => "offers",
        Area::Reports => "reports",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn till(store: &str) -> Actor {
        Actor::new("key_1", "till", Role::Store, Some(store.into()))
    }

    #[test]
    fn a_store_writes_for_its_own_store_only() {
        let paris = till("paris-01");
        assert_eq!(paris.store_for_write(Area::Receipts, None, "store_id").unwrap().as_deref(), Some("paris-01"));
        assert_eq!(
            paris.store_for_write(Area::Receipts, Some("paris-01"), "store_id").unwrap().as_deref(),
            Some("paris-01")
        );
        assert!(matches!(paris.store_for_write(Area::Receipts, Some("lyon-01"), "store_id"), Err(Error::Forbidden(_))));
        // Points may be credited for any member, but the ledger names the till's store.
        assert_eq!(paris.store_for_write(Area::Points, None, "store_id").unwrap().as_deref(), Some("paris-01"));
        let hq = Actor::new("key_2", "hq", Role::HqMarketer, None);
        assert_eq!(
            hq.store_for_write(Area::Receipts, Some("lyon-01"), "store_id").unwrap().as_deref(),
            Some("lyon-01")
        );
        assert_eq!(hq.store_for_write(Area::Receipts, None, "store_id").unwrap(), None);
    }

    #[test]
    fn verification_flags_belong_to_flows_and_hq_admins() {
        assert!(Actor::flow("verification").may_change(MemberField::Verification, "f").is_ok());
        assert!(Actor::new("k", "a", Role::HqAdmin, None).may_change(MemberField::Verification, "f").is_ok());
        assert!(Actor::new("k", "m", Role::HqMarketer, None).may_change(MemberField::Verification, "f").is_err());
        assert!(Actor::new("k", "m", Role::HqMarketer, None).may_change(MemberField::Contact, "f").is_ok());
        for field in [MemberField::Contact, MemberField::Verification, MemberField::HomeStore, MemberField::Tier] {
            assert!(till("paris-01").may_change(field, "f").is_err(), "{field:?}");
        }
    }

    #[test]
    fn roles_round_trip_and_a_store_role_keeps_its_store() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("hq"), None);
        assert_eq!(Actor::new("k", "n", Role::HqAdmin, Some("paris-01".into())).own_store(), None);
        assert!(!till("paris-01").may_read(Area::Orders, "lyon-01"));
        assert!(till("paris-01").may_read(Area::Orders, "paris-01"));
    }
}
