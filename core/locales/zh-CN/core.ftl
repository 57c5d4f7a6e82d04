# The core catalog, zh-CN. Fluent syntax (https://projectfluent.org/fluent/guide/):
#   key-with-hyphens = Sentence with { $param } and a plural { $n ->
#       [one] form
#      *[other] forms
#   }
# A key in the code is its id with dots for hyphens: `invalid.flag_value` is `invalid-flag_value`.
# Every id exists in en and zh-CN (tests/test_messages.py renders them all).

## error
error-internal = 我们这边出了点问题。请重试；如反复出现请告知管理员。

## config
config-missing_file = 配置文件 { $path } 不存在。请把 config.example.toml 复制为 config.toml，或不带 --config 运行以使用默认值。
config-bad_toml = 配置文件 { $path } 不是有效的 TOML：{ $detail }
config-unreadable = 无法读取配置文件 { $path }（权限或编码问题）。
config-invalid = 配置项 `{ $key }` 有误：{ $problem }。请在 { $path_or_env } 中修改（所有配置项见 config.example.toml）。
config-discord_invalid_shard = Discord 拒绝了分片 { $shard }（共 { $count } 个）（网关关闭码 4010：无效分片）。机器人的每个进程都需要相同的 `discord.shard_count`，且 `discord.shard_ids` 须在 0 到该数减 1 之间：请在 { $path_or_env } 中修改。
config-discord_sharding_required = Discord 要求这个机器人使用更多分片（网关关闭码 4011：一个分片最多服务 2,500 个服务器）。请在 { $path_or_env } 中调大 `discord.shard_count`（或设为 "auto"），再把 `discord.shard_ids` 重新分配给各个进程。
sealed-unsealable = 无法用 PIXELSMITH_SECRET_KEY 解密已保存的{ $what ->
        [gateway_key] 网关密钥
        [slack_token] Slack 令牌
       *[other] 密钥
    }：密钥已更换而旧密钥没有用逗号保留在后面，或者保存的值被改动过。请把旧密钥放回（写在新密钥之后），或重新设置它。

## invalid
invalid-generic = 该请求无效。
invalid-flag_value = 参数 { $flag } 需要一个值，例如 `{ $flag } { $example }`。
invalid-unknown_flag = 未知参数 { $flag }。可用参数：{ $known }。
invalid-not_a_number = { $option } 必须是整数，而不是 “{ $value }”。
invalid-unknown_model = 未知模型 “{ $model }”。可用模型：{ $known }。
invalid-empty_prompt = 请描述你想要的图片：提示词为空。
invalid-prompt_too_long = 提示词有 { $length } 个字符，上限为 { $limit }。请缩短。
invalid-n_range = { $model } 每次可生成 1 到 { $max } 张图片，你请求了 { $n } 张。
invalid-transparent_jpeg = 透明背景需要 PNG 或 WEBP 格式，不能用 JPEG。
invalid-mask_without_image = 蒙版需要配合要编辑的图片使用：请同时附上图片。
invalid-no_edits = { $model } 不能编辑图片，请换一个模型。
invalid-too_many_images = { $model } 最多接受 { $max } 张输入图片，你附上了 { $count } 张。
invalid-option = { $model } 不接受 { $option } = “{ $value }”。可选：{ $allowed }。
invalid-size_and_aspect = 尺寸和宽高比只能二选一。
invalid-aspect = { $model } 不支持宽高比 “{ $value }”。可选：{ $allowed }。
invalid-size = { $model } 不支持尺寸 “{ $value }”。可选：{ $allowed }{ $flex_hint }。
invalid-size_flex_hint = （或宽x高，均为 16 的倍数，最大 3840x2160）

