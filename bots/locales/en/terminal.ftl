# The terminal catalog, en. Fluent syntax (https://projectfluent.org/fluent/guide/):
#   key-with-hyphens = Sentence with { $param } and a plural { $n ->
#       [one] form
#      *[other] forms
#   }
# A key in the code is its id with dots for hyphens: `invalid.flag_value` is `invalid-flag_value`.
# Every id exists in en and zh-CN (tests/test_messages.py renders them all).

## cli
cli-unreadable_file = Cannot read { $path }: check the path and permissions.

## console
console-edit_usage = Usage: /edit FILE [FILE ...] [--mask FILE] -- PROMPT
console-gallery = Your images in the web companion that `pixelsmith run` serves (open within { $minutes } minutes; the link works once): { $url }

## reaper
reaper-unknown = Your request “{ $prompt }” was interrupted by a restart before it finished. It may have been billed, so it is counted as charged. Please try again.
reaper-released = Your request “{ $prompt }” was interrupted by a restart before it was sent. Nothing was charged. Please try again.

## run
run-no_platform = No chat platform is configured. Set DISCORD_TOKEN, or SLACK_BOT_TOKEN with SLACK_APP_TOKEN (socket mode) or SLACK_SIGNING_SECRET (http mode). To try Pixelsmith without any token, run `pixelsmith console`.
run-incomplete_platform = Slack needs SLACK_BOT_TOKEN plus SLACK_APP_TOKEN in socket mode or SLACK_SIGNING_SECRET in http mode (slack.mode). `pixelsmith doctor` checks everything.
run-ready = Pixelsmith is running on: { $platforms }. Stop with Ctrl+C or SIGTERM.

## doctor
doctor-fix = Fix: { $fix }
doctor-hint = Hint: { $fix }
doctor-all_ok = All checks passed.
doctor-some_failed = { $count ->
        [one] { $count } check failed: fix it, then run `pixelsmith doctor` again.
       *[other] { $count } checks failed: fix them, then run `pixelsmith doctor` again.
    }
doctor-what_config = Config
doctor-what_database = Database
doctor-what_gateway = Gateway key
doctor-what_model = Model { $model }
doctor-what_prices = Prices of { $model }
doctor-what_discord = Discord token
doctor-what_discord_shards = Discord shards
doctor-what_slack = Slack
doctor-what_slack_bot = Slack bot token
doctor-what_slack_app = Slack app token
doctor-what_slack_secret = Slack signing secret
doctor-config_file = loaded from { $path } and validated
doctor-config_defaults = no config file: built-in defaults, validated (copy config.example.toml to config.toml to change them)
doctor-what_jobs = Jobs to look at
doctor-jobs_ok = none (no job past its lease, no capped cost, no unknown outcome in the last 30 days)
doctor-jobs_some = { $count ->
        [one] { $count } job
       *[other] { $count } jobs
    } an admin should look at:
