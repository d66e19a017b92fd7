//! Access tokens: issuing Keel's own (HS256, signed with the current key of a key set, verified
//! with any key of it, so keys rotate without downtime) and verifying them, or an external
//! identity provider's (RS256/ES256 with configured public keys). Accepted algorithms are pinned
//! per key: an HS256 token is checked only against Keel's own secrets, an RS256/ES256 token only
//! against the identity provider's public keys.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, decode_header, encode};
use keel_domain::UserId;
use keel_domain::policy::Scope;
use serde::{Deserialize, Serialize};

/// How long a clock may be off between issuer and verifier.
const LEEWAY_SECS: u64 = 30;

/// Keel's own signing keys, as kept in the key file.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct KeyFile {
    /// The key that signs new tokens.
    pub signing_kid: String,
    /// Every key accepted for verification (the signing key included).
    pub keys: Vec<KeyEntry>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct KeyEntry {
    pub kid: String,
    /// Always `HS256`.
    pub alg: String,
    /// The secret, base64url without padding (32 random bytes).
    pub secret: String,
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("cannot read key file {path}: {reason}")]
    Read { path: String, reason: String },
    #[error("cannot write key file {path}: {reason}")]
    Write { path: String, reason: String },
    #[error("key file {path} is invalid: {reason}")]
    Invalid { path: String, reason: String },
}

impl KeyEntry {
    pub fn generate() -> KeyEntry {
        let mut secret = [0u8; 32];
        rand_fill(&mut secret);
        KeyEntry {
            kid: format!("k{}", uuid::Uuid::now_v7().simple()),
            alg: "HS256".to_owned(),
            secret: URL_SAFE_NO_PAD.encode(secret),
        }
    }
}

/// Fills `bytes` from a cryptographically secure generator seeded by the OS.
pub fn rand_fill(bytes: &mut [u8]) {
    rand::RngCore::fill_bytes(&mut rand::rng(), bytes);
}

impl KeyFile {
    pub fn generate() -> KeyFile {
        let key = KeyEntry::generate();
        KeyFile { signing_kid: key.kid.clone(), keys: vec![key] }
    }

    /// Reads the key file, creating it (readable by the owner only) with a new key if absent.
    pub fn load_or_create(path: &Path) -> Result<KeyFile, KeyError> {
        if !path.exists() {
            let file = KeyFile::generate();
            file.save(path)?;
            tracing::info!(path = %path.display(), "generated a new token signing key");
            return Ok(file);
        }
        let text = std::fs::read_to_string(path)
            .map_err(|e| KeyError::Read { path: path.display().to_string(), reason: e.to_string() })?;
        let file: KeyFile = serde_json::from_str(&text)
            .map_err(|e| KeyError::Invalid { path: path.display().to_string(), reason: e.to_string() })?;
        file.validate().map_err(|reason| KeyError::Invalid { path: path.display().to_string(), reason })?;
        Ok(file)
    }

    fn validate(&self) -> Result<(), String> {
        if !self.keys.iter().any(|k| k.kid == self.signing_kid) {
            return Err(format!("signing_kid {} is not among the keys", self.signing_kid));
        }
        for key in &self.keys {
            if key.alg != "HS256" {
                return Err(format!("key {} has alg {}; only HS256 is supported", key.kid, key.alg));
            }
            let secret =
                URL_SAFE_NO_PAD.decode(&key.secret).map_err(|_| format!("key {} is not base64url", key.kid))?;
            if secret.len() < 32 {
                return Err(format!("key {} is shorter than 32 bytes", key.kid));
            }
        }
        Ok(())
    }

    pub fn save(&self, path: &Path) -> Result<(), KeyError> {
        let fail = |e: std::io::Error| KeyError::Write { path: path.display().to_string(), reason: e.to_string() };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(fail)?;
        }
        let text = serde_json::to_string_pretty(self).expect("key file serializes");
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, text).map_err(fail)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600)).map_err(fail)?;
        }
        std::fs::rename(&tmp, path).map_err(fail)
    }

    /// Adds a new key and makes it the signing key; the old keys keep verifying.
    pub fn rotate(&mut self) -> &KeyEntry {
        let key = KeyEntry::generate();
        self.signing_kid = key.kid.clone();
        self.keys.push(key);
        self.keys.last().expect("just pushed")
    }
}

/// An external identity provider whose tokens are accepted.
pub struct ExternalIdp {
    pub issuer: String,
    pub audience: String,
    /// (kid, key, algorithm). A key without a kid matches tokens without one.
    keys: Vec<(Option<String>, DecodingKey, Algorithm)>,
}

