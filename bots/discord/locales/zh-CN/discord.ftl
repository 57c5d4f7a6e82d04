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
discord-cmd-admin_grant = 今天或本月给某个用户额外的图片或美元额度
discord-cmd-admin_audit = 本服务器最近的管理操作
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
discord-opt-sketch = 覆盖在第一张图片上的 PNG 草图（GPT Image 2.5）：笔画引导修改
discord-opt-user = 用户（留空表示整个服务器）
discord-opt-limit = 哪个上限
discord-opt-value = 一个数字，或“unlimited”（无限制）
discord-opt-amount = 数量（负数表示收回）
discord-opt-unit = 图片或美元
discord-opt-period = 今天或本月（默认：本月）
discord-opt-limit_rows = 显示多少条（1-25）
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
discord-choice-day = 今天
discord-choice-month = 本月
discord-choice-user = 用户
discord-choice-community = 服务器
discord-choice-model = 模型
discord-modal-edit_title = 编辑图片
discord-modal-prompt_placeholder = 例如：把天空变成紫色，再加一条小船
discord-mention = { $mention } { $text }
discord-expired_button = 此按钮对你已无效（只对看到它的人有效，有效期一小时），未产生任何费用。请重新运行命令。
discord-job_gone = 找不到这张图片的记录，无法重新生成。请重新运行 /imagine。
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
discord-admin-granted_day = 已为 { $target } 赠送今天的 { $amount }。
discord-admin-audit_empty = 本服务器还没有管理操作。
discord-admin-audit_title = 本服务器最近的管理操作：
discord-admin-audit_line = { $when } · { $who } · { $action ->
        [grant] 赠送
        [ban] 封禁
        [unban] 解封
        [limits] 设置上限
        [limits_clear] 清除上限
       *[other] 修改
    } { $target }：{ $before } → { $after }
discord-admin-usage_title = 自 { $since } 起已计费的任务，按{ $by }分组：
discord-admin-usage_line = { $group }：{ $jobs } 个任务，{ $images } 张图片，${ NUMBER($cost, minimumFractionDigits: 2, maximumFractionDigits: 2) }
discord-admin-usage_empty = 自 { $since } 起没有已计费的任务。
discord-no_result = 这次没有生成图片（原因已私下告知请求者）。
discord-button_invalid = 此按钮已不再有效，未产生任何费用。请重新运行命令。
discord-form_invalid = 此表单已不再有效（打开时间过长），未产生任何费用。请重新运行命令。
discord-bad_request = Discord 发来的请求不完整，我无法处理。未产生任何费用。请重试。
discord-missing_permissions = 我无法在这里发布图片：请在此频道授予我「{ $permissions }」权限（服务器设置 > 身份组，或频道权限）。未产生任何费用。
discord-permission-view_channel = 查看频道
discord-permission-send_messages = 发送消息
discord-permission-send_messages_in_threads = 在子区中发送消息
discord-permission-attach_files = 附加文件
discord-undelivered = 你的图片已生成并已计费（${ NUMBER($cost, minimumFractionDigits: 4, maximumFractionDigits: 4) }），但我无法在这里发布：{ $reason }。
discord-undelivered-permissions = 我在此频道缺少权限
discord-undelivered-access = 我无法访问此频道
discord-undelivered-gone = 频道或消息已不存在
discord-undelivered-too_large = 文件超出了此服务器的大小限制
discord-undelivered-unavailable = Discord 一直出错
discord-undelivered-other = Discord 拒绝了上传
discord-undelivered-how_fix = 再次生成会再次计费：请先授予我在此处缺少的权限（或联系管理员），然后再试一次。
discord-undelivered-how_wait = 再次生成会再次计费：请稍等片刻；如果一直失败，请联系管理员。
discord-undelivered-how_again = 请不要重新生成（会再次计费）：在图片保留期间，使用 /history 并选中这张图片，即可免费在这里重新发布。
discord-again_failed = 我无法在这里发布：{ $reason }。未产生任何费用。
discord-opt-again = 你最近的一张图片：免费在这里重新发布
discord-cmd-gallery = 获取你的网页图库私密链接
discord-cmd-admin_dashboard = 获取本服务器网页管理面板的私密链接
discord-web-link = 请在 { $minutes } 分钟内打开此链接，它只能使用一次：{ $url }
discord-web-off = 此机器人未启用网页伴侣（web.port）。

discord-cmd-settings = 你在此服务器的默认设置：模型、尺寸、质量、语言、仅自己可见、改写
discord-opt-format = 输出格式
discord-opt-private = 仅自己可见的结果
discord-opt-language = 用这种语言回答（而不是你的 Discord 语言）
discord-opt-remix = 改写：按钮开始任务前先修改提示词
discord-opt-clear = 把某项设置（或全部）恢复默认
discord-choice-png = PNG 格式
discord-choice-jpeg = JPEG 格式
discord-choice-webp = WEBP 格式
discord-choice-default = 默认
discord-choice-all = 全部设置
discord-modal-remix_title = 改写：先修改提示词

## /pixelsmith-admin key
discord-cmd-admin_key = 本服务器自己的网关密钥：设置、查看、检查或移除
discord-opt-key_action = 对密钥做什么
discord-choice-set = 设置（打开表单）
discord-choice-show = 查看
discord-choice-test = 检查（免费）
discord-choice-remove = 移除
