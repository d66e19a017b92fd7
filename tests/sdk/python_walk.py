"""The whole eight-step program walked by a client generated from openapi/openapi.json
(openapi-python-client), unedited, against a live Keel at KEEL_URL: context → leader_interview →
stakeholder_interviews → assessment_design → sponsor_review → coaching ⇄ mid_review → end_review →
completed, each step by its own actor with their own token, error paths read as typed problems.

Environment: KEEL_URL, KEEL_TOKEN (an admin's), KEEL_CLIENT_DIR (holds the generated keel_client),
KEEL_BIN (the keel binary: `keel token` mints people's tokens, as an operator would, with the
server's DATABASE_URL and KEEL_DATA_DIR), KEEL_DATA_DIR (with no SMTP server set, mail lands in
<data_dir>/mail as .eml files: the raters' inboxes). Run by .ci/run after python_smoke.py; exits
non-zero on the first failed expectation."""

import datetime
import email
import email.policy
import os
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, os.environ["KEEL_CLIENT_DIR"])

from keel_client import AuthenticatedClient  # noqa: E402
from keel_client.api.designs import create_design, decide_design, get_design, list_designs, submit_design  # noqa: E402
from keel_client.api.engagements import create_engagement, get_engagement, get_timeline, transition_engagement  # noqa: E402
from keel_client.api.organizations import create_organization  # noqa: E402
from keel_client.api.program import (  # noqa: E402
    create_outcome,
    get_context,
    get_leader_interview,
    list_outcomes,
    put_context,
    put_leader_interview,
    update_outcome,
)
from keel_client.api.reviews import get_end_review, get_progress, put_end_review, put_mid_review  # noqa: E402
from keel_client.api.sessions import (  # noqa: E402
    complete_session,
    create_action_item,
    decide_extension,
    get_hours,
    get_session,
    list_action_items,
    request_extension,
    schedule_session,
    update_action_item,
)
from keel_client.api.stakeholders import (  # noqa: E402
    create_rater,
    create_theme,
    get_rater,
    invite_rater,
    list_themes,
    put_rater_interview,
    release_themes,
    submit_feedback,
)
from keel_client.api.users import create_user  # noqa: E402
from keel_client.models import (  # noqa: E402
    ActionItemList,
    ActionItemResponse,
    ActionItemStatusValue,
    CompleteSessionRequest,
    ContextMeetingRequest,
    ContextMeetingResponse,
    CreateActionItemRequest,
    CreateDesignRequest,
    CreateEngagementRequest,
    CreateOrganizationRequest,
    CreateOutcomeRequest,
    CreateRaterRequest,
    CreateThemeRequest,
    CreateUserRequest,
    DecisionRequest,
    DecisionValue,
    DesignItemBody,
    DesignList,
    DesignResponse,
    DesignStatusValue,
    EngagementResponse,
    ExtensionDecisionRequest,
    ExtensionRequest,
    ExtensionResponse,
    ExtensionStatusValue,
    ExtensionVerdict,
    FeedbackReceived,
    FeedbackRequest,
    FormatValue,
    HoursLedger,
    ItemKindValue,
    LeaderInterviewRequest,
    LeaderInterviewResponse,
    NextStepValue,
    OrganizationResponse,
    OutcomeList,
    OutcomeResponse,
    OutcomeReviewBody,
    PhaseValue,
    Problem,
    Progress,
    RaterDetail,
    RaterInterviewBody,
    RaterResponse,
    RaterStatusValue,
    RelationshipValue,
    ReviewRequest,
    ReviewResponse,
    ScheduleSessionRequest,
    SessionResponse,
    SessionStatusValue,
    ThemeKindValue,
    ThemeList,
    ThemeResponse,
    TimelinePage,
    TransitionRequest,
    UpdateActionItemRequest,
    UpdateOutcomeRequest,
    UserResponse,
    UserRole,
)
from keel_client.types import Unset  # noqa: E402

URL = os.environ["KEEL_URL"]
RUN = uuid.uuid4().hex[:8]  # this run's people, so the walk can run again against the same server


