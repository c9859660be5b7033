#!/usr/bin/env bash
# The README walkthrough: a new company's first job, end to end, over the REST API.
# Run it against `make run` from the repository root: `bash docs/walkthrough.sh`
# (`make test` runs it against a fresh stack, so it stays true).
set -euo pipefail

API=${FIELDVAULT_API:-http://127.0.0.1:8080}   # the gateway
DATA=${FIELDVAULT_DATA:-.fieldvault}           # the stack's data folder (operator token, mail)
PY=${FIELDVAULT_PYTHON:-.venv/bin/python}      # parses JSON and computes one-time codes
SLUG=${WALKTHROUGH_TENANT:-harbour-$(date +%s)} # a new company every run
PASSWORD='a long first-hour password 2026'    # 15+ characters; 12 will do once TOTP is on

# call METHOD PATH [JSON] [TOKEN]: the response body; on an HTTP error the problem
# document goes to stderr and the script stops.
call() {
  local body
  if ! body=$(curl -sS --fail-with-body -X "$1" "$API$2" -H 'content-type: application/json' \
    ${4:+-H "authorization: Bearer $4"} ${3:+-d "$3"}); then
    echo "$1 $2: $body" >&2
    return 1
  fi
  if [ -n "$body" ]; then echo "$body"; fi
}
# field NAME: that field of the JSON on stdin.
field() { "$PY" -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
# totp SECRET [SECONDS]: the code an authenticator app shows (SECONDS from now).
totp() { "$PY" -c 'import pyotp, sys, time; print(pyotp.TOTP(sys.argv[1]).at(time.time() + int(sys.argv[2])))' "$1" "${2:-0}"; }
# invitation_token EMAIL: the token of the invitation link mailed to EMAIL
# (locally every e-mail is a .eml file in $DATA/mail; waits for it to arrive).
invitation_token() {
  "$PY" - "$DATA/mail" "$1" <<'PYTHON'
import email, email.policy, pathlib, re, sys, time
folder, to = pathlib.Path(sys.argv[1]), sys.argv[2]
for _ in range(60):
    for path in sorted(folder.glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if message["To"] == to:
            body = message.get_body(("plain",)).get_content()
            print(re.search(r"#token=([\w.-]+)", body)[1])
            sys.exit()
    time.sleep(0.5)
sys.exit(f"no invitation e-mail to {to} in {folder}")
PYTHON
}

echo "1. The platform operator creates the company; its admin is invited."
OPERATOR=$(cat "$DATA/operator-token")
call POST /v1/tenants "{\"slug\": \"$SLUG\", \"name\": \"Harbour Lifts Ltd\",
  \"admin_email\": \"admin@$SLUG.example\", \"admin_name\": \"Ada Admin\"}" "$OPERATOR" >/dev/null

echo "2. The admin accepts the invitation (the link in the e-mail) and enrols TOTP."
call POST /v1/invitations/accept "{\"token\": \"$(invitation_token "admin@$SLUG.example")\",
  \"password\": \"$PASSWORD\"}" >/dev/null
LOGIN="{\"tenant\": \"$SLUG\", \"email\": \"admin@$SLUG.example\", \"password\": \"$PASSWORD\""
ENROL=$(call POST /v1/auth/login "$LOGIN}" | field access_token)   # mfa_enrollment_required: true
SECRET=$(call POST /v1/me/mfa/totp '{}' "$ENROL" | field secret)   # or scan its otpauth_uri
call POST /v1/me/mfa/totp/confirm "{\"code\": \"$(totp "$SECRET")\"}" "$ENROL" >/dev/null
# A code works once: sign in with the next one (the service allows one step of clock drift).
ADMIN=$(call POST /v1/auth/login "$LOGIN, \"otp\": \"$(totp "$SECRET" 30)\"}" | field access_token)

echo "3. The admin creates an area, a dispatcher and a technician (both in the area)."
AREA=$(call POST /v1/areas '{"name": "Harbour"}' "$ADMIN" | field id)
call POST /v1/users "{\"email\": \"dispatcher@$SLUG.example\", \"name\": \"Dana Dispatcher\",
  \"roles\": [\"dispatcher\"], \"area_ids\": [\"$AREA\"]}" "$ADMIN" >/dev/null
TECHNICIAN_ID=$(call POST /v1/users "{\"email\": \"technician@$SLUG.example\",
  \"name\": \"Tom Technician\", \"roles\": [\"technician\"], \"area_ids\": [\"$AREA\"]}" "$ADMIN" | field id)

echo "4. Each accepts their e-mailed invitation and signs in (no second factor needed for them)."
for person in dispatcher technician; do
  call POST /v1/invitations/accept "{\"token\": \"$(invitation_token "$person@$SLUG.example")\",
    \"password\": \"$PASSWORD\"}" >/dev/null
done
sign_in() {
  call POST /v1/auth/login "{\"tenant\": \"$SLUG\", \"email\": \"$1@$SLUG.example\",
    \"password\": \"$PASSWORD\"}" | field access_token
}
DISPATCHER=$(sign_in dispatcher)
TECHNICIAN=$(sign_in technician)

echo "5. The dispatcher records a customer, its site (in the area) and the site's door code."
CUSTOMER=$(call POST /v1/customers "{\"name\": \"Quayside Apartments\", \"area_id\": \"$AREA\"}" \
  "$DISPATCHER" | field id)
SITE=$(call POST /v1/sites "{\"customer_id\": \"$CUSTOMER\", \"area_id\": \"$AREA\",
  \"name\": \"Quayside block A\", \"address\": \"1 Harbour Road\"}" "$DISPATCHER" | field id)
call PUT "/v1/sites/$SITE/secrets/door_code" '{"value": "4711#"}' "$DISPATCHER"

echo "6. The dispatcher files a work order for now and assigns it to the technician."
# From now for an hour: the technician's access opens a while before the start.
read -r START END < <("$PY" -c 'import datetime as d; now = d.datetime.now(d.UTC).replace(microsecond=0)
print(now.isoformat(), (now + d.timedelta(hours=1)).isoformat())')
ORDER=$(call POST /v1/work-orders "{\"site_id\": \"$SITE\", \"title\": \"Lift inspection\",
  \"priority\": \"normal\", \"scheduled_start\": \"$START\", \"scheduled_end\": \"$END\"}" \
  "$DISPATCHER" | field id)
call POST "/v1/work-orders/$ORDER/assign" "{\"assignee_user_id\": \"$TECHNICIAN_ID\"}" \
  "$DISPATCHER" >/dev/null

echo "7. The technician sees the job, reveals the door code, starts and completes the job."
call GET /v1/me/work-orders '' "$TECHNICIAN" | field items >/dev/null
for _ in $(seq 40); do   # the job's access grant is made a moment after the assignment
  CODE=$(call POST "/v1/sites/$SITE/secrets/door_code/reveal" '{}' "$TECHNICIAN" 2>/dev/null \
    | field value 2>/dev/null) && break
  sleep 0.5
done
test "$CODE" = "4711#"
call POST "/v1/work-orders/$ORDER/start" '{}' "$TECHNICIAN" >/dev/null
call POST "/v1/work-orders/$ORDER/complete" '{"notes": "Door closer adjusted."}' "$TECHNICIAN" \
  | field status

echo "8. With the job done, the door code stays shut (403 no_active_grant)."
for _ in $(seq 40); do
  STATUS=$(curl -sS -o /dev/null -w '%{http_code}' -X POST "$API/v1/sites/$SITE/secrets/door_code/reveal" \
    -H 'content-type: application/json' -H "authorization: Bearer $TECHNICIAN" -d '{}')
  test "$STATUS" = 403 && break
  sleep 0.5
done
test "$STATUS" = 403
echo "Walkthrough complete: company $SLUG."
