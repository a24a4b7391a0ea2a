app-name = Kohtaamo
skip-to-content = Skip to content
nav-main = Main
nav-home = Home
nav-catalogue = Service catalogue
nav-units = Units
nav-workspaces = Workspaces
nav-language = Language
lang-name-en = English
lang-name-fi = Suomi
signed-in-as = Signed in as { $name }
logout = Log out
login-title = Log in to Kohtaamo
login-username = Username
login-password = Password
login-submit = Log in
login-failed = Wrong username or password.
login-rate-limited = Too many attempts. Try again in a minute.
workspaces-title = Your workspaces
workspaces-empty = You are not a member of any workspace yet.
role-admin = Administrator
role-editor = Editor
role-viewer = Viewer
home-title = Overview
home-counts = In this workspace
count-units = Units
count-segments = Customer segments
count-packages = Service packages
count-journeys = Journeys
count-touchpoints = Touchpoints
count-relations = Customer relations
stale-title = Who-is-my-customer answers due for review
stale-none = Every answer has been reviewed on time.
no-core-title = Service packages without a core service
no-core-none = Every package has a core service.
journeys-title = Journeys
journeys-none = No journeys yet.
touchpoint-count = { $count ->
    [one] { $count } touchpoint
   *[other] { $count } touchpoints
}
stage-count = { $count ->
    [one] { $count } stage
   *[other] { $count } stages
}
element-count = { $count ->
    [one] { $count } element
   *[other] { $count } elements
}
col-provider = Provider
col-customer = Customer
col-last-reviewed = Last reviewed
col-name = Name
col-status = Status
col-core = Core services
col-role = Role
col-kind = Kind
col-visible = Visible to the customer
col-it = IT components
col-owner = Owner
col-value = How our work helps them
col-customer-kind = Kind of customer
col-channel = Channel
col-lane = Lane
col-journey = Journey
col-duration = Duration
col-serves = Serves
col-parent = Part of
never = never
yes = yes
no = no
nobody = nobody
status-published = Published
status-draft = Draft
catalogue-title = Service catalogue
catalogue-empty = No service packages yet.
package-diagram = Package diagram
package-elements = Elements
package-download-svg = Download the diagram (SVG)
package-no-core-warning = This package has no core service and cannot be published.
legend = Legend
legend-visible = Solid outline: visible to the customer
legend-hidden = Dashed outline: hidden from the customer
legend-it = IT: has IT components
it-badge = IT
role-core = Core
role-enabling = Enabling
role-complementary = Complementary
ring-core = Core services
ring-enabling = Enabling services (the core cannot be used without them)
ring-complementary = Complementary services (they make the core better)
kind-service = Service
kind-product = Product
diagram-title = Service package { $name }
journey-map = Journey map
journey-blueprint = Service blueprint
journey-download-map = Download the journey map (SVG)
journey-download-blueprint = Download the blueprint (SVG)
journey-for-segment = For { $name }
journey-print-hint = Print the page for an A3 landscape copy.
row-touchpoints = Touchpoints
row-channels = Channels
row-owners = Owners
row-emotion = Emotion
row-moments = Moments of truth
moment-of-truth = Moment of truth
lane-customer-action = Customer actions
lane-frontstage = Frontstage
lane-backstage = Backstage
lane-support-process = Support processes
line-interaction = Line of interaction
line-visibility = Line of visibility
line-internal-interaction = Line of internal interaction
row-process-steps = Process steps
channel-web = Web
channel-mobile-app = Mobile app
channel-phone = Phone
channel-email = E-mail
channel-chat = Chat
channel-in-person = In person
channel-ticket-machine = Ticket machine
channel-letter = Letter
channel-social-media = Social media
interface-company-customer = Company–customer
interface-employee-employee = Employee–employee
interface-company-partner = Company–partner
interface-company-society = Company–society
interface-customer-customer = Customer–customer
units-title = Units
unit-my-customers = Who are our customers
unit-my-customers-none = This unit has not recorded who its customers are.
unit-served-by = Who counts on us as their customer
unit-touchpoints = Touchpoints we own
unit-steps = Process steps we own
unit-elements = Package elements we own
unit-people = People
customer-segment = External customer
customer-unit = Internal customer
customer-partner = Partner
stale = Review overdue
up-to-date = Up to date
mark-reviewed = Mark reviewed
reviewed-done = Marked as reviewed today.
none-yet = None yet.
not-found-title = Not found
not-found-text = There is no such page, or you do not have access to it.
unavailable-text = The service is briefly unavailable: its database cannot be reached or its disk is full. What was already saved is safe; try again in a moment.
forbidden-text = Your role does not allow this.
back-home = Back to the start
nav-edit = Edit the model
title-units = Units
title-people = People
title-partners = Partners
title-segments = Customer segments
title-relations = Who is my customer
title-channels = Channels
title-elements = Package elements
title-packages = Service packages
title-journeys = Journeys
title-stages = Journey stages
title-touchpoints = Touchpoints
title-process-steps = Process steps
field-slug = Identifier (a–z, 0–9, hyphens)
field-name = Name
field-description = Description
field-parent = Part of unit
field-needs = Needs
field-person-name = Name
field-email = E-mail
field-unit = Unit
field-role-title = Role title
field-review-interval = Review every (days)
field-segment = Customer segment
field-stage = Stage
field-element = Service element it delivers
field-interface = Interface
field-duration = Duration (minutes)
choose-none = (none)
kind-label-unit = unit
kind-label-partner = partner
kind-label-segment = segment
kind-label-person = person
role-not-in-package = not in this package
err-conflict = Something with the same identifier already exists.
err-in-use = This is still used elsewhere; remove those uses first.
save = Save
cancel = Cancel
delete = Delete
new = Add new
edit = Edit
actions = Actions
move-up = Move { $name } up
move-down = Move { $name } down
err-empty = Must not be empty.
err-too-long = At most { $max } characters.
err-bad-slug = Use 1–64 characters: a–z, 0–9 and single hyphens inside.
err-bad-language = “{ $value }” is not a language code such as fi, en or sv.
err-name-needs-language = Give a name in at least one language.
err-empty-text = The { $lang } text is empty; leave it out instead.
err-text-too-long = The { $lang } text is longer than { $max } characters.
err-not-one-of = “{ $value }” is not one of the choices.
err-bad-channel = “{ $value }” is not a channel.
err-emotion-range = Choose a value from -2 to 2.
err-bad-email = This is not an e-mail address.
err-positive-id = Choose one of the options.
err-listed-twice = Listed twice.
err-publish-needs-core = A package needs at least one core service before it can be published.
err-interval-range = Choose from 1 to 3650 days.
err-period-range = Choose from 1 to 365 days.
err-bad-date = Give a date as YYYY-MM-DD.
err-own-customer = A unit cannot be its own customer.
err-duration-range = Choose from 0 to 525600 minutes (a year).
err-unknown-ref = There is no such { $noun } in this workspace.
err-unknown-ref-slug = There is no { $noun } “{ $slug }” in this workspace.
err-cycle = This would make the { $noun } part of itself.
err-builtin-channel = That identifier is already a built-in channel.
err-whole-number = Give a whole number.
err-choose-one = Choose one of the options.
err-unknown-question = This is not a question of this survey.
err-score-range = Choose a number from { $min } to { $max }.
err-answer-type = This answer has the wrong type.
err-answer-required = Please answer this question.
err-no-answers = Answer at least one question.
err-not-asked-here = This survey does not ask about touchpoint { $id }.
err-one-target = Choose exactly one: a touchpoint, a journey or a service package.
err-needs-questions = A survey needs at least one question.
err-too-many = At most { $max } allowed.
err-choice-count = A choice question needs 2 to { $max } options.
err-options-not-used = Not used by this question type.
err-scale-range = Must be between 3 and 10.
err-show-if = Must name an earlier scored question and a range within its scale.
err-bad-origin = Must be an origin such as https://www.example.fi (no path).
err-bad-response-id = Must be 8–64 characters of letters, digits, - and _.
err-unknown-invitation = This invitation link is not valid for this survey.
err-bad-reference = At most { $max } characters, no control characters.
noun-unit = unit
noun-partner = partner
noun-segment = customer segment
noun-person = person
noun-element = element
noun-package = package
noun-journey = journey
noun-stage = stage
noun-touchpoint = touchpoint
noun-channel = channel
members-title = Members
add-member = Add a member
role-of = Role of { $name }
remove-member = Remove { $name }
err-no-such-user = There is no account with that username.
tokens-title = API tokens
tokens-intro = Tokens let scripts use the API as you: send "Authorization: Bearer" and the token.
token-created = Token created. Copy it now: it is shown only this once.
token-value = New token
token-revoked = Revoked
token-active = Active
token-new = Create a token
revoke = Revoke
revoke-token = Revoke { $name }
col-created = Created
remove = Remove
report-title = Organisation insight
report-date = Situation on { $date }
report-coverage = Who knows its customers
report-units-with-customers = Units that have recorded their customers
report-units-without-customers = Units with no recorded customers
report-stale = Answers overdue for review
report-share-external = Units that can trace a path to an external customer
report-chains = Chains to the end customer
report-far = far from the customer, and nobody has told them who it is
report-no-end-customer = has customers inside the organisation or among partners, but no chain reaches an end customer
report-hand-offs = Hand-offs
report-hand-off-count = { $count ->
    [one] { $count } hand-off
   *[other] { $count } hand-offs
}
report-undeclared-count = { $count ->
    [one] { $count } with no declared customer relation
   *[other] { $count } with no declared customer relation
}
report-at = at
report-from = From
report-to = To
report-count = Count
report-interfaces = The five interfaces
report-no-interface = Interface not set
report-interface-gaps = Touchpoints without an interface kind or owner
report-processes = Processes and the journey
report-orphan-steps = Process steps that serve no touchpoint
report-unsupported = Frontstage touchpoints with no process behind them
report-customer-steps = Customer steps
report-channel-switches = Channel switches
report-minutes = Minutes of work
report-labyrinth = Labyrinth score
report-packages = Service packages
report-missing-enablers = Core delivered before any enabling service
report-none-earlier = none earlier of
report-unowned = Elements owned by nobody
insight-json = The same findings as JSON
insight-matrix = Hand-offs between owners
nav-insight = Insight
unit-chain = Chain to the end customer
unit-notifications = Reviews due
review-due-for = Review who-is-my-customer: { $name }
due-since = due since { $date }
insight-undeclared = no declared customer relation

