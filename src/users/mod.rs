//! Console users: who they are (e-mail, role, store), made by the command line or an hq_admin,
//! disabled rather than deleted (their actions stay attributed). Passwords in `password`,
//! sign-in and sessions in `sessions`.

pub mod password;
pub mod reset;
pub mod sessions;
pub mod two_factor;

use crate::access::audit::{self, Audited};
use crate::access::{Actor, Area, Role};
use crate::error::{Error, Result, phrase_conflict};
use crate::loyalty::contact::normalise_email;
use crate::store::{NewUser, Store, UserRecord};
use crate::tokens;

/// What a new user is: e-mail, role and store, and the password they sign in with.
pub struct NewUserInput<'a> {
    pub email: &'a str,
    pub role: &'a str,
    pub store_id: Option<&'a str>,
    pub password: &'a str,
    pub language: Option<&'a str>,
}

/// The roles a person signs in with (a till, `store`, is a key, not a person).
fn user_role(text: &str) -> Result<Role> {
    match Role::parse(text) {
        Some(role) if role != Role::Store => Ok(role),
        _ => Err(Error::unprocessable("role must be hq_admin, hq_marketer or store_manager", "role")),
    }
}

/// The actor a signed-in user acts as.
pub fn actor(user: &UserRecord) -> Result<Actor> {
    let role = user_role(&user.role).map_err(|_| Error::Forbidden(format!("user {} has an unknown role", user.id)))?;
    Ok(Actor::new(user.id.clone(), user.email.clone(), role, user.store_id.clone()))
}

/// Creates a user; `by` is who asks (`None`: the command line, which may make the first admin).
pub async fn create(store: &dyn Store, by: Option<&Actor>, input: NewUserInput<'_>) -> Result<UserRecord> {
    if let Some(actor) = by {
        actor.require(Area::Keys)?;
    }
    let email = normalise_email(input.email).map_err(|e| Error::unprocessable(format!("email {e}"), "email"))?;
    let role = user_role(input.role)?;
    let store_id = input.store_id.map(str::trim).filter(|s| !s.is_empty());
    match (role.is_store(), store_id) {
        (true, None) => return Err(Error::unprocessable("a store_manager needs a store", "store_id")),
        (false, Some(_)) => return Err(Error::unprocessable(format!("an {role} has no store"), "store_id")),
        (true, Some(id)) => crate::shops::require_known(store, id, "store_id").await?,
        (false, None) => {}
    }
    password::check(input.password)?;
    let language = match input.language {
        None => None,
        Some(l @ ("en" | "fr")) => Some(l.to_owned()),
        Some(_) => return Err(Error::unprocessable("language must be en or fr", "language")),
    };
    let user = NewUser {
        id: format!("usr_{}", tokens::random_hex(8)),
        email,
        password_hash: password::hash(input.password).await?,
        role: role.to_string(),
        store_id: store_id.map(str::to_owned),
        language,
    };
    let user = store.insert_user(user).await.map_err(|e| {
        phrase_conflict(e, |_, email, _| Error::conflict(format!("a user has the e-mail {email:?}"), "email"))
    })?;
    if let Some(actor) = by {
        let detail = serde_json::json!({"email": user.email, "role": user.role});
        let what = Audited {
            action: "user.created",
            object_kind: "user",
            object_id: &user.id,
            store_id: user.store_id.as_deref(),
            detail,
        };
        audit::record(store, actor, what).await?;
    }
    Ok(user)
}

/// Disables a user and ends their sessions; 404 if there is no such user.
pub async fn disable(store: &dyn Store, by: Option<&Actor>, email: &str) -> Result<UserRecord> {
    if let Some(actor) = by {
        actor.require(Area::Keys)?;
    }
    let email = email.trim().to_lowercase();
    let user = store.disable_user(&email).await?.ok_or_else(|| Error::NotFound(format!("no user {email:?}")))?;
    if let Some(actor) = by {
        let detail = serde_json::json!({"email": user.email});
        let what = Audited {
            action: "user.disabled",
            object_kind: "user",
            object_id: &user.id,
            store_id: user.store_id.as_deref(),
            detail,
        };
        audit::record(store, actor, what).await?;
    }
    Ok(user)
}
