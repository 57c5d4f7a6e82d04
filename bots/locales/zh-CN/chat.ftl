# The chat catalog, zh-CN. Fluent syntax (https://projectfluent.org/fluent/guide/):
#   key-with-hyphens = Sentence with { $param } and a plural { $n ->
#       [one] form
#      *[other] forms
#   }
# A key in the code is its id with dots for hyphens: `invalid.flag_value` is `invalid-flag_value`.
# Every id exists in en and zh-CN (tests/test_messages.py renders them all).

## chat
chat-recent = 你最近的图片
chat-button-reroll = 重新生成
chat-button-edit = 编辑
chat-button-suggest = 使用建议的提示词
chat-button-force = 仍然发送
chat-button-region = 局部编辑
chat-button-upscale = 放大
chat-button-vary_subtle = 变体（细微）
chat-button-vary_strong = 变体（强烈）
chat-button-upscale_go = 放大，约 ${ NUMBER($cost, minimumFractionDigits: 4, maximumFractionDigits: 4) }
chat-modal-prompt = 要修改什么？
chat-no_images = 这条消息里没有可编辑的 PNG、JPEG 或 WEBP 图片。
chat-quota-unlimited = { $name }：无限制
chat-history-line = { $when } · { $state } · ${ NUMBER($cost, minimumFractionDigits: 4, maximumFractionDigits: 4) } · { $prompt }
chat-state-RESERVED = 等待中
chat-state-SUBMITTED = 进行中
chat-state-SUCCEEDED = 完成
chat-state-FAILED_CHARGED = 失败
chat-state-UNKNOWN_CHARGED = 已中断（按已计费记录）
chat-state-RELEASED = 已取消（免费）
chat-admin-banned = { $target } 已不能再生成图片。
chat-admin-already_banned = { $target } 之前已被封禁。
chat-admin-unbanned = { $target } 可以重新生成图片了。
chat-admin-not_banned = { $target } 没有被封禁。