impl ExternalIdp {
    /// Loads public keys from a PEM file (one or more RSA or EC P-256 public keys) or a JWKS file.
    pub fn load(issuer: String, audience: String, keys_file: &Path) -> Result<ExternalIdp, KeyError> {
        let path = keys_file.display().to_string();
        let text = std::fs::read_to_string(keys_file)
            .map_err(|e| KeyError::Read { path: path.clone(), reason: e.to_string() })?;
        let invalid = |reason: String| KeyError::Invalid { path: path.clone(), reason };
        let mut keys = Vec::new();
        if text.trim_start().starts_with('{') {
            let set: jsonwebtoken::jwk::JwkSet = serde_json::from_str(&text).map_err(|e| invalid(e.to_string()))?;
            for jwk in &set.keys {
                let alg = match &jwk.algorithm {
                    jsonwebtoken::jwk::AlgorithmParameters::RSA(_) => Algorithm::RS256,
                    jsonwebtoken::jwk::AlgorithmParameters::EllipticCurve(_) => Algorithm::ES256,
                    _ => continue,
                };
                let key = DecodingKey::from_jwk(jwk).map_err(|e| invalid(e.to_string()))?;
                keys.push((jwk.common.key_id.clone(), key, alg));
            }
        } else {
            for block in text.split_inclusive("-----END PUBLIC KEY-----").filter(|b| b.contains("BEGIN")) {
                let pem = block.trim().as_bytes();
                let (key, alg) = match DecodingKey::from_rsa_pem(pem) {
                    Ok(key) => (key, Algorithm::RS256),
                    Err(_) => (DecodingKey::from_ec_pem(pem).map_err(|e| invalid(e.to_string()))?, Algorithm::ES256),
                };
                keys.push((None, key, alg));
            }
        }
        if keys.is_empty() {
            return Err(invalid("no RSA or EC public key found".to_owned()));
        }
        Ok(ExternalIdp { issuer, audience, keys })
    }

    fn candidates(&self, kid: Option<&str>, alg: Algorithm) -> impl Iterator<Item = &DecodingKey> {
        self.keys
            .iter()
            .filter(move |(key_kid, _, key_alg)| *key_alg == alg && (key_kid.is_none() || key_kid.as_deref() == kid))
            .map(|(_, key, _)| key)
    }
}

/// A new random identifier or secret: `prefix` + base64url of `bytes` random bytes.
pub fn random_token(prefix: &str, bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    rand_fill(&mut buffer);
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(buffer))
}

/// An argon2id hash (PHC string) of a secret, with a random salt.
pub fn hash_secret(secret: &str) -> String {
    use argon2::password_hash::{PasswordHasher, SaltString, rand_core::OsRng};
    let salt = SaltString::generate(&mut OsRng);
    argon2::Argon2::default().hash_password(secret.as_bytes(), &salt).expect("argon2 hashing").to_string()
}

/// Whether `secret` matches an argon2 hash (constant-time comparison inside argon2).
pub fn verify_secret(secret: &str, hash: &str) -> bool {
    use argon2::password_hash::{PasswordHash, PasswordVerifier};
    PasswordHash::new(hash)
        .is_ok_and(|parsed| argon2::Argon2::default().verify_password(secret.as_bytes(), &parsed).is_ok())
}

/// Token settings.
#[derive(Clone, Debug)]
pub struct TokenSettings {
    pub issuer: String,
    pub audience: String,
    pub user_ttl: Duration,
    pub client_ttl: Duration,
}

