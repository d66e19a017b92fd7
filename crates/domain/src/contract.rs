//! Coaching contracts: the hours an organization bought for a period, and what its engagements
//! draw on them (docs/contracts.md).

use chrono::NaiveDate;

use crate::coaching::{Budgeted, LedgerMonth};
use crate::error::{DomainError, ValidationErrors};
use crate::id::{ContractId, OrganizationId};
use crate::time::{self, Timestamp};
use crate::validate;

pub const NAME_MAX: usize = 200;
pub const PROVIDER_MAX: usize = 200;
/// Hours a contract may hold.
pub const HOURS_RANGE: (f64, f64) = (0.25, 1_000_000.0);
/// The largest price per hour, in hundredths of the currency (9,999,999.99).
pub const PRICE_MAX_HUNDREDTHS: i64 = 999_999_999;
/// What `price_per_hour` looks like on the wire: up to seven digits and two decimals.
pub const PRICE_PATTERN: &str = r"^[0-9]{1,7}(\.[0-9]{1,2})?$";
pub const CURRENCY_PATTERN: &str = "^[A-Z]{3}$";

/// A price per hour: an amount in hundredths of an ISO 4217 currency.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Price {
    pub hundredths_per_hour: i64,
    pub currency: String,
}

impl Price {
    /// The amount as sent and shown: `180.00`.
    pub fn amount(&self) -> String {
        format_hundredths(self.hundredths_per_hour)
    }

    /// The cost of `minutes` at this price, in hundredths, rounded half up to the hundredth.
    pub fn cost_of(&self, minutes: i64) -> i64 {
        let total = i128::from(minutes) * i128::from(self.hundredths_per_hour);
        i64::try_from((total + 30).div_euclid(60)).unwrap_or(i64::MAX)
    }
}

/// `12345` as `123.45`.
pub fn format_hundredths(hundredths: i64) -> String {
    let sign = if hundredths < 0 { "-" } else { "" };
    let abs = hundredths.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

/// Parses `180`, `180.5` or `180.50` into hundredths (None when it is not such a number).
pub fn parse_amount(text: &str) -> Option<i64> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str, max: usize| !s.is_empty() && s.len() <= max && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole, 7) || !(fraction.is_empty() && !text.contains('.') || digits(fraction, 2)) {
        return None;
    }
    let cents = if fraction.len() == 1 { fraction.parse::<i64>().ok()? * 10 } else { fraction.parse().unwrap_or(0) };
    Some(whole.parse::<i64>().ok()? * 100 + cents)
}

#[derive(Clone, Debug, PartialEq)]
pub struct Contract {
    pub id: ContractId,
    pub organization_id: OrganizationId,
    pub name: String,
    /// The coaching provider the hours are bought from, when the organization buys from several.
    pub provider: Option<String>,
    /// The period the hours are for (inclusive): engagements drawing on the contract start in it.
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    pub bought_minutes: i64,
    pub price: Option<Price>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: i64,
}

/// A contract's fields as a client sends them.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ContractInput {
    pub name: String,
    pub provider: Option<String>,
    pub start_date: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
    pub hours: f64,
    pub price_per_hour: Option<String>,
    pub currency: Option<String>,
}

/// A partial change: only the fields present change (`Some(None)` clears an optional one).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ContractPatch {
    pub name: Option<String>,
    pub provider: Option<Option<String>>,
    pub start_date: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
    pub hours: Option<f64>,
    pub price_per_hour: Option<Option<String>>,
    pub currency: Option<Option<String>>,
}

impl ContractPatch {
    pub fn changed_fields(&self) -> Vec<&'static str> {
        [
            (self.name.is_some(), "name"),
            (self.provider.is_some(), "provider"),
            (self.start_date.is_some(), "start_date"),
            (self.end_date.is_some(), "end_date"),
            (self.hours.is_some(), "hours"),
            (self.price_per_hour.is_some(), "price_per_hour"),
            (self.currency.is_some(), "currency"),
        ]
        .into_iter()
        .filter_map(|(set, name)| set.then_some(name))
        .collect()
    }
}

