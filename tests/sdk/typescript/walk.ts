// The whole eight-step program walked by a TypeScript client generated from openapi/openapi.json
// (openapi-generator typescript-fetch, into ./generated, unedited), compiled with tsc --strict, against
// a live Keel at KEEL_URL: context → leader_interview → stakeholder_interviews → assessment_design →
// sponsor_review → coaching ⇄ mid_review → end_review → completed. Every actor uses their own token,
// and every client is configured with nothing but the server's address and `accessToken`, so the
// generated code alone sends `Authorization: Bearer …`. Error paths are read as the generated
// `Problem` model. Exits non-zero on the first failed expectation.
//
// Environment: KEEL_URL, KEEL_TOKEN (an admin's), KEEL_BIN (the keel binary: `keel token` mints
// people's tokens as an operator would, with the server's DATABASE_URL and KEEL_DATA_DIR),
// KEEL_DATA_DIR (with no SMTP server set, mail lands in <data_dir>/mail as .eml files: the raters'
// inboxes). Run by .ci/run.

import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

import {
  ActionItemStatusValue,
  type ApiResponse,
  Configuration,
  DecisionValue,
  DesignsApi,
  DesignStatusValue,
  EngagementsApi,
  type EngagementResponse,
  ExtensionStatusValue,
  ExtensionVerdict,
  FormatValue,
  ItemKindValue,
  NextStepValue,
  OrganizationsApi,
  parseDate,
  PhaseValue,
  type Problem,
  ProblemFromJSON,
  ProgramApi,
  RaterStatusValue,
  RelationshipValue,
  ResponseError,
  ReviewsApi,
  SessionStatusValue,
  SessionsApi,
  StakeholdersApi,
  ThemeKindValue,
  UserRole,
  UsersApi,
} from "./generated";

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

const URL = env("KEEL_URL");
const RUN = randomUUID().slice(0, 8); // this run's people, so the walk can run again on the same server

function check(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(`expectation failed: ${message}`);
}

function same(actual: unknown, expected: unknown, what: string): void {
  const [a, e] = [JSON.stringify(actual), JSON.stringify(expected)];
  check(a === e, `${what}: expected ${e}, got ${a}`);
}

/** Every API of the generated client, configured with only an access token. */
function client(accessToken: string) {
  const configuration = new Configuration({ basePath: URL, accessToken });
  return {
    organizations: new OrganizationsApi(configuration),
    users: new UsersApi(configuration),
    engagements: new EngagementsApi(configuration),
    program: new ProgramApi(configuration),
    stakeholders: new StakeholdersApi(configuration),
    designs: new DesignsApi(configuration),
    sessions: new SessionsApi(configuration),
    reviews: new ReviewsApi(configuration),
  };
}
type Client = ReturnType<typeof client>;

/** The call answers `status`; returns its body as the generated model. */
async function ok<T>(call: Promise<ApiResponse<T>>, status: number, what: string): Promise<T> {
  let response: ApiResponse<T>;
  try {
    response = await call;
  } catch (e) {
    if (e instanceof ResponseError) {
      throw new Error(`${what}: expected ${status}, got ${e.response.status}: ${await e.response.text()}`);
    }
    throw e;
  }
  check(response.raw.status === status, `${what}: expected ${status}, got ${response.raw.status}`);
  return response.value();
}

/** The call fails with `status`, and its body, read as the generated Problem model, has `code`
 * (and, when given, exactly these `errors[].code`). */
async function problem(call: Promise<unknown>, status: number, code: string, errors?: string[]): Promise<Problem> {
  try {
    await call;
  } catch (e) {
    if (!(e instanceof ResponseError)) throw e;
    const contentType = e.response.headers.get("content-type") ?? "";
    const body = await e.response.text();
    check(e.response.status === status, `expected ${status} ${code}, got ${e.response.status}: ${body}`);
    check(contentType.startsWith("application/problem+json"), `a problem document, not ${contentType}`);
    const parsed = ProblemFromJSON(JSON.parse(body));
    same([parsed.status, parsed.code], [status, code], "problem status and code");
    if (errors !== undefined)
      same(
        (parsed.errors ?? []).map((error) => error.code),
        errors,
        `errors of ${code}`,
      );
    return parsed;
  }
  throw new Error(`expected ${status} ${code}, but the call succeeded`);
}

