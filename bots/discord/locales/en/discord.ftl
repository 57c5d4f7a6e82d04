# The discord catalog, en. Fluent syntax (https://projectfluent.org/fluent/guide/):
#   key-with-hyphens = Sentence with { $param } and a plural { $n ->
#       [one] form
#      *[other] forms
#   }
# A key in the code is its id with dots for hyphens: `invalid.flag_value` is `invalid-flag_value`.
# Every id exists in en and zh-CN (tests/test_messages.py renders them all).

## discord
discord-cmd-imagine = Generate images from a prompt
discord-cmd-edit = Edit images you attach
discord-cmd-edit_menu = Edit image
discord-cmd-quota = What you can still generate today and this month
discord-cmd-admin = Pixelsmith admin: limits, grants, bans, usage
discord-cmd-admin_limits = Set a limit for a user or for this whole server
discord-cmd-admin_grant = Give a user extra images or dollars today or this month
discord-cmd-admin_audit = Recent admin actions in this server
discord-cmd-admin_ban = Stop a user from generating images
discord-cmd-admin_unban = Let a banned user generate images again
discord-cmd-admin_usage = Spending summary
discord-cmd-admin_chart = Chart of daily spend
discord-opt-prompt = What to draw (flags like --ar 2:3 work too)
discord-opt-edit_prompt = What to change
discord-opt-aspect = Aspect ratio
discord-opt-quality = Quality (higher costs more)
discord-opt-n = How many images
discord-opt-model = Model
discord-opt-background = Background
discord-opt-image = The image to edit
discord-opt-image_more = Another input image
discord-opt-mask = PNG mask: transparent pixels mark the area to change
discord-opt-sketch = PNG sketch over the first image (GPT Image 2.5): its strokes guide the edit
discord-opt-user = The user (leave empty for the whole server)
discord-opt-limit = Which limit
discord-opt-value = A number, or “unlimited”
discord-opt-amount = How much (negative takes back)
discord-opt-unit = Images or US dollars
discord-opt-period = Today or this month (default: this month)
discord-opt-limit_rows = How many entries (1-25)
discord-opt-reason = Why (kept in the database)
discord-opt-by = Group by
discord-opt-days = How many days back (default 30)
discord-choice-auto = auto
discord-choice-low = low
discord-choice-medium = medium
discord-choice-high = high
discord-choice-transparent = transparent
discord-choice-opaque = opaque
discord-choice-images = images
discord-choice-usd = US dollars
discord-choice-day = today
discord-choice-month = this month
discord-choice-user = user
discord-choice-community = server
discord-choice-model = model
discord-modal-edit_title = Edit image
discord-modal-prompt_placeholder = e.g. make the sky purple and add a small boat
discord-mention = { $mention } { $text }
discord-expired_button = This button is no longer valid for you (it works for an hour, only for the person it was shown to). Nothing was charged. Please run the command again.
discord-job_gone = That image's record is gone, so it cannot be re-rolled. Please run /imagine again.
discord-left = Left: { $parts }
discord-left-images_today = { $value ->
        [one] { $value } image
       *[other] { $value } images
    } today
discord-left-images_month = { $value ->
        [one] { $value } image
       *[other] { $value } images
    } this month
discord-left-usd_today = ${ NUMBER($value, minimumFractionDigits: 2, maximumFractionDigits: 2) } today
discord-left-usd_month = ${ NUMBER($value, minimumFractionDigits: 2, maximumFractionDigits: 2) } this month
discord-left-community_usd_month = server budget ${ NUMBER($value, minimumFractionDigits: 2, maximumFractionDigits: 2) } this month
discord-quota-title = Your image allowance:
discord-quota-line = { $name }: { $remaining } of { $limit } left, resets { $resets }
discord-quota-line_noreset = { $name }: { $remaining } of { $limit } left
discord-quota-none = No limits apply to you here.
discord-quota-cooldown = Your next request is possible { $resets }.
discord-history-empty = You have no images yet. Try /imagine.
discord-admin-denied = Only people with the Manage Server permission or a configured admin role can use this.
discord-admin-bad_value = “{ $value }” is not a valid value: give a number of at least 0, or “unlimited”.
discord-admin-budget_needs_server = The server budget applies to the whole server: leave the user out.
discord-admin-this_server = this server
discord-admin-limits_set = The { $limit_name } for { $target } is now { $value }.
discord-admin-granted = Granted { $amount } to { $target } for this month.
discord-admin-granted_day = Granted { $amount } to { $target } for today.
discord-admin-audit_empty = No admin actions in this server yet.
discord-admin-audit_title = Recent admin actions in this server:
discord-admin-audit_line = { $when } · { $who } · { $action ->
        [grant] granted
        [ban] banned
        [unban] unbanned
        [limits] set limits for
        [limits_clear] cleared the limits of
       *[other] changed
    } { $target }: { $before } → { $after }
