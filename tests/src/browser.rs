//! A real browser for the pages' browser tests: Debian's Chromium, headless and phone-sized,
//! driven over WebDriver by its chromedriver. Every page a test checks is run through axe-core
//! (no serious or critical WCAG 2.1 A/AA violation), must not scroll sideways, must have its
//! stylesheet, and is saved as a PNG under `target/screenshots/`.
//!
//! When Chromium, chromedriver or axe-core (`tests/browser/node_modules`, from `npm ci`) is
//! missing, [`Chromium::start`] prints a notice once and returns `None`, so the test passes having
//! skipped; with `KEEL_REQUIRE_BROWSER=1` (CI) it fails instead. `KEEL_CHROMEDRIVER` and
//! `KEEL_CHROMIUM` override the paths `/usr/bin/chromedriver` and `/usr/bin/chromium`.

use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

/// The window: a phone's width (the pages must work from 360 px up).
pub const WIDTH: u32 = 360;
pub const HEIGHT: u32 = 900;
/// A wide screen's width: every checked page is also shot at it.
pub const WIDE: u32 = 1280;

/// How long a page, a WebDriver command or chromedriver's start may take.
const PATIENCE: Duration = Duration::from_secs(15);

/// What axe checks: WCAG 2.0 and 2.1, levels A and AA.
const AXE_TAGS: [&str; 4] = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];

/// The programs and the script a browser test needs.
struct Installed {
    chromedriver: PathBuf,
    chromium: PathBuf,
    axe: PathBuf,
}

impl Installed {
    fn find() -> Installed {
        let path = |var: &str, default: &str| PathBuf::from(std::env::var(var).unwrap_or_else(|_| default.to_owned()));
        Installed {
            chromedriver: path("KEEL_CHROMEDRIVER", "/usr/bin/chromedriver"),
            chromium: path("KEEL_CHROMIUM", "/usr/bin/chromium"),
            axe: Path::new(env!("CARGO_MANIFEST_DIR")).join("browser/node_modules/axe-core/axe.min.js"),
        }
    }

    /// What is missing, if anything.
    fn missing(&self) -> Vec<String> {
        [&self.chromedriver, &self.chromium, &self.axe]
            .into_iter()
            .filter(|path| !path.is_file())
            .map(|path| path.display().to_string())
            .collect()
    }
}

fn browser_required() -> bool {
    std::env::var("KEEL_REQUIRE_BROWSER").is_ok_and(|v| v == "1")
}

/// One headless Chromium with its own chromedriver and a fresh profile, for one test.
pub struct Chromium {
    client: Option<Client>,
    driver: Child,
    test: String,
    axe: String,
    shots: usize,
    // Dropped after chromedriver and Chromium are gone.
    _profile: tempfile::TempDir,
}