def ok(response, status, model):
    """The response has `status` and its body parsed as `model`; returns the parsed body."""
    assert response.status_code == status, f"expected {status}, got {response.status_code}: {response.content!r}"
    assert isinstance(response.parsed, model), f"expected a {model.__name__}, got {response.parsed!r}"
    return response.parsed


def problem(response, status, code, errors=None):
    """The response is a problem document (the generated Problem model) with `status` and `code`
    (and, when given, exactly these `errors[].code`)."""
    parsed = ok(response, status, Problem)
    assert parsed.status == status and parsed.code == code, parsed
    if errors is not None:
        assert [e.code for e in parsed.errors] == errors, parsed.errors
    return parsed


def token_for(email_address):
    """A person's access token, minted by the operator's `keel token`."""
    out = subprocess.run(
        [os.environ["KEEL_BIN"], "token", "--email", email_address, "--ttl", "10m"],
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip()


def code_in_invitation(to):
    """The one-time code at the end of the feedback link in the rater's invitation mail."""
    mail_dir = Path(os.environ["KEEL_DATA_DIR"]) / "mail"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        for path in sorted(mail_dir.glob("*.eml")) if mail_dir.is_dir() else []:
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            if to not in str(message["To"]):
                continue
            for part in message.walk():
                if part.get_content_type() in ("text/plain", "text/html"):
                    found = re.search(r"/feedback/([A-Za-z0-9_\-]+)", part.get_content())
                    if found:
                        return found.group(1)
        time.sleep(0.2)
    raise AssertionError(f"no invitation mail to {to} in {mail_dir}")


def transition(client, engagement_id, to, reason=None, if_match=None):
    body = TransitionRequest(to=to) if reason is None else TransitionRequest(to=to, reason=reason)
    if if_match is None:
        return transition_engagement.sync_detailed(engagement_id, client=client, body=body)
    return transition_engagement.sync_detailed(engagement_id, client=client, body=body, if_match=if_match)


def phase(client, engagement_id):
    return ok(get_engagement.sync_detailed(engagement_id, client=client), 200, EngagementResponse).phase


# --- The cast: an organization, its people and a provider-side coach (as the admin) --------------
admin = AuthenticatedClient(base_url=URL, token=os.environ["KEEL_TOKEN"])
org = ok(
    create_organization.sync_detailed(client=admin, body=CreateOrganizationRequest(name=f"Walk {RUN}")),
    201,
    OrganizationResponse,
)
people = {}
for who, roles, in_org in [
    ("leader", [], True),
    ("sponsor", [], True),
    ("sponsor2", [], True),
    ("hr", [UserRole.HR_PARTNER], True),
    ("coach", [UserRole.COACH], False),
]:
    address = f"{who}.{RUN}@walk.example"
    body = CreateUserRequest(email=address, name=f"{who.title()} {RUN}", roles=roles)
    if in_org:
        body.organization_id = org.id
    user = ok(create_user.sync_detailed(client=admin, body=body), 201, UserResponse)
    people[who] = (user, AuthenticatedClient(base_url=URL, token=token_for(address)))
coach, leader, sponsor, sponsor2, hr = (people[w][1] for w in ("coach", "leader", "sponsor", "sponsor2", "hr"))
ids = {who: people[who][0].id for who in people}

# The organization's hr_partner creates the engagement; it starts in `context`.
created = create_engagement.sync_detailed(
    client=hr,
    body=CreateEngagementRequest(
        organization_id=org.id,
        title="Leading through the merger",
        leader_id=ids["leader"],
        coach_id=ids["coach"],
        sponsor_ids=[ids["sponsor"], ids["sponsor2"]],
        hr_partner_id=ids["hr"],
        start_date=datetime.date(2026, 1, 15),
    ),
)
engagement = ok(created, 201, EngagementResponse)
assert created.headers["etag"] == '"1"', created.headers
E = engagement.id
assert engagement.phase == PhaseValue.CONTEXT and engagement.planned_end_date == datetime.date(2026, 7, 15)
assert engagement.monthly_hours_budget == 3.0 and engagement.sponsor_ids == [ids["sponsor"], ids["sponsor2"]]

# --- Step 1, context: outcomes and the context meeting (the coach) -------------------------------
outcome = ok(
    create_outcome.sync_detailed(E, client=coach, body=CreateOutcomeRequest(title="Delegates more")),
    201,
    OutcomeResponse,
)
problem(
    transition(coach, E, PhaseValue.LEADER_INTERVIEW),
    409,
    "transition_refused",
    ["outcome_missing_baseline", "outcome_missing_target", "outcome_missing_measure", "context_meeting_missing"],
)
fetched = list_outcomes.sync_detailed(E, client=coach)
assert [o.title for o in ok(fetched, 200, OutcomeList).items] == ["Delegates more"]
outcome = ok(
    update_outcome.sync_detailed(
        E,
        outcome.id,
        client=coach,
        body=UpdateOutcomeRequest(baseline="2", target="8", measure="decisions delegated a week"),
        if_match='"1"',
    ),
    200,
    OutcomeResponse,
)
assert (outcome.baseline, outcome.target, outcome.version) == ("2", "8", 2), outcome
stale = update_outcome.sync_detailed(
    E, outcome.id, client=coach, body=UpdateOutcomeRequest(unit="a week"), if_match='"1"'
)
problem(stale, 412, "stale_version")
context = ContextMeetingRequest(
    met_on=datetime.date(2026, 1, 12),
    attendees=["Coach", "Leader", "Sponsor"],
    notes="The sponsor wants faster decisions",
    benchmarks=["Decision latency"],
)
ok(put_context.sync_detailed(E, client=coach, body=context), 200, ContextMeetingResponse)
assert ok(get_context.sync_detailed(E, client=leader), 200, ContextMeetingResponse).benchmarks == ["Decision latency"]
problem(get_context.sync_detailed(E, client=hr), 404, "context_meeting_not_found")

# The transition takes If-Match: the current ETag moves it, the same ETag again is stale.
current = get_engagement.sync_detailed(E, client=coach)
etag = current.headers["etag"]
moved = ok(transition(coach, E, PhaseValue.LEADER_INTERVIEW, if_match=etag), 200, EngagementResponse)
assert moved.phase == PhaseValue.LEADER_INTERVIEW and moved.version == current.parsed.version + 1
problem(transition(coach, E, PhaseValue.STAKEHOLDER_INTERVIEWS, if_match=etag), 412, "stale_version")

# --- Step 2, the leader interview (the coach's alone) -------------------------------------------
problem(
    transition(coach, E, PhaseValue.STAKEHOLDER_INTERVIEWS), 409, "transition_refused", ["leader_interview_missing"]
)
interview = LeaderInterviewRequest(
    interviewed_on=datetime.date(2026, 1, 20), commitments="Ship the merger plan", promise_pattern="Overcommits"
)
ok(put_leader_interview.sync_detailed(E, client=coach, body=interview), 200, LeaderInterviewResponse)
assert (
    ok(get_leader_interview.sync_detailed(E, client=coach), 200, LeaderInterviewResponse).promise_pattern
    == "Overcommits"
)
problem(get_leader_interview.sync_detailed(E, client=leader), 404, "leader_interview_not_found")
assert (
    ok(transition(coach, E, PhaseValue.STAKEHOLDER_INTERVIEWS), 200, EngagementResponse).phase
    == PhaseValue.STAKEHOLDER_INTERVIEWS
)

# --- Step 3, the 360: two raters answer through their invitation, one is interviewed -------------
raters = []
for name, relationship in [
    ("Quinn", RelationshipValue.BOSS),
    ("Rowan", RelationshipValue.PEER),
    ("Sasha", RelationshipValue.DIRECT_REPORT),
]:
    address = f"{name.lower()}.{RUN}@walk.example"
    body = CreateRaterRequest(name=f"{name} {RUN}", email=address, relationship=relationship)
    raters.append((ok(create_rater.sync_detailed(E, client=coach, body=body), 201, RaterResponse), address))
for rater, _ in raters[:2]:
    invited = ok(invite_rater.sync_detailed(E, rater.id, client=coach), 202, RaterResponse)
    assert invited.id == rater.id and invited.status == RaterStatusValue.INVITED, invited
# Each invited rater finds the code in their mail and submits with it as the bearer token; once.
for i, (_, address) in enumerate(raters[:2]):
    code = code_in_invitation(address)
    as_rater = AuthenticatedClient(base_url=URL, token=code)
    feedback = FeedbackRequest(strengths=f"Decisive ({i})", development_areas="Impatient", comments="Keep going")
    ok(submit_feedback.sync_detailed(client=as_rater, body=feedback), 201, FeedbackReceived)
    problem(submit_feedback.sync_detailed(client=as_rater, body=feedback), 401, "invalid_feedback_code")
for kind, title in [(ThemeKindValue.STRENGTH, "Decisive"), (ThemeKindValue.DEVELOPMENT_AREA, "Patience")]:
    ok(create_theme.sync_detailed(E, client=coach, body=CreateThemeRequest(kind=kind, title=title)), 201, ThemeResponse)
problem(release_themes.sync_detailed(E, client=coach), 409, "stakeholder_contributions_insufficient")
problem(
    transition(coach, E, PhaseValue.ASSESSMENT_DESIGN),
    409,
    "transition_refused",
    ["stakeholder_contributions_insufficient"],
)
ok(
    put_rater_interview.sync_detailed(
        E,
        raters[2][0].id,
        client=coach,
        body=RaterInterviewBody(notes="Wants more context", interviewed_on=datetime.date(2026, 2, 2)),
    ),
    200,
    RaterResponse,
)
assert ok(list_themes.sync_detailed(E, client=leader), 200, ThemeList).items == [], "nothing released yet"
released = ok(release_themes.sync_detailed(E, client=coach), 200, ThemeList)
assert all(not isinstance(t.released_at, Unset) and t.released_at is not None for t in released.items)
themes = ok(list_themes.sync_detailed(E, client=sponsor), 200, ThemeList).items
assert sorted(t.title for t in themes) == ["Decisive", "Patience"]
detail = ok(get_rater.sync_detailed(E, raters[0][0].id, client=coach), 200, RaterDetail)
assert detail.status == RaterStatusValue.FEEDBACK_SUBMITTED and detail.feedback.strengths == "Decisive (0)", detail
problem(get_rater.sync_detailed(E, raters[0][0].id, client=sponsor), 404, "rater_not_found")
assert (
    ok(transition(coach, E, PhaseValue.ASSESSMENT_DESIGN), 200, EngagementResponse).phase
    == PhaseValue.ASSESSMENT_DESIGN
)

# --- Step 4, the design (the coach) --------------------------------------------------------------
design = CreateDesignRequest(
    summary="Delegation first, then coaching the team",
    theme_ids=[t.id for t in themes],
    outcome_ids=[outcome.id],
    items=[
        DesignItemBody(kind=ItemKindValue.PRACTICE, title="Delegate one decision a day", cadence="daily"),
        DesignItemBody(kind=ItemKindValue.READING, title="Turn the Ship Around"),
    ],
)
v1 = ok(create_design.sync_detailed(E, client=coach, body=design), 201, DesignResponse)
assert (v1.version, v1.status) == (1, DesignStatusValue.DRAFT)
problem(transition(coach, E, PhaseValue.SPONSOR_REVIEW), 409, "transition_refused", ["design_not_submitted"])
assert ok(submit_design.sync_detailed(E, 1, client=coach), 200, DesignResponse).status == DesignStatusValue.SUBMITTED
assert phase(coach, E) == PhaseValue.SPONSOR_REVIEW

# --- Step 5, sponsor review: changes asked for, version 2 approved by the leader and both sponsors -
asked = decide_design.sync_detailed(
    E, 1, client=sponsor, body=DecisionRequest(decision=DecisionValue.REQUEST_CHANGES, comment="Add a team practice")
)
assert ok(asked, 201, DesignResponse).status == DesignStatusValue.CHANGES_REQUESTED
assert phase(leader, E) == PhaseValue.ASSESSMENT_DESIGN
problem(
    decide_design.sync_detailed(E, 1, client=leader, body=DecisionRequest(decision=DecisionValue.APPROVE)),
    409,
    "design_not_submitted",
)
v2 = ok(create_design.sync_detailed(E, client=coach, body=CreateDesignRequest(copy_from=1)), 201, DesignResponse)
assert v2.version == 2 and len(v2.items) == 2
ok(submit_design.sync_detailed(E, 2, client=coach), 200, DesignResponse)
problem(
    transition(coach, E, PhaseValue.COACHING),
    409,
    "transition_refused",
    ["design_not_approved_by_leader", "design_not_approved_by_sponsor"],
)
approve = DecisionRequest(decision=DecisionValue.APPROVE, comment="Good")
ok(decide_design.sync_detailed(E, 2, client=leader, body=approve), 201, DesignResponse)
problem(decide_design.sync_detailed(E, 2, client=leader, body=approve), 409, "decision_already_made")
ok(decide_design.sync_detailed(E, 2, client=sponsor, body=approve), 201, DesignResponse)
problem(transition(coach, E, PhaseValue.COACHING), 409, "transition_refused", ["design_not_approved_by_sponsor"])
last = ok(decide_design.sync_detailed(E, 2, client=sponsor2, body=approve), 201, DesignResponse)
assert last.status == DesignStatusValue.APPROVED and len(last.decisions) == 3
assert [d.status for d in ok(list_designs.sync_detailed(E, client=hr), 200, DesignList).items] == [
    DesignStatusValue.CHANGES_REQUESTED,
    DesignStatusValue.APPROVED,
]
assert ok(get_design.sync_detailed(E, 2, client=leader), 200, DesignResponse).status == DesignStatusValue.APPROVED
assert ok(transition(coach, E, PhaseValue.COACHING), 200, EngagementResponse).phase == PhaseValue.COACHING

# --- Step 6, coaching: a session, homework, the hours ledger and an extension --------------------
session = ok(
    schedule_session.sync_detailed(
        E,
        client=coach,
        body=ScheduleSessionRequest(
            scheduled_at=datetime.datetime(2026, 2, 3, 10, 0, tzinfo=datetime.timezone.utc),
            duration_minutes=60,
            format_=FormatValue.VIDEO,
            agenda="Delegation review",
        ),
    ),
    201,
    SessionResponse,
)
assert session.status == SessionStatusValue.SCHEDULED
content = CompleteSessionRequest(
    actual_duration_minutes=50,
    check_in="Tired but keen",
    shared_summary="Delegated the hiring plan",
    private_notes="Watch the pace",
)
done = ok(complete_session.sync_detailed(E, session.id, client=coach, body=content), 200, SessionResponse)
assert done.status == SessionStatusValue.COMPLETED and done.duration_minutes == 50
seen = ok(get_session.sync_detailed(E, session.id, client=leader), 200, SessionResponse)
assert seen.shared_summary == "Delegated the hiring plan" and isinstance(seen.private_notes, Unset), seen
seen = ok(get_session.sync_detailed(E, session.id, client=sponsor), 200, SessionResponse)
assert isinstance(seen.shared_summary, Unset) and isinstance(seen.agenda, Unset), seen

item = ok(
    create_action_item.sync_detailed(
        E,
        client=coach,
        body=CreateActionItemRequest(
            title="Delegate the budget review", due_date=datetime.date(2099, 12, 31), session_id=session.id
        ),
    ),
    201,
    ActionItemResponse,
)
assert item.status == ActionItemStatusValue.OPEN and not item.overdue
finished = update_action_item.sync_detailed(
    E,
    item.id,
    client=leader,
    body=UpdateActionItemRequest(status=ActionItemStatusValue.DONE, leader_note="Handed over"),
    if_match=f'"{item.version}"',
)
assert ok(finished, 200, ActionItemResponse).status == ActionItemStatusValue.DONE
assert ok(list_action_items.sync_detailed(E, client=leader), 200, ActionItemList).items[0].leader_note == "Handed over"

long = ok(
    schedule_session.sync_detailed(
        E,
        client=coach,
        body=ScheduleSessionRequest(
            scheduled_at=datetime.datetime(2026, 5, 5, 10, 0, tzinfo=datetime.timezone.utc),
            duration_minutes=240,
            format_=FormatValue.IN_PERSON,
        ),
    ),
    201,
    SessionResponse,
)
four_hours = CompleteSessionRequest(actual_duration_minutes=240)
problem(complete_session.sync_detailed(E, long.id, client=coach, body=four_hours), 409, "over_budget")
extension = ok(
    request_extension.sync_detailed(
        E,
        client=coach,
        body=ExtensionRequest(
            hours=1.0, month="2026-05", reason="An offsite workshop", new_planned_end_date=datetime.date(2026, 9, 30)
        ),
    ),
    201,
    ExtensionResponse,
)
assert extension.status == ExtensionStatusValue.REQUESTED
problem(
    decide_extension.sync_detailed(
        E, extension.id, client=coach, body=ExtensionDecisionRequest(decision=ExtensionVerdict.APPROVE)
    ),
    403,
    "forbidden",
)
approved = decide_extension.sync_detailed(
    E,
    extension.id,
    client=sponsor,
    body=ExtensionDecisionRequest(decision=ExtensionVerdict.APPROVE, comment="Worth it"),
)
assert ok(approved, 200, ExtensionResponse).status == ExtensionStatusValue.APPROVED
problem(
    decide_extension.sync_detailed(
        E, extension.id, client=sponsor2, body=ExtensionDecisionRequest(decision=ExtensionVerdict.DECLINE)
    ),
    409,
    "extension_decided",
)
ok(complete_session.sync_detailed(E, long.id, client=coach, body=four_hours), 200, SessionResponse)
ledger = ok(get_hours.sync_detailed(E, client=leader), 200, HoursLedger)
may = next(m for m in ledger.months if m.month == "2026-05")
assert (may.budget_hours, may.extension_hours, may.used_hours) == (3.0, 1.0, 4.0), may
assert ledger.months[-1].month == "2026-09", "the planned end moved"

# --- Step 7, the mid review --------------------------------------------------------------------
problem(transition(coach, E, PhaseValue.END_REVIEW), 409, "transition_refused", ["mid_review_not_completed"])
ok(transition(coach, E, PhaseValue.MID_REVIEW), 200, EngagementResponse)
problem(transition(coach, E, PhaseValue.COACHING), 409, "transition_refused", ["mid_review_missing"])
mid = ReviewRequest(
    narrative="Delegating more; the team is still hesitant",
    outcomes=[OutcomeReviewBody(outcome_id=outcome.id, actual="5", note="up from 2")],
    program_changes="Add a monthly team retro",
)
problem(put_mid_review.sync_detailed(E, client=leader, body=mid), 403, "forbidden")
assert (
    ok(put_mid_review.sync_detailed(E, client=coach, body=mid), 200, ReviewResponse).program_changes
    == "Add a monthly team retro"
)
ok(transition(coach, E, PhaseValue.COACHING), 200, EngagementResponse)
progress = ok(get_progress.sync_detailed(E, client=sponsor), 200, Progress)
assert progress.items[0].share_achieved == 0.5, progress.items[0]

# --- Step 8, the end review → completed ----------------------------------------------------------
ok(transition(coach, E, PhaseValue.END_REVIEW), 200, EngagementResponse)
end = ReviewRequest(
    narrative="A different leader",
    achievements="Delegates most decisions; the team runs the weekly plan",
    outcomes=[OutcomeReviewBody(outcome_id=outcome.id, actual="8", achieved=True)],
    next_step=NextStepValue.COMPLETED,
)
recorded = ok(put_end_review.sync_detailed(E, client=coach, body=end), 200, ReviewResponse)
assert recorded.next_step == NextStepValue.COMPLETED and isinstance(recorded.renewed_engagement_id, (Unset, type(None)))
assert phase(leader, E) == PhaseValue.COMPLETED
assert ok(get_end_review.sync_detailed(E, client=sponsor), 200, ReviewResponse).outcomes[0].achieved is True
assert ok(get_progress.sync_detailed(E, client=sponsor), 200, Progress).items[0].share_achieved == 1.0
problem(transition(coach, E, PhaseValue.COACHING), 409, "transition_refused", ["engagement_ended"])

timeline = ok(get_timeline.sync_detailed(E, client=leader), 200, TimelinePage)
assert [t.to.value for t in timeline.items] == [
    "context",
    "leader_interview",
    "stakeholder_interviews",
    "assessment_design",
    "sponsor_review",
    "assessment_design",
    "sponsor_review",
    "coaching",
    "mid_review",
    "coaching",
    "end_review",
    "completed",
], [t.to for t in timeline.items]

print("generated Python client: walk passed")
