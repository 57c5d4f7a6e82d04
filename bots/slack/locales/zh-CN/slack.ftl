# The slack catalog, zh-CN. Fluent syntax (https://projectfluent.org/fluent/guide/):
#   key-with-hyphens = Sentence with { $param } and a plural { $n ->
#       [one] form
#      *[other] forms
#   }
# A key in the code is its id with dots for hyphens: `invalid.flag_value` is `invalid-flag_value`.
# Every id exists in en and zh-CN (tests/test_messages.py renders them all).

## slack
slack-modal-title = 编辑图片
slack-modal-submit = 编辑
slack-modal-cancel = 取消
slack-modal-images = 图片（PNG、JPEG 或 WEBP）
slack-modal-prompt_hint = 例如：改成水彩画风格 --q high
slack-progress_bar = { $bar } { $percent }%
slack-home-quota = 你的图片额度
slack-home-none = 还没有图片。在任意频道输入 /imagine 来生成一张吧。
slack-home-limit = { $name }：剩余 { $remaining } / { $limit }{ $resets }
slack-home-resets = （{ $when } 重置）
slack-admin-denied = 只有 Pixelsmith 管理员（slack.admin_users）可以使用 /imagine-admin。
slack-admin-help = 用法（仅限本工作区）：/imagine-admin `limits @用户|everyone [user_daily_images=5 ...]` · `grant @用户 数量 [images|usd] [day|month]` · `ban @用户 [原因]` · `unban @用户` · `usage [user|community|model]` · `chart [community|model] [天数]` · `audit` · `dashboard` · `key set|show|test|remove`（本工作区自己的网关密钥）
slack-admin-chart_posted = 已在此频道发布消费图表。
slack-admin-bad_user = { $value } 不是用户：请 @ 提及对方或填写其用户 ID。
slack-admin-bad_amount = { $value } 不是有效的数量。
slack-admin-bad_limit = 无法设置 { $value }：请使用 名称=数字 或 名称=unlimited，名称可选：{ $known }。
slack-admin-limits = { $user } 当前的额度：{ $limits }
slack-admin-granted = 已为 { $user } 增加{ $period ->
        [day] 今天
       *[month] 本月
    }的 { $unit ->
        [usd] { $amount } 美元
       *[images] { $amount } 张图片
    }。
slack-admin-usage_line = { $group }：{ $jobs } 个任务，{ $images } 张图片，${ NUMBER($cost, minimumFractionDigits: 4, maximumFractionDigits: 4) }
slack-admin-usage_empty = 还没有计费的任务。
slack-problem-bad_token = Slack 拒绝了机器人令牌（{ $error }）；请从应用的 OAuth & Permissions 页面复制 Bot User OAuth Token（xoxb-...）
slack-problem-missing = 未设置；slack.mode = “{ $mode }” 需要它
slack-upload_failed = 你的图片已生成并已计费（${ NUMBER($cost, minimumFractionDigits: 4, maximumFractionDigits: 4) }），但 Slack 不允许我在这里发布（{ $error }）。请把我邀请进此频道（/invite），或在我所在的频道中使用。

slack-modal-more_images = 更多图片（最多再加 { $count } 张）
slack-modal-close = 关闭
slack-button_invalid = 此按钮已失效。请重新使用 /imagine。
slack-incomplete = Slack 发来的请求不完整，因此没有执行任何操作（也没有计费）。请重试。

slack-not_in_channel = 我还不能在这个频道发布图片：请用 /invite { $bot } 邀请我，然后再试一次。没有产生任何费用。
slack-web-link = 请在 { $minutes } 分钟内打开此链接，它只能使用一次：{ $url }
slack-web-off = 此机器人未启用网页伴侣（web.port）。
slack-button-redeliver = 再次发送
slack-redeliver_hint = 你可以用 /imagine-history { $job } 免费重新获取（结果保留 { $days } 天）。
slack-admin-audit_line = { $when } · { $actor } · { $action } { $target }：{ $before } → { $after }
slack-admin-audit_empty = 此工作区还没有管理操作记录。
slack-admin-everyone = 此工作区的所有人

slack-settings-title = 你的设置
slack-settings-save = 保存
slack-settings-no_private = 提示词中输入的参数仍然优先。Slack 上没有“仅自己可见的结果”：Slack 只能把图片分享到会话中，不能作为只有你能看到的消息。
slack-modal-remix_title = 改写提示词
slack-modal-remix_submit = 开始

## 安装应用（slack.distribution = "oauth"）：安装者浏览器看到的页面
slack-install-title = Pixelsmith（Slack 版）
slack-install-done = Pixelsmith 已安装到 { $workspace }。把它邀请到一个频道，然后在那里试试 /imagine。
slack-install-failed = 安装没有完成（{ $reason }）。没有安装任何内容；请从安装链接重新开始。
slack-install-denied = 安装已在 Slack 中取消。没有安装任何内容。
slack-install-missing = Pixelsmith 已不再安装在此工作区中。管理员可以通过安装链接重新安装。