impl Chromium {
    /// Starts Chromium for the test `test` (the screenshots' prefix). `None`, after a notice
    /// printed once, when Chromium, chromedriver or axe-core is not installed, unless
    /// `KEEL_REQUIRE_BROWSER=1`, which makes that a failure.
    pub async fn start(test: &str) -> Option<Chromium> {
        let installed = Installed::find();
        let missing = installed.missing();
        if !missing.is_empty() {
            assert!(
                !browser_required(),
                "the browser tests are required (KEEL_REQUIRE_BROWSER=1) but these are missing: {}; \
                 install Debian's chromium and chromium-driver, and run `npm ci --prefix tests/browser`",
                missing.join(", ")
            );
            static NOTICE: OnceLock<()> = OnceLock::new();
            NOTICE.get_or_init(|| {
                // Written past the test harness's capture so that it is seen.
                let _ = writeln!(
                    std::io::stderr(),
                    "\nNOTICE: Chromium/chromedriver not found; browser tests SKIPPED (missing: {}).\n",
                    missing.join(", ")
                );
            });
            return None;
        }
        let axe = std::fs::read_to_string(&installed.axe).expect("axe-core");
        let profile = tempfile::tempdir().expect("a profile directory");
        let port = crate::free_port();
        let driver = Command::new(&installed.chromedriver)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            // Its own process group, so that Chromium goes with it whatever happens to the test.
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", installed.chromedriver.display()));
        // From here on, dropping `chromium` (a failed start too) stops chromedriver.
        let profile_dir = profile.path().display().to_string();
        let mut chromium = Chromium { client: None, driver, test: test.to_owned(), axe, shots: 0, _profile: profile };
        let deadline = Instant::now() + PATIENCE;
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not listen on port {port}");
            actix_web::rt::time::sleep(Duration::from_millis(50)).await;
        }
        let args = [
            "--headless".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-quic".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            "--no-first-run".to_owned(),
            "--disable-background-networking".to_owned(),
            "--disable-component-update".to_owned(),
            "--disable-sync".to_owned(),
            format!("--user-data-dir={profile_dir}"),
            format!("--window-size={WIDTH},{HEIGHT}"),
        ];
        let patience = PATIENCE.as_millis() as u64;
        let capabilities = json!({
            "browserName": "chrome",
            "pageLoadStrategy": "normal",
            "timeouts": { "script": patience, "pageLoad": patience },
            "goog:chromeOptions": { "binary": installed.chromium, "args": args },
        });
        let Value::Object(capabilities) = capabilities else { unreachable!("an object") };
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = ClientBuilder::new(connector)
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .unwrap_or_else(|e| panic!("Chromium did not start through {}: {e}", installed.chromedriver.display()));
        // Headless Chromium makes its first window at least 500 px wide whatever --window-size
        // says; WebDriver's window size is what a phone's is.
        client.set_window_size(WIDTH, HEIGHT).await.expect("a phone-sized window");
        chromium.client = Some(client);
        Some(chromium)
    }

    fn client(&self) -> &Client {
        self.client.as_ref().expect("a WebDriver session")
    }

    /// Opens `url` and waits for the page.
    pub async fn open(&self, url: &str) {
        self.client().goto(url).await.unwrap_or_else(|e| panic!("open {url}: {e}"));
    }

    /// The path (and query) of the page shown.
    pub async fn path(&self) -> String {
        let url = self.client().current_url().await.expect("the current address");
        match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_owned(),
        }
    }

    /// The text of the page shown, as a person reads it.
    pub async fn text(&self) -> String {
        self.script("return document.body.innerText").await.as_str().unwrap_or_default().to_owned()
    }

    /// The page's first heading.
    pub async fn heading(&self) -> String {
        self.client().find(Locator::Css("h1")).await.expect("a heading").text().await.expect("its text")
    }

    /// Types `text` into the field with id `id`, as a person does: the field must have a label.
    pub async fn fill(&self, id: &str, text: &str) {
        let label = format!("//label[@for='{id}']");
        let label = self.client().find(Locator::XPath(&label)).await.unwrap_or_else(|_| panic!("no label for #{id}"));
        assert!(label.is_displayed().await.expect("label shown"), "the label of #{id} is not shown");
        let field = self.client().find(Locator::Id(id)).await.unwrap_or_else(|_| panic!("no field #{id}"));
        field.click().await.unwrap_or_else(|e| panic!("click into #{id}: {e}"));
        field.send_keys(text).await.unwrap_or_else(|e| panic!("type into #{id}: {e}"));
    }

    /// Clicks the one button whose text starts with `label` and waits for the page it leads to.
    pub async fn press(&self, label: &str) {
        let button = self.button(label).await;
        self.click_to_next_page(button, label).await;
    }

    /// Clicks the one link matching the CSS selector `selector` and waits for its page.
    pub async fn follow(&self, selector: &str) {
        let mut found = self.client().find_all(Locator::Css(selector)).await.expect("find links");
        assert_eq!(found.len(), 1, "one link {selector:?} on {}", self.path().await);
        self.click_to_next_page(found.pop().expect("the link"), selector).await;
    }

    async fn click_to_next_page(&self, element: Element, what: &str) {
        self.mark_page().await;
        element.click().await.unwrap_or_else(|e| panic!("click {what:?}: {e}"));
        let deadline = Instant::now() + PATIENCE;
        let loaded = "return window.__keelOld !== true && document.readyState === 'complete'";
        while self.script(loaded).await != json!(true) {
            assert!(Instant::now() < deadline, "clicking {what:?} led to no page");
            actix_web::rt::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// Clicks the one button whose text starts with `label`, expecting the browser itself to
    /// refuse to send the form (a required field left empty): the page stays; returns the
    /// browser's message about the first invalid field.
    pub async fn press_refused(&self, label: &str) -> String {
        self.mark_page().await;
        self.button(label).await.click().await.unwrap_or_else(|e| panic!("click {label:?}: {e}"));
        assert_eq!(self.script("return window.__keelOld === true").await, json!(true), "{label:?} sent the form");
        let message = self
            .script(
                "const f = document.querySelector('input:invalid, textarea:invalid, select:invalid'); \
                 return f && f.validationMessage",
            )
            .await;
        message.as_str().unwrap_or_else(|| panic!("the browser refused {label:?} but no field is invalid")).to_owned()
    }

    /// The one button whose text starts with `label`.
    async fn button(&self, label: &str) -> Element {
        let xpath = format!("//button[starts-with(normalize-space(), '{label}')]");
        let mut found = self.client().find_all(Locator::XPath(&xpath)).await.expect("find buttons");
        assert_eq!(found.len(), 1, "one button {label:?} on {}", self.path().await);
        found.pop().expect("the button")
    }

    /// Marks the document shown, to notice when another replaced it.
    async fn mark_page(&self) {
        self.script("window.__keelOld = true").await;
    }

    async fn script(&self, script: &str) -> Value {
        self.client().execute(script, vec![]).await.unwrap_or_else(|e| panic!("script {script:?}: {e}"))
    }

    /// Checks the page shown, named `page`: axe-core finds no serious or critical WCAG 2.1 A/AA
    /// violation, nothing is wider than the phone's screen, the stylesheet applied; and saves a
    /// screenshot of the whole page to `target/screenshots/<test>-<n>-<page>.png`.
    pub async fn check(&mut self, page: &str) {
        self.shots += 1;
        let file = screenshots_dir().join(format!("{}-{:02}-{page}.png", self.test, self.shots));
        self.screenshot(&file).await;
        let at = self.path().await;
        let width = self.script("return window.innerWidth").await;
        assert_eq!(width, json!(WIDTH), "{page} ({at}) is shown {width} px wide, not as on a phone");

        let styled = self
            .script("return document.styleSheets.length === 1 && document.styleSheets[0].cssRules.length > 10")
            .await;
        assert_eq!(styled, json!(true), "{page} ({at}): the stylesheet did not apply");
        // The page must not scroll sideways (WCAG 1.4.10 Reflow); if it does, say what sticks out.
        let overflow = self
            .script(
                "const w = document.documentElement.clientWidth; \
                 if (document.documentElement.scrollWidth <= w) return []; \
                 return [...document.querySelectorAll('body *')] \
                   .filter(e => e.getBoundingClientRect().right > w + 1) \
                   .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') \
                     + (e.getAttribute('class') ? '.' + e.getAttribute('class') : '')) \
                   .slice(0, 8)",
            )
            .await;
        assert_eq!(overflow, json!([]), "{page} ({at}): wider than a {WIDTH} px screen; see {}", file.display());

        // axe-core, injected through WebDriver (the page's CSP, which allows no script, does not
        // apply to scripts the browser's driver runs).
        if self.script("return typeof window.axe").await != json!("object") {
            self.script(&self.axe).await;
        }
        let result = self
            .client()
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 axe.run(document, { runOnly: { type: 'tag', values: arguments[0] }, resultTypes: ['violations'] })
                   .then(r => done({ violations: r.violations.map(v => ({
                       id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
                       targets: v.nodes.map(n => n.target.join(' ')) })) }))
                   .catch(e => done({ error: String(e) }));",
                vec![json!(AXE_TAGS)],
            )
            .await
            .unwrap_or_else(|e| panic!("axe on {page}: {e}"));
        assert!(result.get("error").is_none(), "axe failed on {page}: {result}");
        let violations = result["violations"].as_array().cloned().unwrap_or_default();
        let describe = |v: &Value| {
            let text = |key: &str| v[key].as_str().unwrap_or_default().to_owned();
            format!("[{}] {}: {} ({}) at {}", text("impact"), text("id"), text("help"), text("helpUrl"), v["targets"])
        };
        let (blocking, other): (Vec<&Value>, Vec<&Value>) =
            violations.iter().partition(|v| matches!(v["impact"].as_str(), Some("serious" | "critical")));
        for v in &other {
            // Shown with the test's output when it fails, and with --nocapture.
            println!("axe, {page} ({at}), not failing: {}", describe(v));
        }
        assert!(
            blocking.is_empty(),
            "axe found serious or critical WCAG violations on {page} ({at}; screenshot {}):\n{}",
            file.display(),
            blocking.iter().map(|v| describe(v)).collect::<Vec<_>>().join("\n")
        );
        self.check_wide(page, &file).await;
    }

    /// Moves the keyboard's focus with Tab (at most 400 presses) until `found` holds of the
    /// focused element (a script's expression over `e`, the `document.activeElement`).
    async fn tab_until(&self, found: &str, what: &str) {
        let check = format!("const e = document.activeElement; return !!(e && ({found}));");
        for _ in 0..400 {
            if self.script(&check).await == json!(true) {
                return;
            }
            let focused = self.client().active_element().await.expect("a focused element");
            focused.send_keys(&fantoccini::key::Key::Tab.to_string()).await.expect("Tab");
        }
        panic!("Tab never reached {what} on {}", self.path().await);
    }

    /// Keyboard only: tabs to the field with id `id` and types `keys` (which may hold arrow keys).
    pub async fn key_fill(&self, id: &str, keys: &str) {
        self.tab_until(&format!("e.id === '{id}'"), &format!("#{id}")).await;
        let focused = self.client().active_element().await.expect("the field");
        focused.send_keys(keys).await.unwrap_or_else(|e| panic!("type into #{id}: {e}"));
    }

    /// Keyboard only: tabs to the one button (or link) whose text starts with `label`, presses
    /// Enter and waits for the page it leads to.
    pub async fn key_press(&self, label: &str) {
        let escaped = label.replace('\'', "\\'");
        let test = format!("['BUTTON', 'A'].includes(e.tagName) && e.innerText.trim().startsWith('{escaped}')");
        self.tab_until(&test, label).await;
        self.mark_page().await;
        let focused = self.client().active_element().await.expect("the button");
        focused.send_keys(&fantoccini::key::Key::Enter.to_string()).await.expect("Enter");
        let deadline = Instant::now() + PATIENCE;
        let loaded = "return window.__keelOld !== true && document.readyState === 'complete'";
        while self.script(loaded).await != json!(true) {
            assert!(Instant::now() < deadline, "pressing {label:?} with Enter led to no page");
            actix_web::rt::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// The value of the field with id `id`.
    pub async fn value(&self, id: &str) -> String {
        let read = format!("return document.getElementById('{id}').value");
        self.script(&read).await.as_str().unwrap_or_default().to_owned()
    }

    /// Clicks the label of the checkbox (or radio button) with id `id`, as a person ticks it.
    pub async fn click_label(&self, id: &str) {
        let label = format!("//label[@for='{id}']");
        let label = self.client().find(Locator::XPath(&label)).await.unwrap_or_else(|_| panic!("no label for #{id}"));
        label.click().await.unwrap_or_else(|e| panic!("click the label of #{id}: {e}"));
    }

    /// Sets the `datetime-local` field with id `id` to `at` (`YYYY-MM-DDTHH:MM`), as
    /// [`Chromium::fill_date`] does for dates.
    pub async fn fill_date_time(&self, id: &str, at: &str) {
        self.fill_date(id, at).await;
    }

    /// Sets the date field with id `id` (which must have a label) to `date` (`YYYY-MM-DD`). A
    /// date field's typing order follows the browser's locale, so the value is set as a date
    /// picker sets it.
    pub async fn fill_date(&self, id: &str, date: &str) {
        let label = format!("//label[@for='{id}']");
        self.client().find(Locator::XPath(&label)).await.unwrap_or_else(|_| panic!("no label for #{id}"));
        let set = format!("const f = document.getElementById('{id}'); f.value = '{date}'; return f.value");
        assert_eq!(self.script(&set).await, json!(date), "#{id} took no date");
    }

    /// The same page on a wide screen (1280 px): nothing sticks out, and its screenshot is saved
    /// beside the phone's as `…-<page>-1280.png`. The window is then a phone's again.
    async fn check_wide(&self, page: &str, file: &Path) {
        self.client().set_window_size(WIDE, HEIGHT).await.expect("a wide window");
        let wide = file.with_file_name(format!(
            "{}-1280.png",
            file.file_stem().and_then(|s| s.to_str()).expect("a screenshot's name")
        ));
        let sticks_out =
            self.script("return document.documentElement.scrollWidth > document.documentElement.clientWidth").await;
        self.screenshot_at(&wide, WIDE).await;
        self.client().set_window_size(WIDTH, HEIGHT).await.expect("a phone-sized window");
        assert_eq!(sticks_out, json!(false), "{page} scrolls sideways at {WIDE} px; see {}", wide.display());
    }

    /// Saves the whole page (the window made as tall as the page, then put back) as a PNG.
    async fn screenshot(&self, file: &Path) {
        self.screenshot_at(file, WIDTH).await;
    }

    async fn screenshot_at(&self, file: &Path, width: u32) {
        let sizes = self
            .script("return [document.documentElement.scrollHeight, window.outerHeight - window.innerHeight]")
            .await;
        let (page, frame) = (sizes[0].as_u64().unwrap_or(0), sizes[1].as_u64().unwrap_or(0));
        let tall = u32::try_from(page + frame).unwrap_or(HEIGHT).clamp(HEIGHT, 8_000);
        if tall > HEIGHT {
            self.client().set_window_size(width, tall).await.expect("resize the window");
        }
        let png = self.client().screenshot().await.expect("a screenshot");
        if tall > HEIGHT {
            self.client().set_window_size(width, HEIGHT).await.expect("resize the window");
        }
        std::fs::write(file, png).unwrap_or_else(|e| panic!("write {}: {e}", file.display()));
    }

    /// Empties the field with id `id`.
    pub async fn client_clear(&self, id: &str) {
        let field = self.client().find(Locator::Id(id)).await.unwrap_or_else(|_| panic!("no field #{id}"));
        field.clear().await.unwrap_or_else(|e| panic!("clear #{id}: {e}"));
    }

    /// The browser's cookies for the site shown, as a `Cookie` header: to fetch what a link on
    /// the page downloads (a CSV) as this browser would.
    pub async fn cookie_header(&self) -> String {
        let cookies = self.client().get_all_cookies().await.expect("the cookies");
        cookies.iter().map(|c| format!("{}={}", c.name(), c.value())).collect::<Vec<_>>().join("; ")
    }

    /// Forgets every cookie of the site shown (another person at the same browser).
    pub async fn clear_cookies(&self) {
        self.client().delete_all_cookies().await.expect("cookies deleted");
    }

    /// Ends the WebDriver session (Chromium quits) and stops chromedriver.
    pub async fn close(mut self) {
        if let Some(client) = self.client.take() {
            let _ = client.close().await;
        }
        kill_group(&mut self.driver);
    }
}

impl Drop for Chromium {
    fn drop(&mut self) {
        kill_group(&mut self.driver);
    }
}

/// Stops chromedriver and everything it started (its process group): only what this test began.
fn kill_group(driver: &mut Child) {
    if let Ok(None) = driver.try_wait() {
        let group = format!("-{}", driver.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).stderr(Stdio::null()).status();
        let _ = driver.kill();
    }
    let _ = driver.wait();
}

/// `target/screenshots` (under `CARGO_TARGET_DIR` when set), created on first use.
pub fn screenshots_dir() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the workspace").join("target"));
        let dir = target.join("screenshots");
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
        dir
    })
    .clone()
}
