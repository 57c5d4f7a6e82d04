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

## a community's own gateway key (Discord and Slack)
chat-key-title = 社区网关密钥
chat-key-label = 网关密钥
chat-key-hint = 粘贴到这里的密钥会加密保存，之后不再显示。
chat-key-url_label = 网关地址（可选）
chat-key-url_hint = 留空：{ $default }
chat-key-saved = 已保存。本社区的图片现在用自己的密钥 { $fingerprint }（{ $base_url }）生成，并计入该账户。密钥不会再显示；`test` 可免费检查它。
chat-key-own = 本社区使用自己的网关密钥 { $fingerprint }（{ $base_url }，由 { $set_by } 于 { $set_at } 设置）。上次检查：{ $check }。
chat-key-operator = 本社区使用机器人的网关密钥。管理员可以用 `key set` 设置本社区自己的密钥。
chat-key-stopped = 本社区自己的密钥已被移除，且不允许改用机器人的密钥：在管理员设置新密钥之前，图片生成暂停。
chat-key-never_tested = 从未
chat-key-tested = { $outcome ->
        [ok] 网关接受本社区的密钥。
        [rejected] 网关拒绝本社区的密钥：请设置有效的密钥。
        [forbidden] 网关拒绝该密钥的访问：请检查其权限。
        [unreachable] 目前无法连接该密钥的网关。
        [unlisted] 网关没有列出模型，无法检查该密钥。
        [unsealable] 已保存的密钥无法再读取：请重新设置。
        [removed] 密钥已移除：设置新密钥之前图片生成暂停。
        [none] 本社区没有自己的密钥。
       *[other] 网关返回了错误。
    }
chat-key-removed_none = 本社区没有自己的密钥。
chat-key-removed_fallback = 已移除。本社区的图片重新使用机器人的密钥。
chat-key-removed_stopped = 已移除。在管理员设置新密钥之前，此处的图片生成暂停（运营者不允许改用机器人的密钥）。
