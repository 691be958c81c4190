//! Logging in, API keys, and loading who a request comes from.
use rand::distr::{Alphanumeric, SampleString};
use sea_orm::{ConnectionTrait, DatabaseConnection, TransactionTrait};
use sha2::{Digest, Sha256};

use crate::backend::cache::{FreshCache, Generation};
use crate::backend::entities::user;
use crate::backend::state::LoginThrottle;
use crate::backend::store::{auth_keys, login_attempts, orgs, roles, users};
use crate::backend::{now, password, Principal};
use crate::error::AppError;
use crate::model::{AuthKeyRow, NewAuthKey};

/// Length of a MISP API key.
pub const AUTHKEY_LEN: usize = 40;

/// The one message for every failed login, so it never tells whether an account exists.
pub const LOGIN_FAILED: &str = "Unknown e-mail address or wrong password.";
pub const LOGIN_THROTTLED: &str =
    "Too many failed login attempts. Please wait a few minutes before trying again.";

/// A random alphanumeric string from the operating system's CSPRNG.
pub fn random_token(len: usize) -> String {
    Alphanumeric.sample_string(&mut rand::rng(), len)
}

/// SHA-256 hex of an API key, the form keys are stored and looked up in.
pub fn hash_authkey(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// How long a key's principal is reused without asking the database. Changes made by this
/// process (a key revoked, a user edited, disabled or deleted, an organisation or sharing group
/// changed) take effect at once through [`forget_principals`]; changes made by another process
/// on the same database take effect within this time.
pub const PRINCIPAL_TTL: std::time::Duration = std::time::Duration::from_secs(1);

/// Bumped after a change to what principals are built from (see [`forget_principals`]).
static PRINCIPALS: Generation = Generation::new();

/// Drops every cached principal (of every [`PrincipalCache`] in the process): call after a
/// change to users, roles, organisations, sharing groups or API keys commits.
pub fn forget_principals() {
    PRINCIPALS.bump();
}

/// Principals recently loaded, so that API traffic, browser sessions and queued runs do not
/// cost three or four queries each: by the API key's SHA-256, with the time the key or its user
/// expires, whichever is first (Unix seconds, 0 = never), and by user id. Only successful
/// look-ups are kept, for [`PRINCIPAL_TTL`]; expiry is checked on every use.
pub struct PrincipalCache {
    keys: FreshCache<[u8; 32], (Principal, i64)>,
    users: FreshCache<i32, Principal>,
}

impl Default for PrincipalCache {
    fn default() -> Self {
        Self {
            keys: FreshCache::new(&PRINCIPALS, PRINCIPAL_TTL, 10_000),
            users: FreshCache::new(&PRINCIPALS, PRINCIPAL_TTL, 10_000),
        }
    }
}

/// Whether the user's account has expired (`expiration` in Unix seconds; none or 0: never).
fn user_expired(user: &user::Model) -> bool {
    user.expiration.is_some_and(|exp| exp > 0 && exp <= now())
}

/// Loads a user's role and organisation. `None` when the user is missing or disabled.
pub async fn load_principal(
    db: &impl ConnectionTrait,
    user: user::Model,
    read_only: bool,
) -> Result<Option<Principal>, AppError> {
    if user.disabled || user_expired(&user) {
        return Ok(None);
    }
    let Some(role) = roles::find_role(db, user.role_id).await? else {
        return Ok(None);
    };
    let Some(org) = orgs::find_org(db, user.org_id).await? else {
        return Ok(None);
    };
    let sharing_groups = super::sharing_groups::org_sharing_groups(db, org.id).await?;
    Ok(Some(Principal {
        user,
        role,
        org,
        read_only,
        sharing_groups,
        chain_depth: 0,
    }))
}

/// The principal behind a user id (a session's user, the actor of a queued run).
pub async fn principal_for_user_id(
    db: &DatabaseConnection,
    cache: &PrincipalCache,
    user_id: i32,
) -> Result<Option<Principal>, AppError> {
    if let Some(principal) = cache.users.get(&user_id, |p| !user_expired(&p.user)) {
        return Ok(Some(principal));
    }
    let generation = cache.users.generation();
    let Some(user) = users::find_user(db, user_id).await? else {
        return Ok(None);
    };
    let principal = load_principal(db, user, false).await?;
    if let Some(p) = &principal {
        cache.users.put(user_id, p.clone(), generation);
    }
    Ok(principal)
}

/// The principal behind an `Authorization` header value, if it names a valid, unexpired key
/// of an enabled user whose role allows API access (`perm_auth`).
pub async fn principal_for_authkey(
    db: &DatabaseConnection,
    cache: &PrincipalCache,
    header: &str,
) -> Result<Option<Principal>, AppError> {
    let key = header.trim();
    let key = key.strip_prefix("Bearer ").unwrap_or(key).trim();
    if key.len() != AUTHKEY_LEN || !key.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Ok(None);
    }
    let digest: [u8; 32] = Sha256::digest(key.as_bytes()).into();
    let unexpired = |(_, expiration): &(Principal, i64)| *expiration == 0 || *expiration > now();
    if let Some((principal, _)) = cache.keys.get(&digest, unexpired) {
        return Ok(Some(principal));
    }
    let generation = cache.keys.generation();
    let Some(row) = auth_keys::find_key_by_hash(db, &hex::encode(digest)).await? else {
        return Ok(None);
    };
    let now = now();
    if row.expiration > 0 && row.expiration <= now {
        return Ok(None);
    }
    let Some(user) = users::find_user(db, row.user_id).await? else {
        return Ok(None);
    };
    let Some(principal) = load_principal(db, user, row.read_only).await? else {
        return Ok(None);
    };
    if !principal.role.perm_auth {
        return Ok(None);
    }
    // Bookkeeping at most once a minute per key, so API traffic doesn't turn into writes.
    if now - row.last_used >= 60 {
        auth_keys::update_last_used(db, row.id, now).await?;
        users::update_last_api_access(db, principal.user.id).await?;
    }
    // The entry lapses with the key or the user, whichever expires first (0 = never).
    let expiration = [row.expiration, principal.user.expiration.unwrap_or(0)]
        .into_iter()
        .filter(|e| *e > 0)
        .min()
        .unwrap_or(0);
    cache
        .keys
        .put(digest, (principal.clone(), expiration), generation);
    Ok(Some(principal))
}

