# The discord catalog, zh-CN. Fluent syntax (https://projectfluent.org/fluent/guide/):
#   key-with-hyphens = Sentence with { $param } and a plural { $n ->
#       [one] form
#      *[other] forms
#   }
# A key in the code is its id with dots for hyphens: `invalid.flag_value` is `invalid-flag_value`.
# Every id exists in en and zh-CN (tests/test_messages.py renders them all).

## discord
discord-cmd-imagine = 根据提示词生成图片
discord-cmd-edit = 编辑你附上的图片
discord-cmd-edit_menu = 编辑图片
discord-cmd-quota = 今天和本月还能生成多少
discord-cmd-admin = Pixelsmith 管理：额度、赠送、封禁、用量
discord-cmd-admin_limits = 为某个用户或整个服务器设置上限
discord-cmd-admin_grant = 本月给某个用户额外的图片或美元额度
discord-cmd-admin_ban = 禁止某个用户生成图片
discord-cmd-admin_unban = 允许被封禁的用户重新生成图片
discord-cmd-admin_usage = 消费汇总
discord-cmd-admin_chart = 每日消费图表
discord-opt-prompt = 要画什么（也可以写 --ar 2:3 这样的参数）
discord-opt-edit_prompt = 要修改什么
discord-opt-aspect = 宽高比
discord-opt-quality = 质量（越高越贵）
discord-opt-n = 图片数量
discord-opt-model = 模型
discord-opt-background = 背景
discord-opt-image = 要编辑的图片
discord-opt-image_more = 另一张输入图片
discord-opt-mask = PNG 蒙版：透明像素表示要修改的区域
discord-opt-user = 用户（留空表示整个服务器）
discord-opt-limit = 哪个上限
discord-opt-value = 一个数字，或“unlimited”（无限制）
discord-opt-amount = 数量（负数表示收回）
discord-opt-unit = 图片或美元
discord-opt-reason = 原因（记录在数据库中）
discord-opt-by = 分组方式
discord-opt-days = 往前统计多少天（默认 30）
discord-choice-auto = 自动
discord-choice-low = 低
discord-choice-medium = 中
discord-choice-high = 高
discord-choice-transparent = 透明
discord-choice-opaque = 不透明
discord-choice-images = 图片
discord-choice-usd = 美元
discord-choice-user = 用户
discord-choice-community = 服务器
discord-choice-model = 模型
discord-button-vary = 变体
discord-modal-edit_title = 编辑图片
discord-modal-prompt_placeholder = 例如：把天空变成紫色，再加一条小船
discord-mention = { $mention } { $text }
discord-expired_button = 此按钮已失效（机器人已重启或时间过久）。请重新运行命令。
discord-job_gone = 找不到这张图片的记录，无法重新生成。请重新运行 /imagine。
discord-sources_gone = 这次编辑的原始图片已不可用（机器人已重启）。请对结果使用“编辑”。
discord-left = 剩余：{ $parts }
discord-left-images_today = 今日 { $value } 张图片
discord-left-images_month = 本月 { $value } 张图片
discord-left-usd_today = 今日 ${ NUMBER($value, minimumFractionDigits: 2, maximumFractionDigits: 2) }
discord-left-usd_month = 本月 ${ NUMBER($value, minimumFractionDigits: 2, maximumFractionDigits: 2) }
discord-left-community_usd_month = 服务器本月预算 ${ NUMBER($value, minimumFractionDigits: 2, maximumFractionDigits: 2) }
discord-quota-title = 你的图片额度：
discord-quota-line = { $name }：剩余 { $remaining }／{ $limit }，{ $resets } 重置
discord-quota-line_noreset = { $name }：剩余 { $remaining }／{ $limit }
discord-quota-none = 这里对你没有任何限制。
discord-quota-cooldown = 你可以在 { $resets } 发起下一个请求。
discord-history-empty = 你还没有生成过图片。试试 /imagine。
discord-admin-denied = 只有拥有“管理服务器”权限或配置的管理员角色的人才能使用此命令。
discord-admin-bad_value = “{ $value }” 不是有效的值：请填写不小于 0 的数字，或“unlimited”。
discord-admin-budget_needs_server = 服务器预算适用于整个服务器：请不要指定用户。
discord-admin-this_server = 本服务器
discord-admin-limits_set = { $target } 的{ $limit_name }现在为 { $value }。
discord-admin-granted = 已为 { $target } 本月增加 { $amount }。
discord-admin-usage_title = 自 { $since } 起已计费的任务，按{ $by }分组：
discord-admin-usage_line = { $group }：{ $jobs } 个任务，{ $images } 张图片，${ NUMBER($cost, minimumFractionDigits: 2, maximumFractionDigits: 2) }
discord-admin-usage_empty = 自 { $since } 起没有已计费的任务。
discord-button_invalid = 此按钮已不再有效，未产生任何费用。请重新运行命令。
discord-form_invalid = 此表单已不再有效（机器人已重启或打开时间过长），未产生任何费用。请重新运行命令。
discord-bad_request = Discord 发来的请求不完整，我无法处理。未产生任何费用。请重试。