impl Default for TokenSettings {
    fn default() -> Self {
        TokenSettings {
            issuer: "keel".to_owned(),
            audience: "keel-api".to_owned(),
            user_ttl: Duration::from_secs(15 * 60),
            client_ttl: Duration::from_secs(60 * 60),
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    iss: String,
    aud: String,
    exp: u64,
    iat: u64,
    nbf: u64,
    jti: String,
    /// `user` or `api_client`.
    kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    org: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    roles: Vec<String>,
    /// Space-separated OAuth2 scopes (API clients).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    scope: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ExternalClaims {
    sub: String,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    email_verified: Option<bool>,
}

/// What a valid token says about its bearer. Whether that bearer may still act (not deactivated,
/// not revoked) is checked against the database (see `principal`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verified {
    User { id: UserId },
    ApiClient { client_id: String, scopes: BTreeSet<Scope> },
    External { subject: String, verified_email: Option<String> },
}

/// Why a token was refused. The message is safe to show.
#[derive(Clone, Debug, thiserror::Error, PartialEq, Eq)]
pub enum AuthError {
    #[error("missing bearer token")]
    Missing,
    #[error("{0}")]
    Invalid(String),
}

impl Verified {
    /// Whom a request counts against (rate limits, idempotency keys): the token's subject, so a
    /// refreshed token is the same caller.
    pub fn caller_key(&self) -> String {
        match self {
            Verified::User { id } => format!("user:{id}"),
            Verified::ApiClient { client_id, .. } => format!("client:{client_id}"),
            Verified::External { subject, .. } => format!("idp:{subject}"),
        }
    }
}

/// The outcome of verifying a request's bearer token, kept in the request's extensions.
#[derive(Clone)]
struct VerifiedBearer(Result<Verified, AuthError>);

/// Verifies the `Authorization: Bearer <token>` header of a request, once per request: the
/// middleware and the extractors that ask again get the kept outcome.
pub fn verify_bearer(req: &impl actix_web::HttpMessage, tokens: &TokenService) -> Result<Verified, AuthError> {
    if let Some(VerifiedBearer(outcome)) = req.extensions().get::<VerifiedBearer>() {
        return outcome.clone();
    }
    let outcome =
        bearer_token(req.headers().get(actix_web::http::header::AUTHORIZATION)).and_then(|token| tokens.verify(token));
    req.extensions_mut().insert(VerifiedBearer(outcome.clone()));
    outcome
}

/// The token of an `Authorization: Bearer <token>` header.
fn bearer_token(header: Option<&actix_web::http::header::HeaderValue>) -> Result<&str, AuthError> {
    let value = header.and_then(|v| v.to_str().ok()).ok_or(AuthError::Missing)?;
    let (scheme, token) = value.trim().split_once(' ').ok_or(AuthError::Missing)?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(AuthError::Missing);
    }
    Ok(token.trim())
}

/// A freshly issued token.
#[derive(Clone, Debug)]
pub struct IssuedToken {
    pub access_token: String,
    pub expires_in: u64,
}

pub struct TokenService {
    settings: TokenSettings,
    signing_kid: String,
    signing: EncodingKey,
    verifying: HashMap<String, DecodingKey>,
    idp: Option<ExternalIdp>,
}

fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

impl TokenService {
    pub fn new(keys: &KeyFile, settings: TokenSettings, idp: Option<ExternalIdp>) -> TokenService {
        let secret = |entry: &KeyEntry| URL_SAFE_NO_PAD.decode(&entry.secret).expect("validated key file");
        let signing_entry = keys.keys.iter().find(|k| k.kid == keys.signing_kid).expect("validated key file");
        TokenService {
            settings,
            signing_kid: keys.signing_kid.clone(),
            signing: EncodingKey::from_secret(&secret(signing_entry)),
            verifying: keys.keys.iter().map(|k| (k.kid.clone(), DecodingKey::from_secret(&secret(k)))).collect(),
            idp,
        }
    }

    fn issue(&self, claims: Claims) -> IssuedToken {
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(self.signing_kid.clone());
        let expires_in = claims.exp.saturating_sub(claims.iat);
        let access_token = encode(&header, &claims, &self.signing).expect("HS256 signing cannot fail");
        IssuedToken { access_token, expires_in }
    }

    fn claims(&self, sub: String, kind: &str, ttl: Duration) -> Claims {
        let now = now_secs();
        Claims {
            sub,
            iss: self.settings.issuer.clone(),
            aud: self.settings.audience.clone(),
            exp: now + ttl.as_secs().max(1),
            iat: now,
            nbf: now,
            jti: uuid::Uuid::now_v7().to_string(),
            kind: kind.to_owned(),
            org: None,
            roles: Vec::new(),
            scope: None,
        }
    }

    /// A token for a person; `ttl` defaults to the configured one for people.
    pub fn issue_for_user(&self, user: &keel_domain::user::User, ttl: Option<Duration>) -> IssuedToken {
        let mut claims = self.claims(user.id.to_string(), "user", ttl.unwrap_or(self.settings.user_ttl));
        claims.org = user.organization_id.map(|o| o.to_string());
        claims.roles = user.roles.iter().map(|r| r.as_str().to_owned()).collect();
        self.issue(claims)
    }