doctor-jobs_fix = see each with `pixelsmith history`, and the gateway's billing for unknown outcomes; `pixelsmith usage --check` lists them too
doctor-db_ok = { $backend } { $where }, migrated to head ({ $revision })
doctor-db_ok_postgres = PostgreSQL { $where }, migrated to head ({ $revision }); several bot processes may share it
doctor-db_not_head = { $backend } { $where } is at revision { $revision }, not at head { $head }
doctor-db_not_head_fix = Run every bot process with the same Pixelsmith version; a database migrated by a newer version cannot be used by an older one.
doctor-db_failed = cannot open { $backend } { $where } ({ $error })
doctor-db_fix_postgres = Start the PostgreSQL server, or correct host, port, user, password and database name in database.url (postgresql+psycopg://USER:PASSWORD@HOST:PORT/DB); the database must exist and the user must be allowed to create tables in it.
doctor-db_fix_sqlite = Make sure the folder of database.url exists and is writable by this user, and that no other program holds a lock on the file.
doctor-db_bad_url = database.url is not a supported database URL
doctor-db_bad_url_fix = Use sqlite:///PATH (a file) or postgresql+psycopg://USER:PASSWORD@HOST:PORT/DB.
doctor-gateway_demo = provider.kind = demo: placeholder images drawn locally, no gateway used
doctor-gateway_no_key = no API key is set
doctor-gateway_no_key_fix = Set PIXELSMITH_API_KEY (or provider.api_key) to your key for { $base_url }, or set provider.kind = "demo" to try Pixelsmith without one.
doctor-gateway_ok = accepted by { $base_url } ({ $count ->
        [one] { $count } model
       *[other] { $count } models
    } listed; nothing generated, nothing billed)
doctor-gateway_rejected = the gateway rejected the key (HTTP { $status })
doctor-gateway_forbidden = the gateway refused access for this key (HTTP { $status })
doctor-gateway_forbidden_fix = Check that the key is enabled in the gateway's console and may list models at { $base_url }; your IP address or region may also be blocked.
doctor-gateway_unreachable = cannot reach { $base_url } ({ $error })
doctor-gateway_unreachable_fix = Check provider.base_url (it usually ends in /v1) and that this machine can reach it (proxy, firewall, DNS).
doctor-gateway_http_error = the gateway answered HTTP { $status } to GET /models
doctor-gateway_http_error_fix = Check provider.base_url (it usually ends in /v1); if it is right, the gateway may have an outage: try again later.
doctor-gateway_no_list = { $base_url } does not list its models (HTTP { $status }), so the key cannot be checked without generating an image
doctor-gateway_no_list_hint = If image requests fail with HTTP 401, check PIXELSMITH_API_KEY.
doctor-model_ok = served by the gateway
doctor-model_skipped = not checked: the gateway check did not pass
doctor-model_demo = not checked: the demo provider ignores the model
doctor-model_unlisted = not checked: the gateway does not list its models
doctor-model_not_served = the gateway does not serve it (served models from the catalog: { $served })
doctor-model_retired = the catalog's shutdown date ({ $date }) has passed and the gateway could not be asked whether it still serves it
doctor-model_retired_served = past the catalog's shutdown date ({ $date }), but the gateway still lists it: it works for now; plan a replacement (see `pixelsmith models`)
doctor-model_not_served_retired = the gateway does not serve it (shut down on { $date }; served models from the catalog: { $served })
doctor-model_retiring = retires on { $date }, in { $days ->
        [one] { $days } day
       *[other] { $days } days
    }
doctor-model_disabled = it is provider.default_model but [models.{ $model }] sets enabled = false
doctor-model_fix_default = Set provider.default_model to another model (`pixelsmith models` lists the ones the gateway serves).
doctor-model_fix_table = Set enabled = false in [models.{ $model }] (or remove that table), or correct the model name.
doctor-prices_unverified = prices not verified: costs and quotas use estimates
doctor-prices_fix = Compare the prices of { $model } with the gateway's price page, then set prices_verified = true in [models.{ $model }] (correcting [models.{ $model }.prices] if needed).
doctor-discord_none = not configured (set DISCORD_TOKEN to run the Discord bot)
doctor-discord_ok = valid: logged in as { $name } (id { $id })
doctor-discord_rejected = Discord rejected the token (HTTP { $status })
doctor-discord_fix = Set DISCORD_TOKEN (or discord.token) to the bot token from the Developer Portal: your application → Bot → Reset Token (not the Client Secret or the Public Key).
doctor-discord_http_error = Discord answered HTTP { $status }
doctor-discord_shards = { $auto ->
        [yes] { $count } in all (discord.shard_count = "auto": Discord's recommendation)
       *[no] { $count } in all (discord.shard_count)
    }; this process runs { $runs }; Discord recommends { $recommended } and starts { $concurrency } at a time
doctor-discord_shards_all = every shard
doctor-discord_shards_few_fix = Discord recommends at least { $recommended } shards for this bot: raise discord.shard_count to { $recommended } in every process (or use "auto" with a single process) and split discord.shard_ids over the processes; a shard past 2,500 servers is refused (gateway close 4011).
doctor-unreachable = cannot reach { $url } ({ $error })
doctor-unreachable_fix = Check that this machine can reach { $url } (proxy, firewall, DNS), then try again.
doctor-slack_none = not configured (set SLACK_BOT_TOKEN with SLACK_APP_TOKEN or SLACK_SIGNING_SECRET to run the Slack bot)
doctor-slack_no_bot = no bot token is set
doctor-slack_bot_fix = Set SLACK_BOT_TOKEN (or slack.bot_token) to the Bot User OAuth Token (xoxb-…) from your app's OAuth & Permissions page; reinstall the app if it was revoked.
doctor-slack_bot_ok = valid: @{ $user } in workspace { $team }
doctor-slack_rejected = Slack rejected the token ({ $error })
doctor-slack_not_bot = this is not a bot token (auth.test reports no bot)
doctor-slack_app_missing = slack.mode = socket needs an app-level token, and none is set
doctor-slack_app_fix = Set SLACK_APP_TOKEN (or slack.app_token) to an app-level token (xapp-…) with the connections:write scope (Basic Information → App-Level Tokens), or set slack.mode = "http" with a signing secret.
doctor-slack_app_ok = valid: Socket Mode can connect
doctor-slack_secret_missing = slack.mode = http needs the signing secret to verify requests, and none is set
doctor-slack_secret_fix = Set SLACK_SIGNING_SECRET (or slack.signing_secret) from your app's Basic Information → App Credentials, or set slack.mode = "socket" with an app token.
doctor-slack_secret_ok = set (Slack's requests will be verified with it)
doctor-slack_http_error = Slack answered HTTP { $status }
doctor-what_slack_client = Slack OAuth client
doctor-what_slack_installs = Slack workspaces
doctor-slack_client_ok = Slack accepts the client id and secret
doctor-slack_client_fix = Set SLACK_CLIENT_ID and SLACK_CLIENT_SECRET (or slack.client_id / slack.client_secret) from your app's Basic Information → App Credentials.
doctor-slack_installs_ok = { $count ->
        [one] 1 workspace or Grid org installed
       *[other] { $count } workspaces or Grid orgs installed
    }
doctor-slack_installs_none = no workspace has installed the app yet
doctor-slack_installs_fix = Open https://your.host/slack/install in a browser (the public URL of the Slack HTTP port) and approve the app for a workspace.
doctor-slack_installs_unsealable = { $count } of { $total } stored Slack installs cannot be decrypted
doctor-err_timeout = timed out after { $seconds } s
doctor-err_connect = connection failed
doctor-err_other = error { $kind }

## cli
cli-bad_user = '{ $value }' is not a user: use platform:id (e.g. discord:1234) or a bare id for the local user
cli-bad_community = '{ $value }' is not a community id
cli-bad_date = '{ $value }' is not a date: use YYYY-MM-DD
cli-bad_amount = '{ $value }' is not a valid amount of { $unit }
cli-bad_limit = '{ $value }' is not a limit: use a number >= 0 or 'unlimited'
cli-bad_limit_value = { $option }: { $problem }
cli-set_nothing = nothing to set: give at least one of --daily-images, --monthly-images, --daily-usd, --monthly-usd, --budget-usd, --concurrent-jobs (or --clear)
cli-set_user_xor_community = give either USER or --community C, not both (and not neither)
cli-budget_needs_community = --budget-usd is a community budget: use it with --community C
cli-set_done = override for { $scope } now: { $limits }
cli-set_cleared = override for { $scope } removed; the config applies
cli-set_none = { $scope } had no override
cli-grant_done = granted { $amount } to { $scope } for { $period ->
        [day] today
       *[month] this month
    }
cli-ban_done = { $scope } is banned
cli-ban_already = { $scope } was already banned
cli-unban_done = { $scope } is no longer banned
cli-unban_not = { $scope } was not banned
cli-show_title = quota for { $scope }{ $community }
cli-show_banned = BANNED{ $reason }
cli-show_cooldown = cooldown until { $until }
cli-show_override = override in the database: { $limits }
cli-unlimited = unlimited
cli-check_ok = ok: every counter matches the ledger
cli-check_bad = { $count ->
        [one] { $count } difference
       *[other] { $count } differences
    } between counters and the ledger:
cli-check_look = { $count ->
        [one] { $count } job to look at
       *[other] { $count } jobs to look at
    }:
cli-usage_empty = no charged jobs{ $since }
cli-history_empty = no jobs for { $scope }
cli-total = total
cli-reaped_unknown = Your earlier request “{ $prompt }” (job { $job }) did not finish: its command ended while the gateway had it. It may have been billed, so it is counted as charged at the worst case (${ NUMBER($cost, minimumFractionDigits: 4, maximumFractionDigits: 4) }); see `pixelsmith history`.
cli-reaped_released = Your earlier request “{ $prompt }” (job { $job }) did not finish: its command ended before it was sent. Nothing was charged.
cli-interrupted = Interrupted. A job in progress was settled by the money rules: released if nothing was sent, else charged as unknown (see `pixelsmith history`).
cli-out_not_folder = --out { $path } is a file, not a folder: give a folder (it is created if missing). Nothing was sent or charged.
cli-out_uncreatable = Cannot create the folder { $path }: give a folder you can write to with --out. Nothing was sent or charged.
cli-out_unwritable = Cannot write into the folder { $path }: fix its permissions or give another folder with --out. Nothing was sent or charged.
cli-bad_web_community = '{ $value }' is not a community: use discord:<server id> or slack:<team id>
cli-web_off = The web companion is off: set web.port (and web.public_url behind your TLS proxy) and PIXELSMITH_SECRET_KEY (32+ random characters); `pixelsmith run` serves it.
cli-dashboard_link = The link above opens that community's dashboard once, within { $minutes } minutes, while `pixelsmith run` serves the web companion with the same secret.

## pixelsmith models
models-header = Image models: what the gateway at { $base_url } lists, beside the catalog.
models-gateway_failed = The gateway's model list could not be read ({ $reason }): the catalog alone follows. `pixelsmith doctor` says why.
models-default = default
models-served = served by the gateway
models-not_served = NOT served by the gateway
models-served_unknown = gateway not asked
models-in_catalog = in the catalog
models-not_in_catalog = not in the catalog: add a [models."{ $model }"] table (e.g. base = "{ $base }", then its prices) to use it
models-sizes = sizes: { $sizes }
models-flexible = or any WxH with both edges divisible by 16, aspect 1:3 to 3:1, { $min_pixels } to { $max_pixels } pixels, edges up to { $max_edge }
models-experimental = above { $pixels } pixels experimental
models-qualities = qualities: { $qualities }
models-no_quality = qualities: none (the model takes no quality parameter)
models-prices_tokens = prices: text in ${ $text_in }/1M tokens, image in ${ $image_in }/1M, image out ${ $image_out }/1M
models-prices_text_out = text out ${ $text_out }/1M
models-prices_square = per 1024x1024 image: { $prices }
models-prices_flat = prices: ${ $price } per image
models-verified = prices verified
models-unverified = prices NOT verified (estimates; check the gateway's price page)
models-active = status: active
models-retiring = status: shuts down on { $date }
models-retired_served = status: past its shutdown date { $date }, still listed by the gateway
models-retired = status: shut down on { $date }
models-gateway_shutdown = the gateway announces shutdown on { $date }
models-source = source: { $source }
models-backgrounds = backgrounds: { $backgrounds } (transparent needs png or webp)
models-preview = preview
models-markup = edits take a sketch (markup) over the first image

## pixelsmith keys
cli-keys_prompt = Gateway key (not shown):{" "}
cli-keys_env_empty = The variable { $var } is not set or empty: nothing was saved.
cli-keys_set = { $community } now uses its own key { $fingerprint } at { $base_url }.
cli-keys_byok_off = Note: byok.enabled is false, so stored keys are not used until you enable it.
cli-keys_none = No community has its own key.
cli-keys_removed = removed (jobs stop)
cli-keys_opens_yes = yes
cli-keys_opens_no = NO (set it again)
cli-keys_tested = { $community }: { $outcome ->
        [ok] ok, the gateway accepts the key
        [rejected] the gateway rejects the key
        [forbidden] the gateway refuses this key access
        [unreachable] the gateway cannot be reached
        [http_error] the gateway answered with an error
        [unlisted] the gateway does not list models; the key is neither accepted nor rejected
        [unsealable] the stored key cannot be decrypted with PIXELSMITH_SECRET_KEY
        [removed] the key was removed; its jobs stop until a new one is set
       *[none] no key stored
    }
cli-keys_remove_none = { $community } had no key of its own.
cli-keys_remove_fallback = { $community }'s key is removed; its jobs use your key again.
cli-keys_remove_stopped = { $community }'s key is removed; its jobs stop until a new key is set (byok.fallback_to_operator is false; --forget lets it back on your key).
cli-keys_rotated = Re-sealed { $count ->
        [one] { $count } community key
       *[other] { $count } community keys
    } and { $installs ->
        [one] { $installs } Slack install
       *[other] { $installs } Slack installs
    } with the first PIXELSMITH_SECRET_KEY: the old secret may go now.

## doctor: communities' own keys
doctor-what_byok = Community keys
doctor-what_byok_key = Key of { $community }
doctor-byok_none = enabled; no community has set its own key yet
doctor-byok_off = { $count ->
        [one] { $count } stored key is
       *[other] { $count } stored keys are
    } not used: byok.enabled is false
doctor-byok_ok = { $fingerprint } accepted by { $base_url }
doctor-byok_bad = { $fingerprint } at { $base_url }: { $outcome ->
        [rejected] the gateway rejects it
        [forbidden] the gateway refuses it access
        [unreachable] the gateway cannot be reached
        [unlisted] the gateway lists no models, so the key could not be checked
       *[other] the gateway answered with an error
    }
doctor-byok_fix = its jobs fail until an admin of that community sets a working key (`/pixelsmith-admin key`, `/imagine-admin key`), or you run `pixelsmith keys set { $community }`
doctor-byok_removed = removed; its jobs stop (byok.fallback_to_operator is false)
doctor-byok_removed_fix = an admin of that community sets a new key, or `pixelsmith keys remove COMMUNITY --forget` puts it back on your key
doctor-byok_unsealable = { $fingerprint } cannot be decrypted with PIXELSMITH_SECRET_KEY
cli-keys_in_group = Note: { $community } belongs to { $group } (a Slack Enterprise Grid org): its members' jobs are the org's and use the org's key. Set that one with `pixelsmith keys set { $group }`.