fn minutes_of(errors: &mut ValidationErrors, hours: f64) -> i64 {
    let (lo, hi) = HOURS_RANGE;
    if !hours.is_finite() || !(lo..=hi).contains(&hours) {
        errors.add("hours", "out_of_range", format!("must be between {lo} and {hi} hours"));
        return 0;
    }
    (hours * 60.0).round() as i64
}

fn price_of(errors: &mut ValidationErrors, amount: Option<&str>, currency: Option<&str>) -> Option<Price> {
    match (amount, currency) {
        (None, None) => None,
        (Some(_), None) => {
            errors.add("currency", "required", "a priced contract names its currency (ISO 4217, e.g. EUR)");
            None
        }
        (None, Some(_)) => {
            errors.add("price_per_hour", "required", "a currency needs a price per hour");
            None
        }
        (Some(amount), Some(currency)) => {
            let hundredths = parse_amount(amount);
            if hundredths.is_none() {
                errors.add("price_per_hour", "invalid_amount", "must be an amount such as 180 or 180.50");
            }
            let valid_currency = currency.len() == 3 && currency.bytes().all(|b| b.is_ascii_uppercase());
            if !valid_currency {
                errors.add("currency", "invalid_currency", "must be a three-letter ISO 4217 code such as EUR");
            }
            Some(Price { hundredths_per_hour: hundredths?, currency: currency.to_owned() }).filter(|_| valid_currency)
        }
    }
}

fn check_period(errors: &mut ValidationErrors, start: NaiveDate, end: NaiveDate) {
    use chrono::Datelike;
    let (first, last) = crate::engagement::YEARS;
    for (field, date) in [("start_date", start), ("end_date", end)] {
        if !(first..=last).contains(&date.year()) {
            errors.add(field, "out_of_range", format!("must lie in the years {first} to {last}"));
        }
    }
    if end < start {
        errors.add("end_date", "before_start", format!("must not be before the start date ({start})"));
    }
}

impl Contract {
    pub fn create(organization_id: OrganizationId, input: ContractInput) -> Result<Contract, DomainError> {
        let mut errors = ValidationErrors::new();
        let name = validate::text(&mut errors, "name", &input.name, 1, NAME_MAX);
        let provider =
            input.provider.as_deref().and_then(|p| validate::text(&mut errors, "provider", p, 1, PROVIDER_MAX));
        if input.start_date.is_none() {
            errors.add("start_date", "required", "is required");
        }
        if input.end_date.is_none() {
            errors.add("end_date", "required", "is required");
        }
        if let (Some(start), Some(end)) = (input.start_date, input.end_date) {
            check_period(&mut errors, start, end);
        }
        let bought_minutes = minutes_of(&mut errors, input.hours);
        let price = price_of(&mut errors, input.price_per_hour.as_deref(), input.currency.as_deref());
        errors.finish(())?;
        let now = time::now();
        Ok(Contract {
            id: ContractId::generate(),
            organization_id,
            name: name.unwrap_or_default(),
            provider,
            start_date: input.start_date.unwrap_or_default(),
            end_date: input.end_date.unwrap_or_default(),
            bought_minutes,
            price,
            created_at: now,
            updated_at: now,
            version: 1,
        })
    }

    /// The contract after `patch`, validated; the version is bumped.
    pub fn apply(&self, patch: &ContractPatch) -> Result<Contract, DomainError> {
        let mut errors = ValidationErrors::new();
        let mut next = self.clone();
        if let Some(name) = patch.name.as_deref().and_then(|n| validate::text(&mut errors, "name", n, 1, NAME_MAX)) {
            next.name = name;
        }
        match &patch.provider {
            Some(Some(p)) => next.provider = validate::text(&mut errors, "provider", p, 1, PROVIDER_MAX),
            Some(None) => next.provider = None,
            None => {}
        }
        next.start_date = patch.start_date.unwrap_or(self.start_date);
        next.end_date = patch.end_date.unwrap_or(self.end_date);
        check_period(&mut errors, next.start_date, next.end_date);
        if let Some(hours) = patch.hours {
            next.bought_minutes = minutes_of(&mut errors, hours);
        }
        if patch.price_per_hour.is_some() || patch.currency.is_some() {
            let amount = match &patch.price_per_hour {
                Some(given) => given.clone(),
                None => self.price.as_ref().map(Price::amount),
            };
            let currency = match &patch.currency {
                Some(given) => given.clone(),
                None => self.price.as_ref().map(|p| p.currency.clone()),
            };
            next.price = price_of(&mut errors, amount.as_deref(), currency.as_deref());
        }
        errors.finish(())?;
        next.updated_at = time::now();
        next.version += 1;
        Ok(next)
    }