    /// A token for an API client with the granted `scopes`.
    pub fn issue_for_client(&self, client_id: &str, organization_id: &str, scopes: &BTreeSet<Scope>) -> IssuedToken {
        let mut claims = self.claims(client_id.to_owned(), "api_client", self.settings.client_ttl);
        claims.org = Some(organization_id.to_owned());
        claims.scope = Some(scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" "));
        self.issue(claims)
    }

    /// Verifies a token's signature, algorithm, issuer, audience and validity period.
    pub fn verify(&self, token: &str) -> Result<Verified, AuthError> {
        let invalid = |m: &str| AuthError::Invalid(m.to_owned());
        let header =
            decode_header(token).map_err(|_| invalid("the token is malformed or its algorithm is not accepted"))?;
        match header.alg {
            Algorithm::HS256 => {
                let kid = header.kid.as_deref().ok_or_else(|| invalid("the token has no key id (kid)"))?;
                let key = self.verifying.get(kid).ok_or_else(|| invalid("the token's key id (kid) is unknown"))?;
                let validation = validation(Algorithm::HS256, &self.settings.issuer, &self.settings.audience);
                let data = decode::<Claims>(token, key, &validation).map_err(describe)?;
                let claims = data.claims;
                match claims.kind.as_str() {
                    "user" => {
                        let id = claims.sub.parse::<UserId>().map_err(|_| invalid("the token's subject is invalid"))?;
                        Ok(Verified::User { id })
                    }
                    "api_client" => {
                        let scopes = claims
                            .scope
                            .unwrap_or_default()
                            .split_whitespace()
                            .filter_map(|s| s.parse::<Scope>().ok())
                            .collect();
                        Ok(Verified::ApiClient { client_id: claims.sub, scopes })
                    }
                    _ => Err(invalid("the token's kind is unknown")),
                }
            }
            Algorithm::RS256 | Algorithm::ES256 => {
                let idp = self.idp.as_ref().ok_or_else(|| invalid("the token's key id (kid) is unknown"))?;
                let validation = validation(header.alg, &idp.issuer, &idp.audience);
                let mut last = invalid("the token's key id (kid) is unknown");
                for key in idp.candidates(header.kid.as_deref(), header.alg) {
                    match decode::<ExternalClaims>(token, key, &validation) {
                        Ok(data) => {
                            let claims = data.claims;
                            let verified_email = claims.email.filter(|_| claims.email_verified == Some(true));
                            return Ok(Verified::External { subject: claims.sub, verified_email });
                        }
                        Err(e) => last = describe(e),
                    }
                }
                Err(last)
            }
            _ => Err(invalid("the token's algorithm is not accepted")),
        }
    }

    pub fn settings(&self) -> &TokenSettings {
        &self.settings
    }
}

fn validation(alg: Algorithm, issuer: &str, audience: &str) -> Validation {
    let mut validation = Validation::new(alg);
    validation.algorithms = vec![alg];
    validation.set_issuer(&[issuer]);
    validation.set_audience(&[audience]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    validation.validate_nbf = true;
    validation.leeway = LEEWAY_SECS;
    validation
}

fn describe(error: jsonwebtoken::errors::Error) -> AuthError {
    use jsonwebtoken::errors::ErrorKind;
    let message = match error.kind() {
        ErrorKind::ExpiredSignature => "the token has expired",
        ErrorKind::ImmatureSignature => "the token is not valid yet",
        ErrorKind::InvalidSignature => "the token's signature is invalid",
        ErrorKind::InvalidIssuer => "the token's issuer is not accepted",
        ErrorKind::InvalidAudience => "the token's audience is not accepted",
        ErrorKind::InvalidAlgorithm => "the token's algorithm is not accepted",
        ErrorKind::MissingRequiredClaim(_) => "the token lacks a required claim",
        _ => "the token is invalid",
    };
    AuthError::Invalid(message.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service() -> TokenService {
        TokenService::new(&KeyFile::generate(), TokenSettings::default(), None)
    }

    #[test]
    fn rotated_keys_keep_verifying_old_tokens() {
        let mut keys = KeyFile::generate();
        let old = TokenService::new(&keys, TokenSettings::default(), None);
        let token = old.issue_for_client("c1", "o1", &[Scope::UsersRead].into_iter().collect());
        keys.rotate();
        let new = TokenService::new(&keys, TokenSettings::default(), None);
        assert!(matches!(new.verify(&token.access_token), Ok(Verified::ApiClient { .. })));
        let fresh = new.issue_for_client("c1", "o1", &BTreeSet::new());
        assert_ne!(decode_header(&fresh.access_token).unwrap().kid, decode_header(&token.access_token).unwrap().kid);
        // Another key set does not know the kid.
        assert_eq!(
            service().verify(&fresh.access_token),
            Err(AuthError::Invalid("the token's key id (kid) is unknown".into()))
        );
    }

    #[test]
    fn key_files_are_validated() {
        let mut file = KeyFile::generate();
        file.signing_kid = "missing".into();
        assert!(file.validate().is_err());
        let mut file = KeyFile::generate();
        file.keys[0].secret = URL_SAFE_NO_PAD.encode([1u8; 8]);
        assert!(file.validate().is_err());
    }
}
