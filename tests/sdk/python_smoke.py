"""Smoke test of a client generated from openapi/openapi.json (openapi-python-client), unedited,
against a live Keel at KEEL_URL. Run by .ci/run; exits non-zero on the first failed expectation."""

import os
import sys

sys.path.insert(0, os.environ["KEEL_CLIENT_DIR"])

from keel_client import AuthenticatedClient, Client  # noqa: E402
from keel_client.api.organizations import create_organization, list_organizations, update_organization  # noqa: E402
from keel_client.api.users import create_user, deactivate_user, get_user, list_users, update_user  # noqa: E402
from keel_client.models import (  # noqa: E402
    CreateOrganizationRequest,
    CreateUserRequest,
    OrganizationSettingsInput,
    Problem,
    UpdateOrganizationRequest,
    UpdateUserRequest,
    UserRole,
    UserStatusValue,
)

client = AuthenticatedClient(base_url=os.environ["KEEL_URL"], token=os.environ["KEEL_TOKEN"], raise_on_unexpected_status=True)

from keel_client.api.auth import get_me  # noqa: E402

me = get_me.sync(client=client)
assert me.kind.value == "user" and "admin" in [r.value for r in me.user.roles], me

org = create_organization.sync(
    client=client, body=CreateOrganizationRequest(name="Acme", settings=OrganizationSettingsInput(min_raters=4))
)
assert org.settings.min_raters == 4 and org.settings.default_monthly_hours_budget == 3.0
assert org.created_at.utcoffset().total_seconds() == 0

for i in range(5):
    create_user.sync(
        client=client,
        body=CreateUserRequest(email=f"u{i}@acme.example", name=f"U{i}", organization_id=org.id, roles=[UserRole.COACH]),
    )

duplicate = create_user.sync_detailed(client=client, body=CreateUserRequest(email="U0@ACME.example", name="Dup"))
assert duplicate.status_code == 409 and isinstance(duplicate.parsed, Problem), duplicate
assert duplicate.parsed.code == "email_taken"

invalid = create_user.sync_detailed(client=client, body=CreateUserRequest(email="nope", name=""))
assert invalid.status_code == 422 and [e.field for e in invalid.parsed.errors] == ["email", "name"], invalid

seen, cursor = [], None
while True:
    page = list_users.sync(client=client, limit=2, cursor=cursor, organization_id=org.id, role=UserRole.COACH)
    seen += [u.email for u in page.items]
    cursor = page.next_cursor
    if not cursor:
        break
assert seen == [f"u{i}@acme.example" for i in range(5)], seen

fetched = get_user.sync_detailed(client=client, user_id=page.items[0].id)
etag = fetched.headers["etag"]
renamed = update_user.sync_detailed(client=client, user_id=fetched.parsed.id, body=UpdateUserRequest(name="Renamed"), if_match=etag)
assert renamed.status_code == 200 and renamed.parsed.name == "Renamed"
stale = update_user.sync_detailed(client=client, user_id=fetched.parsed.id, body=UpdateUserRequest(name="Stale"), if_match=etag)
assert stale.status_code == 412 and stale.parsed.code == "stale_version"

assert deactivate_user.sync_detailed(client=client, user_id=fetched.parsed.id).status_code == 204
assert get_user.sync(client=client, user_id=fetched.parsed.id).status == UserStatusValue.DEACTIVATED

updated = update_organization.sync(client=client, org_id=org.id, body=UpdateOrganizationRequest(name="Acme 2"))
assert updated.name == "Acme 2" and updated.version == 2
assert [o.name for o in list_organizations.sync(client=client).items] == ["Acme 2"]

# An HR system: an API client, a token by the client-credentials grant (form-encoded), a call.
from keel_client.api.auth import create_api_client, issue_token  # noqa: E402
from keel_client.models import CreateApiClientRequest, Scope, TokenRequest  # noqa: E402

created = create_api_client.sync(
    client=client, org_id=org.id, body=CreateApiClientRequest(name="HRIS", scopes=[Scope.USERSREAD])
)
assert created.client_secret.startswith("kcs_")
anonymous_client = Client(base_url=os.environ["KEEL_URL"])
granted = issue_token.sync(
    client=anonymous_client,
    body=TokenRequest(grant_type="client_credentials", client_id=created.client_id, client_secret=created.client_secret),
)
assert granted.token_type == "Bearer" and granted.scope == "users:read", granted
hris = AuthenticatedClient(base_url=os.environ["KEEL_URL"], token=granted.access_token)
assert {u.email for u in list_users.sync(client=hris).items} >= {f"u{i}@acme.example" for i in range(5)}
forbidden = create_user.sync_detailed(client=hris, body=CreateUserRequest(email="x@acme.example", name="X", organization_id=org.id))
assert forbidden.status_code == 403, forbidden

# Without a token: 401 with a problem document.
anonymous = list_organizations.sync_detailed(client=Client(base_url=os.environ["KEEL_URL"]))
assert anonymous.status_code == 401 and anonymous.headers["www-authenticate"].startswith("Bearer"), anonymous

print("generated Python client: 1 passed, 0 failed")