    /// Whether a program starting on `date` may draw on this contract.
    pub fn covers(&self, date: NaiveDate) -> bool {
        (self.start_date..=self.end_date).contains(&date)
    }

    /// Refuses a program starting outside the contract's period, on `field`.
    pub fn check_covers(&self, field: &'static str, date: NaiveDate) -> Result<(), DomainError> {
        if self.covers(date) {
            return Ok(());
        }
        Err(DomainError::Validation(ValidationErrors::single(
            field,
            "outside_contract_period",
            format!(
                "the program starts on {date}, outside the contract's period ({} to {})",
                self.start_date, self.end_date
            ),
        )))
    }
}

/// What one engagement (or group) draws on its contract, in minutes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Draw {
    /// The monthly budget over the planned months.
    pub planned_minutes: i64,
    /// Approved extensions.
    pub extension_minutes: i64,
    /// Completed sessions (and no-shows, where the organization counts them).
    pub used_minutes: i64,
    /// Completed or cancelled: what it did not use goes back to the contract.
    pub ended: bool,
}

impl Draw {
    /// The draw of a program from its ledger.
    pub fn from_ledger(ledger: &[LedgerMonth], ended: bool) -> Draw {
        Draw {
            planned_minutes: ledger.iter().map(|m| m.budget_minutes).sum(),
            extension_minutes: ledger.iter().map(|m| m.extension_minutes).sum(),
            used_minutes: ledger.iter().map(|m| m.used_minutes).sum(),
            ended,
        }
    }

    /// The draw of a program's plan alone, before anything is used.
    pub fn planned(plan: &impl Budgeted) -> Draw {
        Draw::from_ledger(&crate::coaching::ledger(plan, &[], &[]), false)
    }

    /// The same program with another plan (a new budget or new dates), what it used kept.
    pub fn replanned(self, plan: &impl Budgeted) -> Draw {
        Draw { planned_minutes: Draw::planned(plan).planned_minutes, ..self }
    }

    /// What the program holds of the contract: all it may still use while it runs (its plan
    /// and approved extensions, or what it used if that is more), and only what it used once it
    /// has ended.
    pub fn allocated_minutes(&self) -> i64 {
        if self.ended {
            self.used_minutes
        } else {
            (self.planned_minutes + self.extension_minutes).max(self.used_minutes)
        }
    }
}

/// A contract's numbers: bought, allocated to its programs, used by them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Standing {
    pub bought_minutes: i64,
    pub allocated_minutes: i64,
    pub used_minutes: i64,
}

impl Standing {
    pub fn of(contract: &Contract, draws: impl IntoIterator<Item = Draw>) -> Standing {
        draws.into_iter().fold(
            Standing { bought_minutes: contract.bought_minutes, ..Standing::default() },
            |mut s, draw| {
                s.allocated_minutes += draw.allocated_minutes();
                s.used_minutes += draw.used_minutes;
                s
            },
        )
    }

    /// Bought and not yet allocated (negative when overdrawn).
    pub fn unallocated_minutes(&self) -> i64 {
        self.bought_minutes - self.allocated_minutes
    }

    pub fn remaining_minutes(&self) -> i64 {
        self.bought_minutes - self.used_minutes
    }
}

/// A refused allocation, with the numbers (minutes) a person needs to decide what to change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Overdraft {
    /// The request field whose value would overdraw the contract.
    pub field: &'static str,
    pub contract_id: ContractId,
    pub contract_name: String,
    pub bought_minutes: i64,
    /// What the contract's other programs hold.
    pub allocated_minutes: i64,
    /// What this program would hold.
    pub requested_minutes: i64,
}

impl Overdraft {
    pub fn available_minutes(&self) -> i64 {
        (self.bought_minutes - self.allocated_minutes).max(0)
    }

