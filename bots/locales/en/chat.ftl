# The chat catalog, en. Fluent syntax (https://projectfluent.org/fluent/guide/):
#   key-with-hyphens = Sentence with { $param } and a plural { $n ->
#       [one] form
#      *[other] forms
#   }
# A key in the code is its id with dots for hyphens: `invalid.flag_value` is `invalid-flag_value`.
# Every id exists in en and zh-CN (tests/test_messages.py renders them all).

## chat
chat-recent = Your recent images
chat-button-reroll = Re-roll
chat-button-edit = Edit
chat-button-suggest = Use suggested prompt
chat-button-force = Send anyway
chat-button-region = Edit region
chat-button-upscale = Upscale
chat-button-vary_subtle = Vary (subtle)
chat-button-vary_strong = Vary (strong)
chat-button-upscale_go = Upscale for about ${ NUMBER($cost, minimumFractionDigits: 4, maximumFractionDigits: 4) }
chat-modal-prompt = What should change?
chat-no_images = That message has no PNG, JPEG or WEBP image to edit.
chat-quota-unlimited = { $name }: unlimited
chat-history-line = { $when } · { $state } · ${ NUMBER($cost, minimumFractionDigits: 4, maximumFractionDigits: 4) } · { $prompt }
chat-state-RESERVED = waiting
chat-state-SUBMITTED = in progress
chat-state-SUCCEEDED = done
chat-state-FAILED_CHARGED = failed
chat-state-UNKNOWN_CHARGED = interrupted (counted as charged)
chat-state-RELEASED = cancelled (free)
chat-admin-banned = { $target } can no longer generate images.
chat-admin-already_banned = { $target } was already banned.
chat-admin-unbanned = { $target } can generate images again.
chat-admin-not_banned = { $target } was not banned.

## a community's own gateway key (Discord and Slack)
chat-key-title = Community gateway key
chat-key-label = Gateway key
chat-key-hint = Pasted here, it is stored encrypted and never shown again.
chat-key-url_label = Gateway address (optional)
chat-key-url_hint = Empty: { $default }
chat-key-saved = Saved. This community's images are now made with its own key { $fingerprint } at { $base_url }, and billed to that account. The key will not be shown again; `test` checks it for free.
chat-key-own = This community uses its own gateway key { $fingerprint } at { $base_url } (set by { $set_by } on { $set_at }). Last test: { $check }.
chat-key-operator = This community uses the bot's gateway key. An admin can set the community's own with `key set`.
chat-key-stopped = This community's own key was removed and the bot's key may not be used instead: images are paused until an admin sets a new key.
chat-key-never_tested = never
chat-key-tested = { $outcome ->
        [ok] The gateway accepts this community's key.
        [rejected] The gateway rejects this community's key: set a valid one.
        [forbidden] The gateway refuses this key access: check its permissions.
        [unreachable] The key's gateway cannot be reached right now.
        [unlisted] The gateway lists no models, so the key could not be checked.
        [unsealable] The stored key can no longer be read: set it again.
        [removed] The key was removed: images are paused until a new key is set.
        [none] This community has no key of its own.
       *[other] The gateway answered with an error.
    }
chat-key-removed_none = This community had no key of its own.
chat-key-removed_fallback = Removed. This community's images use the bot's key again.
chat-key-removed_stopped = Removed. Images are paused here until an admin sets a new key (the operator does not allow falling back to the bot's key).