/// Checks an e-mail address and password, throttling failures per address and per client.
///
/// Every failure answers [`LOGIN_FAILED`], and an unknown address costs the same argon2
/// verification as a known one.
pub async fn login(
    db: &DatabaseConnection,
    throttle: LoginThrottle,
    email: &str,
    password_input: &str,
    client: &str,
) -> Result<user::Model, AppError> {
    let email = email.trim().to_lowercase();
    let keys = [format!("email:{email}"), format!("ip:{client}")];
    let now = now();
    // Every attempt is counted before the password is checked (atomically, so parallel attempts
    // cannot slip through); a successful login clears the counts.
    let mut attempts = 0;
    for key in &keys {
        let counted =
            login_attempts::record_attempt(db, key, now, now - throttle.window_secs).await?;
        attempts = attempts.max(counted);
    }
    if attempts > throttle.max_failures {
        return Err(AppError::TooManyRequests(LOGIN_THROTTLED.into()));
    }
    let user = users::find_user_by_email(db, &email).await?;
    let hash = match &user {
        Some(u) => u.password.clone(),
        None => password::decoy_hash_blocking().await?,
    };
    let password_ok = password::verify_password(password_input.to_owned(), hash).await?;
    match user {
        Some(user) if password_ok && load_principal(db, user.clone(), false).await?.is_some() => {
            for key in &keys {
                login_attempts::delete_attempts(db, key).await?;
            }
            users::update_login_times(db, &user).await?;
            Ok(user)
        }
        _ => Err(AppError::Unauthenticated),
    }
}

/// A user creating one of their own keys. A read-only key cannot mint a key (it would be a
/// full key) and cannot revoke one.
fn require_key_writer(actor: &Principal) -> Result<(), AppError> {
    if actor.read_only {
        Err(AppError::Forbidden(
            "A read-only API key cannot manage API keys.".into(),
        ))
    } else {
        Ok(())
    }
}