## image
image-invalid = 该附件无法作为图片使用。
image-default_name = 该图片
image-too_large = { $name } 大小为 { $size_mb } MB，上限为 { $limit_mb } MB。请发送更小的图片。
image-empty = { $name } 是空文件（0 字节）。
image-unsupported_type = { $name } 不是 PNG、JPEG 或 WEBP 图片（看起来是 { $detected }）。请先转换格式。
image-html_page = { $name } 返回的是网页而不是图片。如果是 Slack，说明应用缺少 files:read 权限：请管理员添加该权限并重新安装。
image-pdf = { $name } 是 PDF 而不是图片。请先把页面导出为 PNG 或 JPEG。
image-animated = { $name } 是动图；只能编辑静态图片。请发送单帧 PNG 或 JPEG。
image-truncated = { $name } 不完整或已损坏（文件提前结束）。请重新发送。
image-corrupt = { $name } 已损坏，无法打开。
image-bomb = { $name } 为 { $width }x{ $height } 像素，太大，无法安全处理。请发送更小的图片。
image-too_many = 你附上了 { $count } 张图片，上限为 { $limit } 张。
image-mask_not_png = 蒙版必须是带透明度的 PNG。
image-mask_no_alpha = 蒙版没有透明通道。透明像素表示要修改的区域：请保存为带 alpha 通道的 PNG。
image-mask_size_mismatch = 蒙版尺寸为 { $mask_w }x{ $mask_h }，图片为 { $image_w }x{ $image_h }；两者必须相同。
image-mask_too_large = 蒙版必须小于 4 MB。
image-download_failed = 无法下载 { $name }，请重试。
image-foreign_host = { $name } 位于 { $host }，不是允许的文件来源。
image-bad_url = 该文件链接不是有效的 http(s) 地址。
image-redirected = 文件主机 { $host } 对下载进行了重定向，这是不允许的。请直接上传图片。
image-mask_opaque = 蒙版 { $name } 没有透明像素，因此没有可修改的区域。请把要编辑的区域设为透明。

## invalid
invalid-markup_unsupported = { $model } 不支持草图（`markup`）。请使用 GPT Image 2.5 模型，例如 gpt-image-2.5-flare。
invalid-markup_with_mask = 草图（`markup`）不能与蒙版同时使用：请二选一。
invalid-mask_unsupported = { $model } 不支持蒙版。带蒙版的编辑请使用 gpt-image-2 等图像 API 模型。

## refused
refused-preflight = 未发送，因此未扣费：图像服务的安全系统通常会拒绝{ $terms }。{ $why }建议提示词：“{ $suggestion }”。你可以使用建议，或仍然发送原提示词（可能被拒绝且照样计费）。
refused-upstream = 图像服务的安全系统拒绝了此请求{ $stage }{ $categories }。被拒绝的请求网关仍会计费。{ $why }{ $suggestion_line }
refused-filtered_all = 安全系统过滤掉了本次请求的所有图片，因此没有返回任何图片（网关仍会计费）。请换一种方式描述画面。
refused-why = 在世艺术家、真实人物和知名角色的名字是常见原因；请改为描述风格，例如 { $examples }。
refused-examples = “皮克斯风格 3D 渲染”“梵高笔触”“明亮的现代日式动漫风格”
refused-suggestion = 可以试试：“{ $suggestion }”。
refused-stage = （阶段：{ $stage ->
        [input] 输入
        [output] 输出
       *[other] { $stage }
    }）
refused-categories = （类别：{ $categories }）
refused-category = { $category ->
        [sexual] 色情
        [sexual-minors] 涉及未成年人的色情
        [harassment] 骚扰
        [harassment-threatening] 骚扰与威胁
        [hate] 仇恨
        [hate-threatening] 仇恨与威胁
        [illicit] 违法行为
        [illicit-violent] 暴力违法行为
        [self-harm] 自我伤害
        [self-harm-intent] 自我伤害意图
        [self-harm-instructions] 自我伤害指导
        [violence] 暴力
        [violence-graphic] 血腥暴力
        [copyright] 版权
       *[other] { $name }
    }

## category
category-living_artist = 在世艺术家的名字（{ $terms }）
category-studio = 工作室名称（{ $terms }）
category-public_figure = 真实人物（{ $terms }）
category-character = 受版权保护的角色（{ $terms }）
category-suggestive = 暗示性的措辞（{ $terms }）

