# The slack catalog, en. Fluent syntax (https://projectfluent.org/fluent/guide/):
#   key-with-hyphens = Sentence with { $param } and a plural { $n ->
#       [one] form
#      *[other] forms
#   }
# A key in the code is its id with dots for hyphens: `invalid.flag_value` is `invalid-flag_value`.
# Every id exists in en and zh-CN (tests/test_messages.py renders them all).

## slack
slack-modal-title = Edit an image
slack-modal-submit = Edit
slack-modal-cancel = Cancel
slack-modal-images = Images (PNG, JPEG or WEBP)
slack-modal-prompt_hint = e.g. make it a watercolour --q high
slack-progress_bar = { $bar } { $percent }%
slack-home-quota = Your image quota
slack-home-none = No images yet. Type /imagine in any channel to make one.
slack-home-limit = { $name }: { $remaining } of { $limit } left{ $resets }
slack-home-resets = {" "}(resets { $when })
slack-admin-denied = Only Pixelsmith admins (slack.admin_users) can use /imagine-admin.
slack-admin-help = Usage (this workspace only): /imagine-admin `limits @user|everyone [user_daily_images=5 ...]` · `grant @user AMOUNT [images|usd] [day|month]` · `ban @user [reason]` · `unban @user` · `usage [user|community|model]` · `chart [community|model] [days]` · `audit` · `dashboard` · `key set|show|test|remove` (this workspace's own gateway key)
slack-admin-chart_posted = Posted the spend chart in this channel.
slack-admin-bad_user = { $value } is not a user: mention them (@name) or give their user id.
slack-admin-bad_amount = { $value } is not a valid amount.
slack-admin-bad_limit = Cannot set { $value }: use name=number or name=unlimited with one of { $known }.
slack-admin-limits = Limits for { $user } now: { $limits }
slack-admin-granted = Granted { $unit ->
        [usd] ${ $amount }
        [images] { $amount ->
            [one] { $amount } image
           *[other] { $amount } images
        }
       *[other] { $amount } { $unit }
    } to { $user } for { $period ->
        [day] today
       *[month] this month
    }.
slack-admin-usage_line = { $group }: { $jobs ->
        [one] { $jobs } job
       *[other] { $jobs } jobs
    }, { $images ->
        [one] { $images } image
       *[other] { $images } images
    }, ${ NUMBER($cost, minimumFractionDigits: 4, maximumFractionDigits: 4) }
slack-admin-usage_empty = No charged jobs yet.
slack-problem-bad_token = Slack rejected the bot token ({ $error }); copy the Bot User OAuth Token (xoxb-...) from the app's OAuth & Permissions page
slack-problem-missing = not set; it is needed for slack.mode = “{ $mode }”
slack-upload_failed = Your image was made and charged (${ NUMBER($cost, minimumFractionDigits: 4, maximumFractionDigits: 4) }), but Slack did not let me post it here ({ $error }). Invite me to this channel (/invite) or use a channel I am in.

slack-modal-more_images = More images (up to { $count } more)
slack-modal-close = Close
slack-button_invalid = This button is no longer valid. Please use /imagine again.
slack-incomplete = Slack sent an incomplete request, so nothing was done (and nothing charged). Please try again.

slack-not_in_channel = I can't post images in this channel yet: invite me with /invite { $bot }, then try again. Nothing was charged.
slack-web-link = Open this link within { $minutes } minutes; it works once: { $url }
slack-web-off = The web companion is not set up on this bot (web.port).
slack-button-redeliver = Deliver again
slack-redeliver_hint = You can get it again for free with /imagine-history { $job } (results are kept for { $days } days).
slack-admin-audit_line = { $when } · { $actor } · { $action } { $target }: { $before } → { $after }
slack-admin-audit_empty = No admin actions in this workspace yet.
slack-admin-everyone = everyone in this workspace

slack-settings-title = Your settings
slack-settings-save = Save
slack-settings-no_private = Flags typed in a prompt still win. Private results are not offered on Slack: Slack shares images only into a conversation, never as a message only you see.
slack-modal-remix_title = Remix
slack-modal-remix_submit = Go

## installing the app (slack.distribution = "oauth"): the page the installer's browser shows
slack-install-title = Pixelsmith for Slack
slack-install-done = Pixelsmith is installed in { $workspace }. Invite it to a channel and try /imagine there.
slack-install-failed = The installation did not finish ({ $reason }). Nothing was installed; start again from the install link.
slack-install-denied = The installation was cancelled in Slack. Nothing was installed.
slack-install-missing = Pixelsmith is not installed in this workspace any more. An admin can install it again from the install link.