discord-admin-usage_title = Charged jobs since { $since }, by { $by }:
discord-admin-usage_line = { $group }: { $jobs ->
        [one] { $jobs } job
       *[other] { $jobs } jobs
    }, { $images ->
        [one] { $images } image
       *[other] { $images } images
    }, ${ NUMBER($cost, minimumFractionDigits: 2, maximumFractionDigits: 2) }
discord-admin-usage_empty = No charged jobs since { $since }.
discord-no_result = No image this time (the reason went to the requester).
discord-button_invalid = This button is no longer valid. Nothing was charged. Please run the command again.
discord-form_invalid = This form is no longer valid (it was open too long). Nothing was charged. Please run the command again.
discord-bad_request = Discord sent this request incomplete, so I could not act on it. Nothing was charged. Please try again.
discord-missing_permissions = I can't post images here: give me { $permissions } in this channel (Server Settings > Roles, or the channel's permissions). Nothing was charged.
discord-permission-view_channel = View Channel
discord-permission-send_messages = Send Messages
discord-permission-send_messages_in_threads = Send Messages in Threads
discord-permission-attach_files = Attach Files
discord-undelivered = Your image was made and charged (${ NUMBER($cost, minimumFractionDigits: 4, maximumFractionDigits: 4) }), but I could not post it here: { $reason }.
discord-undelivered-permissions = I am missing a permission in this channel
discord-undelivered-access = I cannot reach this channel
discord-undelivered-gone = the channel or message is gone
discord-undelivered-too_large = the files are too large for this server
discord-undelivered-unavailable = Discord kept failing
discord-undelivered-other = Discord refused the upload
discord-undelivered-how_fix = Running it again would charge you again: first give me the permission I lack here (or ask an admin), then try once more.
discord-undelivered-how_wait = Running it again would charge you again: please wait a little, and ask an admin if it keeps failing.
discord-undelivered-how_again = Do not run it again (that would charge you again): /history with "again" posts it here for free while it is kept.
discord-again_failed = I could not post it here: { $reason }. Nothing was charged.
discord-opt-again = One of your recent images: post it here again, for free
discord-cmd-gallery = A private link to your images on the web
discord-cmd-admin_dashboard = A private link to this server's dashboard on the web
discord-web-link = Open this link within { $minutes } minutes; it works once: { $url }
discord-web-off = The web companion is not set up on this bot (web.port).

discord-cmd-settings = Your defaults here: model, size, quality, language, private results, remix
discord-opt-format = Output format
discord-opt-private = Private results: only you see them
discord-opt-language = Answer in this language (instead of your Discord language)
discord-opt-remix = Remix: edit the prompt before a button starts a job
discord-opt-clear = Reset one setting (or all) to the default
discord-choice-png = PNG
discord-choice-jpeg = JPEG
discord-choice-webp = WEBP
discord-choice-default = default
discord-choice-all = all settings
discord-modal-remix_title = Remix: change the prompt first

## /pixelsmith-admin key
discord-cmd-admin_key = This server's own gateway key: set, show, test or remove it
discord-opt-key_action = What to do with the key
discord-choice-set = set (opens a form)
discord-choice-show = show
discord-choice-test = test (free)
discord-choice-remove = remove