## Public survey page and widget
survey-std-nps = How likely is it that you would recommend us to a friend or colleague?
survey-std-csat = How satisfied were you with our service?
survey-std-ces = It was easy to get my matter handled.
survey-low-nps = Not at all likely
survey-high-nps = Extremely likely
survey-low-csat = Very dissatisfied
survey-high-csat = Very satisfied
survey-low-ces = Strongly disagree
survey-high-ces = Strongly agree
survey-condition = If you answered { $range }
survey-thanks-default = Your answer helps us improve.
survey-thanks-title = Thank you!
survey-submit = Send
survey-required = (required)
survey-error = Please check your answers.
survey-closed = This survey is closed. Thank you for your interest.
survey-not-found = There is no survey at this address.
survey-honeypot = Leave this field empty
survey-invitation-used = This personal link has already been used to answer. Thank you!

## Surveys (staff)
nav-surveys = Surveys
surveys-title = Surveys
surveys-intro = Ask customers at each touchpoint. Every answer is stored with the touchpoint, channel and language it came from.
col-asks-about = Asks about
col-responses = Responses
survey-new = New survey
survey-name-fi = Name in Finnish
survey-name-en = Name in English
survey-template = Start from
survey-template-nps = NPS with follow-up questions
survey-template-csat = CSAT with a comment
survey-template-ces = CES with a comment
survey-create = Create survey
survey-status-draft = Draft
survey-status-active = Active
survey-status-closed = Closed
survey-set-draft = Back to draft
survey-set-active = Activate
survey-set-closed = Close
survey-responses-link = { $count ->
    [one] One response
   *[other] { $count } responses
}
survey-funnel = Response rate
funnel-shown = Shown
funnel-started = Answered
funnel-completed = Completed
funnel-rate = Response rate
survey-links = Links, QR codes and widget
survey-public-link = Public link
survey-public-url-missing = These links use localhost as a stand-in: this installation has no public address. An administrator sets KOHTAAMO_PUBLIC_URL (for example https://palaute.example.fi) so that respondents can reach the survey.
qr-alt = QR code for { $name }
qr-svg = QR code (SVG)
qr-png = QR code (PNG)
survey-widget = Widget
survey-widget-help = Paste this tag into a page whose address is among the allowed origins.
survey-questions = Questions
survey-required-short = required
question-kind-nps = NPS 0–10
question-kind-csat = CSAT 1–5
question-kind-ces = CES 1–7
question-kind-rating = Rating
question-kind-single = Single choice
question-kind-multi = Multiple choice
question-kind-text = Open text
survey-add-question = Add a question
question-kind = Type
question-key = Key (a–z, 0–9, -)
question-text-fi = Question in Finnish
question-text-en = Question in English
question-required = An answer is required
question-options = Options (choice questions)
question-options-help = One per line: key = Finnish label / English label
question-scale = Top of the rating scale (3–10)
question-show-if = Show only when
question-show-if-question = the answer to
always = (always shown)
question-show-min = is at least
question-show-max = and at most
survey-settings = Name, texts and allowed origins
survey-intro-fi = Introduction in Finnish
survey-intro-en = Introduction in English
survey-thanks-fi = Thank-you text in Finnish
survey-thanks-en = Thank-you text in English
survey-origins = Web origins allowed to embed the widget (one per line)
invitations-title = Personal invitations
invitations-count = { $count ->
    [one] One used
   *[other] { $count } used
}
invitations-shown-once = Copy these links now; they are shown only once. Each works for one answer.
invitations-recipients = Recipients
invitations-help = One per line: pseudonymous customer reference, case reference
invitations-create = Create links
invitations-none = Give at least one recipient.
move-up-named = Move { $name } up
move-down-named = Move { $name } down
delete-named = Delete { $name }
responses-title = Responses
responses-total = { $count ->
    [one] One response
   *[other] { $count } responses
}
filter-from = From
filter-to = To
filter-band = NPS group
filter-lang = Language
filter-text = Text
filter-apply = Filter
filter-any = Any
band-promoter = Promoters (9–10)
band-passive = Passives (7–8)
band-detractor = Detractors (0–6)
export-csv = Download CSV
export-xlsx = Download Excel
col-time = Time
col-touchpoint = Touchpoint
col-score = Score
col-answer = Open answer
col-complete = Complete
partial = Partial
pages = Pages
page-prev = Previous
page-next = Next
response-title = Response
response-answers = Answers
response-delete = Delete this response
response-customer = Customer reference
response-case = Case reference
response-id = Response id

## Analytics
unknown = Unknown
nav-dashboard = Scores
dashboard-title = Experience scores
dashboard-intro = NPS, CSAT and CES of complete responses, with a 95 % margin of error. Below { $min } answers a score is not shown.
dashboard-scopes = Group by
dashboard-previous = Compared with { $period }
dashboard-previous-nps = NPS before
dashboard-weakest = weakest encounter
dashboard-changed = changed
dashboard-not-enough = { $n ->
    [one] not enough answers (1)
   *[other] not enough answers ({ $n })
}
scope-touchpoint = Touchpoint
scope-stage = Stage
scope-journey = Journey
scope-package = Service package
scope-element = Package element
scope-segment = Segment
scope-unit = Unit
scope-partner = Partner
scope-channel = Channel
scope-language = Language
scope-survey = Survey
metric-nps = NPS
metric-csat = CSAT
metric-ces = CES
themes-title = Themes in the open answers
themes-help = Words and two-word phrases (stemmed) in at least five answers; flagged when significantly more common among unhappy (NPS 0–6, CSAT 1–2, CES 1–3) or happy respondents.
themes-term = Theme
themes-answers = Answers
themes-low = Unhappy
themes-high = Happy
themes-example = Example
themes-more-low = more among the unhappy
themes-more-high = more among the happy
row-scores = Index (90 days)
drivers-title = Impact and performance of each touchpoint
drivers-heading = What drives the NPS of { $name }
drivers-help = Each touchpoint's impact: the correlation between its score and the journey NPS given in the same case (filled: significant at 95 %). Performance: its mean score on a 0–100 scale. Improving the touchpoints in the shaded corner pays most.
drivers-priority = Priority: high impact, low performance
drivers-performance = Performance (0–100)
drivers-impact = Impact (correlation)

## Alerts and group dashboards
nav-alerts = Alerts
alerts-title = Score alerts
alerts-intro = A rule watches one group (a touchpoint, journey, unit, partner …) and raises an alert when its score falls below a threshold or drops significantly from the period before. Periods are whole blocks of days (7 days = Monday to Sunday); a rule needs at least 30 answers in every period it looks at. Alerts go to the unit the rule names, or to the unit owning the group, in the app and to the workspace's webhooks.
alerts-raised = Alerts raised
alerts-rules = Rules
alerts-none = No alerts.
alerts-new = New rule
alerts-for-group = Alert rules of this group
alert-below = { $metric } below { $threshold }
alert-drop = { $metric } drops significantly
alert-days = { $n ->
    [one] 1 day
   *[other] { $n } days
}
alert-previous = before { $value }
alert-owner-unit = the owning unit
alert-condition-below = is below a threshold
alert-condition-drop = drops significantly
alert-field-metric = Score
alert-field-condition = When it
alert-field-threshold = Threshold
alert-field-days = Period in days
alert-field-unit = Notify
alert-col-group = Group
alert-col-rule = Rule
alert-col-period = Period
alert-col-finding = Score
alert-col-unit = Unit
alert-col-count = Alerts
alert-add = Add rule
unit-alerts = Score alerts
group-back = All groups
group-touchpoints = Touchpoints, weakest first
group-weakest = { $name }: { $score }
col-response-rate = Response rate (shown)
dashboard-period = Period
unit-scores-link = Scores, trend and alert rules of my touchpoints
trend-day = Daily experience index, NPS, CSAT and CES of the whole workspace on one 0–100 scale (a point for each day with at least 30 answers)
trend-week = Weekly experience index, NPS, CSAT and CES of the whole workspace on one 0–100 scale (a point for each week with at least 30 answers)
trend-month = Monthly experience index, NPS, CSAT and CES of the whole workspace on one 0–100 scale (a point for each month with at least 30 answers)
group-trend-day = Daily experience index, NPS, CSAT and CES of this group on one 0–100 scale
group-trend-week = Weekly experience index, NPS, CSAT and CES of this group on one 0–100 scale
group-trend-month = Monthly experience index, NPS, CSAT and CES of this group on one 0–100 scale
grain-label = Trend by
grain-day = day
grain-week = week
grain-month = month

suspicion-too-fast = sent sooner than a person usually can
suspicion-stale-form = the page was open for over a day
suspicion-no-form-token = sent without the survey page
suspicion-honeypot = a field hidden from people was filled
suspect-badge = Set apart
response-suspect = Set apart because
response-suspect-help = A bot check set this response apart: it is kept, but not counted in any score. If a person gave it, count it.
response-accept = Count this response
responses-suspect-total = { $count ->
    [one] One response is set apart as possibly automated and not counted.
   *[other] { $count } responses are set apart as possibly automated and not counted.
}
filter-counting = Counted
filter-counted = Counted in scores
filter-suspect = Set apart
channel-qr = QR code
channel-widget = Widget
channel-sms = Text message
channel-kiosk = Kiosk

index-name = Experience index
index-help = The experience index puts every touchpoint on one 0–100 scale, whatever it is measured with: NPS from −100…100, CSAT as the share of satisfied, CES from 1…7. The weakest encounter is the touchpoint whose index is significantly below every other of its journey.
index-from = from { $metric }
trend-as-table = The figures as a table
trend-period = Period
dashboard-tied = tied for weakest
group-weakest-tied = No touchpoint is significantly weakest; tied for the weakest encounter: { $names }
map-weakest = ▼ Weakest encounter
map-tied = Tied for weakest
map-open-touchpoint = { $name }: open its scores
emotion-expected = expected
emotion-measured = measured (index)
home-overview = How customers find us
home-responses = { $count ->
    [one] one response
   *[other] { $count } responses
}
home-previous = { $period }
home-up = better
home-down = worse
home-trend-caption = The experience index by month over the last year, with NPS, CSAT and CES on the same 0–100 scale
home-weakest = The weakest encounter of each customer journey
home-weakest-col = Weakest encounter
home-owner = Owner
home-tied = No touchpoint is significantly weakest; tied:
home-unknown = { $count ->
    [0] No touchpoint has enough answers to compare.
    [one] Only one touchpoint has enough answers: nothing to compare.
   *[other] Not enough answers to compare.
}
home-moved = What moved significantly
home-moved-none = No touchpoint's index moved significantly since the previous 90 days.
home-alerts = { $count ->
    [0] No score alerts in the last 30 days
    [one] One score alert in the last 30 days
   *[other] { $count } score alerts in the last 30 days
}
home-knowing = How well we know our customers
home-reaching = { $reaching } of { $units } units ({ $share } %) have a chain of customers that reaches an end customer.
home-reaching-help = A unit reaches an end customer when its who-is-my-customer answers lead, through the internal customers it serves, to an external customer segment. Units that do not are where customer understanding is most often missing.
home-overdue = { $count ->
    [0] No who-is-my-customer answer is overdue for review
    [one] One who-is-my-customer answer is overdue for review
   *[other] { $count } who-is-my-customer answers are overdue for review
}
journey-glance = The whole journey at once
journey-detail = Journey map in detail
journey-fit = Fit to the page width
journey-actual-size = Actual size
emotion-level-0 = very negative
emotion-level-1 = negative
emotion-level-2 = neutral
emotion-level-3 = positive
emotion-level-4 = very positive
