# The core catalog, en. Fluent syntax (https://projectfluent.org/fluent/guide/):
#   key-with-hyphens = Sentence with { $param } and a plural { $n ->
#       [one] form
#      *[other] forms
#   }
# A key in the code is its id with dots for hyphens: `invalid.flag_value` is `invalid-flag_value`.
# Every id exists in en and zh-CN (tests/test_messages.py renders them all).

## error
error-internal = Something went wrong on our side. Please try again, and tell your admin if it keeps happening.

## config
config-missing_file = Config file { $path } does not exist. Copy config.example.toml to config.toml, or run without --config to use the defaults.
config-bad_toml = Config file { $path } is not valid TOML: { $detail }
config-unreadable = Config file { $path } cannot be read (permissions or encoding).
config-invalid = Config error at `{ $key }`: { $problem }. Fix it in { $path_or_env } (see config.example.toml for every key).
config-discord_invalid_shard = Discord refused shard { $shard } of { $count } (gateway close 4010, invalid shard). Every process of the bot needs the same `discord.shard_count`, and `discord.shard_ids` between 0 and that count minus 1: fix them in { $path_or_env }.
config-discord_sharding_required = Discord requires this bot to run more shards (gateway close 4011: one shard serves at most 2,500 servers). Raise `discord.shard_count` (or set it to "auto") in { $path_or_env }, then split `discord.shard_ids` over your processes again.
sealed-unsealable = The stored { $what ->
        [gateway_key] gateway key
        [slack_token] Slack token
       *[other] secret
    } cannot be decrypted with PIXELSMITH_SECRET_KEY: the key was changed without keeping the old one after a comma, or the stored value was altered. Put the old key back (after the new one), or set it again.

## invalid
invalid-generic = That request is not valid.
invalid-flag_value = The flag { $flag } needs a value, e.g. `{ $flag } { $example }`.
invalid-unknown_flag = Unknown flag { $flag }. Known flags: { $known }.
invalid-not_a_number = { $option } must be a whole number, not “{ $value }”.
invalid-unknown_model = Unknown model “{ $model }”. Available: { $known }.
invalid-empty_prompt = Please describe the image you want: the prompt is empty.
invalid-prompt_too_long = The prompt is { $length } characters; the limit is { $limit }. Please shorten it.
invalid-n_range = { $model } makes { $max ->
        [one] 1 image
       *[other] 1 to { $max } images
    } per request; you asked for { $n }.
invalid-transparent_jpeg = A transparent background needs PNG or WEBP output, not JPEG.
invalid-mask_without_image = A mask only makes sense with an image to edit: attach the image too.
invalid-no_edits = { $model } cannot edit images. Choose another model for edits.
invalid-too_many_images = { $model } takes at most { $max ->
        [one] 1 input image
       *[other] { $max } input images
    }; you attached { $count }.
invalid-option = { $model } does not accept { $option } = “{ $value }”. Choose one of: { $allowed }.
invalid-size_and_aspect = Give either a size or an aspect ratio, not both.
invalid-aspect = Aspect ratio “{ $value }” is not available for { $model }. Choose one of: { $allowed }.
invalid-size = Size “{ $value }” is not available for { $model }. Choose one of: { $allowed }{ $flex_hint }.
invalid-size_flex_hint = {" "}(or WxH in multiples of 16, up to 3840x2160)

## image
image-invalid = That attachment cannot be used as an image.
image-default_name = The image
image-too_large = { $name } is { $size_mb } MB; the limit is { $limit_mb } MB. Please send a smaller image.
image-empty = { $name } is empty (0 bytes).
image-unsupported_type = { $name } is not a PNG, JPEG or WEBP image (it looks like { $detected }). Please convert it first.
image-html_page = { $name } came back as a web page instead of an image. If this is Slack, the app is missing the files:read permission: ask your admin to add it and reinstall.
image-pdf = { $name } is a PDF, not an image. Export the page as PNG or JPEG first.
image-animated = { $name } is animated; only still images can be edited. Send one frame as PNG or JPEG.
image-truncated = { $name } is incomplete or damaged (the file ends early). Please re-send it.
image-corrupt = { $name } is damaged and cannot be opened.
image-bomb = { $name } is { $width }x{ $height } pixels, far too large to process safely. Please send a smaller image.
image-too_many = You attached { $count } images; the limit is { $limit }.
image-mask_not_png = The mask must be a PNG with transparency.
image-mask_no_alpha = The mask has no transparency. Transparent pixels mark the area to change: save it as a PNG with an alpha channel.
image-mask_size_mismatch = The mask is { $mask_w }x{ $mask_h } but the image is { $image_w }x{ $image_h }; they must be the same size.
image-mask_too_large = The mask must be under 4 MB.
image-download_failed = { $name } could not be downloaded. Please try again.
image-foreign_host = { $name } is hosted on { $host }, which is not an allowed file host.
image-bad_url = That file link is not a valid http(s) address.
image-redirected = The file host { $host } redirected the download, which is not allowed. Please upload the image directly.
image-mask_opaque = The mask { $name } has no transparent pixels, so there is nothing to change. Make the area to edit transparent.