## quota
quota-exceeded = 你已达到{ $limit_name }：剩余 { $remaining }。将于 { $resets } 重置。
quota-exceeded_noreset = 你已达到{ $limit_name }：剩余 { $remaining }。
quota-banned = 你不能在这里生成图片。如有误会请联系管理员。
quota-cooldown = 请求之间请稍等：{ $resets } 后再试。
admin-forbidden = 只有本服务器或工作区的管理员才能这样做，而且只能针对本服务器或工作区的成员。

## limit
limit-user_daily_images = 每日图片上限
limit-user_monthly_images = 每月图片上限
limit-user_daily_usd = 每日消费上限
limit-user_monthly_usd = 每月消费上限
limit-community_monthly_usd = 社区每月预算
limit-user_concurrent_jobs = 同时进行的图片数量上限

## unit
unit-images = { $value } 张图片
unit-usd = ${ NUMBER($value, minimumFractionDigits: 2, maximumFractionDigits: 2) }
unit-jobs = { $value } 个任务

## upstream
upstream-no_balance = 图片生成已暂停：社区的图像账户余额不足。请告知管理员。
upstream-bad_key = 图片生成配置有误（服务拒绝了密钥）。请告知管理员。
upstream-forbidden = 图像服务拒绝了本机器人的访问。请告知管理员。
upstream-model_unavailable = 模型 { $model } 已不可用。请告知管理员，或换一个模型。
upstream-rate_limited = 图像服务当前繁忙，请一分钟后再试。
upstream-server = 图像服务出错了，请稍后再试。
upstream-invalid_request = 图像服务不接受此请求（{ $detail }）。请尝试其他选项。
upstream-timeout = 图像服务响应超时。{ $charge_line }
upstream-network = 无法连接图像服务。{ $charge_line }
upstream-bad_response = 图像服务返回的不是图片，请重试。
upstream-download_failed = 图片已生成，但无法从服务下载。请重试。
upstream-generation_failed = 图像服务报告生成失败。请重试（这些模型不太稳定）。
upstream-no_image = 图像服务结束时没有返回图片。请重试。
upstream-stalled = 图像服务在生成过程中停止响应。请重试。

## charge
charge-unknown = 可能已计费；为稳妥起见按已计费记录。
charge-none = 未扣费。

## admin
admin-upstream-no_balance = 网关报告余额不足（{ $code }，HTTP { $status }）。请为 provider.api_key 对应的账户充值或提高消费上限。
admin-upstream-bad_key = 网关拒绝了 API 密钥（HTTP { $status }）。请把 PIXELSMITH_API_KEY（或 provider.api_key）设为 { $base_url } 的有效密钥。
admin-upstream-forbidden = 网关拒绝该密钥使用模型 { $model }（HTTP { $status }，{ $code }）：密钥可能无权使用此模型，或 IP/地区被封锁。
admin-upstream-model_unavailable = 网关不提供模型 “{ $model }”（HTTP { $status }）。请把 provider.default_model 设为可用模型（`pixelsmith doctor` 会列出），或从 [models] 中移除。

## note
note-filtered = { $requested } 张图片中有 { $filtered } 张被安全系统过滤。
note-demo = 演示模式：这些是本地绘制的占位图片，不是真实生成结果。
note-demo_fallback = 未设置 API 密钥，因此使用离线演示提供方。设置 PIXELSMITH_API_KEY 即可生成真实图片。
note-preflight_warn = 提示：此提示词可能被拒绝（{ $terms }）。更安全的写法：“{ $suggestion }”。
note-prices_unverified = { $model } 的费用为估算值：其价格未经核实。

## output
output-reencoded = { $count } 张图片已重新编码以符合上传限制。

## note
note-duplicate = 该请求已处理过；以下是其结果。

## result
result-cost = 费用：${ NUMBER($cost, minimumFractionDigits: 4, maximumFractionDigits: 4) }
result-cost_demo = 费用：$0（演示）
result-saved = 已保存 { $count } 张图片到 { $dir }
result-header = “{ $prompt }” — { $model }，由 { $who } 请求
result-quota_left = 今日剩余：{ $images_today } 张图片，${ $usd_today }

