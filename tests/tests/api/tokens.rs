//! Access tokens: every way a token can be wrong is a 401 problem with `WWW-Authenticate`, and
//! the external identity provider's tokens map to users by external_id or verified email.

use std::time::{SystemTime, UNIX_EPOCH};

use actix_web::http::Method;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use keel_tests::{Backend, TestApp, both_backends};
use serde_json::{Value, json};

const IDP_ISSUER: &str = "https://idp.example.test";
const IDP_AUDIENCE: &str = "keel";

fn fixture(name: &str) -> String {
    format!("{}/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

/// The server's own signing key (kid, secret) from its key file.
fn own_key(app: &TestApp) -> (String, Vec<u8>) {
    let file: Value = serde_json::from_str(&std::fs::read_to_string(app.config.jwt_keys_path()).unwrap()).unwrap();
    let kid = file["signing_kid"].as_str().unwrap().to_owned();
    let key = file["keys"].as_array().unwrap().iter().find(|k| k["kid"] == kid.as_str()).unwrap();
    (kid, URL_SAFE_NO_PAD.decode(key["secret"].as_str().unwrap()).unwrap())
}

fn claims(sub: &str) -> Value {
    let now = now();
    json!({ "sub": sub, "iss": "keel", "aud": "keel-api", "iat": now, "nbf": now, "exp": now + 600, "jti": "t", "kind": "user" })
}

fn sign_hs(kid: Option<&str>, secret: &[u8], claims: &Value) -> String {
    let mut header = Header::new(Algorithm::HS256);
    header.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_secret(secret)).unwrap()
}

fn sign_idp(alg: Algorithm, claims: &Value) -> String {
    let key = match alg {
        Algorithm::RS256 => {
            EncodingKey::from_rsa_pem(std::fs::read(fixture("idp-rsa-private.pem")).unwrap().as_slice()).unwrap()
        }
        _ => EncodingKey::from_ec_pem(std::fs::read(fixture("idp-ec-private.pem")).unwrap().as_slice()).unwrap(),
    };
    jsonwebtoken::encode(&Header::new(alg), claims, &key).unwrap()
}

async fn expect_refused(app: &TestApp, token: &str, why: &str) {
    let response = app.call_as(Some(token), Method::GET, "/v1/me", &[], None).await;
    let challenge = response.header("www-authenticate").unwrap_or_default();
    assert!(challenge.starts_with("Bearer realm=\"keel\""), "{why}: challenge {challenge:?}");
    assert!(challenge.contains("error=\"invalid_token\""), "{why}: {challenge}");
    let problem = response.expect_problem(401);
    assert_eq!(problem["code"], "unauthorized", "{why}");
}

both_backends! {
    fn identity_provider_tokens(backend: Backend);

    async fn a_valid_token_is_accepted_and_a_missing_one_is_401(app) {
        let me = app.get("/v1/me").await.expect_status(200).json();
        assert_eq!(me["kind"], "user");
        assert_eq!(me["user"]["id"], app.admin_id.as_str());

        let response = app.call_as(None, Method::GET, "/v1/me", &[], None).await;
        assert_eq!(response.header("www-authenticate").as_deref(), Some("Bearer realm=\"keel\""));
        response.expect_problem(401);
        let response = app.call_as(None, Method::GET, "/v1/users", &[("authorization", "Basic YTpi")], None).await;
        response.expect_problem(401);
    }

    async fn every_invalid_token_is_refused(app) {
        let (kid, secret) = own_key(&app);
        let admin = app.admin_id.clone();
        let good = claims(&admin);
        // Sanity: a token forged with the real key and claims passes, so the refusals below are
        // about the one thing each changes.
        app.call_as(Some(&sign_hs(Some(&kid), &secret, &good)), Method::GET, "/v1/me", &[], None).await.expect_status(200);

        let mut expired = good.clone();
        expired["exp"] = json!(now() - 120);
        expired["iat"] = json!(now() - 1000);
        expect_refused(&app, &sign_hs(Some(&kid), &secret, &expired), "expired").await;

        let mut future = good.clone();
        future["nbf"] = json!(now() + 600);
        expect_refused(&app, &sign_hs(Some(&kid), &secret, &future), "not yet valid").await;

        expect_refused(&app, &sign_hs(Some(&kid), b"another-secret-of-at-least-32-bytes!", &good), "bad signature").await;

        let mut issuer = good.clone();
        issuer["iss"] = json!("someone-else");
        expect_refused(&app, &sign_hs(Some(&kid), &secret, &issuer), "wrong issuer").await;

        let mut audience = good.clone();
        audience["aud"] = json!("another-api");
        expect_refused(&app, &sign_hs(Some(&kid), &secret, &audience), "wrong audience").await;

        expect_refused(&app, &sign_hs(Some("k-unknown"), &secret, &good), "unknown kid").await;
        expect_refused(&app, &sign_hs(None, &secret, &good), "no kid").await;

        // alg: none, unsigned.
        let header = URL_SAFE_NO_PAD.encode(json!({ "alg": "none", "typ": "JWT", "kid": kid }).to_string());
        let payload = URL_SAFE_NO_PAD.encode(good.to_string());
        expect_refused(&app, &format!("{header}.{payload}."), "alg none").await;
        expect_refused(&app, "not-a-jwt", "garbage").await;

        let mut nobody = good.clone();
        nobody["sub"] = json!(uuid::Uuid::now_v7().to_string());
        expect_refused(&app, &sign_hs(Some(&kid), &secret, &nobody), "unknown user").await;
    }

    async fn a_deactivated_users_tokens_stop_at_the_next_request(app) {
        let user = app.create_user(json!({ "email": "ann@example.com", "name": "Ann" })).await;
        let token = app.token_for("ann@example.com");
        app.call_as(Some(&token), Method::GET, "/v1/me", &[], None).await.expect_status(200);
        app.delete(&format!("/v1/users/{}", user["id"].as_str().unwrap()), None).await.expect_status(204);
        expect_refused(&app, &token, "deactivated").await;
    }
}

async fn spawn_with_idp(backend: Backend) -> Option<TestApp> {
    TestApp::spawn_with(backend, |config| {
        config.idp_issuer = IDP_ISSUER.to_owned();
        config.idp_audience = IDP_AUDIENCE.to_owned();
        config.idp_keys_file = fixture("idp-public-keys.pem");
    })
    .await
}

fn idp_claims(sub: &str, email: Option<(&str, bool)>) -> Value {
    let now = now();
    let mut claims = json!({ "sub": sub, "iss": IDP_ISSUER, "aud": IDP_AUDIENCE, "iat": now, "exp": now + 600 });
    if let Some((address, verified)) = email {
        claims["email"] = json!(address);
        claims["email_verified"] = json!(verified);
    }
    claims
}

async fn identity_provider_tokens(backend: Backend) {
    let Some(app) = spawn_with_idp(backend).await else { return };
    let org = app.create_org("Acme").await;
    let by_id = app
        .create_user(
            json!({ "email": "kim@acme.test", "name": "Kim", "organization_id": org["id"], "external_id": "idp-kim" }),
        )
        .await;
    let by_email =
        app.create_user(json!({ "email": "lee@acme.test", "name": "Lee", "organization_id": org["id"] })).await;

    for alg in [Algorithm::RS256, Algorithm::ES256] {
        let token = sign_idp(alg, &idp_claims("idp-kim", None));
        let me = app.call_as(Some(&token), Method::GET, "/v1/me", &[], None).await.expect_status(200).json();
        assert_eq!(me["user"]["id"], by_id["id"], "{alg:?} maps by external_id");
    }
    let token = sign_idp(Algorithm::RS256, &idp_claims("idp-unknown", Some(("LEE@acme.test", true))));
    let me = app.call_as(Some(&token), Method::GET, "/v1/me", &[], None).await.expect_status(200).json();
    assert_eq!(me["user"]["id"], by_email["id"], "maps by verified email");

    expect_refused(
        &app,
        &sign_idp(Algorithm::RS256, &idp_claims("idp-unknown", Some(("lee@acme.test", false)))),
        "unverified email",
    )
    .await;
    expect_refused(&app, &sign_idp(Algorithm::RS256, &idp_claims("idp-nobody", None)), "unknown subject").await;
    let mut wrong_audience = idp_claims("idp-kim", None);
    wrong_audience["aud"] = json!("other");
    expect_refused(&app, &sign_idp(Algorithm::ES256, &wrong_audience), "idp audience").await;

    // HS/RS confusion: an HS256 token keyed with the identity provider's *public* key.
    let public_pem = std::fs::read(fixture("idp-rsa-public.pem")).unwrap();
    expect_refused(&app, &sign_hs(None, &public_pem, &idp_claims("idp-kim", None)), "HS256 with the RSA public key")
        .await;
    // An IdP-signed token claiming to be one of Keel's own.
    let mut own = idp_claims(by_id["id"].as_str().unwrap(), None);
    own["iss"] = json!("keel");
    own["aud"] = json!("keel-api");
    expect_refused(&app, &sign_idp(Algorithm::RS256, &own), "RS256 with Keel's issuer").await;

    // Deactivated users are refused for IdP tokens too.
    app.delete(&format!("/v1/users/{}", by_id["id"].as_str().unwrap()), None).await.expect_status(204);
    expect_refused(&app, &sign_idp(Algorithm::RS256, &idp_claims("idp-kim", None)), "deactivated idp user").await;
}

/// Keys given as a JWKS file are matched by `kid`.
#[actix_web::test]
async fn identity_provider_keys_from_a_jwks_file() {
    let Some(app) = TestApp::spawn_with(Backend::Sqlite, |config| {
        config.idp_issuer = IDP_ISSUER.to_owned();
        config.idp_audience = IDP_AUDIENCE.to_owned();
        config.idp_keys_file = fixture("idp-jwks.json");
    })
    .await
    else {
        return;
    };
    app.create_user(json!({ "email": "kim@acme.test", "name": "Kim", "external_id": "idp-kim" })).await;
    let key = EncodingKey::from_rsa_pem(std::fs::read(fixture("idp-rsa-private.pem")).unwrap().as_slice()).unwrap();
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some("rsa-2026".to_owned());
    let token = jsonwebtoken::encode(&header, &idp_claims("idp-kim", None), &key).unwrap();
    app.call_as(Some(&token), Method::GET, "/v1/me", &[], None).await.expect_status(200);
    header.kid = Some("another-kid".to_owned());
    let token = jsonwebtoken::encode(&header, &idp_claims("idp-kim", None), &key).unwrap();
    expect_refused(&app, &token, "kid not in the JWKS").await;
}