## invalid
invalid-markup_unsupported = { $model } does not take a sketch (markup). Use a GPT Image 2.5 model such as gpt-image-2.5-flare.
invalid-markup_with_mask = A sketch (markup) cannot be combined with a mask: send one or the other.
invalid-mask_unsupported = { $model } does not take a mask. Use an images-API model such as gpt-image-2 for masked edits.

## refused
refused-preflight = Not sent, so nothing was charged: the image service's safety system usually refuses { $terms }. { $why } Suggested prompt: “{ $suggestion }”. Use the suggestion, or send the original anyway (it may be refused and still billed).
refused-upstream = The image service's safety system refused this request{ $stage }{ $categories }. Refused requests are still billed by the gateway. { $why }{ $suggestion_line }
refused-filtered_all = The safety system filtered out every image of this request, so none came back (the gateway still bills it). Try describing the scene differently.
refused-why = Names of living artists, real people and famous characters are the usual cause; describe a style instead, e.g. { $examples }.
refused-examples = "Pixar-style 3D render", "Van Gogh brushwork", "bright modern Japanese anime style"
refused-suggestion = {" "}Try: “{ $suggestion }”.
refused-stage = {" "}at the { $stage } stage
refused-categories = {" "}(categories: { $categories })
# One moderation category as the gateway names it ($name); $category is the same with "/" as "-".
refused-category = { $category ->
       *[other] { $name }
    }

## category
category-living_artist = names of living artists ({ $terms })
category-studio = studio names ({ $terms })
category-public_figure = real people ({ $terms })
category-character = copyrighted characters ({ $terms })
category-suggestive = suggestive wording ({ $terms })

## quota
quota-exceeded = You have reached the { $limit_name }: { $remaining } left. It resets { $resets }.
quota-exceeded_noreset = You have reached the { $limit_name }: { $remaining } left.
quota-banned = You are not allowed to generate images here. Ask an admin if this is a mistake.
quota-cooldown = Please wait a moment between requests: try again { $resets }.
admin-forbidden = Only an admin of this server or workspace can do that, and only for its own members.

## limit
limit-user_daily_images = daily image limit
limit-user_monthly_images = monthly image limit
limit-user_daily_usd = daily spending limit
limit-user_monthly_usd = monthly spending limit
limit-community_monthly_usd = community's monthly budget
limit-user_concurrent_jobs = limit of images in progress at once

## unit
unit-images = { $value ->
        [one] { $value } image
       *[other] { $value } images
    }
unit-usd = ${ NUMBER($value, minimumFractionDigits: 2, maximumFractionDigits: 2) }
unit-jobs = { $value ->
        [one] { $value } job
       *[other] { $value } jobs
    }

## upstream
upstream-no_balance = Image generation is paused: the community's image account is out of credit. Please tell your admin.
upstream-bad_key = Image generation is not set up correctly (the service rejected the key). Please tell your admin.
upstream-forbidden = The image service refused access for this bot. Please tell your admin.
upstream-model_unavailable = The model { $model } is not available any more. Please tell your admin, or pick another model.
upstream-rate_limited = The image service is busy right now. Please try again in a minute.
upstream-server = The image service had an error. Please try again later.
upstream-invalid_request = The image service did not accept this request ({ $detail }). Try different options.
upstream-timeout = The image service took too long to answer.{ $charge_line }
upstream-network = The image service could not be reached.{ $charge_line }
upstream-bad_response = The image service sent back something that is not an image. Please try again.
upstream-download_failed = The image was made but could not be downloaded from the service. Please try again.
upstream-generation_failed = The image service reported that generation failed. Please try again (these models are unstable).
upstream-no_image = The image service finished without sending an image. Please try again.
upstream-stalled = The image service stopped responding mid-generation. Please try again.

## charge
charge-unknown = {" "}It may have been billed; it is counted as charged to be safe.
charge-none = {" "}Nothing was charged.