## status
status-queued = 排队中（第 { $position } 位）…
status-submitted = 已发送到 { $model }…
status-generating = 生成中… { $percent }%
status-partial = 渲染中… { $percent }%
status-downloading = 下载中…
status-done = 完成。
status-unlimited = 无限制

## upstream
upstream-shutting_down = 机器人正在重启，未扣费。请稍后再试。

## job
job-conflict = 该请求在队列中等待太久已过期。未扣费，请重试。
job-expired = 该请求在发送前被中断，未扣费。
job-unknown = 该请求在图像服务处理期间被中断；可能已计费，因此按已计费记录。

## output
output-too_large = 即使重新编码后，图片仍超过此处的上传上限（{ $limit_mb } MB）。
output-unreadable = 生成的图片无法准备上传。

## chart
chart-title = 按{ $by }统计的每日花费{ $since }
chart-since = （自 { $date } 起）
chart-y_axis = 花费（美元）
chart-x_axis = 日期（UTC）
chart-empty = 没有花费
chart-other = 其他
chart-by_community = 社区
chart-by_model = 模型
chart-by_user = 用户
chart-unwritable = 无法把图表写入 { $path }：请确认文件夹存在且可写。

## error
error-incident = 我们这边出了点问题（事件编号 { $incident }）。请重试；如反复出现，请把事件编号告知管理员。
error-incident_log = 给运维人员的详细信息（事件编号 { $incident }）：{ $path }

## database
database-bad_url = 配置项 `{ $key }` 有误：{ $url } 不是 Pixelsmith 支持的数据库地址。请使用 sqlite:///路径/pixelsmith.db 或 postgresql+psycopg://用户@主机/数据库名。
database-unwritable = 配置项 `{ $key }` 有误：无法创建或打开 SQLite 数据库 { $url }：请确保其所在文件夹存在且可写，或换一个路径。
database-corrupt = 配置项 `{ $key }` 有误：{ $url } 不是 SQLite 数据库（文件已损坏或是其他类型的文件）。请从备份恢复，或把该配置指向一个新文件。
database-unreachable = 配置项 `{ $key }` 有误：无法连接到数据库 { $url }。请检查服务器是否在运行、数据库是否存在、用户能否登录。

## results
results-unknown_job = 没有你可以重新获取的任务 { $job }：请核对历史记录中的编号。
results-gone = 任务 { $job } 的图片已不再保留（结果保留 { $days } 天）。未扣费。
finish-inputs_gone = 这次编辑的原始图片已不再保留（编辑后保留 { $hours } 小时）。请对结果使用“编辑”。未产生任何费用。

## note
note-redelivered = 已从结果存储重新发送：免费（该任务生成时花费 ${ NUMBER($cost, minimumFractionDigits: 4, maximumFractionDigits: 4) }）。
note-cost_capped = 网关为此任务报告了不合理的用量；已按合理上限 ${ NUMBER($cost, minimumFractionDigits: 4, maximumFractionDigits: 4) } 计费，并已标记给管理员。

## limit
limit-bad_images = '{ $value }' 不是有效的 { $key }：请填写 0 到 { $maximum } 之间的整数图片数，或填写 { $words } 表示不限。
limit-bad_jobs = '{ $value }' 不是有效的 { $key }：请填写 0 到 { $maximum } 之间的整数任务数，或填写 { $words } 表示不限。
limit-bad_usd = '{ $value }' 不是有效的 { $key }：请填写 0 到 { $maximum } 之间的美元金额，或填写 { $words } 表示不限。
limit-bad_seconds = '{ $value }' 不是有效的 { $key }：请填写 0 到 { $maximum } 之间的秒数。
limit-bad_grant_images = '{ $value }' 不是有效的赠送额度：请填写不为 0 的整数图片数，绝对值不超过 { $maximum }（负数表示收回）。
limit-bad_grant_usd = '{ $value }' 不是有效的赠送额度：请填写不为 0 的美元金额，绝对值不超过 { $maximum }（负数表示收回）。
limit-unknown_key = '{ $key }' 不是限额名称；可用的限额：{ $known }。
limit-unknown_unit = '{ $value }' 不是单位：请使用 `images` 或 `usd`。
finish-unavailable = 模型“{ $model }”无法对这张图片执行此操作。未产生任何费用。
finish-no_larger_size = 这张图片已是模型“{ $model }”能生成的最大尺寸。未产生任何费用。
finish-confirm_upscale = 放大到 { $size }：约 ${ NUMBER($estimate, minimumFractionDigits: 4, maximumFractionDigits: 4) }（与原图相同的一张图片：约 ${ NUMBER($normal, minimumFractionDigits: 4, maximumFractionDigits: 4) }）。

