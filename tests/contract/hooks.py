"""Schemathesis hooks for Keel's contract fuzzing (loaded through SCHEMATHESIS_HOOKS by
tests/contract/fuzz).

`keel_positive_data_acceptance` replaces schemathesis' `positive_data_acceptance`. It fails a
request that the OpenAPI document allows and the server refuses, exactly like the built-in check
(accepted: 2xx, 3xx, 401, 403, 404, 409, 429; 5xx are `not_a_server_error`'s), with these
refusals that depend on the server's state rather than on the request, each documented in
openapi/openapi.json:

- 412 `stale_version`: an `If-Match` that names a version that is not the current one;
- 422 `idempotency_key_reused`: an `Idempotency-Key` this caller already used for another request;
- 400 `invalid_cursor`: a cursor of the right shape that Keel did not issue for this list;
- 422 whose every field error is about the record an id names, not the request: `not_found` (no
  such organization, user, template, theme...), `missing_role` (the user named as coach is not
  one), `wrong_organization`, `deactivated`, `same_as_leader`, `not_a_member`, `duplicate`
  (the same person named twice);
- 422 `organization_id required` from an operation whose organization defaults to the caller's,
  called by someone of no organization (an admin must name it; the document says so);
- 422 `out_of_range` of a program's planned end more than 36 months after its start (a rule
  between two dates, one of them stored for a change), and `before_from` of a report's `to`
  before its `from`;
- 422 `out_of_range` of a duration within both kinds' range (5 to 480 minutes) that the stored
  session's kind refuses (changing or completing a micro session, 5 to 30);
- 422 about a template's length (`min` <= `default` <= `max`) or its steps as a list (`out_of_order`, `not_of_step`, `unmeetable`, a missing
  step): rules over the whole list, said in the descriptions;
- 422 `hr_partner_requires_organization`: the one cross-field rule on people the schema does not
  state (an hr_partner belongs to an organization; the field's description says so);
- 400/401 OAuth errors and 400 `invalid_sign_in_code` from the two operations that exchange a
  credential for a token (`issue_token`, `redeem_sign_in_link`): a credential that was never
  issued. Schemathesis' own check exempts credential-minting operations the same way.

A case whose headers do not match their declared schema is not a positive case, whatever
schemathesis labelled it (its coverage phase sends `If-Match: 0` when no alphanumeric value can
match the header's pattern); the server's 400 to it is right, and such a case is not judged here.
"""

import re

import schemathesis
from schemathesis.core.failures import Failure

ACCEPTED = {401, 403, 404, 409, 429}
TEMPLATE_LIST_CODES = {"out_of_order", "duplicate", "not_of_step", "unmeetable", "required", "step_missing"}
PROGRAM_END_FIELDS = {"planned_end_date", "new_planned_end_date"}
DURATION_FIELDS = ("duration_minutes", "actual_duration_minutes")
CREDENTIAL_OPERATIONS = {"issue_token", "redeem_sign_in_link"}
REFERENCE_CODES = {
    "not_found", "missing_role", "wrong_organization", "deactivated", "same_as_leader", "not_a_member", "duplicate",
    # Two ids of one request naming the same person where they may not (a team's leader as its
    # coach).
    "same_as_coach",
    # A date against the engagement's stored start date (a PATCH of the planned end alone), a
    # month outside the stored program.
    "before_start",
    "outside_program",
    # A report's `to` before its `from`: a rule between two parameters (said in `to`'s
    # description).
    "before_from",
}


class RejectedValidRequest(Failure):
    kind_title = "Schema-valid request rejected"
    checks = ("keel_positive_data_acceptance",)

    def __init__(self, operation, status, body):
        super().__init__(
            operation=operation,
            message=f"The document allows this request; the server answered {status}:\n{body[:600]}",
        )
        self.status_code = status

    @property
    def _unique_key(self):
        return str(self.status_code)


def _problem(response):
    try:
        body = response.json()
    except Exception:
        return {}
    return body if isinstance(body, dict) else {}


def _header_parameters(case):
    raw = getattr(case.operation.definition, "raw", None) or {}
    for parameter in raw.get("parameters", []):
        if isinstance(parameter, dict) and parameter.get("in") == "header":
            yield parameter


def _headers_match_their_schema(case):
    headers = {k.lower(): v for k, v in (case.headers or {}).items()}
    for parameter in _header_parameters(case):
        value = headers.get(parameter["name"].lower())
        pattern = (parameter.get("schema") or {}).get("pattern")
        if value is not None and pattern and not re.search(pattern, str(value)):
            return False
    return True


def _state_or_cross_field(error):
    """Whether a field error is about stored data or a rule between fields, not the field's shape."""
    field, code = error.get("field", ""), error.get("code")
    if code in REFERENCE_CODES:
        return True
    # A program's end more than 36 months after its start (the stored one, for a change).
    if code == "out_of_range" and field in PROGRAM_END_FIELDS:
        return True
    # A duration within both kinds' range refused for the stored session's kind.
    if code == "out_of_range" and field.endswith(DURATION_FIELDS):
        return True
    # A template's length: min <= default <= max.
    if code == "out_of_range" and field.startswith("length."):
        return True
    # A template's steps as a list: program order, the steps every program has, guards of their
    # own step, a sponsors' decision the steps can reach.
    if (field.startswith("steps") or field == "sponsor_decision_required") and code in TEMPLATE_LIST_CODES:
        return True
    # An admin (of no organization) not naming one where it defaults to the caller's; an
    # hr_partner without an organization.
    return (field, code) in {("organization_id", "required"), ("roles", "hr_partner_requires_organization")}


def _state_dependent(case, response):
    status = response.status_code
    problem = _problem(response)
    code = problem.get("code") or problem.get("error")
    operation_id = (getattr(case.operation.definition, "raw", None) or {}).get("operationId")
    if status == 412 and code == "stale_version":
        return True
    if status == 422 and code == "idempotency_key_reused":
        return True
    if status == 400 and code == "invalid_cursor":
        return True
    if status == 422 and code == "validation_failed":
        errors = problem.get("errors") or []
        return bool(errors) and all(_state_or_cross_field(e) for e in errors)
    if operation_id in CREDENTIAL_OPERATIONS and status in (400, 401):
        return True
    return False


@schemathesis.check
def keel_positive_data_acceptance(ctx, response, case):
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive:
        return None
    status = response.status_code
    if 200 <= status < 400 or status in ACCEPTED or status >= 500:
        return None
    if not _headers_match_their_schema(case):
        return None
    if _state_dependent(case, response):
        return None
    raise RejectedValidRequest(case.operation.label, status, response.text or "")
