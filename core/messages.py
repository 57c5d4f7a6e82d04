"""Every sentence a person reads, in English and Simplified Chinese.

Core and adapters pass keys and parameters; this module alone holds words. ``render`` turns a
typed failure into a sentence for its audience (users get "tell your admin" for account problems,
admins get the exact fix); ``text`` renders any key; ``note`` renders a result's notes.
Times are formatted by a callable the adapter passes (Discord and Slack have their own markup).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from core.errors import Note, PixelsmithError, PreflightMatch

TimeFormat = Callable[[datetime], str]

STYLE_EXAMPLES = {
    "en": '"Pixar-style 3D render", "Van Gogh brushwork", "bright modern Japanese anime style"',
    "zh": "“皮克斯风格 3D 渲染”“梵高笔触”“明亮的现代日式动漫风格”",
}

EN: dict[str, str] = {
    # -- generic -------------------------------------------------------------------------
    "error.internal": "Something went wrong on our side. Please try again, and tell your admin "
    "if it keeps happening.",
    "error.incident": "Something went wrong on our side (incident {incident}). Please try "
    "again, and if it keeps happening, tell your admin the incident id.",
    "error.incident_log": "Details for the operator, under incident {incident}: {path}",
    "config.missing_file": "Config file {path} does not exist. Copy config.example.toml to "
    "config.toml, or run without --config to use the defaults.",
    "config.bad_toml": "Config file {path} is not valid TOML: {detail}",
    "config.unreadable": "Config file {path} cannot be read (permissions or encoding).",
    "config.invalid": "Config error at `{key}`: {problem}. Fix it in {path_or_env} "
    "(see config.example.toml for every key).",
    # -- request validation --------------------------------------------------------------
    "invalid.generic": "That request is not valid.",
    "invalid.flag_value": "The flag {flag} needs a value, e.g. `{flag} 2:3`.",
    "invalid.unknown_flag": "Unknown flag {flag}. Known flags: {known}.",
    "invalid.not_a_number": "{option} must be a whole number, not {value!r}.",
    "invalid.unknown_model": "Unknown model {model!r}. Available: {known}.",
    "invalid.empty_prompt": "Please describe the image you want: the prompt is empty.",
    "invalid.prompt_too_long": "The prompt is {length} characters; the limit is {limit}. "
    "Please shorten it.",
    "invalid.n_range": "{model} makes 1 to {max} images per request; you asked for {n}.",
    "invalid.transparent_jpeg": "A transparent background needs PNG or WEBP output, not JPEG.",
    "invalid.mask_without_image": "A mask only makes sense with an image to edit: attach the "
    "image too.",
    "invalid.no_edits": "{model} cannot edit images. Choose another model for edits.",
    "invalid.too_many_images": "{model} takes at most {max} input images; you attached {count}.",
    "invalid.option": "{model} does not accept {option} = {value!r}. Choose one of: {allowed}.",
    "invalid.size_and_aspect": "Give either a size or an aspect ratio, not both.",
    "invalid.aspect": "Aspect ratio {value!r} is not available for {model}. Choose one of: "
    "{allowed}.",
    "invalid.size": "Size {value!r} is not available for {model}. Choose one of: {allowed}"
    "{flex_hint}.",
    # -- attachments -----------------------------------------------------------------------
    "image.invalid": "That attachment cannot be used as an image.",
    "image.too_large": "{name} is {size_mb} MB; the limit is {limit_mb} MB. Please send a "
    "smaller image.",
    "image.empty": "{name} is empty (0 bytes).",
    "image.unsupported_type": "{name} is not a PNG, JPEG or WEBP image (it looks like "
    "{detected}). Please convert it first.",
    "image.html_page": "{name} came back as a web page instead of an image. If this is Slack, "
    "the app is missing the files:read permission: ask your admin to add it and reinstall.",
    "image.pdf": "{name} is a PDF, not an image. Export the page as PNG or JPEG first.",
    "image.animated": "{name} is animated; only still images can be edited. Send one frame as "
    "PNG or JPEG.",
    "image.truncated": "{name} is incomplete or damaged (the file ends early). Please re-send it.",
    "image.corrupt": "{name} is damaged and cannot be opened.",
    "image.bomb": "{name} is {width}x{height} pixels, far too large to process safely. Please "
    "send a smaller image.",
    "image.too_many": "You attached {count} images; the limit is {limit}.",
    "image.mask_not_png": "The mask must be a PNG with transparency.",
    "image.mask_no_alpha": "The mask has no transparency. Transparent pixels mark the area to "
    "change: save it as a PNG with an alpha channel.",
    "image.mask_size_mismatch": "The mask is {mask_w}x{mask_h} but the image is "
    "{image_w}x{image_h}; they must be the same size.",
    "image.mask_too_large": "The mask must be under 4 MB.",
    "image.download_failed": "{name} could not be downloaded. Please try again.",
    "image.foreign_host": "{name} is hosted on {host}, which is not an allowed file host.",
    "image.bad_url": "That file link is not a valid http(s) address.",
    "image.redirected": "The file host {host} redirected the download, which is not allowed. "
    "Please upload the image directly.",
    "image.mask_opaque": "The mask {name} has no transparent pixels, so there is nothing to "
    "change. Make the area to edit transparent.",
    "invalid.mask_unsupported": "{model} does not take a mask. Use an images-API model such as "
    "gpt-image-2 for masked edits.",
    # -- refusals --------------------------------------------------------------------------
    "refused.preflight": "Not sent, so nothing was charged: the image service's safety system "
    "usually refuses {terms}. {why} Suggested prompt: “{suggestion}”. Use the suggestion, or "
    "send the original anyway (it may be refused and still billed).",
    "refused.upstream": "The image service's safety system refused this request{stage}"
    "{categories}. Refused requests are still billed by the gateway. {why}{suggestion_line}",
    "refused.filtered_all": "The safety system filtered out every image of this request, so "
    "none came back (the gateway still bills it). Try describing the scene differently.",
    "refused.why": "Names of living artists, real people and famous characters are the usual "
    "cause; describe a style instead, e.g. {examples}.",
    "refused.suggestion": " Try: “{suggestion}”.",
    "refused.stage": " at the {stage} stage",
    "refused.categories": " (categories: {categories})",
    "category.living_artist": "names of living artists ({terms})",
    "category.studio": "studio names ({terms})",
    "category.public_figure": "real people ({terms})",
    "category.character": "copyrighted characters ({terms})",
    "category.suggestive": "suggestive wording ({terms})",
    # -- quota -------------------------------------------------------------------------------
    "quota.exceeded": "You have reached the {limit_name}: {remaining} left. It resets {resets}.",
    "quota.exceeded_noreset": "You have reached the {limit_name}: {remaining} left.",
    "quota.banned": "You are not allowed to generate images here. Ask an admin if this is a "
    "mistake.",
    "quota.cooldown": "Please wait a moment between requests: try again {resets}.",
    "limit.user_daily_images": "daily image limit",
    "limit.user_monthly_images": "monthly image limit",
    "limit.user_daily_usd": "daily spending limit",
    "limit.user_monthly_usd": "monthly spending limit",
    "limit.community_monthly_usd": "community's monthly budget",
    "limit.user_concurrent_jobs": "limit of images in progress at once",
    "unit.images": "{value} images",
    "unit.usd": "${value:.2f}",
    "unit.jobs": "{value} jobs",
    # -- upstream ------------------------------------------------------------------------------
    "upstream.no_balance": "Image generation is paused: the community's image account is out of "
    "credit. Please tell your admin.",
    "upstream.bad_key": "Image generation is not set up correctly (the service rejected the "
    "key). Please tell your admin.",
    "upstream.forbidden": "The image service refused access for this bot. Please tell your admin.",
    "upstream.model_unavailable": "The model {model} is not available any more. Please tell "
    "your admin, or pick another model.",
    "upstream.rate_limited": "The image service is busy right now. Please try again in a minute.",
    "upstream.server": "The image service had an error. Please try again later.",
    "upstream.invalid_request": "The image service did not accept this request ({detail}). "
    "Try different options.",
    "upstream.timeout": "The image service took too long to answer.{charge_line}",
    "upstream.network": "The image service could not be reached.{charge_line}",
    "upstream.bad_response": "The image service sent back something that is not an image. "
    "Please try again.",
    "upstream.download_failed": "The image was made but could not be downloaded from the "
    "service. Please try again.",
    "upstream.generation_failed": "The image service reported that generation failed. Please "
    "try again (these models are unstable).",
    "upstream.no_image": "The image service finished without sending an image. Please try again.",
    "upstream.stalled": "The image service stopped responding mid-generation. Please try again.",
    "charge.unknown": " It may have been billed; it is counted as charged to be safe.",
    "charge.none": " Nothing was charged.",
    # -- admin fixes --------------------------------------------------------------------------
    "admin.upstream.no_balance": "The gateway reports no credit ({code}, HTTP {status}). Top up "
    "the account behind provider.api_key, or raise its spending limit.",
    "admin.upstream.bad_key": "The gateway rejected the API key (HTTP {status}). Set "
    "PIXELSMITH_API_KEY (or provider.api_key) to a valid key for {base_url}.",
    "admin.upstream.forbidden": "The gateway refused the key for model {model} (HTTP {status}, "
    "{code}): the key may not be allowed to use this model, or your IP/region is blocked.",
    "admin.upstream.model_unavailable": "The gateway does not serve model {model!r} (HTTP "
    "{status}). Set provider.default_model to a served model (`pixelsmith doctor` lists them), "
    "or remove it from [models].",
    # -- notes ---------------------------------------------------------------------------------
    "note.filtered": "{filtered} of {requested} images were filtered by the safety system.",
    "note.demo": "Demo mode: these are placeholder images drawn locally, not real generations.",
    "note.demo_fallback": "No API key is set, so the offline demo provider is used. Set "
    "PIXELSMITH_API_KEY to generate real images.",
    "note.preflight_warn": "Heads-up: this prompt may be refused ({terms}). Safer: “{suggestion}”.",
    "note.prices_unverified": "Cost for {model} is an estimate: its prices are not verified.",
    "output.reencoded": "{count} image(s) were re-encoded to fit the upload limit.",
    "note.duplicate": "This request was already handled; here is its result.",
    # -- results and status --------------------------------------------------------------------
    "result.cost": "Cost: ${cost:.4f}",
    "result.cost_demo": "Cost: $0 (demo)",
    "result.saved": "Saved {count} image(s) to {dir}",
    "result.header": "“{prompt}” — {model}, requested by {who}",
    "result.quota_left": "Left today: {images_today} images, ${usd_today}",
    "status.queued": "Queued (position {position})…",
    "status.submitted": "Sent to {model}…",
    "status.generating": "Generating… {percent}%",
    "status.partial": "Rendering… {percent}%",
    "status.downloading": "Downloading…",
    "status.done": "Done.",
    "status.unlimited": "unlimited",
    "cli.unreadable_file": "Cannot read {path}: check the path and permissions.",
    "console.edit_usage": "Usage: /edit FILE [FILE ...] [--mask FILE] -- PROMPT",
    "upstream.shutting_down": "The bot is restarting; nothing was charged. Please try again "
    "in a minute.",
    "reaper.unknown": "Your request “{prompt}” was interrupted by a restart before it finished. "
    "It may have been billed, so it is counted as charged. Please try again.",
    "reaper.released": "Your request “{prompt}” was interrupted by a restart before it was sent. "
    "Nothing was charged. Please try again.",
    "run.no_platform": "No chat platform is configured. Set DISCORD_TOKEN, or SLACK_BOT_TOKEN "
    "with SLACK_APP_TOKEN (socket mode) or SLACK_SIGNING_SECRET (http mode). To try Pixelsmith "
    "without any token, run `pixelsmith console`.",
    "run.incomplete_platform": "Slack needs SLACK_BOT_TOKEN plus SLACK_APP_TOKEN in socket mode "
    "or SLACK_SIGNING_SECRET in http mode (slack.mode). `pixelsmith doctor` checks everything.",
    "run.ready": "Pixelsmith is running on: {platforms}. Stop with Ctrl+C or SIGTERM.",
    "job.conflict": "This request waited too long in the queue and expired. Nothing was "
    "charged; please try again.",
    "job.expired": "This request was interrupted before it was sent. Nothing was charged.",
    "job.unknown": "This request was interrupted while the image service was working on it; "
    "it may have been billed, so it is counted as charged.",
    "output.too_large": "The image is too large to upload here even after re-encoding "
    "(limit {limit_mb} MB).",
    "output.unreadable": "The generated image could not be prepared for upload.",
    "discord.cmd.imagine": "Generate images from a prompt",
    "discord.cmd.edit": "Edit images you attach",
    "discord.cmd.edit_menu": "Edit image",
    "discord.cmd.quota": "What you can still generate today and this month",
    "discord.cmd.history": "Your recent images",
    "discord.cmd.gallery": "A private link to your images on the web",
    "discord.cmd.admin": "Pixelsmith admin: limits, grants, bans, usage",
    "discord.cmd.admin_limits": "Set a limit for a user or for this whole server",
    "discord.cmd.admin_grant": "Give a user extra images or dollars this month",
    "discord.cmd.admin_ban": "Stop a user from generating images",
    "discord.cmd.admin_unban": "Let a banned user generate images again",
    "discord.cmd.admin_usage": "Spending summary",
    "discord.cmd.admin_chart": "Chart of daily spend",
    "discord.cmd.admin_dashboard": "A private link to this server's dashboard on the web",
    "discord.opt.prompt": "What to draw (flags like --ar 2:3 work too)",
    "discord.opt.edit_prompt": "What to change",
    "discord.opt.aspect": "Aspect ratio",
    "discord.opt.quality": "Quality (higher costs more)",
    "discord.opt.n": "How many images",
    "discord.opt.model": "Model",
    "discord.opt.background": "Background",
    "discord.opt.image": "The image to edit",
    "discord.opt.image_more": "Another input image",
    "discord.opt.mask": "PNG mask: transparent pixels mark the area to change",
    "discord.opt.user": "The user (leave empty for the whole server)",
    "discord.opt.limit": "Which limit",
    "discord.opt.value": "A number, or “unlimited”",
    "discord.opt.amount": "How much (negative takes back)",
    "discord.opt.unit": "Images or US dollars",
    "discord.opt.reason": "Why (kept in the database)",
    "discord.opt.by": "Group by",
    "discord.opt.days": "How many days back (default 30)",
    "discord.choice.auto": "auto",
    "discord.choice.low": "low",
    "discord.choice.medium": "medium",
    "discord.choice.high": "high",
    "discord.choice.transparent": "transparent",
    "discord.choice.opaque": "opaque",
    "discord.choice.images": "images",
    "discord.choice.usd": "US dollars",
    "discord.choice.user": "user",
    "discord.choice.community": "server",
    "discord.choice.model": "model",
    "discord.button.reroll": "Re-roll",
    "discord.button.edit": "Edit",
    "discord.button.vary": "Variations",
    "discord.button.region": "Edit region",
    "discord.web.link": "Open this link within {minutes} minutes; it works once: {url}",
    "discord.web.off": "The web companion is not set up on this bot (web.port).",
    "discord.button.suggest": "Use suggested prompt",
    "discord.button.force": "Send anyway",
    "discord.modal.edit_title": "Edit image",
    "discord.modal.prompt_label": "What should change?",
    "discord.modal.prompt_placeholder": "e.g. make the sky purple and add a small boat",
    "discord.mention": "{mention} {text}",
    "discord.no_image_in_message": "That message has no PNG, JPEG or WEBP image to edit.",
    "discord.expired_button": "This button has expired (the bot restarted or too much time "
    "passed). Please run the command again.",
    "discord.job_gone": "That image's record is gone, so it cannot be re-rolled. Please run "
    "/imagine again.",
    "discord.sources_gone": "The original images of this edit are no longer available (the bot "
    "restarted). Use Edit on the result instead.",
    "discord.button_invalid": "This button is no longer valid. Nothing was charged. Please run "
    "the command again.",
    "discord.form_invalid": "This form is no longer valid (the bot restarted or it was open too "
    "long). Nothing was charged. Please run the command again.",
    "discord.bad_request": "Discord sent this request incomplete, so I could not act on it. "
    "Nothing was charged. Please try again.",
    "discord.missing_permissions": "I can't post images here: give me {permissions} in this channel "
    "(Server Settings > Roles, or the channel's permissions). Nothing was charged.",
    "discord.permission.view_channel": "View Channel",
    "discord.permission.send_messages": "Send Messages",
    "discord.permission.send_messages_in_threads": "Send Messages in Threads",
    "discord.permission.attach_files": "Attach Files",
    "discord.undelivered": "Your image was made and charged (${cost:.4f}), but I could not post it "
    "here: {reason}.",
    "discord.undelivered.permissions": "I am missing a permission in this channel",
    "discord.undelivered.access": "I cannot reach this channel",
    "discord.undelivered.gone": "the channel or message is gone",
    "discord.undelivered.too_large": "the files are too large for this server",
    "discord.undelivered.unavailable": "Discord kept failing",
    "discord.undelivered.other": "Discord refused the upload",
    "discord.undelivered.how_fix": "Running it again would charge you again: first give me the "
    "permission I lack here (or ask an admin), then try once more.",
    "discord.undelivered.how_wait": "Running it again would charge you again: please wait a "
    "little, and ask an admin if it keeps failing.",
    "discord.left": "Left: {parts}",
    "discord.left.images_today": "{value} images today",
    "discord.left.images_month": "{value} images this month",
    "discord.left.usd_today": "${value:.2f} today",
    "discord.left.usd_month": "${value:.2f} this month",
    "discord.left.community_usd_month": "server budget ${value:.2f} this month",
    "discord.quota.title": "Your image allowance:",
    "discord.quota.line": "{name}: {remaining} of {limit} left, resets {resets}",
    "discord.quota.line_noreset": "{name}: {remaining} of {limit} left",
    "discord.quota.unlimited": "{name}: unlimited",
    "discord.quota.none": "No limits apply to you here.",
    "discord.quota.cooldown": "Your next request is possible {resets}.",
    "discord.history.empty": "You have no images yet. Try /imagine.",
    "discord.history.line": "{when} · {state} · ${cost:.4f} · {prompt}",
    "discord.state.RESERVED": "waiting",
    "discord.state.SUBMITTED": "in progress",
    "discord.state.SUCCEEDED": "done",
    "discord.state.FAILED_CHARGED": "failed",
    "discord.state.UNKNOWN_CHARGED": "interrupted (counted as charged)",
    "discord.state.RELEASED": "cancelled (free)",
    "discord.admin.denied": "Only people with the Manage Server permission or a configured "
    "admin role can use this.",
    "discord.admin.bad_value": "{value!r} is not a valid value: give a number of at least 0, "
    "or “unlimited”.",
    "discord.admin.budget_needs_server": "The server budget applies to the whole server: leave "
    "the user out.",
    "discord.admin.this_server": "this server",
    "discord.admin.limits_set": "The {limit_name} for {target} is now {value}.",
    "discord.admin.granted": "Granted {amount} to {target} for this month.",
    "discord.admin.banned": "{target} can no longer generate images.",
    "discord.admin.already_banned": "{target} was already banned.",
    "discord.admin.unbanned": "{target} can generate images again.",
    "discord.admin.not_banned": "{target} was not banned.",
    "discord.admin.usage_title": "Charged jobs since {since}, by {by}:",
    "discord.admin.usage_line": "{group}: {jobs} jobs, {images} images, ${cost:.2f}",
    "discord.admin.usage_empty": "No charged jobs since {since}.",
    # -- doctor and charts -----------------------------------------------------------------
    "doctor.fix": "Fix: {fix}",
    "doctor.hint": "Hint: {fix}",
    "doctor.all_ok": "All checks passed.",
    "doctor.some_failed": "{count} check(s) failed: fix them, then run `pixelsmith doctor` again.",
    "doctor.what_config": "Config",
    "doctor.what_database": "Database",
    "doctor.what_gateway": "Gateway key",
    "doctor.what_model": "Model {model}",
    "doctor.what_prices": "Prices of {model}",
    "doctor.what_discord": "Discord token",
    "doctor.what_slack": "Slack",
    "doctor.what_slack_bot": "Slack bot token",
    "doctor.what_slack_app": "Slack app token",
    "doctor.what_slack_secret": "Slack signing secret",
    "doctor.config_file": "loaded from {path} and validated",
    "doctor.config_defaults": "no config file: built-in defaults, validated (copy "
    "config.example.toml to config.toml to change them)",
    "doctor.db_ok": "{backend} {where}, migrated to head ({revision})",
    "doctor.db_ok_postgres": "PostgreSQL {where}, migrated to head ({revision}); several bot "
    "processes may share it",
    "doctor.db_not_head": "{backend} {where} is at revision {revision}, not at head {head}",
    "doctor.db_not_head_fix": "Run every bot process with the same Pixelsmith version; a database "
    "migrated by a newer version cannot be used by an older one.",
    "doctor.db_failed": "cannot open {backend} {where} ({error})",
    "doctor.db_fix_postgres": "Start the PostgreSQL server, or correct host, port, user, password "
    "and database name in database.url (postgresql+psycopg://USER:PASSWORD@HOST:PORT/DB); the "
    "database must exist and the user must be allowed to create tables in it.",
    "doctor.db_fix_sqlite": "Make sure the folder of database.url exists and is writable by this "
    "user, and that no other program holds a lock on the file.",
    "doctor.db_bad_url": "database.url is not a supported database URL",
    "doctor.db_bad_url_fix": "Use sqlite:///PATH (a file) or "
    "postgresql+psycopg://USER:PASSWORD@HOST:PORT/DB.",
    "doctor.gateway_demo": "provider.kind = demo: placeholder images drawn locally, no gateway "
    "used",
    "doctor.gateway_no_key": "no API key is set",
    "doctor.gateway_no_key_fix": "Set PIXELSMITH_API_KEY (or provider.api_key) to your key for "
    '{base_url}, or set provider.kind = "demo" to try Pixelsmith without one.',
    "doctor.gateway_ok": "accepted by {base_url} ({count} model(s) listed; nothing generated, "
    "nothing billed)",
    "doctor.gateway_rejected": "the gateway rejected the key (HTTP {status})",
    "doctor.gateway_forbidden": "the gateway refused access for this key (HTTP {status})",
    "doctor.gateway_forbidden_fix": "Check that the key is enabled in the gateway's console and "
    "may list models at {base_url}; your IP address or region may also be blocked.",
    "doctor.gateway_unreachable": "cannot reach {base_url} ({error})",
    "doctor.gateway_unreachable_fix": "Check provider.base_url (it usually ends in /v1) and that "
    "this machine can reach it (proxy, firewall, DNS).",
    "doctor.gateway_http_error": "the gateway answered HTTP {status} to GET /models",
    "doctor.gateway_http_error_fix": "Check provider.base_url (it usually ends in /v1); if it is "
    "right, the gateway may have an outage: try again later.",
    "doctor.gateway_no_list": "{base_url} does not list its models (HTTP {status}), so the key "
    "cannot be checked without generating an image",
    "doctor.gateway_no_list_hint": "If image requests fail with HTTP 401, check "
    "PIXELSMITH_API_KEY.",
    "doctor.model_ok": "served by the gateway",
    "doctor.model_skipped": "not checked: the gateway check did not pass",
    "doctor.model_demo": "not checked: the demo provider ignores the model",
    "doctor.model_unlisted": "not checked: the gateway does not list its models",
    "doctor.model_not_served": "the gateway does not serve it (served models from the catalog: "
    "{served})",
    "doctor.model_retired": "retired on {date}: the gateway no longer serves it",
    "doctor.model_retiring": "retires on {date}, in {days} day(s)",
    "doctor.model_disabled": "it is provider.default_model but [models.{model}] sets "
    "enabled = false",
    "doctor.model_fix_default": "Set provider.default_model to another model (served ones are "
    "listed by `pixelsmith doctor`).",
    "doctor.model_fix_table": "Set enabled = false in [models.{model}] (or remove that table), or "
    "correct the model name.",
    "doctor.prices_unverified": "prices not verified: costs and quotas use estimates",
    "doctor.prices_fix": "Compare the prices of {model} with the gateway's price page, then set "
    "prices_verified = true in [models.{model}] (correcting [models.{model}.prices] if needed).",
    "doctor.discord_none": "not configured (set DISCORD_TOKEN to run the Discord bot)",
    "doctor.discord_ok": "valid: logged in as {name} (id {id})",
    "doctor.discord_rejected": "Discord rejected the token (HTTP {status})",
    "doctor.discord_fix": "Set DISCORD_TOKEN (or discord.token) to the bot token from the "
    "Developer Portal: your application → Bot → Reset Token (not the client secret or the "
    "public key).",
    "doctor.discord_http_error": "Discord answered HTTP {status}",
    "doctor.unreachable": "cannot reach {url} ({error})",
    "doctor.unreachable_fix": "Check that this machine can reach {url} (proxy, firewall, DNS), "
    "then try again.",
    "doctor.slack_none": "not configured (set SLACK_BOT_TOKEN with SLACK_APP_TOKEN or "
    "SLACK_SIGNING_SECRET to run the Slack bot)",
    "doctor.slack_no_bot": "no bot token is set",
    "doctor.slack_bot_fix": "Set SLACK_BOT_TOKEN (or slack.bot_token) to the Bot User OAuth Token "
    "(xoxb-…) from your app's OAuth & Permissions page; reinstall the app if it was revoked.",
    "doctor.slack_bot_ok": "valid: @{user} in workspace {team}",
    "doctor.slack_rejected": "Slack rejected the token ({error})",
    "doctor.slack_not_bot": "this is not a bot token (auth.test reports no bot)",
    "doctor.slack_app_missing": "slack.mode = socket needs an app-level token, and none is set",
    "doctor.slack_app_fix": "Set SLACK_APP_TOKEN (or slack.app_token) to an app-level token "
    "(xapp-…) with the connections:write scope (Basic Information → App-Level Tokens), or set "
    'slack.mode = "http" with a signing secret.',
    "doctor.slack_app_ok": "valid: Socket Mode can connect",
    "doctor.slack_secret_missing": "slack.mode = http needs the signing secret to verify "
    "requests, and none is set",
    "doctor.slack_secret_fix": "Set SLACK_SIGNING_SECRET (or slack.signing_secret) from your "
    'app\'s Basic Information → App Credentials, or set slack.mode = "socket" with an app token.',
    "doctor.slack_secret_ok": "set (Slack's requests will be verified with it)",
    "doctor.slack_http_error": "Slack answered HTTP {status}",
    "doctor.err_timeout": "timed out after {seconds} s",
    "doctor.err_connect": "connection failed",
    "doctor.err_other": "error {kind}",
    "chart.title": "Daily spend by {by}{since}",
    "chart.since": " since {date}",
    "chart.y_axis": "Spend (USD)",
    "chart.x_axis": "Day (UTC)",
    "chart.empty": "no spend",
    "chart.other": "other",
    "chart.by_community": "community",
    "chart.by_model": "model",
    "chart.by_user": "user",
    "chart.unwritable": "Cannot write the chart to {path}: check that the folder exists and is "
    "writable.",
    # -- admin CLI --
    "cli.bad_user": "'{value}' is not a user: use platform:id (e.g. discord:1234) or a bare id for the local user",
    "cli.bad_community": "'{value}' is not a community id",
    "cli.bad_date": "'{value}' is not a date: use YYYY-MM-DD",
    "cli.bad_amount": "'{value}' is not a valid amount of {unit}",
    "cli.bad_limit": "'{value}' is not a limit: use a number >= 0 or 'unlimited'",
    "cli.bad_limit_value": "{option}: {problem}",
    "cli.set_nothing": "nothing to set: give at least one of --daily-images, --monthly-images, --daily-usd, --monthly-usd, --budget-usd, --concurrent-jobs (or --clear)",
    "cli.set_user_xor_community": "give either USER or --community C, not both (and not neither)",
    "cli.budget_needs_community": "--budget-usd is a community budget: use it with --community C",
    "cli.set_done": "override for {scope} now: {limits}",
    "cli.set_cleared": "override for {scope} removed; the config applies",
    "cli.set_none": "{scope} had no override",
    "cli.grant_done": "granted {amount} to {scope} for {period}",
    "cli.ban_done": "{scope} is banned",
    "cli.ban_already": "{scope} was already banned",
    "cli.unban_done": "{scope} is no longer banned",
    "cli.unban_not": "{scope} was not banned",
    "cli.show_title": "quota for {scope}{community}",
    "cli.show_banned": "BANNED{reason}",
    "cli.show_cooldown": "cooldown until {until}",
    "cli.show_override": "override in the database: {limits}",
    "cli.unlimited": "unlimited",
    "cli.check_ok": "ok: every counter matches the ledger",
    "cli.check_bad": "{count} difference(s) between counters and the ledger:",
    "cli.usage_empty": "no charged jobs{since}",
    "cli.history_empty": "no jobs for {scope}",
    "cli.total": "total",
    # -- discord --
    "slack.button.reroll": "Re-roll",
    "slack.button.edit": "Edit",
    "slack.button.use_suggestion": "Use suggested prompt",
    "slack.button.send_anyway": "Send anyway",
    "slack.button.region": "Edit region",
    "slack.web.link": "Open this link within {minutes} minutes; it works once: {url}",
    "slack.web.off": "The web companion is not set up on this bot (web.port).",
    "slack.modal.title": "Edit an image",
    "slack.modal.submit": "Edit",
    "slack.modal.cancel": "Cancel",
    "slack.modal.images": "Images (PNG, JPEG or WEBP)",
    "slack.modal.more_images": "More images (up to {count} more)",
    "slack.modal.close": "Close",
    "slack.modal.prompt": "What should change?",
    "slack.modal.prompt_hint": "e.g. make it a watercolour --q high",
    "slack.no_images": "That message has no PNG, JPEG or WEBP image to edit.",
    "slack.button_invalid": "This button is no longer valid. Please use /imagine again.",
    "slack.incomplete": "Slack sent an incomplete request, so nothing was done (and nothing "
    "charged). Please try again.",
    "slack.progress_bar": "{bar} {percent}%",
    "slack.home.quota": "Your image quota",
    "slack.home.recent": "Your recent images",
    "slack.home.none": "No images yet. Type /imagine in any channel to make one.",
    "slack.home.limit": "{name}: {remaining} of {limit} left{resets}",
    "slack.home.unlimited": "{name}: unlimited",
    "slack.home.resets": " (resets {when})",
    "slack.home.job": "{when} · {state} · ${cost:.4f} · {prompt}",
    "slack.state.RESERVED": "waiting",
    "slack.state.SUBMITTED": "in progress",
    "slack.state.SUCCEEDED": "done",
    "slack.state.FAILED_CHARGED": "failed",
    "slack.state.UNKNOWN_CHARGED": "interrupted",
    "slack.state.RELEASED": "not sent",
    "slack.admin.denied": "Only Pixelsmith admins (slack.admin_users) can use /imagine-admin.",
    "slack.admin.help": "Usage: /imagine-admin limits @user [user_daily_images=5 ...] · grant "
    "@user AMOUNT [images|usd] · ban @user [reason] · unban @user · usage [user|community|model]"
    " · chart [community|model] [days] · dashboard",
    "slack.admin.chart_posted": "Posted the spend chart in this channel.",
    "slack.admin.bad_user": "{value} is not a user: mention them (@name) or give their user id.",
    "slack.admin.bad_amount": "{value} is not a valid amount.",
    "slack.admin.bad_limit": "Cannot set {value}: use name=number or name=unlimited with one of "
    "{known}.",
    "slack.admin.limits": "Limits for {user} now: {limits}",
    "slack.admin.granted": "Granted {amount} {unit} to {user} for this month.",
    "slack.admin.banned": "{user} can no longer generate images.",
    "slack.admin.already_banned": "{user} was already banned.",
    "slack.admin.unbanned": "{user} can generate images again.",
    "slack.admin.not_banned": "{user} was not banned.",
    "slack.admin.usage_line": "{group}: {jobs} jobs, {images} images, ${cost:.4f}",
    "slack.admin.usage_empty": "No charged jobs yet.",
    "slack.problem.bad_token": "Slack rejected the bot token ({error}); copy the Bot User OAuth "
    "Token (xoxb-...) from the app's OAuth & Permissions page",
    "slack.problem.missing": "not set; it is needed for slack.mode = {mode!r}",
    "slack.upload_failed": "Your image was made and charged (${cost:.4f}), but Slack did not let "
    "me post it here ({error}). Invite me to this channel (/invite) or use a channel I am in.",
    "slack.not_in_channel": "I can't post images in this channel yet: invite me with /invite {bot}, "
    "then try again. Nothing was charged.",
    # -- slack --
}

ZH: dict[str, str] = {
    "error.internal": "我们这边出了点问题。请重试；如反复出现请告知管理员。",
    "error.incident": "我们这边出了点问题（事件编号 {incident}）。请重试；如反复出现，请把事件编号告知管理员。",
    "error.incident_log": "给运维人员的详细信息（事件编号 {incident}）：{path}",
    "config.missing_file": "配置文件 {path} 不存在。请把 config.example.toml 复制为 config.toml，"
    "或不带 --config 运行以使用默认值。",
    "config.bad_toml": "配置文件 {path} 不是有效的 TOML：{detail}",
    "config.unreadable": "无法读取配置文件 {path}（权限或编码问题）。",
    "config.invalid": "配置项 `{key}` 有误：{problem}。请在 {path_or_env} 中修改"
    "（所有配置项见 config.example.toml）。",
    "invalid.generic": "该请求无效。",
    "invalid.flag_value": "参数 {flag} 需要一个值，例如 `{flag} 2:3`。",
    "invalid.unknown_flag": "未知参数 {flag}。可用参数：{known}。",
    "invalid.not_a_number": "{option} 必须是整数，而不是 {value!r}。",
    "invalid.unknown_model": "未知模型 {model!r}。可用模型：{known}。",
    "invalid.empty_prompt": "请描述你想要的图片：提示词为空。",
    "invalid.prompt_too_long": "提示词有 {length} 个字符，上限为 {limit}。请缩短。",
    "invalid.n_range": "{model} 每次可生成 1 到 {max} 张图片，你请求了 {n} 张。",
    "invalid.transparent_jpeg": "透明背景需要 PNG 或 WEBP 格式，不能用 JPEG。",
    "invalid.mask_without_image": "蒙版需要配合要编辑的图片使用：请同时附上图片。",
    "invalid.no_edits": "{model} 不能编辑图片，请换一个模型。",
    "invalid.too_many_images": "{model} 最多接受 {max} 张输入图片，你附上了 {count} 张。",
    "invalid.option": "{model} 不接受 {option} = {value!r}。可选：{allowed}。",
    "invalid.size_and_aspect": "尺寸和宽高比只能二选一。",
    "invalid.aspect": "{model} 不支持宽高比 {value!r}。可选：{allowed}。",
    "invalid.size": "{model} 不支持尺寸 {value!r}。可选：{allowed}{flex_hint}。",
    "image.invalid": "该附件无法作为图片使用。",
    "image.too_large": "{name} 大小为 {size_mb} MB，上限为 {limit_mb} MB。请发送更小的图片。",
    "image.empty": "{name} 是空文件（0 字节）。",
    "image.unsupported_type": "{name} 不是 PNG、JPEG 或 WEBP 图片（看起来是 {detected}）。"
    "请先转换格式。",
    "image.html_page": "{name} 返回的是网页而不是图片。如果是 Slack，说明应用缺少 files:read "
    "权限：请管理员添加该权限并重新安装。",
    "image.pdf": "{name} 是 PDF 而不是图片。请先把页面导出为 PNG 或 JPEG。",
    "image.animated": "{name} 是动图；只能编辑静态图片。请发送单帧 PNG 或 JPEG。",
    "image.truncated": "{name} 不完整或已损坏（文件提前结束）。请重新发送。",
    "image.corrupt": "{name} 已损坏，无法打开。",
    "image.bomb": "{name} 为 {width}x{height} 像素，太大，无法安全处理。请发送更小的图片。",
    "image.too_many": "你附上了 {count} 张图片，上限为 {limit} 张。",
    "image.mask_not_png": "蒙版必须是带透明度的 PNG。",
    "image.mask_no_alpha": "蒙版没有透明通道。透明像素表示要修改的区域：请保存为带 alpha 通道的 PNG。",
    "image.mask_size_mismatch": "蒙版尺寸为 {mask_w}x{mask_h}，图片为 {image_w}x{image_h}；"
    "两者必须相同。",
    "image.mask_too_large": "蒙版必须小于 4 MB。",
    "image.download_failed": "无法下载 {name}，请重试。",
    "image.foreign_host": "{name} 位于 {host}，不是允许的文件来源。",
    "image.bad_url": "该文件链接不是有效的 http(s) 地址。",
    "image.redirected": "文件主机 {host} 对下载进行了重定向，这是不允许的。请直接上传图片。",
    "image.mask_opaque": "蒙版 {name} 没有透明像素，因此没有可修改的区域。请把要编辑的区域设为透明。",
    "invalid.mask_unsupported": "{model} 不支持蒙版。带蒙版的编辑请使用 gpt-image-2 等图像 API 模型。",
    "refused.preflight": "未发送，因此未扣费：图像服务的安全系统通常会拒绝{terms}。{why}"
    "建议提示词：“{suggestion}”。你可以使用建议，或仍然发送原提示词（可能被拒绝且照样计费）。",
    "refused.upstream": "图像服务的安全系统拒绝了此请求{stage}{categories}。被拒绝的请求网关仍会计费。"
    "{why}{suggestion_line}",
    "refused.filtered_all": "安全系统过滤掉了本次请求的所有图片，因此没有返回任何图片（网关仍会计费）。"
    "请换一种方式描述画面。",
    "refused.why": "在世艺术家、真实人物和知名角色的名字是常见原因；请改为描述风格，例如 {examples}。",
    "refused.suggestion": "可以试试：“{suggestion}”。",
    "refused.stage": "（阶段：{stage}）",
    "refused.categories": "（类别：{categories}）",
    "category.living_artist": "在世艺术家的名字（{terms}）",
    "category.studio": "工作室名称（{terms}）",
    "category.public_figure": "真实人物（{terms}）",
    "category.character": "受版权保护的角色（{terms}）",
    "category.suggestive": "暗示性的措辞（{terms}）",
    "quota.exceeded": "你已达到{limit_name}：剩余 {remaining}。将于 {resets} 重置。",
    "quota.exceeded_noreset": "你已达到{limit_name}：剩余 {remaining}。",
    "quota.banned": "你不能在这里生成图片。如有误会请联系管理员。",
    "quota.cooldown": "请求之间请稍等：{resets} 后再试。",
    "limit.user_daily_images": "每日图片上限",
    "limit.user_monthly_images": "每月图片上限",
    "limit.user_daily_usd": "每日消费上限",
    "limit.user_monthly_usd": "每月消费上限",
    "limit.community_monthly_usd": "社区每月预算",
    "limit.user_concurrent_jobs": "同时进行的图片数量上限",
    "unit.images": "{value} 张图片",
    "unit.usd": "${value:.2f}",
    "unit.jobs": "{value} 个任务",
    "upstream.no_balance": "图片生成已暂停：社区的图像账户余额不足。请告知管理员。",
    "upstream.bad_key": "图片生成配置有误（服务拒绝了密钥）。请告知管理员。",
    "upstream.forbidden": "图像服务拒绝了本机器人的访问。请告知管理员。",
    "upstream.model_unavailable": "模型 {model} 已不可用。请告知管理员，或换一个模型。",
    "upstream.rate_limited": "图像服务当前繁忙，请一分钟后再试。",
    "upstream.server": "图像服务出错了，请稍后再试。",
    "upstream.invalid_request": "图像服务不接受此请求（{detail}）。请尝试其他选项。",
    "upstream.timeout": "图像服务响应超时。{charge_line}",
    "upstream.network": "无法连接图像服务。{charge_line}",
    "upstream.bad_response": "图像服务返回的不是图片，请重试。",
    "upstream.download_failed": "图片已生成，但无法从服务下载。请重试。",
    "upstream.generation_failed": "图像服务报告生成失败。请重试（这些模型不太稳定）。",
    "upstream.no_image": "图像服务结束时没有返回图片。请重试。",
    "upstream.stalled": "图像服务在生成过程中停止响应。请重试。",
    "charge.unknown": "可能已计费；为稳妥起见按已计费记录。",
    "charge.none": "未扣费。",
    "admin.upstream.no_balance": "网关报告余额不足（{code}，HTTP {status}）。请为 provider.api_key "
    "对应的账户充值或提高消费上限。",
    "admin.upstream.bad_key": "网关拒绝了 API 密钥（HTTP {status}）。请把 PIXELSMITH_API_KEY"
    "（或 provider.api_key）设为 {base_url} 的有效密钥。",
    "admin.upstream.forbidden": "网关拒绝该密钥使用模型 {model}（HTTP {status}，{code}）："
    "密钥可能无权使用此模型，或 IP/地区被封锁。",
    "admin.upstream.model_unavailable": "网关不提供模型 {model!r}（HTTP {status}）。请把 "
    "provider.default_model 设为可用模型（`pixelsmith doctor` 会列出），或从 [models] 中移除。",
    "note.filtered": "{requested} 张图片中有 {filtered} 张被安全系统过滤。",
    "note.demo": "演示模式：这些是本地绘制的占位图片，不是真实生成结果。",
    "note.demo_fallback": "未设置 API 密钥，因此使用离线演示提供方。设置 PIXELSMITH_API_KEY 即可生成真实图片。",
    "note.preflight_warn": "提示：此提示词可能被拒绝（{terms}）。更安全的写法：“{suggestion}”。",
    "note.prices_unverified": "{model} 的费用为估算值：其价格未经核实。",
    "output.reencoded": "{count} 张图片已重新编码以符合上传限制。",
    "note.duplicate": "该请求已处理过；以下是其结果。",
    "result.cost": "费用：${cost:.4f}",
    "result.cost_demo": "费用：$0（演示）",
    "result.saved": "已保存 {count} 张图片到 {dir}",
    "result.header": "“{prompt}” — {model}，由 {who} 请求",
    "result.quota_left": "今日剩余：{images_today} 张图片，${usd_today}",
    "status.queued": "排队中（第 {position} 位）…",
    "status.submitted": "已发送到 {model}…",
    "status.generating": "生成中… {percent}%",
    "status.partial": "渲染中… {percent}%",
    "status.downloading": "下载中…",
    "status.done": "完成。",
    "status.unlimited": "无限制",
    "cli.unreadable_file": "无法读取 {path}：请检查路径和权限。",
    "console.edit_usage": "用法：/edit 文件 [文件 ...] [--mask 文件] -- 提示词",
    "upstream.shutting_down": "机器人正在重启，未扣费。请稍后再试。",
    "reaper.unknown": "你的请求“{prompt}”在完成前因重启而中断。它可能已被计费，因此按已计费记录。请重试。",
    "reaper.released": "你的请求“{prompt}”在发送前因重启而中断，未扣费。请重试。",
    "run.no_platform": "尚未配置任何聊天平台。请设置 DISCORD_TOKEN，或 SLACK_BOT_TOKEN 加上 "
    "SLACK_APP_TOKEN（socket 模式）或 SLACK_SIGNING_SECRET（http 模式）。不需要任何令牌即可试用："
    "运行 `pixelsmith console`。",
    "run.incomplete_platform": "Slack 需要 SLACK_BOT_TOKEN，socket 模式还需 SLACK_APP_TOKEN，"
    "http 模式还需 SLACK_SIGNING_SECRET（slack.mode）。`pixelsmith doctor` 会检查所有配置。",
    "run.ready": "Pixelsmith 正在运行：{platforms}。按 Ctrl+C 或发送 SIGTERM 停止。",
    "job.conflict": "该请求在队列中等待太久已过期。未扣费，请重试。",
    "job.expired": "该请求在发送前被中断，未扣费。",
    "job.unknown": "该请求在图像服务处理期间被中断；可能已计费，因此按已计费记录。",
    "output.too_large": "即使重新编码后，图片仍超过此处的上传上限（{limit_mb} MB）。",
    "output.unreadable": "生成的图片无法准备上传。",
    "discord.cmd.imagine": "根据提示词生成图片",
    "discord.cmd.edit": "编辑你附上的图片",
    "discord.cmd.edit_menu": "编辑图片",
    "discord.cmd.quota": "今天和本月还能生成多少",
    "discord.cmd.history": "你最近的图片",
    "discord.cmd.gallery": "获取你的网页图库私密链接",
    "discord.cmd.admin": "Pixelsmith 管理：额度、赠送、封禁、用量",
    "discord.cmd.admin_limits": "为某个用户或整个服务器设置上限",
    "discord.cmd.admin_grant": "本月给某个用户额外的图片或美元额度",
    "discord.cmd.admin_ban": "禁止某个用户生成图片",
    "discord.cmd.admin_unban": "允许被封禁的用户重新生成图片",
    "discord.cmd.admin_usage": "消费汇总",
    "discord.cmd.admin_chart": "每日消费图表",
    "discord.cmd.admin_dashboard": "获取本服务器网页管理面板的私密链接",
    "discord.opt.prompt": "要画什么（也可以写 --ar 2:3 这样的参数）",
    "discord.opt.edit_prompt": "要修改什么",
    "discord.opt.aspect": "宽高比",
    "discord.opt.quality": "质量（越高越贵）",
    "discord.opt.n": "图片数量",
    "discord.opt.model": "模型",
    "discord.opt.background": "背景",
    "discord.opt.image": "要编辑的图片",
    "discord.opt.image_more": "另一张输入图片",
    "discord.opt.mask": "PNG 蒙版：透明像素表示要修改的区域",
    "discord.opt.user": "用户（留空表示整个服务器）",
    "discord.opt.limit": "哪个上限",
    "discord.opt.value": "一个数字，或“unlimited”（无限制）",
    "discord.opt.amount": "数量（负数表示收回）",
    "discord.opt.unit": "图片或美元",
    "discord.opt.reason": "原因（记录在数据库中）",
    "discord.opt.by": "分组方式",
    "discord.opt.days": "往前统计多少天（默认 30）",
    "discord.choice.auto": "自动",
    "discord.choice.low": "低",
    "discord.choice.medium": "中",
    "discord.choice.high": "高",
    "discord.choice.transparent": "透明",
    "discord.choice.opaque": "不透明",
    "discord.choice.images": "图片",
    "discord.choice.usd": "美元",
    "discord.choice.user": "用户",
    "discord.choice.community": "服务器",
    "discord.choice.model": "模型",
    "discord.button.reroll": "重新生成",
    "discord.button.edit": "编辑",
    "discord.button.vary": "变体",
    "discord.button.region": "局部编辑",
    "discord.web.link": "请在 {minutes} 分钟内打开此链接，它只能使用一次：{url}",
    "discord.web.off": "此机器人未启用网页伴侣（web.port）。",
    "discord.button.suggest": "使用建议的提示词",
    "discord.button.force": "仍然发送",
    "discord.modal.edit_title": "编辑图片",
    "discord.modal.prompt_label": "要修改什么？",
    "discord.modal.prompt_placeholder": "例如：把天空变成紫色，再加一条小船",
    "discord.mention": "{mention} {text}",
    "discord.no_image_in_message": "这条消息里没有可编辑的 PNG、JPEG 或 WEBP 图片。",
    "discord.expired_button": "此按钮已失效（机器人已重启或时间过久）。请重新运行命令。",
    "discord.job_gone": "找不到这张图片的记录，无法重新生成。请重新运行 /imagine。",
    "discord.sources_gone": "这次编辑的原始图片已不可用（机器人已重启）。请对结果使用“编辑”。",
    "discord.button_invalid": "此按钮已不再有效，未产生任何费用。请重新运行命令。",
    "discord.form_invalid": "此表单已不再有效（机器人已重启或打开时间过长），未产生任何费用。请重新运行命令。",
    "discord.bad_request": "Discord 发来的请求不完整，我无法处理。未产生任何费用。请重试。",
    "discord.missing_permissions": "我无法在这里发布图片：请在此频道授予我「{permissions}」权限（服务器设置 > 身份组，或频道权限）。未产生任何费用。",
    "discord.permission.view_channel": "查看频道",
    "discord.permission.send_messages": "发送消息",
    "discord.permission.send_messages_in_threads": "在子区中发送消息",
    "discord.permission.attach_files": "附加文件",
    "discord.undelivered": "你的图片已生成并已计费（${cost:.4f}），但我无法在这里发布：{reason}。",
    "discord.undelivered.permissions": "我在此频道缺少权限",
    "discord.undelivered.access": "我无法访问此频道",
    "discord.undelivered.gone": "频道或消息已不存在",
    "discord.undelivered.too_large": "文件超出了此服务器的大小限制",
    "discord.undelivered.unavailable": "Discord 一直出错",
    "discord.undelivered.other": "Discord 拒绝了上传",
    "discord.undelivered.how_fix": "再次生成会再次计费：请先授予我在此处缺少的权限（或联系管理员），然后再试一次。",
    "discord.undelivered.how_wait": "再次生成会再次计费：请稍等片刻；如果一直失败，请联系管理员。",
    "discord.left": "剩余：{parts}",
    "discord.left.images_today": "今日 {value} 张图片",
    "discord.left.images_month": "本月 {value} 张图片",
    "discord.left.usd_today": "今日 ${value:.2f}",
    "discord.left.usd_month": "本月 ${value:.2f}",
    "discord.left.community_usd_month": "服务器本月预算 ${value:.2f}",
    "discord.quota.title": "你的图片额度：",
    "discord.quota.line": "{name}：剩余 {remaining}／{limit}，{resets} 重置",
    "discord.quota.line_noreset": "{name}：剩余 {remaining}／{limit}",
    "discord.quota.unlimited": "{name}：无限制",
    "discord.quota.none": "这里对你没有任何限制。",
    "discord.quota.cooldown": "你可以在 {resets} 发起下一个请求。",
    "discord.history.empty": "你还没有生成过图片。试试 /imagine。",
    "discord.history.line": "{when} · {state} · ${cost:.4f} · {prompt}",
    "discord.state.RESERVED": "等待中",
    "discord.state.SUBMITTED": "进行中",
    "discord.state.SUCCEEDED": "完成",
    "discord.state.FAILED_CHARGED": "失败",
    "discord.state.UNKNOWN_CHARGED": "已中断（按已计费记录）",
    "discord.state.RELEASED": "已取消（免费）",
    "discord.admin.denied": "只有拥有“管理服务器”权限或配置的管理员角色的人才能使用此命令。",
    "discord.admin.bad_value": "{value!r} 不是有效的值：请填写不小于 0 的数字，或“unlimited”。",
    "discord.admin.budget_needs_server": "服务器预算适用于整个服务器：请不要指定用户。",
    "discord.admin.this_server": "本服务器",
    "discord.admin.limits_set": "{target} 的{limit_name}现在为 {value}。",
    "discord.admin.granted": "已为 {target} 本月增加 {amount}。",
    "discord.admin.banned": "{target} 已不能再生成图片。",
    "discord.admin.already_banned": "{target} 之前已被封禁。",
    "discord.admin.unbanned": "{target} 可以重新生成图片了。",
    "discord.admin.not_banned": "{target} 没有被封禁。",
    "discord.admin.usage_title": "自 {since} 起已计费的任务，按{by}分组：",
    "discord.admin.usage_line": "{group}：{jobs} 个任务，{images} 张图片，${cost:.2f}",
    "discord.admin.usage_empty": "自 {since} 起没有已计费的任务。",
    # -- doctor and charts -----------------------------------------------------------------
    "doctor.fix": "修复：{fix}",
    "doctor.hint": "提示：{fix}",
    "doctor.all_ok": "全部检查通过。",
    "doctor.some_failed": "{count} 项检查未通过：修复后请再次运行 `pixelsmith doctor`。",
    "doctor.what_config": "配置",
    "doctor.what_database": "数据库",
    "doctor.what_gateway": "网关密钥",
    "doctor.what_model": "模型 {model}",
    "doctor.what_prices": "{model} 的价格",
    "doctor.what_discord": "Discord 令牌",
    "doctor.what_slack": "Slack",
    "doctor.what_slack_bot": "Slack 机器人令牌",
    "doctor.what_slack_app": "Slack 应用级令牌",
    "doctor.what_slack_secret": "Slack 签名密钥",
    "doctor.config_file": "已从 {path} 读取并通过校验",
    "doctor.config_defaults": "没有配置文件：使用内置默认值，已通过校验（如需修改，请把 "
    "config.example.toml 复制为 config.toml）",
    "doctor.db_ok": "{backend} {where}，已迁移到最新版本（{revision}）",
    "doctor.db_ok_postgres": "PostgreSQL {where}，已迁移到最新版本（{revision}）；可供多个机器人进程共用",
    "doctor.db_not_head": "{backend} {where} 处于版本 {revision}，不是最新版本 {head}",
    "doctor.db_not_head_fix": "所有机器人进程请使用同一版本的 Pixelsmith；被新版本迁移过的数据库不能由旧版本使用。",
    "doctor.db_failed": "无法打开 {backend} {where}（{error}）",
    "doctor.db_fix_postgres": "请启动 PostgreSQL 服务器，或更正 database.url 中的主机、端口、用户、密码和数据库名"
    "（postgresql+psycopg://用户:密码@主机:端口/数据库）；该数据库必须已存在，且该用户有权在其中建表。",
    "doctor.db_fix_sqlite": "请确认 database.url 所在的文件夹存在且当前用户可写，并且没有其他程序锁住该文件。",
    "doctor.db_bad_url": "database.url 不是受支持的数据库地址",
    "doctor.db_bad_url_fix": "请使用 sqlite:///路径（文件）或 postgresql+psycopg://用户:密码@主机:端口/数据库。",
    "doctor.gateway_demo": "provider.kind = demo：在本地绘制占位图片，不使用网关",
    "doctor.gateway_no_key": "没有设置 API 密钥",
    "doctor.gateway_no_key_fix": "请把 PIXELSMITH_API_KEY（或 provider.api_key）设为你在 {base_url} 的密钥；"
    '或设置 provider.kind = "demo"，无需密钥即可试用 Pixelsmith。',
    "doctor.gateway_ok": "{base_url} 接受了该密钥（列出 {count} 个模型；未生成图片，未计费）",
    "doctor.gateway_rejected": "网关拒绝了该密钥（HTTP {status}）",
    "doctor.gateway_forbidden": "网关拒绝此密钥访问（HTTP {status}）",
    "doctor.gateway_forbidden_fix": "请在网关控制台确认该密钥已启用，并允许在 {base_url} 列出模型；"
    "你的 IP 地址或地区也可能被屏蔽。",
    "doctor.gateway_unreachable": "无法连接 {base_url}（{error}）",
    "doctor.gateway_unreachable_fix": "请检查 provider.base_url（通常以 /v1 结尾），并确认本机能访问它（代理、防火墙、DNS）。",
    "doctor.gateway_http_error": "网关对 GET /models 返回了 HTTP {status}",
    "doctor.gateway_http_error_fix": "请检查 provider.base_url（通常以 /v1 结尾）；如果地址无误，网关可能正在故障，请稍后再试。",
    "doctor.gateway_no_list": "{base_url} 不提供模型列表（HTTP {status}），因此无法在不生成图片的情况下检查密钥",
    "doctor.gateway_no_list_hint": "如果图片请求返回 HTTP 401，请检查 PIXELSMITH_API_KEY。",
    "doctor.model_ok": "网关提供该模型",
    "doctor.model_skipped": "未检查：网关检查没有通过",
    "doctor.model_demo": "未检查：演示模式不使用模型",
    "doctor.model_unlisted": "未检查：网关不提供模型列表",
    "doctor.model_not_served": "网关不提供该模型（网关提供的目录内模型：{served}）",
    "doctor.model_retired": "已于 {date} 下线：网关不再提供",
    "doctor.model_retiring": "将于 {date} 下线，还剩 {days} 天",
    "doctor.model_disabled": "它是 provider.default_model，但 [models.{model}] 设置了 enabled = false",
    "doctor.model_fix_default": "请把 provider.default_model 改为其他模型（`pixelsmith doctor` 会列出网关提供的模型）。",
    "doctor.model_fix_table": "请在 [models.{model}] 中设置 enabled = false（或删除该表），或更正模型名称。",
    "doctor.prices_unverified": "价格未核实：费用和额度按估算计算",
    "doctor.prices_fix": "请对照网关的价格页面核对 {model} 的价格，然后在 [models.{model}] 中设置 "
    "prices_verified = true（如有需要先更正 [models.{model}.prices]）。",
    "doctor.discord_none": "未配置（设置 DISCORD_TOKEN 即可运行 Discord 机器人）",
    "doctor.discord_ok": "有效：已登录为 {name}（id {id}）",
    "doctor.discord_rejected": "Discord 拒绝了该令牌（HTTP {status}）",
    "doctor.discord_fix": "请把 DISCORD_TOKEN（或 discord.token）设为开发者门户中的机器人令牌："
    "你的应用 → Bot → Reset Token（不是 client secret，也不是 public key）。",
    "doctor.discord_http_error": "Discord 返回了 HTTP {status}",
    "doctor.unreachable": "无法连接 {url}（{error}）",
    "doctor.unreachable_fix": "请确认本机能访问 {url}（代理、防火墙、DNS），然后重试。",
    "doctor.slack_none": "未配置（设置 SLACK_BOT_TOKEN，并设置 SLACK_APP_TOKEN 或 SLACK_SIGNING_SECRET，即可运行 Slack 机器人）",
    "doctor.slack_no_bot": "没有设置机器人令牌",
    "doctor.slack_bot_fix": "请把 SLACK_BOT_TOKEN（或 slack.bot_token）设为应用 OAuth & Permissions 页面上的 "
    "Bot User OAuth Token（xoxb-…）；如果令牌已被撤销，请重新安装应用。",
    "doctor.slack_bot_ok": "有效：工作区 {team} 中的 @{user}",
    "doctor.slack_rejected": "Slack 拒绝了该令牌（{error}）",
    "doctor.slack_not_bot": "这不是机器人令牌（auth.test 显示没有机器人）",
    "doctor.slack_app_missing": "slack.mode = socket 需要应用级令牌，但没有设置",
    "doctor.slack_app_fix": "请把 SLACK_APP_TOKEN（或 slack.app_token）设为带 connections:write 权限的应用级令牌"
    '（xapp-…，在 Basic Information → App-Level Tokens 中创建）；或设置 slack.mode = "http" 并提供签名密钥。',
    "doctor.slack_app_ok": "有效：Socket Mode 可以连接",
    "doctor.slack_secret_missing": "slack.mode = http 需要签名密钥来校验请求，但没有设置",
    "doctor.slack_secret_fix": "请把 SLACK_SIGNING_SECRET（或 slack.signing_secret）设为应用 Basic Information → "
    'App Credentials 中的值；或设置 slack.mode = "socket" 并提供应用级令牌。',
    "doctor.slack_secret_ok": "已设置（Slack 的请求将用它校验）",
    "doctor.slack_http_error": "Slack 返回了 HTTP {status}",
    "doctor.err_timeout": "{seconds} 秒后超时",
    "doctor.err_connect": "连接失败",
    "doctor.err_other": "错误 {kind}",
    "chart.title": "按{by}统计的每日花费{since}",
    "chart.since": "（自 {date} 起）",
    "chart.y_axis": "花费（美元）",
    "chart.x_axis": "日期（UTC）",
    "chart.empty": "没有花费",
    "chart.other": "其他",
    "chart.by_community": "社区",
    "chart.by_model": "模型",
    "chart.by_user": "用户",
    "chart.unwritable": "无法把图表写入 {path}：请确认文件夹存在且可写。",
    # -- admin CLI --
    "cli.bad_user": "'{value}' 不是用户：请使用 platform:id（例如 discord:1234），或用纯 id 表示本地用户",
    "cli.bad_community": "'{value}' 不是社区 id",
    "cli.bad_date": "'{value}' 不是日期：请使用 YYYY-MM-DD",
    "cli.bad_amount": "'{value}' 不是有效的 {unit} 数量",
    "cli.bad_limit": "'{value}' 不是有效的限额：请使用 >= 0 的数字或 'unlimited'",
    "cli.bad_limit_value": "{option}：{problem}",
    "cli.set_nothing": "没有可设置的内容：请至少给出 --daily-images、--monthly-images、--daily-usd、--monthly-usd、--budget-usd、--concurrent-jobs 之一（或 --clear）",
    "cli.set_user_xor_community": "请给出 USER 或 --community C 之一，不能同时给出，也不能都不给",
    "cli.budget_needs_community": "--budget-usd 是社区预算：请与 --community C 一起使用",
    "cli.set_done": "{scope} 的覆盖设置现为：{limits}",
    "cli.set_cleared": "已移除 {scope} 的覆盖设置；改用配置文件",
    "cli.set_none": "{scope} 没有覆盖设置",
    "cli.grant_done": "已为 {scope} 在 {period} 增加 {amount}",
    "cli.ban_done": "{scope} 已被封禁",
    "cli.ban_already": "{scope} 早已被封禁",
    "cli.unban_done": "{scope} 已解除封禁",
    "cli.unban_not": "{scope} 未被封禁",
    "cli.show_title": "{scope}{community} 的配额",
    "cli.show_banned": "已封禁{reason}",
    "cli.show_cooldown": "冷却至 {until}",
    "cli.show_override": "数据库中的覆盖设置：{limits}",
    "cli.unlimited": "无限制",
    "cli.check_ok": "正常：所有计数器与账本一致",
    "cli.check_bad": "计数器与账本之间有 {count} 处差异：",
    "cli.usage_empty": "没有计费任务{since}",
    "cli.history_empty": "{scope} 没有任务",
    "cli.total": "合计",
    # -- discord --
    "slack.button.reroll": "重新生成",
    "slack.button.edit": "编辑",
    "slack.button.use_suggestion": "使用建议的提示词",
    "slack.button.send_anyway": "仍然发送",
    "slack.button.region": "编辑局部",
    "slack.web.link": "请在 {minutes} 分钟内打开此链接，它只能使用一次：{url}",
    "slack.web.off": "此机器人未启用网页伴侣（web.port）。",
    "slack.modal.title": "编辑图片",
    "slack.modal.submit": "编辑",
    "slack.modal.cancel": "取消",
    "slack.modal.images": "图片（PNG、JPEG 或 WEBP）",
    "slack.modal.more_images": "更多图片（最多再加 {count} 张）",
    "slack.modal.close": "关闭",
    "slack.modal.prompt": "要修改什么？",
    "slack.modal.prompt_hint": "例如：改成水彩画风格 --q high",
    "slack.no_images": "该消息中没有可编辑的 PNG、JPEG 或 WEBP 图片。",
    "slack.button_invalid": "此按钮已失效。请重新使用 /imagine。",
    "slack.incomplete": "Slack 发来的请求不完整，因此没有执行任何操作（也没有计费）。请重试。",
    "slack.progress_bar": "{bar} {percent}%",
    "slack.home.quota": "你的图片额度",
    "slack.home.recent": "你最近的图片",
    "slack.home.none": "还没有图片。在任意频道输入 /imagine 来生成一张吧。",
    "slack.home.limit": "{name}：剩余 {remaining} / {limit}{resets}",
    "slack.home.unlimited": "{name}：无限制",
    "slack.home.resets": "（{when} 重置）",
    "slack.home.job": "{when} · {state} · ${cost:.4f} · {prompt}",
    "slack.state.RESERVED": "等待中",
    "slack.state.SUBMITTED": "进行中",
    "slack.state.SUCCEEDED": "已完成",
    "slack.state.FAILED_CHARGED": "失败",
    "slack.state.UNKNOWN_CHARGED": "已中断",
    "slack.state.RELEASED": "未发送",
    "slack.admin.denied": "只有 Pixelsmith 管理员（slack.admin_users）可以使用 /imagine-admin。",
    "slack.admin.help": "用法：/imagine-admin limits @用户 [user_daily_images=5 ...] · grant @用户 "
    "数量 [images|usd] · ban @用户 [原因] · unban @用户 · usage [user|community|model]"
    " · chart [community|model] [天数] · dashboard",
    "slack.admin.chart_posted": "已在此频道发布消费图表。",
    "slack.admin.bad_user": "{value} 不是用户：请 @ 提及对方或填写其用户 ID。",
    "slack.admin.bad_amount": "{value} 不是有效的数量。",
    "slack.admin.bad_limit": "无法设置 {value}：请使用 名称=数字 或 名称=unlimited，名称可选：{known}。",
    "slack.admin.limits": "{user} 当前的额度：{limits}",
    "slack.admin.granted": "已为 {user} 增加本月 {amount} {unit}。",
    "slack.admin.banned": "{user} 已不能再生成图片。",
    "slack.admin.already_banned": "{user} 之前已被禁止。",
    "slack.admin.unbanned": "{user} 可以重新生成图片了。",
    "slack.admin.not_banned": "{user} 没有被禁止。",
    "slack.admin.usage_line": "{group}：{jobs} 个任务，{images} 张图片，${cost:.4f}",
    "slack.admin.usage_empty": "还没有计费的任务。",
    "slack.problem.bad_token": "Slack 拒绝了机器人令牌（{error}）；请从应用的 OAuth & Permissions "
    "页面复制 Bot User OAuth Token（xoxb-...）",
    "slack.problem.missing": "未设置；slack.mode = {mode!r} 需要它",
    "slack.upload_failed": "你的图片已生成并已计费（${cost:.4f}），但 Slack 不允许我在这里发布"
    "（{error}）。请把我邀请进此频道（/invite），或在我所在的频道中使用。",
    "slack.not_in_channel": "我还不能在这个频道发布图片：请用 /invite {bot} 邀请我，然后再试一次。"
    "没有产生任何费用。",
    # -- slack --
}

CATALOGS: dict[str, dict[str, str]] = {"en": EN, "zh": ZH}


def lang(locale: str | None) -> str:
    """``zh``, ``zh-CN``, ``zh-TW`` ... -> zh; everything else -> en."""
    return "zh" if (locale or "").lower().startswith("zh") else "en"


def default_time_format(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


class _Params(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return ""


def _plain(value: Any) -> Any:
    if isinstance(value, list | tuple | set):
        return ", ".join(str(v) for v in value)
    return "" if value is None else value


def text(key: str, locale: str | None = "en", /, **params: Any) -> str:
    """The sentence for ``key`` in the locale's language (English when a key is missing)."""
    table = CATALOGS[lang(locale)]
    template = table.get(key) or EN.get(key)
    if template is None:
        return EN["error.internal"] if "." not in key else key
    values = _Params({k: _plain(v) for k, v in params.items()})
    try:
        return template.format_map(values)
    except (ValueError, KeyError, IndexError, TypeError):
        return template