## admin
admin-upstream-no_balance = The gateway reports no credit ({ $code }, HTTP { $status }). Top up the account behind provider.api_key, or raise its spending limit.
admin-upstream-bad_key = The gateway rejected the API key (HTTP { $status }). Set PIXELSMITH_API_KEY (or provider.api_key) to a valid key for { $base_url }.
admin-upstream-forbidden = The gateway refused the key for model { $model } (HTTP { $status }, { $code }): the key may not be allowed to use this model, or your IP/region is blocked.
admin-upstream-model_unavailable = The gateway does not serve model “{ $model }” (HTTP { $status }). Set provider.default_model to a served model (`pixelsmith doctor` lists them), or remove it from [models].

## note
note-filtered = { $filtered } of { $requested } { $filtered ->
        [one] images was
       *[other] images were
    } filtered by the safety system.
note-demo = Demo mode: these are placeholder images drawn locally, not real generations.
note-demo_fallback = No API key is set, so the offline demo provider is used. Set PIXELSMITH_API_KEY to generate real images.
note-preflight_warn = Heads-up: this prompt may be refused ({ $terms }). Safer: “{ $suggestion }”.
note-prices_unverified = Cost for { $model } is an estimate: its prices are not verified.

## output
output-reencoded = { $count ->
        [one] { $count } image was
       *[other] { $count } images were
    } re-encoded to fit the upload limit.

## note
note-duplicate = This request was already handled; here is its result.

## result
result-cost = Cost: ${ NUMBER($cost, minimumFractionDigits: 4, maximumFractionDigits: 4) }
result-cost_demo = Cost: $0 (demo)
result-saved = Saved { $count ->
        [one] { $count } image
       *[other] { $count } images
    } to { $dir }
result-header = “{ $prompt }” — { $model }, requested by { $who }
result-quota_left = Left today: { $images_today ->
        [one] { $images_today } image
       *[other] { $images_today } images
    }, ${ $usd_today }

## status
status-queued = Queued (position { $position })…
status-submitted = Sent to { $model }…
status-generating = Generating… { $percent }%
status-partial = Rendering… { $percent }%
status-downloading = Downloading…
status-done = Done.
status-unlimited = unlimited

## upstream
upstream-shutting_down = The bot is restarting; nothing was charged. Please try again in a minute.

## job
job-conflict = This request waited too long in the queue and expired. Nothing was charged; please try again.
job-expired = This request was interrupted before it was sent. Nothing was charged.
job-unknown = This request was interrupted while the image service was working on it; it may have been billed, so it is counted as charged.

## output
output-too_large = The image is too large to upload here even after re-encoding (limit { $limit_mb } MB).
output-unreadable = The generated image could not be prepared for upload.

## chart
chart-title = Daily spend by { $by }{ $since }
chart-since = {" "}since { $date }
chart-y_axis = Spend (USD)
chart-x_axis = Day (UTC)
chart-empty = no spend
chart-other = other
chart-by_community = community
chart-by_model = model
chart-by_user = user
chart-unwritable = Cannot write the chart to { $path }: check that the folder exists and is writable.

## error
error-incident = Something went wrong on our side (incident { $incident }). Please try again, and if it keeps happening, tell your admin the incident id.
error-incident_log = Details for the operator, under incident { $incident }: { $path }

## database
database-bad_url = Config error at `{ $key }`: { $url } is not a database URL Pixelsmith supports. Use sqlite:///path/to/pixelsmith.db or postgresql+psycopg://user@host/dbname.
database-unwritable = Config error at `{ $key }`: the SQLite database { $url } cannot be created or opened: make its folder exist and be writable, or choose another path.
database-corrupt = Config error at `{ $key }`: { $url } is not an SQLite database (the file is damaged or of another kind). Restore it from a backup, or point the setting at a new file.
database-unreachable = Config error at `{ $key }`: cannot connect to the database at { $url }. Check that the server is running, that the database exists and that the user may log in.

## results
results-unknown_job = There is no job { $job } that you can get again: check the number in your history.
results-gone = The images of job { $job } are no longer kept (results are kept for { $days } days). Nothing was charged.
finish-inputs_gone = The original images of this edit are no longer kept (they are kept for { $hours } hours after the edit). Use Edit on the result instead. Nothing was charged.

## note
note-redelivered = Delivered again from the result store: free (the job cost ${ NUMBER($cost, minimumFractionDigits: 4, maximumFractionDigits: 4) } when it was made).
note-cost_capped = The gateway reported an implausible usage for this job; it was charged at the sanity bound of ${ NUMBER($cost, minimumFractionDigits: 4, maximumFractionDigits: 4) } and flagged for the admin.