    pub fn message(&self) -> String {
        let h = |m: i64| format_hours(m);
        format!(
            "the contract \"{}\" holds {} hours; its other programs hold {}, so {} are left, and this would need {}",
            self.contract_name,
            h(self.bought_minutes),
            h(self.allocated_minutes),
            h(self.available_minutes()),
            h(self.requested_minutes)
        )
    }
}

/// Minutes as hours for people: `90` is `1.5`.
pub fn format_hours(minutes: i64) -> String {
    let hours = minutes as f64 / 60.0;
    let text = format!("{hours:.2}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// Whether a program's draw may change from `before` (None: a new program) to `after` on
/// `contract`, whose other programs hold `others` minutes. A change that does not raise what
/// the program holds is always allowed; one that does must fit in what the contract bought,
/// unless the organization allows overdraft.
pub fn check_draw(
    contract: &Contract,
    overdraft_allowed: bool,
    others_minutes: i64,
    before: Option<Draw>,
    after: Draw,
    field: &'static str,
) -> Result<(), DomainError> {
    let requested = after.allocated_minutes();
    let raises = before.is_none_or(|b| requested > b.allocated_minutes());
    if !raises || overdraft_allowed || others_minutes + requested <= contract.bought_minutes {
        return Ok(());
    }
    Err(DomainError::Overdrawn(Box::new(Overdraft {
        field,
        contract_id: contract.id,
        contract_name: contract.name.clone(),
        bought_minutes: contract.bought_minutes,
        allocated_minutes: others_minutes,
        requested_minutes: requested,
    })))
}

/// Whether the contract may hold `next.bought_minutes` when its programs hold `allocated`.
pub fn check_bought(next: &Contract, overdraft_allowed: bool, allocated_minutes: i64) -> Result<(), DomainError> {
    if overdraft_allowed || allocated_minutes <= next.bought_minutes {
        return Ok(());
    }
    Err(DomainError::Validation(ValidationErrors::single(
        "hours",
        "below_allocated",
        format!(
            "the contract's programs already hold {} hours; it cannot hold fewer unless the organization allows overdraft",
            format_hours(allocated_minutes)
        ),
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn input() -> ContractInput {
        ContractInput {
            name: "2027 leadership hours".into(),
            provider: Some("North Coaching".into()),
            start_date: Some(date("2027-01-01")),
            end_date: Some(date("2027-12-31")),
            hours: 100.0,
            price_per_hour: Some("180.5".into()),
            currency: Some("EUR".into()),
        }
    }

    #[test]
    fn amounts_parse_to_hundredths_and_back() {
        assert_eq!(parse_amount("180"), Some(18000));
        assert_eq!(parse_amount("180.5"), Some(18050));
        assert_eq!(parse_amount("0.05"), Some(5));
        for bad in ["", ".5", "1.", "1.234", "-1", "1e3", "12345678", " 1", "1,5"] {
            assert_eq!(parse_amount(bad), None, "{bad:?}");
        }
        assert_eq!(format_hundredths(18050), "180.50");
        assert_eq!(format_hundredths(5), "0.05");
    }

    #[test]
    fn cost_rounds_half_up_to_the_hundredth() {
        let price = Price { hundredths_per_hour: 18050, currency: "EUR".into() };
        assert_eq!(price.cost_of(60), 18050);
        assert_eq!(price.cost_of(90), 27075);
        // 1 minute at 0.01/h is 0.0167 hundredths: rounds to 0; 30 minutes is 0.5: rounds up.
        let cent = Price { hundredths_per_hour: 1, currency: "EUR".into() };
        assert_eq!(cent.cost_of(1), 0);
        assert_eq!(cent.cost_of(30), 1);
    }

    #[test]
    fn create_validates_every_field() {
        let contract = Contract::create(OrganizationId::generate(), input()).unwrap();
        assert_eq!(contract.bought_minutes, 6000);
        assert_eq!(contract.price.as_ref().unwrap().amount(), "180.50");
        let err = Contract::create(
            OrganizationId::generate(),
            ContractInput {
                name: " ".into(),
                start_date: Some(date("2027-02-01")),
                end_date: Some(date("2027-01-01")),
                hours: 0.0,
                price_per_hour: Some("1.234".into()),
                currency: Some("eur".into()),
                ..input()
            },
        )
        .unwrap_err();
        let DomainError::Validation(errors) = err else { panic!("expected validation") };
        let fields: Vec<_> = errors.0.iter().map(|e| (e.field.as_str(), e.code)).collect();
        assert_eq!(
            fields,
            vec![
                ("name", "required"),
                ("end_date", "before_start"),
                ("hours", "out_of_range"),
                ("price_per_hour", "invalid_amount"),
                ("currency", "invalid_currency")
            ]
        );
    }

    #[test]
    fn a_price_needs_its_currency_and_a_patch_may_clear_both() {
        let err =
            Contract::create(OrganizationId::generate(), ContractInput { currency: None, ..input() }).unwrap_err();
        assert!(matches!(err, DomainError::Validation(e) if e.0[0].field == "currency"));
        let contract = Contract::create(OrganizationId::generate(), input()).unwrap();
        let cleared = contract
            .apply(&ContractPatch { price_per_hour: Some(None), currency: Some(None), ..Default::default() })
            .unwrap();
        assert_eq!(cleared.price, None);
        assert_eq!(cleared.version, 2);
        let half = contract.apply(&ContractPatch { currency: Some(None), ..Default::default() }).unwrap_err();
        assert!(matches!(half, DomainError::Validation(e) if e.0[0].field == "currency"));
        let dollars =
            contract.apply(&ContractPatch { currency: Some(Some("USD".into())), ..Default::default() }).unwrap();
        assert_eq!(dollars.price, Some(Price { hundredths_per_hour: 18050, currency: "USD".into() }));
    }

    #[test]
    fn a_running_program_holds_its_plan_and_an_ended_one_what_it_used() {
        let running = Draw { planned_minutes: 600, extension_minutes: 60, used_minutes: 120, ended: false };
        assert_eq!(running.allocated_minutes(), 660);
        let over = Draw { used_minutes: 700, ..running };
        assert_eq!(over.allocated_minutes(), 700);
        assert_eq!(Draw { ended: true, ..running }.allocated_minutes(), 120);
    }

    #[test]
    fn a_draw_beyond_the_contract_is_refused_with_the_numbers_unless_overdraft_is_allowed() {
        let contract = Contract::create(OrganizationId::generate(), ContractInput { hours: 10.0, ..input() }).unwrap();
        let draw = Draw { planned_minutes: 300, ..Draw::default() };
        assert!(check_draw(&contract, false, 300, None, draw, "contract_id").is_ok(), "exactly full");
        let err = check_draw(&contract, false, 301, None, draw, "contract_id").unwrap_err();
        let DomainError::Overdrawn(overdraft) = err else { panic!("expected overdraft") };
        assert_eq!(
            (overdraft.bought_minutes, overdraft.allocated_minutes, overdraft.requested_minutes),
            (600, 301, 300)
        );
        assert_eq!(overdraft.available_minutes(), 299);
        assert!(overdraft.message().contains("holds 10 hours"), "{}", overdraft.message());
        assert!(check_draw(&contract, true, 301, None, draw, "contract_id").is_ok(), "overdraft allowed");
        // A change that does not raise the draw passes even on an overdrawn contract.
        let smaller = Draw { planned_minutes: 200, ..draw };
        assert!(check_draw(&contract, false, 1000, Some(draw), smaller, "monthly_hours_budget").is_ok());
        assert!(check_draw(&contract, false, 1000, Some(smaller), draw, "monthly_hours_budget").is_err());
    }

    #[test]
    fn the_standing_sums_each_draw() {
        let contract = Contract::create(OrganizationId::generate(), input()).unwrap();
        let standing = Standing::of(
            &contract,
            [
                Draw { planned_minutes: 600, used_minutes: 100, ..Draw::default() },
                Draw { planned_minutes: 600, used_minutes: 50, ended: true, ..Draw::default() },
            ],
        );
        assert_eq!(standing, Standing { bought_minutes: 6000, allocated_minutes: 650, used_minutes: 150 });
        assert_eq!(standing.unallocated_minutes(), 5350);
        assert_eq!(standing.remaining_minutes(), 5850);
        assert!(check_bought(&contract, false, 6000).is_ok());
        assert!(check_bought(&contract, false, 6001).is_err());
        assert_eq!(format_hours(90), "1.5");
        assert_eq!(format_hours(600), "10");
    }
}
