//! The CC's built-in UAA: users with slow password hashes, JWT access and
//! refresh tokens as UAA issues them (HS256, `user_id`, `user_name`,
//! `email`, `scope`, `exp`), and the extractor that turns a request's
//! `Authorization: bearer …` into the [`CurrentUser`].

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sqlx::{AnyPool, Row};

use super::error::{ApiError, ApiResult};
use super::{Cc, now};

/// Scope that makes a user a CF admin.
pub const ADMIN_SCOPE: &str = "cloud_controller.admin";
pub const ACCESS_TOKEN_SECONDS: i64 = 20 * 60;
pub const REFRESH_TOKEN_SECONDS: i64 = 30 * 24 * 3600;
/// UAA marks refresh tokens by this suffix on their `jti`.
const REFRESH_SUFFIX: &str = "-r";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub jti: String,
    pub sub: String,
    pub user_id: String,
    pub user_name: String,
    pub email: String,
    pub scope: Vec<String>,
    pub client_id: String,
    pub cid: String,
    pub grant_type: String,
    pub iat: i64,
    pub exp: i64,
    pub iss: String,
    pub aud: Vec<String>,
    pub zid: String,
    pub origin: String,
}

pub struct TokenIssuer {
    encoding: EncodingKey,
    decoding: DecodingKey,
    issuer: String,
}

/// A freshly issued pair, as `/oauth/token` answers.
pub struct IssuedTokens {
    pub access_token: String,
    pub refresh_token: String,
    pub scope: Vec<String>,
    pub jti: String,
}

impl TokenIssuer {
    pub fn new(secret: &[u8], issuer: String) -> TokenIssuer {
        TokenIssuer { encoding: EncodingKey::from_secret(secret), decoding: DecodingKey::from_secret(secret), issuer }
    }

    pub fn issue(&self, user: &User, grant_type: &str) -> anyhow::Result<IssuedTokens> {
        let scope = user.scopes();
        let jti = uuid::Uuid::new_v4().simple().to_string();
        let iat = chrono::Utc::now().timestamp();
        let claims = |jti: String, lifetime: i64| Claims {
            jti,
            sub: user.guid.clone(),
            user_id: user.guid.clone(),
            user_name: user.username.clone(),
            email: user.email.clone(),
            scope: scope.clone(),
            client_id: "cf".into(),
            cid: "cf".into(),
            grant_type: grant_type.into(),
            iat,
            exp: iat + lifetime,
            iss: self.issuer.clone(),
            aud: vec!["cloud_controller".into(), "cf".into()],
            zid: "uaa".into(),
            origin: "uaa".into(),
        };
        let header = Header::new(Algorithm::HS256);
        let access_token = jsonwebtoken::encode(&header, &claims(jti.clone(), ACCESS_TOKEN_SECONDS), &self.encoding)?;
        let refresh_token = jsonwebtoken::encode(
            &header,
            &claims(format!("{jti}{REFRESH_SUFFIX}"), REFRESH_TOKEN_SECONDS),
            &self.encoding,
        )?;
        Ok(IssuedTokens { access_token, refresh_token, scope, jti })
    }

    /// Checks signature and expiry; `refresh` says which kind is expected.
    pub fn verify(&self, token: &str, refresh: bool) -> Option<Claims> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_audience(&["cloud_controller"]);
        validation.leeway = 0;
        let claims = jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation).ok()?.claims;
        (claims.jti.ends_with(REFRESH_SUFFIX) == refresh).then_some(claims)
    }
}

#[derive(Debug, Clone)]
pub struct User {
    pub guid: String,
    pub username: String,
    pub email: String,
    pub admin: bool,
}

impl User {
    pub fn scopes(&self) -> Vec<String> {
        let mut scopes = vec![
            "openid".to_string(),
            "cloud_controller.read".to_string(),
            "cloud_controller.write".to_string(),
            "password.write".to_string(),
        ];
        if self.admin {
            scopes.push(ADMIN_SCOPE.to_string());
        }
        scopes
    }
}

pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("hashing password: {e}"))
}

fn password_matches(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
}

pub async fn create_user(db: &AnyPool, username: &str, password: &str, admin: bool) -> anyhow::Result<User> {
    let guid = uuid::Uuid::new_v4().to_string();
    let hash = hash_password(password)?;
    sqlx::query(
        "INSERT INTO users (guid, username, email, password_hash, admin, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&guid)
    .bind(username)
    .bind(username)
    .bind(hash)
    .bind(admin)
    .bind(now())
    .execute(db)
    .await?;
    Ok(User { guid, username: username.into(), email: username.into(), admin })
}

fn user_from_row(row: &sqlx::any::AnyRow) -> User {
    User {
        guid: row.try_get("guid").unwrap_or_default(),
        username: row.try_get("username").unwrap_or_default(),
        email: row.try_get::<Option<String>, _>("email").ok().flatten().unwrap_or_default(),
        admin: row
            .try_get::<bool, _>("admin")
            .or_else(|_| row.try_get::<i64, _>("admin").map(|v| v != 0))
            .unwrap_or(false),
    }
}

/// The active user with these credentials, if the password is right.
pub async fn authenticate(db: &AnyPool, username: &str, password: &str) -> anyhow::Result<Option<User>> {
    let row = sqlx::query("SELECT * FROM users WHERE username = $1 AND active = $2")
        .bind(username)
        .bind(true)
        .fetch_optional(db)
        .await?;
    let hash = row.as_ref().and_then(|r| r.try_get::<String, _>("password_hash").ok());
    // Hash even for unknown users so timing does not reveal which exist.
    let matches =
        password_matches(password, hash.as_deref().unwrap_or("$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$AAAA"));
    Ok(row.filter(|_| matches).map(|r| user_from_row(&r)))
}

pub async fn find_user(db: &AnyPool, guid: &str) -> anyhow::Result<Option<User>> {
    let row = sqlx::query("SELECT * FROM users WHERE guid = $1 AND active = $2")
        .bind(guid)
        .bind(true)
        .fetch_optional(db)
        .await?;
    Ok(row.map(|r| user_from_row(&r)))
}

/// The user a request acts as.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub user: User,
}

impl CurrentUser {
    /// Only CF admins may do this.
    pub fn require_admin(&self) -> ApiResult<()> {
        if self.user.admin { Ok(()) } else { Err(ApiError::new("NotAuthorized", &[])) }
    }
}

impl FromRequestParts<Cc> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, cc: &Cc) -> ApiResult<CurrentUser> {
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .ok_or_else(|| ApiError::new("NotAuthenticated", &[]))?;
        let invalid = || ApiError::new("InvalidAuthToken", &[]);
        let value = header.to_str().map_err(|_| invalid())?;
        let token = value.strip_prefix("bearer ").or_else(|| value.strip_prefix("Bearer ")).ok_or_else(invalid)?;
        let claims = cc.tokens.verify(token.trim(), false).ok_or_else(invalid)?;
        let user = find_user(&cc.db, &claims.user_id).await?.ok_or_else(invalid)?;
        Ok(CurrentUser { user })
    }
}