## limit
limit-bad_images = '{ $value }' is not a valid { $key }: give a whole number of images from 0 to { $maximum }, or { $words } for no limit.
limit-bad_jobs = '{ $value }' is not a valid { $key }: give a whole number of jobs from 0 to { $maximum }, or { $words } for no limit.
limit-bad_usd = '{ $value }' is not a valid { $key }: give an amount in USD from 0 to { $maximum }, or { $words } for no limit.
limit-bad_seconds = '{ $value }' is not a valid { $key }: give a number of seconds from 0 to { $maximum }.
limit-bad_grant_images = '{ $value }' is not a valid grant: give a whole number of images, not 0, at most { $maximum } (negative takes back).
limit-bad_grant_usd = '{ $value }' is not a valid grant: give an amount in USD, not 0, at most { $maximum } (negative takes back).
limit-unknown_key = '{ $key }' is not a limit; known limits: { $known }.
limit-unknown_unit = '{ $value }' is not a unit: use images or usd.
finish-unavailable = Model “{ $model }” cannot do that with this image. Nothing was charged.
finish-no_larger_size = This image is already as large as model “{ $model }” can make it. Nothing was charged.
finish-confirm_upscale = Upscale to { $size }: about ${ NUMBER($estimate, minimumFractionDigits: 4, maximumFractionDigits: 4) } (one image like this one: about ${ NUMBER($normal, minimumFractionDigits: 4, maximumFractionDigits: 4) }).

## preferences (/settings)
note-pref_model_gone = Your default model { $model } is not available any more, so { $default } was used. Choose another in your settings.
note-pref_ignored = Your default { $option ->
        [model] default model
        [size] aspect or size
        [quality] quality
        [n] number of images
        [background] background
        [output_format] output format
        [private] private results
        [language] language
        [remix] remix
       *[other] { $option }
    } “{ $value }” does not apply to { $model }, so it was left out.
invalid-pref_unknown = There is no setting “{ $name }”. Settings: { $known }.
invalid-pref_value = “{ $value }” is not a value for { $name ->
        [model] default model
        [size] aspect or size
        [quality] quality
        [n] number of images
        [background] background
        [output_format] output format
        [private] private results
        [language] language
        [remix] remix
       *[other] { $name }
    }. Choose one of: { $allowed }.
invalid-pref_usage = Write settings as name=value pairs, e.g. `{ $example }` (value `default` clears one).
prefs-heading = Your settings here (flags typed in a prompt still win):
prefs-line = { $name }: { $value }
prefs-default = default
prefs-platform = as your app
prefs-on = on
prefs-off = off
prefs-saved = Settings saved.
prefs-name-model = Default model
prefs-name-size = Aspect or size
prefs-name-quality = Quality
prefs-name-n = Number of images
prefs-name-background = Background
prefs-name-output_format = Output format
prefs-name-private = Private results
prefs-name-language = Language
prefs-name-remix = Remix (edit the prompt before a button starts a job)
prefs-language-en = English
prefs-language-zh-CN = Simplified Chinese

## byok (a community's own gateway key)
byok-bad_key = That does not look like a gateway key: paste the whole key ({ $min }-{ $max } characters, no spaces). Nothing was saved.
byok-bad_base_url = That gateway address is not allowed. Use one of: { $allowed } (or leave it empty for the bot's own gateway). Nothing was saved.
byok-disabled = This bot does not let communities use their own gateway key (the operator has not enabled it).
byok-removed = Image generation is paused here: this community's own gateway key was removed and the bot's key may not be used instead. Nothing was charged. Please ask an admin to set a new key.
byok-unsealable = Image generation is paused here: this community's stored gateway key cannot be read any more (the bot's encryption key changed). Nothing was charged. Please ask an admin to set the key again.
byok-own_bad_key = This community's own gateway key was rejected by the gateway. Please ask an admin to set a valid key.
byok-own_no_balance = This community's own gateway account is out of credit. Please ask an admin to top it up.
byok-own_forbidden = This community's own gateway key may not use this model. Please ask an admin to check the key's permissions, or pick another model.
byok-changed = This community's own gateway key was changed while your request waited, so it was not sent. Nothing was charged. Please try again.
byok-gateway_not_allowed = Image generation is paused here: this community's key is for a gateway the bot no longer allows. Nothing was charged. Please ask an admin to set the key again.