## preferences (/settings)
note-pref_model_gone = 你的默认模型 { $model } 已不可用，本次使用了 { $default }。请在设置中另选一个。
note-pref_ignored = 你的默认{ $option ->
        [model] 默认模型
        [size] 宽高比或尺寸
        [quality] 质量
        [n] 图片数量
        [background] 背景
        [output_format] 输出格式
        [private] 仅自己可见的结果
        [language] 语言
        [remix] 改写
       *[other] { $option }
    } “{ $value }” 不适用于 { $model }，本次未使用。
invalid-pref_unknown = 没有名为 “{ $name }” 的设置。可用设置：{ $known }。
invalid-pref_value = “{ $value }” 不是{ $name ->
        [model] 默认模型
        [size] 宽高比或尺寸
        [quality] 质量
        [n] 图片数量
        [background] 背景
        [output_format] 输出格式
        [private] 仅自己可见的结果
        [language] 语言
        [remix] 改写
       *[other] { $name }
    }的有效值。可选：{ $allowed }。
invalid-pref_usage = 请用 名称=值 的形式填写设置，例如 `{ $example }`（值写 `default` 即清除该项）。
prefs-heading = 你在这里的设置（提示词中输入的参数仍然优先）：
prefs-line = { $name }：{ $value }
prefs-default = 默认
prefs-platform = 跟随应用
prefs-on = 开
prefs-off = 关
prefs-saved = 设置已保存。
prefs-name-model = 默认模型
prefs-name-size = 宽高比或尺寸
prefs-name-quality = 质量
prefs-name-n = 图片数量
prefs-name-background = 背景
prefs-name-output_format = 输出格式
prefs-name-private = 仅自己可见的结果
prefs-name-language = 语言
prefs-name-remix = 改写（按钮开始任务前先修改提示词）
prefs-language-en = 英语
prefs-language-zh-CN = 简体中文

## byok (a community's own gateway key)
byok-bad_key = 这看起来不像网关密钥：请粘贴完整的密钥（{ $min }-{ $max } 个字符，不含空格）。未保存任何内容。
byok-bad_base_url = 不允许使用该网关地址。请使用以下之一：{ $allowed }（或留空以使用机器人自己的网关）。未保存任何内容。
byok-disabled = 此机器人不允许社区使用自己的网关密钥（运营者尚未启用此功能）。
byok-removed = 此处的图片生成已暂停：本社区自己的网关密钥已被移除，且不允许改用机器人的密钥。未产生任何费用。请让管理员设置新的密钥。
byok-unsealable = 此处的图片生成已暂停：本社区保存的网关密钥已无法读取（机器人的加密密钥已更换）。未产生任何费用。请让管理员重新设置密钥。
byok-own_bad_key = 网关拒绝了本社区自己的网关密钥。请让管理员设置有效的密钥。
byok-own_no_balance = 本社区自己的网关账户余额不足。请让管理员充值。
byok-own_forbidden = 本社区自己的网关密钥无权使用此模型。请让管理员检查密钥的权限，或换一个模型。
byok-changed = 你的请求等待期间，本社区自己的网关密钥被更改了，因此请求未发送。未产生任何费用。请重试。
byok-gateway_not_allowed = 此处的图片生成已暂停：本社区的密钥所用的网关已不再被机器人允许。未产生任何费用。请让管理员重新设置密钥。