def _terms_by_category(matches: list[PreflightMatch], locale: str) -> str:
    groups: dict[str, list[str]] = {}
    for m in matches:
        groups.setdefault(m.category, []).append(m.term)
    sep = "、" if lang(locale) == "zh" else "; "
    return sep.join(
        text(f"category.{cat}", locale, terms=", ".join(dict.fromkeys(terms)))
        for cat, terms in groups.items()
    )


def render(
    failure: PixelsmithError,
    locale: str | None = "en",
    *,
    admin: bool = False,
    time_format: TimeFormat = default_time_format,
    base_url: str = "",
) -> str:
    """The sentence for a typed failure. ``admin=True`` gives account problems their fix."""
    loc = lang(locale)
    p = dict(failure.params)
    key = failure.key
    if admin and f"admin.{key}" in EN:
        return text(f"admin.{key}", loc, base_url=base_url, **p)
    why = text("refused.why", loc, examples=STYLE_EXAMPLES[loc])
    if key == "refused.preflight":
        return text(
            key,
            loc,
            terms=_terms_by_category(p.get("matches", []), loc),
            why=why,
            suggestion=p.get("suggestion", ""),
        )
    if key == "refused.upstream":
        stage = text("refused.stage", loc, stage=p["stage"]) if p.get("stage") else ""
        cats = (
            text("refused.categories", loc, categories=p["categories"])
            if p.get("categories")
            else ""
        )
        line = (
            text("refused.suggestion", loc, suggestion=p["suggestion"])
            if p.get("suggestion")
            else ""
        )
        return text(key, loc, stage=stage, categories=cats, why=why, suggestion_line=line)
    if key == "config.invalid" and not p.get("path_or_env"):
        p["path_or_env"] = p.get("path") or "config.toml"
    if key in ("quota.exceeded", "quota.cooldown"):
        return _quota(p, loc, key, time_format)
    if key in ("upstream.timeout", "upstream.network"):
        charge = "charge.none" if failure.charge == "none" else "charge.unknown"
        return text(key, loc, charge_line=text(charge, loc), **p)
    if key == "upstream.invalid_request":
        detail = ", ".join(str(v) for v in (p.get("code"), p.get("param")) if v) or "HTTP 400"
        return text(key, loc, detail=detail)
    if key == "invalid.size" and p.get("flexible"):
        p["flex_hint"] = " (or WxH in multiples of 16, up to 3840x2160)"
    if key.startswith("image.") and not p.get("name"):
        p["name"] = "The image" if loc == "en" else "该图片"
    return text(key, loc, **p)


