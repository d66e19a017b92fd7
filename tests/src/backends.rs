//! `both_backends!`: the one way to run a test on SQLite and on PostgreSQL.

/// Declares tests once and runs each on SQLite and on PostgreSQL: every entry makes
/// `sqlite::name` and `postgres::name` (PostgreSQL's skipped when it is unreachable, unless
/// `KEEL_REQUIRE_POSTGRES=1`). One invocation per module; entries of every form mix freely.
///
/// Written in the block, given a running Keel:
///
/// ```ignore
/// both_backends! {
///     // with the default configuration
///     async fn health(app) { app.get("/healthz").await.expect_status(200); }
///     // with the configuration adjusted by a `FnOnce(&mut keel::Config)`
///     async fn limited(app with |c| c.api_rate_per_minute = 4) { … }
///     // given only the backend: the test makes its own database or server
///     async fn queued(backend: Backend) { let db = TestDatabase::create(backend)…; }
/// }
/// ```
///
/// Or written as a function of the module (where rustfmt keeps it formatted) and named here:
///
/// ```ignore
/// both_backends! {
///     fn invitations_and_views(backend: Backend);   // async fn invitations_and_views(backend: Backend)
///     fn engagement_dates_are_bounded(app: TestApp); // async fn engagement_dates_are_bounded(app: TestApp)
/// }
/// ```
#[macro_export]
macro_rules! both_backends {
    ($($tests:tt)*) => {
        mod sqlite {
            #[allow(unused_imports)]
            use super::*;
            $crate::__tests_on! { Sqlite; $($tests)* }
        }
        mod postgres {
            #[allow(unused_imports)]
            use super::*;
            $crate::__tests_on! { Postgres; $($tests)* }
        }
    };
}

/// The tests of [`both_backends!`] on one backend, one entry at a time.
#[doc(hidden)]
#[macro_export]
macro_rules! __tests_on {
    ($backend:ident;) => {};
    ($backend:ident; $(#[$meta:meta])* async fn $name:ident($app:ident) $body:block $($rest:tt)*) => {
        $(#[$meta])*
        #[actix_web::test]
        async fn $name() {
            let Some($app) = $crate::TestApp::spawn($crate::Backend::$backend).await else { return };
            $body
        }
        $crate::__tests_on! { $backend; $($rest)* }
    };
    ($backend:ident; $(#[$meta:meta])* async fn $name:ident($given:ident: Backend) $body:block $($rest:tt)*) => {
        $(#[$meta])*
        #[actix_web::test]
        async fn $name() {
            let $given = $crate::Backend::$backend;
            $body
        }
        $crate::__tests_on! { $backend; $($rest)* }
    };
    ($backend:ident; $(#[$meta:meta])* async fn $name:ident($app:ident with $adjust:expr) $body:block $($rest:tt)*) => {
        $(#[$meta])*
        #[actix_web::test]
        async fn $name() {
            let Some($app) = $crate::TestApp::spawn_with($crate::Backend::$backend, $adjust).await else { return };
            $body
        }
        $crate::__tests_on! { $backend; $($rest)* }
    };
    ($backend:ident; $(#[$meta:meta])* fn $name:ident($_given:ident: Backend); $($rest:tt)*) => {
        $(#[$meta])*
        #[actix_web::test]
        async fn $name() {
            super::$name($crate::Backend::$backend).await
        }
        $crate::__tests_on! { $backend; $($rest)* }
    };
    ($backend:ident; $(#[$meta:meta])* fn $name:ident($_app:ident: TestApp); $($rest:tt)*) => {
        $(#[$meta])*
        #[actix_web::test]
        async fn $name() {
            let Some(app) = $crate::TestApp::spawn($crate::Backend::$backend).await else { return };
            super::$name(app).await
        }
        $crate::__tests_on! { $backend; $($rest)* }
    };
}