/// Creates one of the actor's own keys (the API keys page).
pub async fn create_own_authkey(
    db: &DatabaseConnection,
    actor: &Principal,
    comment: &str,
    read_only: bool,
) -> Result<NewAuthKey, AppError> {
    require_key_writer(actor)?;
    let txn = db.begin().await?;
    let made = create_authkey_with_value(
        &txn,
        actor.user.id,
        &random_token(AUTHKEY_LEN),
        comment,
        read_only,
    )
    .await?;
    super::audit::record(
        &txn,
        Some(actor),
        super::audit::Entry::new(
            "AuthKey",
            made.row.id,
            "add",
            format!("AuthKey ({}) for User ({})", made.row.id, actor.user.id),
        )
        .change(format!("read_only ({read_only})")),
    )
    .await?;
    txn.commit().await?;
    Ok(made)
}

/// Revokes one of the actor's own keys.
pub async fn revoke_own_authkey(
    db: &DatabaseConnection,
    actor: &Principal,
    key_id: i32,
) -> Result<(), AppError> {
    require_key_writer(actor)?;
    let txn = db.begin().await?;
    if !auth_keys::delete_key(&txn, actor.user.id, key_id).await? {
        return Err(AppError::NotFound("Invalid API key.".into()));
    }
    super::audit::record(
        &txn,
        Some(actor),
        super::audit::Entry::new(
            "AuthKey",
            key_id,
            "delete",
            format!("AuthKey ({key_id}) for User ({})", actor.user.id),
        ),
    )
    .await?;
    txn.commit().await?;
    forget_principals();
    Ok(())
}

/// Creates an API key for `user_id` (operator paths: first start, `server user-key`). The full
/// key is returned this once and stored hashed.
pub async fn create_authkey(
    db: &DatabaseConnection,
    user_id: i32,
    comment: &str,
    read_only: bool,
) -> Result<NewAuthKey, AppError> {
    create_authkey_with_value(db, user_id, &random_token(AUTHKEY_LEN), comment, read_only).await
}

/// Stores a key with a value chosen by the operator (`FLOWGATE_ADMIN_API_KEY`); takes a
/// transaction so first-start set-up can create the admin and its key together.
pub async fn create_authkey_with_value(
    db: &impl ConnectionTrait,
    user_id: i32,
    key: &str,
    comment: &str,
    read_only: bool,
) -> Result<NewAuthKey, AppError> {
    check_authkey_format(key)?;
    let comment = comment.trim();
    if comment.chars().count() > 255 {
        return Err(AppError::Invalid(
            "The comment must be at most 255 characters long.".into(),
        ));
    }
    let row = auth_keys::insert_key(
        db,
        auth_keys::NewKey {
            user_id,
            hash: hash_authkey(key),
            start: &key[..4],
            end: &key[AUTHKEY_LEN - 4..],
            comment,
            read_only,
            expiration: 0,
        },
    )
    .await
    .map_err(|e| match e.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => {
            AppError::Conflict("This API key is already in use.".into())
        }
        _ => AppError::from(e),
    })?;
    Ok(NewAuthKey {
        row: auth_keys::to_row(row),
        authkey: key.to_owned(),
    })
}

/// A MISP key is exactly 40 ASCII letters and digits.
pub fn check_authkey_format(key: &str) -> Result<(), AppError> {
    if key.len() != AUTHKEY_LEN || !key.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(AppError::Invalid(format!(
            "An API key must be exactly {AUTHKEY_LEN} letters and digits."
        )));
    }
    Ok(())
}

pub async fn list_authkeys(
    db: &DatabaseConnection,
    user_id: i32,
) -> Result<Vec<AuthKeyRow>, AppError> {
    Ok(auth_keys::list_keys_for_user(db, user_id)
        .await?
        .into_iter()
        .map(auth_keys::to_row)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_alphanumeric_and_random() {
        let a = random_token(AUTHKEY_LEN);
        let b = random_token(AUTHKEY_LEN);
        assert_eq!(a.len(), AUTHKEY_LEN);
        assert!(a.bytes().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a, b);
    }

    #[test]
    fn authkey_hash_is_sha256_hex() {
        assert_eq!(
            hash_authkey("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn authkey_format_is_checked() {
        assert!(check_authkey_format(&"a".repeat(40)).is_ok());
        assert!(check_authkey_format(&"a".repeat(39)).is_err());
        assert!(check_authkey_format(&format!("{}-", "a".repeat(39))).is_err());
    }
}