def _quota(p: dict[str, Any], loc: str, key: str, time_format: TimeFormat) -> str:
    resets_at = p.get("resets_at")
    resets = time_format(resets_at) if isinstance(resets_at, datetime) else ""
    if key == "quota.cooldown":
        return text(key, loc, resets=resets)
    unit = p.get("unit", "images")
    remaining = p.get("remaining", 0)
    remaining_text = (
        text(f"unit.{unit}", loc, value=remaining)
        if unit in ("images", "usd", "jobs")
        else str(remaining)
    )
    limit_name = text(f"limit.{p.get('limit', '')}", loc)
    if not resets:
        return text("quota.exceeded_noreset", loc, limit_name=limit_name, remaining=remaining_text)
    return text(key, loc, limit_name=limit_name, remaining=remaining_text, resets=resets)


def progress(
    stage: str,
    locale: str | None,
    *,
    model: str,
    percent: int | None = None,
    position: int | None = None,
) -> str:
    """The status line of a job in progress (``stage`` is a ``core.types.Stage`` value)."""
    return text(
        f"status.{stage}", locale, model=model, percent=percent or 0, position=position or 1
    )


def note(item: Note, locale: str | None = "en") -> str:
    params = dict(item.params)
    if item.key == "note.preflight_warn":
        params["terms"] = _terms_by_category(params.get("matches", []), lang(locale))
    return text(item.key, locale, **params)
