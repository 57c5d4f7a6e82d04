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