/** A person's access token, minted by the operator's `keel token`. */
function tokenFor(email: string): string {
  return execFileSync(env("KEEL_BIN"), ["token", "--email", email, "--ttl", "10m"], { encoding: "utf8" }).trim();
}

function decodeQuotedPrintable(text: string): string {
  const bytes = text
    .replace(/=\r?\n/g, "")
    .replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  return Buffer.from(bytes, "latin1").toString("utf8");
}

/** The one-time code at the end of the feedback link in the rater's invitation mail. */
async function codeInInvitation(to: string): Promise<string> {
  const dir = join(env("KEEL_DATA_DIR"), "mail");
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    for (const name of existsSync(dir)
      ? readdirSync(dir)
          .filter((n) => n.endsWith(".eml"))
          .sort()
      : []) {
      const raw = readFileSync(join(dir, name), "utf8");
      if (!new RegExp(`^To: .*${to.replace(/\./g, "\\.")}`, "m").test(raw)) continue;
      const found = /\/feedback\/([A-Za-z0-9_-]+)/.exec(decodeQuotedPrintable(raw));
      if (found?.[1]) return found[1];
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`no invitation mail to ${to} in ${dir}`);
}

async function main(): Promise<void> {
  // --- The cast: an organization, its people and a provider-side coach (as the admin) ------------
  const admin = client(env("KEEL_TOKEN"));
  const org = await ok(
    admin.organizations.createOrganizationRaw({ createOrganizationRequest: { name: `Walk TS ${RUN}` } }),
    201,
    "create the organization",
  );
  const person = async (
    who: string,
    roles: UserRole[],
    organizationId?: string,
  ): Promise<{ id: string; as: Client }> => {
    const email = `${who}.${RUN}@walk-ts.example`;
    const createUserRequest = { email, name: `${who} ${RUN}`, organizationId, roles };
    const user = await ok(admin.users.createUserRaw({ createUserRequest }), 201, `create ${who}`);
    return { id: user.id, as: client(tokenFor(email)) };
  };
  const people = {
    leader: await person("leader", [], org.id),
    sponsor: await person("sponsor", [], org.id),
    sponsor2: await person("sponsor2", [], org.id),
    hr: await person("hr", [UserRole.HrPartner], org.id),
    coach: await person("coach", [UserRole.Coach]),
  };
  const [coach, leader, sponsor, sponsor2, hr] = [
    people.coach.as,
    people.leader.as,
    people.sponsor.as,
    people.sponsor2.as,
    people.hr.as,
  ];
  const ids = {
    leader: people.leader.id,
    sponsor: people.sponsor.id,
    sponsor2: people.sponsor2.id,
    hr: people.hr.id,
    coach: people.coach.id,
  };

  // The organization's hr_partner creates the engagement; it starts in `context`.
  const created = await hr.engagements.createEngagementRaw({
    createEngagementRequest: {
      organizationId: org.id,
      title: "Leading through the merger",
      leaderId: ids.leader,
      coachId: ids.coach,
      sponsorIds: [ids.sponsor, ids.sponsor2],
      hrPartnerId: ids.hr,
      startDate: parseDate("2026-01-15"),
    },
  });
  same(created.raw.headers.get("etag"), '"1"', "the ETag of a new engagement");
  const engagement = await ok(Promise.resolve(created), 201, "create the engagement");
  const id = engagement.id;
  same(engagement.phase, PhaseValue.Context, "the first phase");
  same(engagement.plannedEndDate, parseDate("2026-07-15"), "six months by default");
  same([engagement.monthlyHoursBudget, engagement.sponsorIds], [3.0, [ids.sponsor, ids.sponsor2]], "defaults");

  // The access token is what authenticates: without it, the same call is a 401 problem.
  const anonymous = new EngagementsApi(new Configuration({ basePath: URL }));
  await problem(anonymous.getEngagementRaw({ id }), 401, "unauthorized");

  const go = (who: Client, to: PhaseValue, ifMatch?: string): Promise<ApiResponse<EngagementResponse>> =>
    who.engagements.transitionEngagementRaw({ id, transitionRequest: { to }, ifMatch });
  const phase = async (who: Client): Promise<PhaseValue> => (await who.engagements.getEngagement({ id })).phase;
  const refused = "transition_refused";

  // --- Step 1, context: outcomes and the context meeting (the coach) -----------------------------
  let outcome = await ok(
    coach.program.createOutcomeRaw({ id, createOutcomeRequest: { title: "Delegates more" } }),
    201,
    "outcome",
  );
  await problem(go(coach, PhaseValue.LeaderInterview), 409, refused, [
    "outcome_missing_baseline",
    "outcome_missing_target",
    "outcome_missing_measure",
    "context_meeting_missing",
  ]);
  same(
    (await coach.program.listOutcomes({ id })).items.map((o) => o.title),
    ["Delegates more"],
    "outcomes",
  );
  const completeOutcome = { baseline: "2", target: "8", measure: "decisions delegated a week" };
  outcome = await ok(
    coach.program.updateOutcomeRaw({
      id,
      outcomeId: outcome.id,
      updateOutcomeRequest: completeOutcome,
      ifMatch: '"1"',
    }),
    200,
    "complete the outcome",
  );
  same([outcome.baseline, outcome.target, outcome.version], ["2", "8", 2], "the outcome");
  await problem(
    coach.program.updateOutcomeRaw({
      id,
      outcomeId: outcome.id,
      updateOutcomeRequest: { unit: "a week" },
      ifMatch: '"1"',
    }),
    412,
    "stale_version",
  );
  const contextMeeting = {
    metOn: parseDate("2026-01-12"),
    attendees: ["Coach", "Leader", "Sponsor"],
    notes: "The sponsor wants faster decisions",
    benchmarks: ["Decision latency"],
  };
  await ok(coach.program.putContextRaw({ id, contextMeetingRequest: contextMeeting }), 200, "the context meeting");
  same((await leader.program.getContext({ id })).benchmarks, ["Decision latency"], "the leader reads the context");
  await problem(hr.program.getContextRaw({ id }), 404, "context_meeting_not_found");

  // The transition takes If-Match: the current ETag moves it, the same ETag again is stale.
  const current = await coach.engagements.getEngagementRaw({ id });
  const etag = current.raw.headers.get("etag");
  check(etag !== null, "an ETag on the engagement");
  const moved = await ok(go(coach, PhaseValue.LeaderInterview, etag), 200, "to leader_interview");
  same([moved.phase, moved.version], [PhaseValue.LeaderInterview, (await current.value()).version + 1], "moved");
  await problem(go(coach, PhaseValue.StakeholderInterviews, etag), 412, "stale_version");

  // --- Step 2, the leader interview (the coach's alone) ------------------------------------------
  await problem(go(coach, PhaseValue.StakeholderInterviews), 409, refused, ["leader_interview_missing"]);
  const interview = {
    interviewedOn: parseDate("2026-01-20"),
    commitments: "Ship the merger plan",
    promisePattern: "Overcommits",
  };
  await ok(coach.program.putLeaderInterviewRaw({ id, leaderInterviewRequest: interview }), 200, "the leader interview");
  same((await coach.program.getLeaderInterview({ id })).promisePattern, "Overcommits", "the coach reads it");
  await problem(leader.program.getLeaderInterviewRaw({ id }), 404, "leader_interview_not_found");
  same(
    (await ok(go(coach, PhaseValue.StakeholderInterviews), 200, "to step 3")).phase,
    PhaseValue.StakeholderInterviews,
    "phase",
  );

  // --- Step 3, the 360: two raters answer through their invitation, one is interviewed ------------
  const raters: { id: string; email: string }[] = [];
  for (const [name, relationship] of [
    ["Quinn", RelationshipValue.Boss],
    ["Rowan", RelationshipValue.Peer],
    ["Sasha", RelationshipValue.DirectReport],
  ] as const) {
    const email = `${name.toLowerCase()}.${RUN}@walk-ts.example`;
    const rater = await ok(
      coach.stakeholders.createRaterRaw({ id, createRaterRequest: { name: `${name} ${RUN}`, email, relationship } }),
      201,
      `rater ${name}`,
    );
    raters.push({ id: rater.id, email });
  }
  for (const rater of raters.slice(0, 2)) {
    const invited = await ok(coach.stakeholders.inviteRaterRaw({ id, raterId: rater.id }), 202, "invite a rater");
    same([invited.id, invited.status], [rater.id, RaterStatusValue.Invited], "the invited rater");
  }
  // Each invited rater finds the code in their mail and submits with it as the bearer token; once.
  for (const [i, rater] of raters.slice(0, 2).entries()) {
    const asRater = client(await codeInInvitation(rater.email)).stakeholders;
    const feedbackRequest = { strengths: `Decisive (${i})`, developmentAreas: "Impatient", comments: "Keep going" };
    await ok(asRater.submitFeedbackRaw({ feedbackRequest }), 201, "submit feedback");
    await problem(asRater.submitFeedbackRaw({ feedbackRequest }), 401, "invalid_feedback_code");
  }
  for (const [kind, title] of [
    [ThemeKindValue.Strength, "Decisive"],
    [ThemeKindValue.DevelopmentArea, "Patience"],
  ] as const) {
    await ok(coach.stakeholders.createThemeRaw({ id, createThemeRequest: { kind, title } }), 201, "a theme");
  }
  await problem(coach.stakeholders.releaseThemesRaw({ id }), 409, "stakeholder_contributions_insufficient");
  await problem(go(coach, PhaseValue.AssessmentDesign), 409, refused, ["stakeholder_contributions_insufficient"]);
  const third = { notes: "Wants more context", interviewedOn: parseDate("2026-02-02") };
  await ok(
    coach.stakeholders.putRaterInterviewRaw({ id, raterId: raters[2].id, raterInterviewBody: third }),
    200,
    "interview",
  );
  same((await leader.stakeholders.listThemes({ id })).items, [], "nothing released yet");
  const released = await ok(coach.stakeholders.releaseThemesRaw({ id }), 200, "release the themes");
  check(
    released.items.every((t) => t.releasedAt instanceof Date),
    "every theme released",
  );
  const themes = (await sponsor.stakeholders.listThemes({ id })).items;
  same(themes.map((t) => t.title).sort(), ["Decisive", "Patience"], "the sponsor reads the released themes");
  const detail = await coach.stakeholders.getRater({ id, raterId: raters[0].id });
  same(
    [detail.status, detail.feedback?.strengths],
    [RaterStatusValue.FeedbackSubmitted, "Decisive (0)"],
    "the feedback",
  );
  await problem(sponsor.stakeholders.getRaterRaw({ id, raterId: raters[0].id }), 404, "rater_not_found");
  same(
    (await ok(go(coach, PhaseValue.AssessmentDesign), 200, "to step 4")).phase,
    PhaseValue.AssessmentDesign,
    "phase",
  );

  // --- Step 4, the design (the coach) ------------------------------------------------------------
  const v1 = await ok(
    coach.designs.createDesignRaw({
      id,
      createDesignRequest: {
        summary: "Delegation first, then coaching the team",
        themeIds: themes.map((t) => t.id),
        outcomeIds: [outcome.id],
        items: [
          { kind: ItemKindValue.Practice, title: "Delegate one decision a day", cadence: "daily" },
          { kind: ItemKindValue.Reading, title: "Turn the Ship Around" },
        ],
      },
    }),
    201,
    "design version 1",
  );
  same([v1.version, v1.status], [1, DesignStatusValue.Draft], "version 1");
  await problem(go(coach, PhaseValue.SponsorReview), 409, refused, ["design_not_submitted"]);
  same(
    (await ok(coach.designs.submitDesignRaw({ id, version: 1 }), 200, "submit")).status,
    DesignStatusValue.Submitted,
    "v1",
  );
  same(await phase(coach), PhaseValue.SponsorReview, "submitting moves to sponsor_review");

  // --- Step 5, sponsor review: changes asked for, version 2 approved by the leader and both sponsors
  const changes = { decision: DecisionValue.RequestChanges, comment: "Add a team practice" };
  const asked = await ok(
    sponsor.designs.decideDesignRaw({ id, version: 1, decisionRequest: changes }),
    201,
    "ask for changes",
  );
  same(asked.status, DesignStatusValue.ChangesRequested, "version 1");
  same(await phase(leader), PhaseValue.AssessmentDesign, "back to assessment_design");
  const approve = { decision: DecisionValue.Approve, comment: "Good" };
  await problem(
    leader.designs.decideDesignRaw({ id, version: 1, decisionRequest: approve }),
    409,
    "design_not_submitted",
  );
  const v2 = await ok(coach.designs.createDesignRaw({ id, createDesignRequest: { copyFrom: 1 } }), 201, "version 2");
  same([v2.version, v2.items.length], [2, 2], "version 2 copied from 1");
  await ok(coach.designs.submitDesignRaw({ id, version: 2 }), 200, "submit version 2");
  await problem(go(coach, PhaseValue.Coaching), 409, refused, [
    "design_not_approved_by_leader",
    "design_not_approved_by_sponsor",
  ]);
  await ok(leader.designs.decideDesignRaw({ id, version: 2, decisionRequest: approve }), 201, "the leader approves");
  await problem(
    leader.designs.decideDesignRaw({ id, version: 2, decisionRequest: approve }),
    409,
    "decision_already_made",
  );
  await ok(sponsor.designs.decideDesignRaw({ id, version: 2, decisionRequest: approve }), 201, "the sponsor approves");
  await problem(go(coach, PhaseValue.Coaching), 409, refused, ["design_not_approved_by_sponsor"]);
  const last = await ok(
    sponsor2.designs.decideDesignRaw({ id, version: 2, decisionRequest: approve }),
    201,
    "the last approval",
  );
  same([last.status, last.decisions.length], [DesignStatusValue.Approved, 3], "version 2");
  same(
    (await hr.designs.listDesigns({ id })).items.map((d) => d.status),
    [DesignStatusValue.ChangesRequested, DesignStatusValue.Approved],
    "the hr_partner reads the designs",
  );
  same((await leader.designs.getDesign({ id, version: 2 })).status, DesignStatusValue.Approved, "the leader reads v2");
  same((await ok(go(coach, PhaseValue.Coaching), 200, "to coaching")).phase, PhaseValue.Coaching, "phase");

  // --- Step 6, coaching: a session, homework, the hours ledger and an extension -------------------
  const session = await ok(
    coach.sessions.scheduleSessionRaw({
      id,
      scheduleSessionRequest: {
        scheduledAt: new Date("2026-02-03T10:00:00Z"),
        durationMinutes: 60,
        format: FormatValue.Video,
        agenda: "Delegation review",
      },
    }),
    201,
    "schedule a session",
  );
  same(session.status, SessionStatusValue.Scheduled, "the session");
  const content = {
    actualDurationMinutes: 50,
    checkIn: "Tired but keen",
    sharedSummary: "Delegated the hiring plan",
    privateNotes: "Watch the pace",
  };
  const done = await ok(
    coach.sessions.completeSessionRaw({ id, sessionId: session.id, completeSessionRequest: content }),
    200,
    "complete the session",
  );
  same([done.status, done.durationMinutes], [SessionStatusValue.Completed, 50], "the completed session");
  const leaderView = await leader.sessions.getSession({ id, sessionId: session.id });
  same(
    [leaderView.sharedSummary, leaderView.privateNotes],
    ["Delegated the hiring plan", undefined],
    "the leader's view",
  );
  const sponsorView = await sponsor.sessions.getSession({ id, sessionId: session.id });
  same(
    [sponsorView.sharedSummary, sponsorView.agenda, sponsorView.durationMinutes],
    [undefined, undefined, 50],
    "the sponsor's view",
  );

  const item = await ok(
    coach.sessions.createActionItemRaw({
      id,
      createActionItemRequest: {
        title: "Delegate the budget review",
        dueDate: parseDate("2099-12-31"),
        sessionId: session.id,
      },
    }),
    201,
    "an action item",
  );
  same([item.status, item.overdue], [ActionItemStatusValue.Open, false], "the action item");
  const finished = await ok(
    leader.sessions.updateActionItemRaw({
      id,
      itemId: item.id,
      updateActionItemRequest: { status: ActionItemStatusValue.Done, leaderNote: "Handed over" },
      ifMatch: `"${item.version}"`,
    }),
    200,
    "the leader marks it done",
  );
  same(finished.status, ActionItemStatusValue.Done, "the action item");
  same(
    (await leader.sessions.listActionItems({ id })).items.map((i) => i.leaderNote),
    ["Handed over"],
    "homework",
  );

  const long = await ok(
    coach.sessions.scheduleSessionRaw({
      id,
      scheduleSessionRequest: {
        scheduledAt: new Date("2026-05-05T10:00:00Z"),
        durationMinutes: 240,
        format: FormatValue.InPerson,
      },
    }),
    201,
    "a four-hour session",
  );
  const fourHours = { actualDurationMinutes: 240 };
  await problem(
    coach.sessions.completeSessionRaw({ id, sessionId: long.id, completeSessionRequest: fourHours }),
    409,
    "over_budget",
  );
  const extension = await ok(
    coach.sessions.requestExtensionRaw({
      id,
      extensionRequest: {
        hours: 1.0,
        month: "2026-05",
        reason: "An offsite workshop",
        newPlannedEndDate: parseDate("2026-09-30"),
      },
    }),
    201,
    "request an extension",
  );
  same(extension.status, ExtensionStatusValue.Requested, "the extension");
  const decide = (who: Client, decision: ExtensionVerdict) =>
    who.sessions.decideExtensionRaw({
      id,
      extId: extension.id,
      extensionDecisionRequest: { decision, comment: "Worth it" },
    });
  await problem(decide(coach, ExtensionVerdict.Approve), 403, "forbidden");
  same(
    (await ok(decide(sponsor, ExtensionVerdict.Approve), 200, "approve")).status,
    ExtensionStatusValue.Approved,
    "extension",
  );
  await problem(decide(sponsor2, ExtensionVerdict.Decline), 409, "extension_decided");
  await ok(
    coach.sessions.completeSessionRaw({ id, sessionId: long.id, completeSessionRequest: fourHours }),
    200,
    "complete",
  );
  const ledger = await leader.sessions.getHours({ id });
  const may = ledger.months.find((m) => m.month === "2026-05");
  same([may?.budgetHours, may?.extensionHours, may?.usedHours], [3.0, 1.0, 4.0], "May in the ledger");
  same(ledger.months[ledger.months.length - 1]?.month, "2026-09", "the planned end moved");

  // --- Step 7, the mid review --------------------------------------------------------------------
  await problem(go(coach, PhaseValue.EndReview), 409, refused, ["mid_review_not_completed"]);
  await ok(go(coach, PhaseValue.MidReview), 200, "to mid_review");
  await problem(go(coach, PhaseValue.Coaching), 409, refused, ["mid_review_missing"]);
  const mid = {
    narrative: "Delegating more; the team is still hesitant",
    outcomes: [{ outcomeId: outcome.id, actual: "5", note: "up from 2" }],
    programChanges: "Add a monthly team retro",
  };
  await problem(leader.reviews.putMidReviewRaw({ id, reviewRequest: mid }), 403, "forbidden");
  const midReview = await ok(coach.reviews.putMidReviewRaw({ id, reviewRequest: mid }), 200, "the mid review");
  same(midReview.programChanges, "Add a monthly team retro", "the mid review");
  await ok(go(coach, PhaseValue.Coaching), 200, "back to coaching");
  same((await sponsor.reviews.getProgress({ id })).items[0]?.shareAchieved, 0.5, "half way from baseline to target");

  // --- Step 8, the end review → completed ---------------------------------------------------------
  await ok(go(coach, PhaseValue.EndReview), 200, "to end_review");
  const end = {
    narrative: "A different leader",
    achievements: "Delegates most decisions; the team runs the weekly plan",
    outcomes: [{ outcomeId: outcome.id, actual: "8", achieved: true }],
    nextStep: NextStepValue.Completed,
  };
  const recorded = await ok(coach.reviews.putEndReviewRaw({ id, reviewRequest: end }), 200, "the end review");
  same([recorded.nextStep, recorded.renewedEngagementId ?? null], [NextStepValue.Completed, null], "the end review");
  same(await phase(leader), PhaseValue.Completed, "the engagement is completed");
  same((await sponsor.reviews.getEndReview({ id })).outcomes[0]?.achieved, true, "the sponsor reads the end review");
  same((await sponsor.reviews.getProgress({ id })).items[0]?.shareAchieved, 1.0, "the target reached");
  await problem(go(coach, PhaseValue.Coaching), 409, refused, ["engagement_ended"]);

  const timeline = await leader.engagements.getTimeline({ id });
  same(
    timeline.items.map((t) => t.to),
    [
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
    ],
    "the timeline",
  );
  console.log("generated TypeScript client: walk passed");
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
